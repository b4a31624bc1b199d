package procstate

import (
	"context"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// awaitUsage wants usage, as a subscriber does, and follows Changes until
// p's usage satisfies ok; it returns the usage and how many distinct
// samples it saw.
func awaitUsage(t *testing.T, ctx context.Context, s *Supervisor, p *Process, ok func(Usage) bool) (Usage, int) {
	t.Helper()
	var last time.Time
	samples := 0
	for {
		s.WantUsage()
		gen := s.Generation()
		u, have := p.Usage()
		if have && !u.At.Equal(last) {
			last = u.At
			samples++
		}
		if have && ok(u) {
			return u, samples
		}
		ch, done := s.Changes(gen)
		select {
		case <-ch:
		case <-ctx.Done():
			done()
			require.FailNow(t, "usage never as expected", "%q: %s; last %+v (%v)", p.Name(), ctx.Err(), u, have)
		}
		done()
	}
}

// TestUsageCPUAndMemory: a child that keeps a core busy shows more than
// half a core within a few samples, and the memory it then allocates
// shows in its RSS.
func TestUsageCPUAndMemory(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{usageEvery: 200 * time.Millisecond})
	p, err := s.Start(withStdin(helperSpec("burn")))
	require.NoError(t, err)
	_, ok := p.Usage()
	assert.False(t, ok, "not wanted yet")
	waitForLine(t, ctx, p, "ready")

	u, samples := awaitUsage(t, ctx, s, p, func(u Usage) bool { return u.CPUPct > 50 })
	assert.LessOrEqual(t, samples, 10, "busy within a few samples")
	assert.Less(t, u.CPUPct, 400.0, "one spinning goroutine, the runtime's own threads beside it")
	assert.Positive(t, u.RSSBytes)
	assert.Empty(t, u.Ports)
	t.Logf("burning: %.0f%% CPU, RSS %d MiB after %d samples", u.CPUPct, u.RSSBytes>>20, samples)

	const grow = 64
	_, err = p.Input([]byte(strconv.Itoa(grow)+"\n"), false)
	require.NoError(t, err)
	allocated := waitForLine(t, ctx, p, "allocated "+strconv.Itoa(grow))
	at := time.Unix(0, allocated[len(allocated)-1].Time)
	grown, _ := awaitUsage(t, ctx, s, p, func(v Usage) bool { return v.At.After(at) })
	assert.GreaterOrEqual(t, grown.RSSBytes, u.RSSBytes+(grow-8)<<20, "RSS grew by about %d MiB: %d -> %d", grow, u.RSSBytes, grown.RSSBytes)

	_, err = s.Stop(ctx, p.Name(), syscall.SIGKILL, time.Second)
	require.NoError(t, err)
	_, ok = p.Usage()
	assert.False(t, ok, "an ended run has no usage")
}

// TestUsagePorts: the ports a run's group listens on, a grandchild's
// included, and not those of another run.
func TestUsagePorts(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{usageEvery: 50 * time.Millisecond})
	quiet, err := s.Start(helperSpec("sleep"))
	require.NoError(t, err)
	awaitUsage(t, ctx, s, quiet, func(Usage) bool { return true }) // sampled before the port opens
	p, err := s.Start(helperSpec("grandchild-listen"))
	require.NoError(t, err)
	res, err := p.Wait(ctx, Condition{Match: func(s string) bool { return strings.HasPrefix(s, "port ") }, Timeout: testTimeout}, nil)
	require.NoError(t, err)
	require.Equal(t, Ready, res.Outcome)
	port, err := strconv.Atoi(strings.TrimPrefix(res.Line.Text, "port "))
	require.NoError(t, err)
	u, _ := awaitUsage(t, ctx, s, p, func(u Usage) bool { return len(u.Ports) > 0 })
	assert.Equal(t, []int{port}, u.Ports)
	q, _ := awaitUsage(t, ctx, s, quiet, func(v Usage) bool { return !v.At.Before(u.At) })
	assert.Empty(t, q.Ports, "the other run listens on nothing")
}

// TestUsageOnlyWhileWanted: sampling stops UsageLinger after the last want
// and starts again with the next.
func TestUsageOnlyWhileWanted(t *testing.T) {
	ctx := testContext(t)
	idle := make(chan struct{}, 10) // more than the test's spells of sampling
	s := newSupervisor(t, Config{usageEvery: 10 * time.Millisecond, usageLinger: 50 * time.Millisecond,
		usageIdle: func() { idle <- struct{}{} }})
	p, err := s.Start(helperSpec("sleep"))
	require.NoError(t, err)
	awaitIdle := func() {
		t.Helper()
		select {
		case <-idle:
		case <-ctx.Done():
			require.FailNow(t, "sampling did not stop", "%s", ctx.Err())
		}
	}

	first, _ := awaitUsage(t, ctx, s, p, func(Usage) bool { return true })
	awaitIdle()
	assert.False(t, s.usage.sampling.Load())
	u, ok := p.Usage()
	assert.True(t, ok, "the last sample stays")

	// Wanted again: a new sample, then idle again.
	next, _ := awaitUsage(t, ctx, s, p, func(v Usage) bool { return v.At.After(u.At) })
	assert.True(t, next.At.After(first.At))
	awaitIdle()
	assert.Empty(t, idle, "one stop per spell of wants")
}
