package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/brummer-mcp/brummer-mcp/procstate"
	"github.com/brummer-mcp/brummer-mcp/project"
)

// startScript starts a process the project defines, after what it
// depends on: each dependency that is not running is started and waited
// for with its own wait_for.
func startScript(ctx context.Context, req mcp.CallToolRequest, sup *procstate.Supervisor, policy Policy, proj *project.Project, args *startArgs) (*mcp.CallToolResult, error) {
	if proj == nil {
		return toolError(`"script" needs a project directory; this server has none: use "command" or "argv"`), nil
	}
	snap := proj.Snapshot()
	def := snap.Def(args.Script)
	if def == nil {
		if len(snap.Names) == 0 {
			return toolError(`"script" %q: %s has no package.json scripts and no brummer.json processes; use "command" or "argv"`, args.Script, snap.Dir), nil
		}
		return toolError(`"script" %q is not defined in %s; known: %s`, args.Script, snap.Dir, strings.Join(snap.Names, ", ")), nil
	}
	order := snap.StartOrder(args.Script)
	var deps []string
	for _, d := range order[:len(order)-1] {
		if p := sup.Get(d.Name); p != nil && p.Record().Status.Live() {
			continue // up already
		}
		dargs, err := defArgs(snap, d)
		if err != nil {
			return toolError("%v", err), nil
		}
		p, bad, err := startOne(sup, policy, dargs)
		if p == nil {
			return prefixed(bad, fmt.Sprintf("%q depends on %q: ", args.Script, d.Name)), err
		}
		deps = append(deps, d.Name)
		if dargs.WaitFor == nil {
			continue
		}
		res, err := p.Wait(ctx, dargs.WaitFor.cond, progressSender(ctx, req))
		if err != nil {
			return nil, err // cancelled; what started keeps running
		}
		if res.Outcome != procstate.Ready {
			info := waited(res, dargs.WaitFor.tail)
			return toolError("%q was not started: it depends on %q, which did not become ready:\n%s", args.Script, d.Name, waitText(info, dargs.WaitFor.cond.Exit, "")), nil
		}
	}
	targs, err := defArgs(snap, def)
	if err != nil {
		return toolError("%v", err), nil
	}
	targs.override(args)
	p, bad, err := startOne(sup, policy, targs)
	if p == nil {
		return bad, err
	}
	res, err := started(ctx, req, p, targs.WaitFor)
	if res != nil && len(deps) > 0 {
		res = prefixed(res, "started first, as it depends on them: "+strings.Join(deps, ", ")+"\n")
	}
	return res, err
}

// defArgs are the start arguments of a project's process.
func defArgs(snap *project.Snapshot, d *project.Def) (*startArgs, error) {
	a := &startArgs{Name: d.Name, Command: d.Command, Argv: d.Argv, Env: d.Env, Restart: d.Restart, Stdin: d.Stdin, Cwd: d.Cwd}
	switch {
	case a.Cwd == "":
		a.Cwd = snap.Dir
	case !filepath.IsAbs(a.Cwd):
		a.Cwd = filepath.Join(snap.Dir, a.Cwd)
	}
	if d.MaxRestarts > 0 {
		a.MaxRestarts = &d.MaxRestarts
	}
	if len(d.WaitFor) > 0 {
		a.WaitFor = new(waitFor)
		if err := json.Unmarshal(d.WaitFor, a.WaitFor); err != nil {
			return nil, fmt.Errorf("%s process %q: %v", d.Source, d.Name, err)
		}
	}
	if err := a.validate(); err != nil {
		return nil, fmt.Errorf("%s process %q: %v", d.Source, d.Name, err)
	}
	return a, nil
}

// override applies what the call gives beside "script" to the project's
// definition.
func (a *startArgs) override(call *startArgs) {
	if call.Name != "" {
		a.Name = call.Name
	}
	if call.Cwd != "" {
		a.Cwd = call.Cwd
	}
	if len(call.Env) > 0 {
		env := make(map[string]string, len(a.Env)+len(call.Env))
		for k, v := range a.Env {
			env[k] = v
		}
		for k, v := range call.Env {
			env[k] = v
		}
		a.Env = env
	}
	if call.Stdin {
		a.Stdin = true
	}
	if call.Restart != "" {
		a.Restart = call.Restart
	}
	if call.MaxRestarts != nil {
		a.MaxRestarts = call.MaxRestarts
	}
	if call.WaitFor != nil {
		a.WaitFor = call.WaitFor
	}
}

// prefixed puts text before the first text block of res.
func prefixed(res *mcp.CallToolResult, text string) *mcp.CallToolResult {
	if res == nil {
		return nil
	}
	for i, c := range res.Content {
		if tc, ok := mcp.AsTextContent(c); ok {
			res.Content[i] = mcp.TextContent{Type: mcp.ContentTypeText, Text: text + tc.Text, Annotated: tc.Annotated}
			return res
		}
	}
	return res
}
