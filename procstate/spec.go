package procstate

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Spec describes a process to start. Exactly one of Argv and Command is set.
type Spec struct {
	// Name is the handle for the process; empty derives one from the program.
	Name string
	// Argv is the program and its arguments, executed without a shell. A
	// program without a slash is looked up in PATH (Env's PATH if it sets one;
	// on Windows also with the extensions in PATHEXT).
	Argv []string
	// Command is a shell command line run with /bin/sh -c (on Windows with
	// cmd.exe /d /s /c, verbatim).
	Command string
	// Cwd is the working directory; relative paths resolve against the
	// supervisor's directory, empty means that directory.
	Cwd string
	// Env entries are added to (or replace) the supervisor's environment.
	Env map[string]string
	// Stdin keeps a pipe to the child's stdin, for Process.Input; without
	// it stdin is the null device (the child reads EOF).
	Stdin bool
	// Restart says when a run that ends on its own (not by a stop) is
	// followed by the next: never (the zero value), on failure (an exit
	// code other than 0, or a signal), or always. MaxRestarts (default 10)
	// bounds the restarts without a stable run between them.
	Restart     RestartPolicy
	MaxRestarts int
}

// RestartPolicy is Spec.Restart.
type RestartPolicy string

// The restart policies.
const (
	RestartNever     RestartPolicy = "never"
	RestartOnFailure RestartPolicy = "on-failure"
	RestartAlways    RestartPolicy = "always"
)

// RestartPolicies lists them, for schemas and error messages.
func RestartPolicies() []string {
	return []string{string(RestartNever), string(RestartOnFailure), string(RestartAlways)}
}

// NamePattern is the rule for process names.
var NamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)

// validate checks the parts of a Spec that need no file system.
func (sp *Spec) validate() error {
	switch {
	case len(sp.Argv) > 0 && sp.Command != "":
		return fmt.Errorf("%w: both argv and command are set", ErrBadSpec)
	case len(sp.Argv) == 0 && sp.Command == "":
		return fmt.Errorf("%w: neither argv nor command is set", ErrBadSpec)
	case sp.Restart != "" && sp.Restart != RestartNever && sp.Restart != RestartOnFailure && sp.Restart != RestartAlways:
		return fmt.Errorf("%w: restart policy %q (want never, on-failure or always)", ErrBadSpec, sp.Restart)
	case sp.MaxRestarts < 0:
		return fmt.Errorf("%w: max restarts %d is negative", ErrBadSpec, sp.MaxRestarts)
	case len(sp.Argv) > 0 && sp.Argv[0] == "":
		return fmt.Errorf("%w: argv[0] is empty", ErrBadSpec)
	}
	for i, a := range sp.Argv {
		if strings.IndexByte(a, 0) >= 0 {
			return fmt.Errorf("%w: argv[%d] contains a NUL byte", ErrBadSpec, i)
		}
	}
	if strings.IndexByte(sp.Command, 0) >= 0 {
		return fmt.Errorf("%w: command contains a NUL byte", ErrBadSpec)
	}
	if strings.IndexByte(sp.Cwd, 0) >= 0 {
		return fmt.Errorf("%w: cwd contains a NUL byte", ErrBadSpec)
	}
	if sp.Name != "" && !NamePattern.MatchString(sp.Name) {
		return fmt.Errorf("%w: name %q does not match %s", ErrBadSpec, sp.Name, NamePattern)
	}
	for k, v := range sp.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return fmt.Errorf("%w: env key %q must be non-empty without '=' or NUL", ErrBadSpec, k)
		}
		if strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("%w: env value of %q contains a NUL byte", ErrBadSpec, k)
		}
	}
	return nil
}

// baseName derives a default process name from what runs, reduced to
// NamePattern: the script of a package manager (npm run dev, pnpm dev, yarn
// dev, bun run dev: "dev"), the tool it executes (npx vite, pnpm exec vite:
// "vite"), the package of go run (go run ./cmd/api: "api"), the module of
// python -m (http.server); else the program's base name. For a command, the
// words are those of its first real program (skipping "cd dir &&",
// VAR=value assignments and wrappers like env or exec); shell syntax (for,
// while, ...) gives "sh".
func (sp *Spec) baseName() string {
	words := sp.Argv
	if len(words) == 0 {
		words = commandWords(sp.Command)
	}
	var b strings.Builder
	for _, r := range nameOf(words) {
		if b.Len() >= 56 { // room for a "-NNN" suffix
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-', r == ':':
			b.WriteRune(r)
		}
	}
	name := strings.TrimLeft(b.String(), "._:-")
	if name == "" {
		return "proc"
	}
	return name
}

// nameOf says what the words run (see baseName).
func nameOf(words []string) string {
	if len(words) == 0 {
		return "sh"
	}
	prog := filepath.Base(words[0])
	args := slices.DeleteFunc(slices.Clone(words[1:]), func(w string) bool { return strings.HasPrefix(w, "-") })
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch prog {
	case "npm", "pnpm", "yarn", "bun":
		switch a := arg(0); {
		case a == "run" || a == "run-script" || a == "exec" || a == "dlx" || a == "x":
			if s := arg(1); s != "" {
				return filepath.Base(s)
			}
		case a != "" && !managerCommands[a]:
			return a // pnpm dev, yarn dev, bun dev, npm start
		}
	case "npx", "bunx", "pnpx":
		if s := arg(0); s != "" {
			return filepath.Base(s)
		}
	case "go":
		if arg(0) == "run" {
			if pkg := strings.TrimSuffix(filepath.Base(arg(1)), ".go"); pkg != "" && pkg != "." {
				return pkg
			}
		}
	case "python", "python3":
		for i, w := range words {
			if w == "-m" && i+1 < len(words) {
				return words[i+1]
			}
		}
	}
	return prog
}

// managerCommands are a package manager's own commands: "pnpm install"
// runs no script called install.
var managerCommands = map[string]bool{
	"install": true, "i": true, "add": true, "remove": true, "rm": true, "uninstall": true,
	"update": true, "upgrade": true, "ci": true, "init": true, "create": true, "link": true,
	"publish": true, "pack": true, "audit": true, "outdated": true, "why": true, "list": true, "ls": true,
}

// commandWords returns the words of the first real program a shell
// command line runs, from the program on; ["sh"] for shell syntax.
func commandWords(command string) []string {
	segments := strings.FieldsFunc(command, func(r rune) bool { return r == '&' || r == ';' || r == '|' || r == '\n' })
	for _, seg := range segments {
		words := strings.Fields(seg)
		for len(words) > 0 && (strings.Contains(words[0], "=") || wrappers[words[0]]) {
			words = words[1:]
		}
		if len(words) == 0 || skipped[words[0]] {
			continue
		}
		if shellSyntax[words[0]] || strings.ContainsAny(words[0], "()${}<>\"'`") {
			return []string{"sh"}
		}
		return words
	}
	return []string{"sh"}
}

var (
	wrappers    = map[string]bool{"env": true, "exec": true, "nohup": true, "time": true, "command": true, "nice": true}
	skipped     = map[string]bool{"cd": true, "export": true, "source": true, ".": true, "set": true, "true": true, "pushd": true}
	shellSyntax = map[string]bool{"for": true, "while": true, "until": true, "if": true, "case": true, "{": true, "(": true, "!": true, "select": true}
)
