package procstate

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStopped: the record that publishes a run's end says whether a stop
// ended it, so that "exited unexpectedly" can be told from "stopped".
func TestStopped(t *testing.T) {
	// Each end returns the record that published the end of p's run.
	ownEnd := func(t *testing.T, ctx context.Context, _ *Supervisor, p *Process) *Record {
		awaitDone(t, ctx, p)
		return p.Record()
	}
	stop := func(t *testing.T, ctx context.Context, s *Supervisor, p *Process) *Record {
		res, err := s.Stop(ctx, p.Name(), syscall.SIGTERM, time.Second)
		require.NoError(t, err)
		return res.Record
	}
	restart := func(t *testing.T, ctx context.Context, s *Supervisor, p *Process) *Record {
		next, res, err := s.Restart(ctx, p.Name(), syscall.SIGTERM, time.Second)
		require.NoError(t, err)
		assert.False(t, next.Record().Stopped, "the next run is not stopped")
		return res.Record
	}
	stopInBackoff := func(t *testing.T, ctx context.Context, s *Supervisor, p *Process) *Record {
		awaitDone(t, ctx, p)
		require.Equal(t, StatusBackoff, p.Record().Status)
		res, err := s.Stop(ctx, p.Name(), syscall.SIGTERM, time.Second)
		require.NoError(t, err)
		return res.Record
	}
	closeAll := func(t *testing.T, ctx context.Context, s *Supervisor, p *Process) *Record {
		require.NoError(t, s.Close(ctx))
		return p.Record()
	}
	// SIGTERM ends the sleep mode at once, even before the runtime starts.
	stubborn := func(t *testing.T, ctx context.Context, s *Supervisor, p *Process) *Record {
		waitForLine(t, ctx, p, "ready") // SIGTERM is ignored from here
		res, err := s.Stop(ctx, p.Name(), syscall.SIGTERM, 10*time.Millisecond)
		require.NoError(t, err)
		assert.True(t, res.Killed)
		return res.Record
	}
	tests := []struct {
		name        string
		spec        Spec
		end         func(*testing.T, context.Context, *Supervisor, *Process) *Record
		wantStatus  Status
		wantStopped bool
	}{
		{"exits 0", helperSpec("exit", "0"), ownEnd, StatusExited, false},
		{"crashes", helperSpec("exit", "3"), ownEnd, StatusExited, false},
		{"crashes with a restart policy", withRestart(helperSpec("exit", "3")), ownEnd, StatusBackoff, false},
		{"stop", helperSpec("sleep"), stop, StatusExited, true},
		{"stop that has to SIGKILL", helperSpec("ignoreterm"), stubborn, StatusExited, true},
		{"restart", helperSpec("sleep"), restart, StatusExited, true},
		{"stop during the backoff after a crash", withRestart(helperSpec("exit", "3")), stopInBackoff, StatusExited, false},
		{"shutdown", helperSpec("sleep"), closeAll, StatusExited, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			s := newSupervisor(t, Config{Clock: newFakeClock()})
			p, err := s.Start(withName("p", tt.spec))
			require.NoError(t, err)
			rec := tt.end(t, ctx, s, p)
			assert.Equal(t, tt.wantStatus, rec.Status)
			assert.Equal(t, tt.wantStopped, rec.Stopped)
			assert.Equal(t, rec, p.Record(), "the run's last record")
		})
	}
}

// withRestart returns spec with restart policy on-failure.
func withRestart(spec Spec) Spec {
	spec.Restart = RestartOnFailure
	return spec
}

// awaitDone waits until p's Done is closed: its exit is published, which
// with a restart policy may be a backoff.
func awaitDone(t *testing.T, ctx context.Context, p *Process) {
	t.Helper()
	select {
	case <-p.Done():
	case <-ctx.Done():
		require.FailNow(t, "process did not end", "%q: %s", p.Name(), ctx.Err())
	}
}
