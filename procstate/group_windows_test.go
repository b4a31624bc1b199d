package procstate

import (
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests state what Windows does instead of process groups and
// signals. They have been compiled, not run: CI has no Windows runner.

func TestJobKillsTree(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	p, err := s.Start(helperSpec("grandchildren", "3"))
	require.NoError(t, err)
	pids := stdoutPids(t, waitForLine(t, ctx, p, "ready"))
	require.Len(t, pids, 3)
	leader := p.Record().Pid
	for _, pid := range pids {
		requireRunningIn(t, pid, leader) // born inside the leader's job
	}
	require.True(t, GroupAlive(leader))

	res, err := s.Stop(ctx, p.Name(), syscall.SIGKILL, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "SIGKILL", res.Record.Signal, "TerminateJobObject is reported as SIGKILL")
	assert.Equal(t, -1, res.Record.ExitCode)
	for _, pid := range pids {
		assertGone(t, pid, leader)
	}
	assert.False(t, GroupAlive(leader))
}

func TestJobBreakThenTerminate(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	p, err := s.Start(helperSpec("grandchild-ignoreterm"))
	require.NoError(t, err)
	pids := stdoutPids(t, waitForLine(t, ctx, p, "ready"))
	require.Len(t, pids, 1)
	leader := p.Record().Pid

	// TERM is a CTRL_BREAK_EVENT: the leader dies of it, the grandchild
	// catches it, so the job is terminated when the grace period ends.
	const grace = 500 * time.Millisecond
	start := time.Now()
	res, err := s.Stop(ctx, p.Name(), syscall.SIGTERM, grace)
	elapsed := time.Since(start)
	require.NoError(t, err)
	assert.True(t, res.Killed)
	assert.GreaterOrEqual(t, elapsed, grace)
	assert.Less(t, elapsed, grace+time.Second)
	assertGone(t, pids[0], leader)
}

func TestShellCommandCmdExe(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	p, err := s.Start(Spec{Command: `echo "a b"& echo done& exit /b 3`})
	require.NoError(t, err)
	recs := waitDone(t, ctx, p)
	assert.Equal(t, []string{`"a b"`, "done"}, texts(allLines(t, p)))
	assert.Equal(t, 3, recs[len(recs)-1].ExitCode)
}

func TestSignalNamesWindows(t *testing.T) {
	assert.Equal(t, []string{"TERM", "INT", "KILL"}, SignalNames())
	for _, name := range []string{"HUP", "QUIT", "USR1", "USR2"} {
		_, ok := SignalByName(name)
		assert.False(t, ok, name)
	}
}
