package tools

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/brummer-mcp/brummer-mcp/procstate"
	"github.com/brummer-mcp/brummer-mcp/project"
)

const nameRule = `^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`

// Argument bounds for process_start.
const (
	maxCommandBytes = 64 << 10
	maxArgv         = 4096
	maxEnv          = 1024
)

type startArgs struct {
	Command string   `json:"command"`
	Argv    []string `json:"argv"`
	// Script names a process the project defines (package.json,
	// brummer.json).
	Script  string            `json:"script"`
	Name    string            `json:"name"`
	Cwd     string            `json:"cwd"`
	Env     map[string]string `json:"env"`
	Stdin   bool              `json:"stdin"`
	Restart string            `json:"restart"`
	// MaxRestarts bounds restarts without a stable run between them.
	MaxRestarts *int `json:"max_restarts"`
	// WaitFor, if set, makes the call return once the run is ready.
	WaitFor *waitFor `json:"wait_for"`
}

// maxMaxRestarts bounds max_restarts.
const maxMaxRestarts = 1000

var restartPolicies = procstate.RestartPolicies()

func (a *startArgs) validate() error {
	given := 0
	for _, set := range []bool{a.Command != "", a.Argv != nil, a.Script != ""} {
		if set {
			given++
		}
	}
	switch {
	case given > 1:
		return errors.New(`pass exactly one of "command" (a shell string), "argv" (an array of strings) or "script" (a name the project defines)`)
	case a.Script != "":
		if !procstate.NamePattern.MatchString(a.Script) {
			return fmt.Errorf(`"script" %q is not a process name of package.json or brummer.json`, truncate(a.Script, 80))
		}
	case a.Command == "" && len(a.Argv) == 0:
		return errors.New(`pass "command" (a shell string, e.g. "npm run dev"), "argv" (e.g. ["npm", "run", "dev"]) or "script" (e.g. "dev" from package.json)`)
	case strings.TrimSpace(a.Command) == "" && a.Argv == nil:
		return fmt.Errorf(`"command" is blank: %q`, a.Command)
	case len(a.Command) > maxCommandBytes:
		return fmt.Errorf(`"command" is %d bytes; the limit is %d`, len(a.Command), maxCommandBytes)
	case strings.IndexByte(a.Command, 0) >= 0:
		return errors.New(`"command" contains a NUL byte`)
	case len(a.Argv) > maxArgv:
		return fmt.Errorf(`"argv" has %d items; the limit is %d`, len(a.Argv), maxArgv)
	case a.Argv != nil && a.Argv[0] == "":
		return errors.New(`"argv"[0], the program, is empty`)
	}
	total := 0
	for i, s := range a.Argv {
		total += len(s)
		if strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf(`"argv"[%d] contains a NUL byte: %q`, i, truncate(s, 60))
		}
	}
	if total > maxCommandBytes {
		return fmt.Errorf(`"argv" is %d bytes in all; the limit is %d`, total, maxCommandBytes)
	}
	if a.Restart != "" && !slices.Contains(restartPolicies, a.Restart) {
		return fmt.Errorf(`"restart" must be one of %s, got %q`, oneOf(restartPolicies), truncate(a.Restart, 40))
	}
	if a.MaxRestarts != nil && (*a.MaxRestarts < 1 || *a.MaxRestarts > maxMaxRestarts) {
		return fmt.Errorf(`"max_restarts" must be 1..%d, got %d`, maxMaxRestarts, *a.MaxRestarts)
	}
	if a.Name != "" && !procstate.NamePattern.MatchString(a.Name) {
		return fmt.Errorf(`"name" %q must match %s (letters, digits, '.', '_', ':', '-'; at most 64; no spaces or '/')`, truncate(a.Name, 80), nameRule)
	}
	if a.WaitFor != nil {
		if err := a.WaitFor.validate(); err != nil {
			return err
		}
	}
	if strings.IndexByte(a.Cwd, 0) >= 0 {
		return errors.New(`"cwd" contains a NUL byte`)
	}
	if len(a.Env) > maxEnv {
		return fmt.Errorf(`"env" has %d entries; the limit is %d`, len(a.Env), maxEnv)
	}
	for k, v := range a.Env {
		switch {
		case k == "" || strings.ContainsAny(k, "=\x00"):
			return fmt.Errorf(`"env" key %q is invalid: keys must be non-empty, without '=' or NUL`, truncate(k, 60))
		case strings.IndexByte(v, 0) >= 0:
			return fmt.Errorf(`"env" value of %q contains a NUL byte`, k)
		case len(v) > maxCommandBytes:
			return fmt.Errorf(`"env" value of %q is %d bytes; the limit is %d`, k, len(v), maxCommandBytes)
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n-- // do not cut a character in two
	}
	return s[:n] + "..."
}

