package project

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/procstate"
)

func newSupervisor(t *testing.T, dir string) *procstate.Supervisor {
	t.Helper()
	sup, err := procstate.New(procstate.Config{Dir: dir}, zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, sup.Close(ctx))
	})
	return sup
}

// logReady is a Prepare that reads wait_for {"log": RE} only.
func logReady(d *Def, spec procstate.Spec) (Step, error) {
	st := Step{Spec: spec, Tail: 5}
	if len(d.WaitFor) == 0 {
		return st, nil
	}
	m := regexp.MustCompile(`"log":\s*"([^"]*)"`).FindSubmatch(d.WaitFor)
	if m == nil {
		return Step{}, errors.New("only log waits here")
	}
	re := regexp.MustCompile(string(m[1]))
	st.Ready = &procstate.Condition{Match: re.MatchString, Timeout: 10 * time.Second}
	return st, nil
}

func TestStartScript(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, map[string]string{BrummerJSON: `{"processes": {
		"db":   {"command": "echo db up; exec sleep 60", "wait_for": {"log": "db up"}},
		"api":  {"command": "echo \"api in $(basename $PWD)\"; exec sleep 60", "cwd": "sub", "depends_on": ["db"]},
		"web":  {"command": "exec sleep 60", "depends_on": ["api", "db"]},
		"bad":  {"command": "echo starting; exit 3", "wait_for": {"log": "never"}},
		"on-bad": {"command": "true", "depends_on": ["bad"]},
		"broken-wait": {"command": "true", "wait_for": {"port": 1}},
		"on-broken": {"command": "true", "depends_on": ["broken-wait"]}
	}}`})
	require.NoError(t, mkdir(filepath.Join(dir, "sub")))
	snap := Load(dir)
	require.Empty(t, snap.Errors)
	sup := newSupervisor(t, dir)
	ctx := context.Background()
	l := Launcher{Prepare: logReady}

	out, err := StartScript(ctx, sup, snap, "web", l)
	require.NoError(t, err)
	assert.Equal(t, []string{"db", "api"}, out.Deps, "dependencies first, each once")
	assert.Equal(t, "web", out.Process.Name())
	assert.Nil(t, out.Step.Ready)
	assert.Equal(t, filepath.Join(dir, "sub"), sup.Get("api").Record().Cwd, "cwd relative to the project")
	assert.GreaterOrEqual(t, sup.Get("db").Log().Stats().LastSeq, uint64(2), "db was ready (its line is in) before api started")

	// What runs already is not started again; the script itself is, and
	// a live one is the supervisor's error.
	_, err = StartScript(ctx, sup, snap, "web", l)
	var inUse *procstate.NameInUseError
	require.ErrorAs(t, err, &inUse)

	// A dependency that does not become ready stops the chain.
	_, err = StartScript(ctx, sup, snap, "on-bad", l)
	var dep *DependencyError
	require.ErrorAs(t, err, &dep)
	assert.Equal(t, "bad", dep.Dep)
	assert.NoError(t, dep.Err)
	assert.Equal(t, procstate.Exited, dep.Wait.Outcome)
	assert.Equal(t, 5, dep.Step.Tail)
	assert.EqualError(t, err, `"on-bad" was not started: it depends on "bad", which did not become ready (it ended with exit code 3)`)
	assert.Nil(t, sup.Get("on-bad"))

	// A definition the caller refuses: its error, before anything starts.
	_, err = StartScript(ctx, sup, snap, "on-broken", l)
	assert.EqualError(t, err, "only log waits here")
	assert.Nil(t, sup.Get("broken-wait"))

	// A dependency whose start fails.
	refused := errors.New("refused by policy")
	_, err = StartScript(ctx, sup, snap, "on-bad", Launcher{Prepare: logReady, Start: func(st Step) (*procstate.Process, error) {
		return nil, refused
	}})
	require.ErrorAs(t, err, &dep)
	assert.ErrorIs(t, err, refused)
	assert.EqualError(t, err, `"on-bad" depends on "bad": refused by policy`)

	_, err = StartScript(ctx, sup, snap, "nope", l)
	assert.ErrorIs(t, err, ErrUndefined)

	// Without a Prepare, a wait_for is refused rather than ignored.
	_, err = StartScript(ctx, sup, snap, "broken-wait", Launcher{})
	assert.EqualError(t, err, `brummer.json process "broken-wait": wait_for is not read by this starter`)
}

// TestStartScriptCancel: a wait ends with its context; what started runs on.
func TestStartScriptCancel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, map[string]string{BrummerJSON: `{"processes": {
		"slow": {"command": "exec sleep 60", "wait_for": {"log": "never"}},
		"app":  {"command": "true", "depends_on": ["slow"]}
	}}`})
	sup := newSupervisor(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	l := Launcher{Prepare: logReady, Start: func(st Step) (*procstate.Process, error) {
		p, err := sup.Start(st.Spec)
		cancel() // the wait that follows ends at once
		return p, err
	}}
	_, err := StartScript(ctx, sup, Load(dir), "app", l)
	assert.ErrorIs(t, err, context.Canceled)
	assert.True(t, sup.Get("slow").Record().Status.Live())
	assert.Nil(t, sup.Get("app"))
}

func TestSnapshotSpec(t *testing.T) {
	snap := &Snapshot{Dir: "/proj"}
	d := &Def{Name: "api", Argv: []string{"go", "run", "."}, Cwd: "backend", Env: map[string]string{"A": "1"}, Restart: "always", MaxRestarts: 3, Stdin: true}
	sp := snap.Spec(d)
	assert.Equal(t, procstate.Spec{Name: "api", Argv: []string{"go", "run", "."}, Cwd: "/proj/backend", Env: map[string]string{"A": "1"}, Stdin: true, Restart: procstate.RestartAlways, MaxRestarts: 3}, sp)
	sp.Argv[0], sp.Env["A"] = "x", "2"
	assert.Equal(t, "go", d.Argv[0], "the spec shares nothing with the definition")
	assert.Equal(t, "1", d.Env["A"])
	assert.Equal(t, "/proj", snap.Spec(&Def{Name: "x", Command: "true"}).Cwd)
	assert.Equal(t, "/abs", snap.Spec(&Def{Name: "x", Command: "true", Cwd: "/abs"}).Cwd)
}

func mkdir(dir string) error { return os.MkdirAll(dir, 0o755) }
