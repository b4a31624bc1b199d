package procstate

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// awaitChange waits until Changes(gen) fires and returns the generation
// then.
func awaitChange(t *testing.T, ctx context.Context, s *Supervisor, gen uint64) uint64 {
	t.Helper()
	ch, done := s.Changes(gen)
	defer done()
	select {
	case <-ch:
	case <-ctx.Done():
		require.FailNow(t, "no change", "after generation %d: %s", gen, ctx.Err())
	}
	now := s.Generation()
	require.Greater(t, now, gen)
	return now
}

// TestChangesWakes: a watcher of Changes wakes on each lifecycle step of
// a process, whoever makes it.
func TestChangesWakes(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	gen := s.Generation()
	ch, done := s.Changes(gen)
	assert.False(t, isClosed(ch), "nothing changed yet")
	done()

	steps := []struct {
		name string
		act  func(t *testing.T)
		// until is the state after the step that the watcher follows
		// the changes to.
		until func() bool
	}{
		{"start", func(t *testing.T) {
			_, err := s.Start(withName("p", helperSpec("sleep")))
			require.NoError(t, err)
		}, func() bool { return s.Get("p").Record().Status == StatusRunning }},
		{"stop", func(t *testing.T) {
			_, err := s.Stop(ctx, "p", syscall.SIGTERM, time.Second)
			require.NoError(t, err)
		}, func() bool { return s.Get("p").Record().Status == StatusExited }},
		{"findings", func(t *testing.T) {
			_, err := s.Start(withName("f", helperSpec("say", `"npm error code ELIFECYCLE\n"`)))
			require.NoError(t, err)
		}, func() bool { return s.Get("f").Findings().Errors == 1 }},
		{"exit on its own", func(t *testing.T) {
			_, err := s.Start(withName("q", helperSpec("exit", "1")))
			require.NoError(t, err)
		}, func() bool { r := s.Get("q").Record(); return r.Status == StatusExited && r.ExitCode == 1 }},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			gen := s.Generation()
			st.act(t)
			for gen = awaitChange(t, ctx, s, gen); !st.until(); {
				gen = awaitChange(t, ctx, s, gen)
			}
		})
	}
}

// TestChangesClosedAlready: a generation already passed gives a closed
// channel; a writer never blocks on watchers, however many.
func TestChangesClosedAlready(t *testing.T) {
	c := newChangeSignal()
	ch, done := c.wait(0)
	assert.False(t, isClosed(ch))
	c.bump()
	assert.True(t, isClosed(ch), "the bump closed the channel of the watcher")
	done()
	ch, done = c.wait(0)
	assert.True(t, isClosed(ch), "generation 1 is past 0")
	done()
	ch, done = c.wait(1)
	assert.False(t, isClosed(ch))
	done()

	var wg sync.WaitGroup
	for range 100 {
		ch, done := c.wait(c.gen.Load())
		wg.Go(func() { <-ch; done() })
	}
	c.bump()
	wg.Wait()
	assert.Zero(t, c.waiters.Load())
}

// TestChangesRace: a watcher that loads the generation, then waits, never
// misses a bump made in between by another goroutine.
func TestChangesRace(t *testing.T) {
	c := newChangeSignal()
	const bumps = 2000
	var wg sync.WaitGroup
	wg.Go(func() {
		for range bumps {
			c.bump()
		}
	})
	for gen := uint64(0); gen < bumps; {
		ch, done := c.wait(gen)
		<-ch // never stays open: every bump after gen closes it
		done()
		gen = c.gen.Load()
	}
	wg.Wait()
}

// TestChangeBumpAllocs: while nobody watches, a change costs no
// allocation.
func TestChangeBumpAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are unreliable under the race detector")
	}
	c := newChangeSignal()
	assert.Zero(t, testing.AllocsPerRun(1000, c.bump))
	ch, done := c.wait(0)
	assert.Zero(t, testing.AllocsPerRun(1000, func() { ch, done = c.wait(c.gen.Load()); done() }))
	_ = ch
}
