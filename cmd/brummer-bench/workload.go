package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// This file holds what the scenarios do to a server: start processes, wait
// for states, and time calls, interleaved or concurrent.

// startArgs is a process_start call.
type startArgs = map[string]any

// listView is the part of a process_list result the bench reads.
type listView struct {
	Processes []struct {
		Name    string `json:"name"`
		LastSeq uint64 `json:"last_seq"`
	} `json:"processes"`
}

// list calls process_list for every process (it pages by default), for the
// bench's bookkeeping, not for timing.
func list(ctx context.Context, c *conn, status string) (listView, error) {
	args := map[string]any{"limit": scaleProcs}
	if status != "" {
		args["status"] = status
	}
	var v listView
	res, _, err := c.call(ctx, "process_list", args)
	var b []byte
	if err == nil {
		b, err = structuredJSON(res)
	}
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	return v, err
}

// lastSeq returns the last_seq of the named process, and when it was
// sampled (the middle of the call).
func lastSeq(ctx context.Context, c *conn, name string) (uint64, time.Time, error) {
	t0 := time.Now()
	v, err := list(ctx, c, "")
	mid := t0.Add(time.Since(t0) / 2)
	for _, p := range v.Processes {
		if p.Name == name {
			return p.LastSeq, mid, err
		}
	}
	return 0, mid, errors.Join(err, fmt.Errorf("process %q is not listed", name))
}

// startAll starts procs from callers concurrent callers and returns how
// long it took from the first call to the last answer.
func startAll(ctx context.Context, conns []*conn, callers int, procs []startArgs) (time.Duration, error) {
	return fanOut(ctx, conns, callers, len(procs), func(ctx context.Context, c *conn, i int) error {
		_, _, err := c.call(ctx, "process_start", procs[i])
		return err
	})
}

// fanOut runs do(i) for i in [0, n) on callers goroutines, goroutine g on
// conns[g%len(conns)], and returns the wall time; the first error stops it.
func fanOut(ctx context.Context, conns []*conn, callers, n int, do func(context.Context, *conn, int) error) (time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	t0 := time.Now()
	for g := range callers {
		wg.Go(func() {
			for i := range next {
				if err := do(ctx, conns[g%len(conns)], i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return time.Since(t0), context.Cause(ctx)
}

// pingLoad makes n pings from callers concurrent callers and returns their
// latency and rate.
func pingLoad(ctx context.Context, conns []*conn, callers, n int) (Throughput, error) {
	lats := make([]time.Duration, n)
	took, err := fanOut(ctx, conns, callers, n, func(ctx context.Context, c *conn, i int) (err error) {
		lats[i], err = c.ping(ctx)
		return err
	})
	return Throughput{Latency: summarize(lats), Callers: callers, CallsPerSec: round3(float64(n) / took.Seconds())}, err
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		switch {
		case err != nil:
			return fmt.Errorf("waiting for %s: %w", what, err)
		case ok:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("waiting for %s: timed out after %s", what, timeout)
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}

// waitRunning waits until exactly n processes are live.
func waitRunning(ctx context.Context, c *conn, n int, timeout time.Duration) error {
	return waitFor(ctx, timeout, fmt.Sprintf("%d live processes", n), func() (bool, error) {
		v, err := list(ctx, c, "running")
		return len(v.Processes) == n, err
	})
}

// step is one timed call of a round.
type step struct {
	name string
	do   func(context.Context) (time.Duration, error)
}

func pingStep(c *conn) step { return step{"ping", c.ping} }

func toolStep(name string, c *conn, tool string, args map[string]any) step {
	return step{name, func(ctx context.Context) (time.Duration, error) {
		_, d, err := c.call(ctx, tool, args)
		return d, err
	}}
}

// rounds runs the steps one after another, n times or until maxDur has
// passed (at least 10 rounds), and returns every step's latency summary.
// Interleaving the calls gives each the same share of the machine's noise.
func rounds(ctx context.Context, n int, maxDur time.Duration, steps ...step) (map[string]Latency, error) {
	d := make(map[string][]time.Duration, len(steps))
	err := roundsInto(ctx, d, n, maxDur, steps...)
	if err != nil {
		return nil, err
	}
	return summarizeAll(d), nil
}

// roundsInto is rounds, adding each step's latencies to d.
func roundsInto(ctx context.Context, d map[string][]time.Duration, n int, maxDur time.Duration, steps ...step) error {
	t0 := time.Now()
	for i := 0; i < n && (i < 10 || time.Since(t0) < maxDur); i++ {
		for _, s := range steps {
			lat, err := s.do(ctx)
			if err != nil {
				return err
			}
			d[s.name] = append(d[s.name], lat)
		}
	}
	return nil
}

// summarizeAll summarises each step's latencies.
func summarizeAll(d map[string][]time.Duration) map[string]Latency {
	out := make(map[string]Latency, len(d))
	for name, ds := range d {
		out[name] = summarize(ds)
	}
	return out
}

// names returns n names prefix<from>.., zero-padded to width digits.
func names(prefix string, from, n, width int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%0*d", prefix, width, from+i)
	}
	return out
}

// isInUse reports whether err is process_start's refusal of a live name.
func isInUse(err error) bool {
	var te *toolError
	return errors.As(err, &te) && strings.Contains(te.text, "is in use")
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