func startTool(policy Policy) mcp.Tool {
	desc := startDescription
	if len(policy.Allow) > 0 {
		desc += " Only these programs may be started: " + strings.Join(policy.Allow, ", ") + " (a command must be a simple command, without ; & | ` $( < >)."
	}
	return startToolDef(desc)
}

const startDescription = "Start a process (dev server, watcher, build, test) in the background, in a process group of its own; output goes to process_logs. " +
	"`command` runs via /bin/sh -c, `argv` without a shell. stdin is empty unless stdin: true. An exited process's name starts its next run."

func startToolDef(desc string) mcp.Tool {
	return mcp.Tool{
		Name:        "process_start",
		Description: desc,
		RawInputSchema: mustJSON(objectSchema(obj{
			"command":      obj{"type": "string"},
			"script":       str("A package.json script or brummer.json process (after its depends_on)."),
			"argv":         obj{"type": "array", "items": obj{"type": "string"}},
			"name":         str("Default: what runs (npm run dev: dev), made unique."),
			"cwd":          str("Default: the server's."),
			"env":          obj{"type": "object", "additionalProperties": obj{"type": "string"}, "description": "Added to the server's."},
			"stdin":        obj{"type": "boolean", "description": "Keep a pipe for process_input."},
			"restart":      obj{"type": "string", "enum": restartPolicies, "description": "Run again when it ends, after 0.5 s doubling to 30 s."},
			"max_restarts": obj{"type": "integer", "description": "Default 10."},
			"wait_for":     waitForRef(),
		})),
		RawOutputSchema: mustJSON(bare(waitOutputSchema())),
		Annotations:     annotations(false, true, false, true),
	}
}

func startHandler(sup *procstate.Supervisor, policy Policy, proj *project.Project) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, bad := bindArgs[startArgs](req)
		if bad != nil {
			return bad, nil
		}
		if args.Script != "" {
			return startScript(ctx, req, sup, policy, proj, args)
		}
		p, bad, err := startOne(sup, policy, args)
		if p == nil {
			return bad, err
		}
		return started(ctx, req, p, args.WaitFor)
	}
}

// started is the result of a start: the record, or the wait's outcome.
func started(ctx context.Context, req mcp.CallToolRequest, p *procstate.Process, w *waitFor) (*mcp.CallToolResult, error) {
	info := infoOf(p, time.Now(), "") // a start shows where it runs
	headline := fmt.Sprintf("started %s (pid %d): %s", info.Name, info.Pid, truncate(info.Command, 200))
	if w != nil {
		return waitAfter(ctx, req, p, w, headline)
	}
	return structured(info, headline+"\nread its output with process_logs name="+info.Name), nil
}

// startOne starts the process args describe. When it does not, it returns
// the tool error to answer, or the error that ends the call.
func startOne(sup *procstate.Supervisor, policy Policy, args *startArgs) (*procstate.Process, *mcp.CallToolResult, error) {
	if err := policy.check(args.Command, args.Argv); err != nil {
		return nil, toolError("%v", err), nil
	}
	spec := procstate.Spec{Name: args.Name, Argv: args.Argv, Command: args.Command, Cwd: args.Cwd, Env: args.Env, Stdin: args.Stdin, Restart: procstate.RestartPolicy(args.Restart)}
	if args.MaxRestarts != nil {
		spec.MaxRestarts = *args.MaxRestarts
	}
	p, err := sup.Start(spec)
	var (
		inUse    *procstate.NameInUseError
		badCwd   *procstate.CwdError
		notSpawn *procstate.SpawnError
	)
	switch {
	case errors.As(err, &inUse):
		return nil, toolError("name %q is in use by a %s process (pid %d); stop it first with process_stop, or choose another name", args.Name, inUse.Record.Status, inUse.Record.Pid), nil
	case errors.Is(err, procstate.ErrLimit):
		return nil, toolError("%v; stop processes you no longer need (process_list status=running shows them)", err), nil
	case errors.As(err, &badCwd):
		return nil, toolError(`"cwd" %q is not usable: %s`, args.Cwd, badCwd.Detail()), nil
	case errors.As(err, &notSpawn):
		return nil, toolError("cannot start %q: %v; it is listed with status failed", p.Name(), notSpawn.Err), nil
	case errors.Is(err, procstate.ErrClosed):
		return nil, nil, err // the server is shutting down: nothing the model can fix
	case err != nil:
		return nil, toolError("%v", err), nil
	}
	return p, nil, nil
}
