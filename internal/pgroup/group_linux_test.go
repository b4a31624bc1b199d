package pgroup_test

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	. "github.com/brummer-mcp/brummer-mcp/internal/pgroup"
	"github.com/brummer-mcp/brummer-mcp/internal/pgroup/pgrouptest"
)

func TestStatSelf(t *testing.T) {
	p, err := Stat(os.Getpid())
	require.NoError(t, err)
	assert.Equal(t, os.Getpid(), p.Pid)
	assert.Equal(t, os.Getppid(), p.PPid)
	assert.Equal(t, syscall.Getpgrp(), p.Pgrp)
	assert.True(t, p.Running())
	assert.LessOrEqual(t, p.Start, Now())
	_, err = Stat(1 << 30)
	assert.Error(t, err)
}

func gone(pids ...int) func() bool {
	return func() bool {
		for _, pid := range pids {
			if pgrouptest.Alive(pid) {
				return false
			}
		}
		return true
	}
}

func TestGroupBeforeReap(t *testing.T) {
	t.Parallel()
	cmd, pids := pgrouptest.ShellGroup(t, `sleep 3600 & echo $!; sleep 3600 & echo $!; echo ready; wait`)
	g := Lead(cmd.Process.Pid, false)
	assert.Equal(t, cmd.Process.Pid, g.ID())
	assert.NotZero(t, g.Ref().Start)
	assert.Zero(t, g.Ref().Reaped)
	assert.True(t, g.Alive())

	require.NoError(t, g.Signal(syscall.SIGKILL))
	g.Reap(false, nil, func() { _ = cmd.Wait() })
	assert.Eventually(t, gone(pids...), 5*time.Second, 5*time.Millisecond, "the group kill missed a member")
	assert.Eventually(t, func() bool { return !g.Alive() }, 5*time.Second, 5*time.Millisecond)
	assert.NoError(t, g.Signal(syscall.SIGTERM), "a gone group is no error")
}

func TestGroupAfterReapSparesStranger(t *testing.T) {
	cmd := exec.Command("true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	g := Lead(cmd.Process.Pid, false)
	var reported Ref
	g.Reap(true, func(r Ref) { reported = r }, func() { _ = cmd.Wait() })
	assert.Empty(t, reported.Known, "no member outlived the leader")
	assert.NotZero(t, reported.Reaped)
	assert.Equal(t, g.Ref(), reported)

	stranger := pgrouptest.StartAt(t, g.ID(), pgrouptest.Stranger)
	require.True(t, Exists(g.ID()), "the stranger leads a group with our old id")

	assert.False(t, g.Alive(), "a stranger's group counted as ours")
	assert.NoError(t, g.Signal(syscall.SIGTERM))
	assert.NoError(t, g.Signal(syscall.SIGKILL))
	n, err := reported.Owned(Now()).Kill()
	assert.NoError(t, err)
	assert.Zero(t, n)
	assert.False(t, pgrouptest.Signalled(stranger.Process.Pid), "the stranger was signalled")
}

func TestGroupAfterReapKillsLeftovers(t *testing.T) {
	t.Parallel()
	// The leader exits; a background job stays in its group and keeps
	// forking children after the reap (they are ours through their parent).
	cmd, pids := pgrouptest.ShellGroup(t, `(while :; do sleep 3600 & sleep 0.01; done) & echo $!; echo ready`)
	g := Lead(cmd.Process.Pid, false)
	g.Reap(true, nil, func() { _ = cmd.Wait() })
	require.Len(t, pids, 1)
	assert.Contains(t, g.Ref().Known, pids[0], "the survivor is recorded at the reap")
	assert.True(t, g.Alive(), "the background job is a member")

	require.NoError(t, g.Signal(syscall.SIGKILL))
	assert.Eventually(t, gone(pids...), 5*time.Second, 5*time.Millisecond)
	assert.Eventually(t, func() bool { return !g.Alive() }, 5*time.Second, 5*time.Millisecond, "a forked child escaped")
}

func TestRefOwnedAfterServerDeath(t *testing.T) {
	t.Parallel()
	// A dead server's record: the leader it never reaped is gone (init
	// reaped it), a member is left; it started before the server was last
	// known alive.
	cmd, pids := pgrouptest.ShellGroup(t, `sleep 3600 & echo $!; echo ready`)
	ref := Ref{Pgid: cmd.Process.Pid, Start: Lead(cmd.Process.Pid, false).Ref().Start}
	require.NoError(t, cmd.Wait())
	require.True(t, pgrouptest.Alive(pids[0]))

	none, err := ref.Owned(0).Members()
	require.NoError(t, err)
	assert.Empty(t, none, "nothing is proven without a bound")

	members, err := ref.Owned(Now() + 1).Members()
	require.NoError(t, err)
	require.Len(t, members, 1)
	assert.Equal(t, pids[0], members[0].Pid)
	assert.True(t, ref.Owned(Now()+1).Alive())
	n, err := ref.Owned(Now() + 1).Kill()
	assert.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Eventually(t, gone(pids...), 5*time.Second, 5*time.Millisecond)
}

func TestRefOwnedLeaderPresent(t *testing.T) {
	t.Parallel()
	// While the leader is there, every member is ours, however late it
	// started.
	cmd, pids := pgrouptest.ShellGroup(t, `sleep 3600 & echo $!; echo ready; wait`)
	ref := Lead(cmd.Process.Pid, false).Ref()
	pgrouptest.Outlive(t, Now())
	members, err := ref.Owned(Now()).Members()
	require.NoError(t, err)
	got := []int{}
	for _, m := range members {
		got = append(got, m.Pid)
	}
	assert.ElementsMatch(t, []int{cmd.Process.Pid, pids[0]}, got)
}

func TestPin(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Start())
	p, err := Stat(cmd.Process.Pid)
	require.NoError(t, err)
	_, ok := PinProcess(cmd.Process.Pid, p.Start+1)
	assert.False(t, ok, "another start time is another process")

	pin, ok := PinProcess(cmd.Process.Pid, p.Start)
	require.True(t, ok)
	defer pin.Close()
	require.Eventually(t, func() bool { return !pgrouptest.Alive(cmd.Process.Pid) }, 5*time.Second, time.Millisecond)
	assert.True(t, pin.Unreaped(), "a zombie is not reaped yet")
	require.NoError(t, cmd.Wait())
	assert.False(t, pin.Unreaped())
	assert.False(t, (*Pin)(nil).Unreaped())
}
