package tools

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// Policy limits what agents may do with this server.
type Policy struct {
	// Allow, when not empty, lists the programs process_start may run:
	// patterns (path.Match syntax) matched against the program's base name,
	// or against its path when the pattern contains a slash. With Allow
	// set, a shell command must be a simple command (no ; & | ` $( < > or
	// newlines) whose first word, after VAR=value assignments, is allowed.
	Allow []string
	// ReadOnly offers only the reading tools (process_list, process_logs).
	ReadOnly bool
}

// Validate checks the patterns.
func (p Policy) Validate() error {
	for _, pat := range p.Allow {
		if pat == "" {
			return errors.New("--allow pattern is empty")
		}
		if _, err := path.Match(pat, ""); err != nil {
			return fmt.Errorf("--allow pattern %q: %w", pat, err)
		}
	}
	return nil
}

// shellControl lists what makes a shell command more than one program.
const shellControl = ";&|`<>\n\r"

// check returns an error naming the policy when it refuses the start.
func (p Policy) check(command string, argv []string) error {
	if len(p.Allow) == 0 {
		return nil
	}
	prog := ""
	if argv != nil {
		prog = argv[0]
	} else {
		if strings.ContainsAny(command, shellControl) || strings.Contains(command, "$(") {
			return fmt.Errorf("refused by the --allow policy: with allowed programs only (%s), \"command\" must be a simple command without ; & | ` $( < > or newlines, got %q; use argv", strings.Join(p.Allow, ", "), truncate(command, 120))
		}
		words := strings.Fields(command)
		for len(words) > 1 && strings.Contains(words[0], "=") {
			words = words[1:]
		}
		if len(words) > 0 {
			prog = words[0]
		}
	}
	if p.allowed(prog) {
		return nil
	}
	return fmt.Errorf("refused by the --allow policy: program %q is not one of the allowed programs (%s)", truncate(prog, 120), strings.Join(p.Allow, ", "))
}

func (p Policy) allowed(prog string) bool {
	for _, pat := range p.Allow {
		subject := path.Base(prog)
		if strings.Contains(pat, "/") {
			subject = prog
		}
		if ok, _ := path.Match(pat, subject); ok {
			return true
		}
	}
	return false
}
