package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/brummer-mcp/brummer-mcp/procstate"
	"github.com/brummer-mcp/brummer-mcp/project"
)

// startScript starts a process the project defines, after what it
// depends on: each dependency that is not running is started and waited
// for with its own wait_for (project.StartScript).
func startScript(ctx context.Context, req mcp.CallToolRequest, sup *procstate.Supervisor, policy Policy, proj *project.Project, args *startArgs) (*mcp.CallToolResult, error) {
	if proj == nil {
		return toolError(`"script" needs a project directory; this server has none: use "command" or "argv"`), nil
	}
	snap := proj.Snapshot()
	if snap.Def(args.Script) == nil {
		if len(snap.Names) == 0 {
			return toolError(`"script" %q: %s has no package.json scripts and no brummer.json processes; use "command" or "argv"`, args.Script, snap.Dir), nil
		}
		return toolError(`"script" %q is not defined in %s; known: %s`, args.Script, snap.Dir, strings.Join(snap.Names, ", ")), nil
	}
	l := project.Launcher{
		Prepare: func(d *project.Def, spec procstate.Spec) (project.Step, error) {
			st, err := defStep(d, spec)
			if err == nil && d.Name == args.Script {
				args.override(&st)
			}
			return st, err
		},
		// startOne checks the policy and words what goes wrong.
		Start: func(st project.Step) (*procstate.Process, error) {
			p, bad, err := startOne(sup, policy, specArgs(st.Spec))
			if p == nil {
				return nil, &answered{res: bad, err: err}
			}
			return p, nil
		},
		Progress: progressSender(ctx, req),
	}
	out, err := project.StartScript(ctx, sup, snap, args.Script, l)
	var (
		dep *project.DependencyError
		ans *answered
	)
	switch {
	case errors.As(err, &dep) && errors.As(dep.Err, &ans):
		return prefixed(ans.res, fmt.Sprintf("%q depends on %q: ", args.Script, dep.Dep)), ans.err
	case errors.As(err, &dep) && dep.Err == nil:
		info := waited(dep.Wait, dep.Step.Tail)
		return toolError("%q was not started: it depends on %q, which did not become ready:\n%s", args.Script, dep.Dep, waitText(info, dep.Step.Ready.Exit, "")), nil
	case errors.As(err, &ans):
		return ans.res, ans.err
	case err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return nil, err // cancelled; what started keeps running
	case err != nil:
		return toolError("%v", err), nil // a mistake in a definition
	}
	var w *waitFor
	if st := out.Step; st.Ready != nil {
		w = &waitFor{cond: *st.Ready, tail: st.Tail}
	}
	res, err := started(ctx, req, out.Process, w)
	if res != nil && len(out.Deps) > 0 {
		res = prefixed(res, "started first, as it depends on them: "+strings.Join(out.Deps, ", ")+"\n")
	}
	return res, err
}

// answered is a start that startOne refused, with the result (or error)
// that answers the call.
type answered struct {
	res *mcp.CallToolResult
	err error
}

func (a *answered) Error() string {
	if a.err != nil {
		return a.err.Error()
	}
	return "refused"
}

// ScriptStep returns how process_start {"script"} makes the step that starts
// a definition of the project under policy: its wait_for read as the tool's
// argument, its fields checked as the tool's arguments are, the policy
// applied. Other starters of the project's processes (the dashboard) pass
// it as project.Launcher.Prepare, so that they start what the tool starts
// and refuse what it refuses.
func ScriptStep(policy Policy) func(*project.Def, procstate.Spec) (project.Step, error) {
	return func(d *project.Def, spec procstate.Spec) (project.Step, error) {
		st, err := defStep(d, spec)
		if err != nil {
			return st, err
		}
		if err := policy.check(spec.Command, spec.Argv); err != nil {
			return project.Step{}, err
		}
		return st, nil
	}
}

// defStep is the step of a project's process, checked as process_start's
// arguments are.
func defStep(d *project.Def, spec procstate.Spec) (project.Step, error) {
	a := specArgs(spec)
	if len(d.WaitFor) > 0 {
		a.WaitFor = new(waitFor)
		if err := json.Unmarshal(d.WaitFor, a.WaitFor); err != nil {
			return project.Step{}, fmt.Errorf("%s process %q: %v", d.Source, d.Name, err)
		}
	}
	if err := a.validate(); err != nil {
		return project.Step{}, fmt.Errorf("%s process %q: %v", d.Source, d.Name, err)
	}
	st := project.Step{Spec: spec}
	if a.WaitFor != nil {
		st.Ready, st.Tail = &a.WaitFor.cond, a.WaitFor.tail
	}
	return st, nil
}

// specArgs are the start arguments that give spec.
func specArgs(spec procstate.Spec) *startArgs {
	a := &startArgs{Name: spec.Name, Command: spec.Command, Argv: spec.Argv, Cwd: spec.Cwd, Env: spec.Env, Stdin: spec.Stdin, Restart: string(spec.Restart)}
	if spec.MaxRestarts > 0 {
		n := spec.MaxRestarts
		a.MaxRestarts = &n
	}
	return a
}

// override applies what the call gives beside "script" to the step of the
// project's definition.
func (call *startArgs) override(st *project.Step) {
	sp := &st.Spec
	if call.Name != "" {
		sp.Name = call.Name
	}
	if call.Cwd != "" {
		sp.Cwd = call.Cwd
	}
	if len(call.Env) > 0 {
		env := make(map[string]string, len(sp.Env)+len(call.Env))
		for k, v := range sp.Env {
			env[k] = v
		}
		for k, v := range call.Env {
			env[k] = v
		}
		sp.Env = env
	}
	if call.Stdin {
		sp.Stdin = true
	}
	if call.Restart != "" {
		sp.Restart = procstate.RestartPolicy(call.Restart)
	}
	if call.MaxRestarts != nil {
		sp.MaxRestarts = *call.MaxRestarts
	}
	if call.WaitFor != nil {
		st.Ready, st.Tail = &call.WaitFor.cond, call.WaitFor.tail
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
