package project

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"

	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// ErrUndefined is matched by StartScript's error for a name the project
// does not define.
var ErrUndefined = errors.New("not defined by the project")

// Step is how a process the project defines starts: the spec to start, and
// what ready means for it.
type Step struct {
	Spec procstate.Spec
	// Ready, if set, must hold before what depends on the process starts
	// (the definition's wait_for).
	Ready *procstate.Condition
	// Tail is how many of the run's last lines to show when it does not
	// become ready.
	Tail int
}

// Launcher is the caller's part of StartScript: how a definition becomes
// a step, how a step starts, and who hears of the waits.
type Launcher struct {
	// Prepare turns a definition, and the spec [Snapshot.Spec] makes of it,
	// into the step that starts it. The definition's wait_for is the
	// caller's to read (the same format as a tool's argument), and so are
	// further checks and the caller's policy: an error keeps the process
	// from starting, and is StartScript's error. nil starts a definition as
	// written and refuses one with a wait_for.
	Prepare func(d *Def, spec procstate.Spec) (Step, error)
	// Start starts a step; nil calls Supervisor.Start with its spec. Its
	// error, for a dependency, is wrapped in a *DependencyError.
	Start func(Step) (*procstate.Process, error)
	// Progress, if set, is told how each dependency's wait goes (see
	// procstate.Process.Wait).
	Progress func(procstate.WaitProgress)
}

// Started is what StartScript started.
type Started struct {
	// Process is the script's run, Step how it started: its Ready, if set,
	// is the caller's to wait for.
	Process *procstate.Process
	Step    Step
	// Deps are the dependencies started first, in order; those that were
	// running already are not started again and not listed.
	Deps []string
}

// DependencyError is StartScript's error when a dependency did not start,
// or did not become ready: the script was not started.
type DependencyError struct {
	Script, Dep string
	Step        Step
	// Err is why the dependency did not start (Launcher.Start's error);
	// nil when it started and its wait ended otherwise than ready, as Wait
	// tells.
	Err  error
	Wait procstate.WaitResult
}

func (e *DependencyError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%q depends on %q: %v", e.Script, e.Dep, e.Err)
	}
	how := string(e.Wait.Outcome)
	if r := e.Wait.Record; r != nil && e.Wait.Outcome == procstate.Exited {
		how = "it ended"
		switch {
		case r.Signal != "":
			how += ", killed by " + r.Signal
		case r.Error != "":
			how += ": " + r.Error
		default:
			how += fmt.Sprintf(" with exit code %d", r.ExitCode)
		}
	}
	return fmt.Sprintf("%q was not started: it depends on %q, which did not become ready (%s)", e.Script, e.Dep, how)
}

func (e *DependencyError) Unwrap() error { return e.Err }

// Spec is how d starts: its command or argv, in its cwd (relative to the
// project's directory; by default that directory), with its env, stdin and
// restart policy. The spec shares nothing with the snapshot.
func (s *Snapshot) Spec(d *Def) procstate.Spec {
	sp := procstate.Spec{
		Name: d.Name, Command: d.Command, Argv: slices.Clone(d.Argv), Cwd: d.Cwd, Env: maps.Clone(d.Env),
		Stdin: d.Stdin, Restart: procstate.RestartPolicy(d.Restart), MaxRestarts: d.MaxRestarts,
	}
	switch {
	case sp.Cwd == "":
		sp.Cwd = s.Dir
	case !filepath.IsAbs(sp.Cwd):
		sp.Cwd = filepath.Join(s.Dir, sp.Cwd)
	}
	return sp
}

// StartScript starts the process name of snap after what it depends on:
// each dependency, in order, that is not live already is started and, if
// its step says what ready means, waited for; one that does not start or
// does not become ready stops the chain with a *DependencyError. Then the
// script itself starts; StartScript does not wait for it (the caller does,
// with Started.Step.Ready, and reports as it likes).
//
// It runs on the caller's goroutine. A wait ends with ctx, and StartScript
// with ctx's error; what started keeps running. A name snap does not define
// is an error matching ErrUndefined.
func StartScript(ctx context.Context, sup *procstate.Supervisor, snap *Snapshot, name string, l Launcher) (Started, error) {
	def := snap.Def(name)
	if def == nil {
		return Started{}, fmt.Errorf("%w: %q", ErrUndefined, name)
	}
	order := snap.StartOrder(name)
	var out Started
	for _, d := range order[:len(order)-1] {
		if p := sup.Get(d.Name); p != nil && p.Record().Status.Live() {
			continue // up already
		}
		st, err := l.prepare(snap, d)
		if err != nil {
			return out, err
		}
		p, err := l.start(sup, st)
		if err != nil {
			return out, &DependencyError{Script: name, Dep: d.Name, Step: st, Err: err}
		}
		out.Deps = append(out.Deps, d.Name)
		if st.Ready == nil {
			continue
		}
		res, err := p.Wait(ctx, *st.Ready, l.Progress)
		if err != nil {
			return out, err // cancelled; what started keeps running
		}
		if res.Outcome != procstate.Ready {
			return out, &DependencyError{Script: name, Dep: d.Name, Step: st, Wait: res}
		}
	}
	st, err := l.prepare(snap, def)
	if err != nil {
		return out, err
	}
	p, err := l.start(sup, st)
	if err != nil {
		return out, err
	}
	out.Process, out.Step = p, st
	return out, nil
}

func (l *Launcher) prepare(snap *Snapshot, d *Def) (Step, error) {
	spec := snap.Spec(d)
	if l.Prepare != nil {
		return l.Prepare(d, spec)
	}
	if len(d.WaitFor) > 0 {
		return Step{}, fmt.Errorf("%s process %q: wait_for is not read by this starter", d.Source, d.Name)
	}
	return Step{Spec: spec}, nil
}

func (l *Launcher) start(sup *procstate.Supervisor, st Step) (*procstate.Process, error) {
	if l.Start != nil {
		return l.Start(st)
	}
	return sup.Start(st.Spec)
}
