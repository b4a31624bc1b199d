package procstate

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
	"github.com/brummer-mcp/brummer-mcp/internal/pgroup/pgrouptest"
)

// The safety tests put a stranger's process group on exactly the id that a
// process of ours had (pgrouptest forces the pid), then do what could
// signal that id again. The stranger must live. They need root on Linux
// and skip elsewhere.

// TestRecycledGroupIsNotOurs: once an exited process's group is gone, its
// id is free: stopping or restarting that name, closing the supervisor (on
// time or past its deadline) and pruning old records leave the group that
// took the id alone.
func TestRecycledGroupIsNotOurs(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		// leftover: the process leaves a member in its group that ends
		// after the leader's exit was recorded.
		leftover bool
		act      func(t *testing.T, ctx context.Context, s *Supervisor, p *Process)
	}{
		{name: "stop", act: stopExited},
		{name: "stop after leftovers ended", leftover: true, act: stopExited},
		{name: "start under its name", act: func(t *testing.T, ctx context.Context, s *Supervisor, p *Process) {
			next, err := s.Start(withName(p.Name(), helperSpec("exit", "0")))
			require.NoError(t, err)
			waitDone(t, ctx, next)
		}},
		{name: "start under its name after leftovers ended", leftover: true, act: func(t *testing.T, ctx context.Context, s *Supervisor, p *Process) {
			next, err := s.Start(withName(p.Name(), helperSpec("exit", "0")))
			require.NoError(t, err)
			waitDone(t, ctx, next)
		}},
		{name: "Close", leftover: true, act: func(t *testing.T, ctx context.Context, s *Supervisor, p *Process) {
			require.NoError(t, s.Close(ctx))
		}},
		{name: "Close past its deadline", leftover: true, act: func(t *testing.T, ctx context.Context, s *Supervisor, p *Process) {
			late, cancel := context.WithCancel(ctx)
			cancel()
			assert.ErrorIs(t, s.Close(late), context.Canceled)
		}},
		{name: "prune", cfg: Config{MaxExited: 1}, leftover: true, act: func(t *testing.T, ctx context.Context, s *Supervisor, p *Process) {
			next, err := s.Start(helperSpec("exit", "0"))
			require.NoError(t, err)
			waitDone(t, ctx, next)
			require.Nil(t, s.Get(p.Name()), "the old record was pruned")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // most wait seconds for init to reap the member they kill
			ctx := testContext(t)
			s := newSupervisor(t, tt.cfg)
			spec := helperSpec("exit", "0")
			if tt.leftover {
				spec = helperSpec("orphans", "1")
			}
			p, err := s.Start(withName("t", spec))
			require.NoError(t, err)
			recs := waitDone(t, ctx, p)
			pgid := recs[len(recs)-1].Pid
			if tt.leftover {
				member := stdoutPids(t, allLines(t, p))[0]
				requireRunningIn(t, member, pgid)
				require.NoError(t, syscall.Kill(member, syscall.SIGKILL))
			}
			// Zombies keep the id taken until their parent (here init)
			// reaps them.
			require.Eventually(t, func() bool { return !pgroup.Exists(pgid) }, 10*time.Second, 5*time.Millisecond)
			stranger := pgrouptest.StartAt(t, pgid, pgrouptest.Stranger)

			tt.act(t, ctx, s, p)
			assert.False(t, pgrouptest.Signalled(stranger.Process.Pid), "a stranger's process group with our old id was signalled")
		})
	}
}

func stopExited(t *testing.T, ctx context.Context, s *Supervisor, p *Process) {
	res, err := s.Stop(ctx, p.Name(), syscall.SIGTERM, time.Second)
	require.NoError(t, err)
	assert.True(t, res.AlreadyStopped)
}

// TestExitDrainPinsGroup: while a leader's exit is drained (a daemon it
// started holds its output pipes), the record says running and a stop may
// come. The leader stays an unreaped zombie all that time, so its pid, and
// with it the group id, cannot pass to a stranger that a stop's group
// signal would reach.
func TestExitDrainPinsGroup(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{WaitDelay: testTimeout})
	p, err := s.Start(withName("d", helperSpec("daemon")))
	require.NoError(t, err)
	leader := p.Record().Pid
	var daemon int
	require.Eventually(t, func() bool {
		lines := allLines(t, p)
		if len(lines) < 2 {
			return false
		}
		daemon, err = strconv.Atoi(lines[0].Text)
		return err == nil
	}, testTimeout, 5*time.Millisecond)
	t.Cleanup(func() { _ = syscall.Kill(daemon, syscall.SIGKILL) })
	require.Eventually(t, func() bool { return !pgrouptest.Alive(leader) }, testTimeout, 5*time.Millisecond, "the leader exits")

	require.Equal(t, StatusRunning, p.Record().Status, "the exit is being drained")
	st, err := pgroup.Stat(leader)
	require.NoError(t, err, "the leader was reaped while its exit was drained: a stranger could take its group id")
	assert.Equal(t, byte('Z'), st.State)

	stopped := make(chan StopResult, 1)
	go func() {
		res, err := s.Stop(ctx, "d", syscall.SIGTERM, 100*time.Millisecond)
		assert.NoError(t, err)
		stopped <- res
	}()
	// The stop reaches only the zombie; the daemon left the group. Once
	// it dies, the pipes close and the exit is published.
	require.Eventually(t, func() bool { return p.Record().Status == StatusStopping }, testTimeout, time.Millisecond)
	require.NoError(t, syscall.Kill(daemon, syscall.SIGKILL))
	res := <-stopped
	assert.Equal(t, StatusExited, res.Record.Status)
	assert.Equal(t, 0, res.Record.ExitCode, "the leader had exited by itself")
}
