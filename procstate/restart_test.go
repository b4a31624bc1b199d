package procstate

import (
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a Clock that moves only when Advance is called; due
// callbacks run in Advance's goroutine.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at   time.Time
	f    func()
	done bool // fired or stopped
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		stopped := !t.done
		t.done = true
		return stopped
	}
}

// pending returns the waits of the timers not yet due.
func (c *fakeClock) pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ds []time.Duration
	for _, t := range c.timers {
		if !t.done {
			ds = append(ds, t.at.Sub(c.now))
		}
	}
	return ds
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.done && !t.at.After(c.now) {
			t.done = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// awaitRecord waits until the process named name has a record for which
// ok holds, and returns it.
func awaitRecord(t *testing.T, s *Supervisor, name string, ok func(*Record) bool) *Record {
	t.Helper()
	var rec *Record
	require.Eventually(t, func() bool {
		p := s.Get(name)
		rec = p.Record()
		return ok(rec)
	}, testTimeout, time.Millisecond)
	return rec
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for n, d := range want {
		assert.Equal(t, d, backoff(n), "restart %d", n)
	}
}

// TestRestartOnFailure: a failing process is restarted after a backoff that
// doubles, in the same log, until it gives up as a crash loop.
func TestRestartOnFailure(t *testing.T) {
	clock := newFakeClock()
	s := newSupervisor(t, Config{Clock: clock})
	_, err := s.Start(Spec{Name: "crash", Command: "echo trying; exit 1", Restart: RestartOnFailure, MaxRestarts: 3})
	require.NoError(t, err)

	for i, wait := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second} {
		rec := awaitRecord(t, s, "crash", func(r *Record) bool { return r.Status == StatusBackoff && r.Run == i+1 })
		assert.Equal(t, 1, rec.ExitCode)
		assert.Equal(t, clock.Now().Add(wait), rec.NextRestartAt)
		assert.Equal(t, []time.Duration{wait}, clock.pending())
		clock.Advance(wait)
	}
	rec := awaitRecord(t, s, "crash", func(r *Record) bool { return r.Status == StatusFailed })
	assert.Equal(t, 4, rec.Run)
	assert.Regexp(t, `^crash loop: exited with code 1 4 times in \S+$`, rec.Error)
	assert.Empty(t, clock.pending())

	got := notes(t, s.Get("crash"))
	require.Len(t, got, 8, "a start and an end note for each of the four runs")
	assert.Regexp(t, `^\[run 1\] exited with code 1 after \S+; restarting in 500ms \(1 of 3\)$`, got[1])
	assert.Regexp(t, `^\[run 3\] exited with code 1 after \S+; restarting in 2\.0s \(3 of 3\)$`, got[5])
	assert.Regexp(t, `^\[run 4\] exited with code 1 after \S+; giving up: crash loop: `, got[7])
	assert.Equal(t, []string{"trying", "trying", "trying", "trying"}, texts(allLines(t, s.Get("crash"))))
}

func TestRestartPolicies(t *testing.T) {
	tests := []struct {
		name    string
		policy  RestartPolicy
		command string
		want    Status
	}{
		{"on-failure after success", RestartOnFailure, "exit 0", StatusExited},
		{"on-failure after a signal", RestartOnFailure, "kill -TERM $$", StatusBackoff},
		{"always after success", RestartAlways, "exit 0", StatusBackoff},
		{"never", RestartNever, "exit 1", StatusExited},
		{"none", "", "exit 1", StatusExited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			s := newSupervisor(t, Config{Clock: newFakeClock()})
			p, err := s.Start(Spec{Name: "p", Command: tt.command, Restart: tt.policy})
			require.NoError(t, err)
			<-p.Done()
			rec := p.Record()
			assert.Equal(t, tt.want, rec.Status)
			if rec.Status == StatusBackoff {
				// A stop cancels the pending restart.
				res, err := s.Stop(ctx, "p", syscall.SIGTERM, time.Second)
				require.NoError(t, err)
				assert.True(t, res.AlreadyStopped)
				assert.Equal(t, StatusExited, res.Record.Status)
				assert.True(t, slices.ContainsFunc(notes(t, p), func(n string) bool { return n == "[run 1] restart cancelled by a stop" }))
			}
		})
	}
}

// TestStopIsNoCrash: a process stopped on purpose is not restarted, even
// with restart always; and a cancelled backoff stays cancelled when its
// timer fires.
func TestStopIsNoCrash(t *testing.T) {
	ctx := testContext(t)
	clock := newFakeClock()
	s := newSupervisor(t, Config{Clock: clock})
	p, err := s.Start(Spec{Name: "svc", Argv: []string{"sleep", "60"}, Restart: RestartAlways})
	require.NoError(t, err)
	res, err := s.Stop(ctx, "svc", syscall.SIGTERM, time.Second)
	require.NoError(t, err)
	assert.Equal(t, StatusExited, res.Record.Status)
	assert.Empty(t, clock.pending())

	q, err := s.Start(Spec{Name: "q", Command: "exit 2", Restart: RestartAlways})
	require.NoError(t, err)
	<-q.Done()
	require.Equal(t, StatusBackoff, q.Record().Status)
	_, err = s.Stop(ctx, "q", syscall.SIGTERM, time.Second)
	require.NoError(t, err)
	clock.Advance(time.Minute)
	assert.Same(t, q, s.Get("q"), "no new run")
	assert.Equal(t, StatusExited, q.Record().Status)
	assert.Equal(t, p, s.Get("svc"))
}

// TestStableRunResetsStreak: after a run of a minute or more, the backoff
// starts again from the first wait.
func TestStableRunResetsStreak(t *testing.T) {
	s := newSupervisor(t, Config{Clock: newFakeClock()})
	p := &Process{spec: Spec{Restart: RestartAlways}}
	p.loop = restartLoop{count: 5, since: time.Unix(0, 0)}
	now := time.Now()
	plan := s.planExitLocked(p, &Record{StartedAt: now.Add(-2 * time.Minute)}, 0, "", now)
	assert.Equal(t, StatusBackoff, plan.status)
	assert.Equal(t, firstBackoff, plan.after)
	assert.Equal(t, 1, p.loop.count)

	plan = s.planExitLocked(p, &Record{StartedAt: now.Add(-time.Second)}, 0, "", now)
	assert.Equal(t, 2*firstBackoff, plan.after, "a short run goes on with the streak")
}
