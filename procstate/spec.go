package procstate

import (
	"fmt"
	"path/filepath"
	"regexp"
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
}

// NamePattern is the rule for process names.
var NamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// validate checks the parts of a Spec that need no file system.
func (sp *Spec) validate() error {
	switch {
	case len(sp.Argv) > 0 && sp.Command != "":
		return fmt.Errorf("%w: both argv and command are set", ErrBadSpec)
	case len(sp.Argv) == 0 && sp.Command == "":
		return fmt.Errorf("%w: neither argv nor command is set", ErrBadSpec)
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

// baseName derives a default process name from the program: the base name
// of argv[0], or for a command the first real program in it (skipping
// "cd dir &&", VAR=value assignments and wrappers like env or exec),
// reduced to NamePattern. Shell syntax (for, while, ...) gives "sh".
func (sp *Spec) baseName() string {
	prog := ""
	if len(sp.Argv) > 0 {
		prog = sp.Argv[0]
	} else {
		prog = commandProgram(sp.Command)
	}
	prog = filepath.Base(prog)
	var b strings.Builder
	for _, r := range prog {
		if b.Len() >= 56 { // room for a "-NNN" suffix
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		}
	}
	name := strings.TrimLeft(b.String(), "._-")
	if name == "" {
		return "proc"
	}
	return name
}

// commandProgram guesses the program a shell command line runs.
func commandProgram(command string) string {
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
			return "sh"
		}
		return words[0]
	}
	return "sh"
}

var (
	wrappers    = map[string]bool{"env": true, "exec": true, "nohup": true, "time": true, "command": true, "nice": true}
	skipped     = map[string]bool{"cd": true, "export": true, "source": true, ".": true, "set": true, "true": true, "pushd": true}
	shellSyntax = map[string]bool{"for": true, "while": true, "until": true, "if": true, "case": true, "{": true, "(": true, "!": true, "select": true}
)
