package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/brummer-mcp/brummer-mcp/internal/toolresult"
)

// This file holds what the scenarios do to a server: start processes,
// wait for states, and time interleaved rounds of calls.

// listView is the part of a process_list result the bench reads.
type listView struct {
	Processes []struct {
		Name    string `json:"name"`
		Status  string `json:"status"`
		LastSeq uint64 `json:"last_seq"`
	} `json:"processes"`
}

// decodeStructured decodes a result's structuredContent into v.
func decodeStructured(res *mcp.CallToolResult, v any) error {
	b, err := structuredJSON(res)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// list calls process_list for every process (it pages by default) and
// decodes it. For the bench's bookkeeping, not for timing.
func list(ctx context.Context, c *conn, status string) (listView, error) {
	args := map[string]any{"limit": 1000}
	if status != "" {
		args["status"] = status
	}
	var v listView
	res, _, err := c.call(ctx, "process_list", args)
	if err == nil {
		err = decodeStructured(res, &v)
	}
	return v, err
}

// lastSeq returns the last_seq of the named process, and when it was
// sampled (the middle of the call).
func lastSeq(ctx context.Context, c *conn, name string) (uint64, time.Time, error) {
	t0 := time.Now()
	v, err := list(ctx, c, "")
	mid := t0.Add(time.Since(t0) / 2)
	if err != nil {
		return 0, mid, err
	}
	for _, p := range v.Processes {
		if p.Name == name {
			return p.LastSeq, mid, nil
		}
	}
	return 0, mid, fmt.Errorf("process %q is not listed", name)
}

// startArgs is a process_start call.
type startArgs = map[string]any

// startAll starts the processes with callers concurrent callers (each on
// conns[i%len(conns)]) and returns how long it took from the first call to
// the last answer.
func startAll(ctx context.Context, conns []*conn, callers int, procs []startArgs) (time.Duration, error) {
	return fanOut(ctx, conns, callers, len(procs), func(ctx context.Context, c *conn, i int) error {
		_, _, err := c.call(ctx, "process_start", procs[i])
		return err
	})
}

// stopAll stops the named processes with callers concurrent callers.
func stopAll(ctx context.Context, conns []*conn, callers int, names []string) (time.Duration, error) {
	return fanOut(ctx, conns, callers, len(names), func(ctx context.Context, c *conn, i int) error {
		_, _, err := c.call(ctx, "process_stop", map[string]any{"name": names[i], "timeout_ms": 5000})
		return err
	})
}

// fanOut runs do(i) for i in [0, n) on callers goroutines and returns the
// wall time; the first error stops it.
func fanOut(ctx context.Context, conns []*conn, callers, n int, do func(context.Context, *conn, int) error) (time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	t0 := time.Now()
	for g := range callers {
		c := conns[g%len(conns)]
		wg.Go(func() {
			for i := range next {
				if err := do(ctx, c, i); err != nil {
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

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: timed out after %s", what, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
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

func pingStep(c *conn) step {
	return step{"ping", c.ping}
}

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
	t0 := time.Now()
	for i := 0; i < n && (i < 10 || time.Since(t0) < maxDur); i++ {
		for _, s := range steps {
			lat, err := s.do(ctx)
			if err != nil {
				return nil, err
			}
			d[s.name] = append(d[s.name], lat)
		}
	}
	out := make(map[string]Latency, len(steps))
	for name, ds := range d {
		out[name] = summarize(ds)
	}
	return out, nil
}

// pingLoad runs callers goroutines doing perCaller pings each (on
// conns[g%len(conns)]) and returns the latency and achieved rate.
func pingLoad(ctx context.Context, conns []*conn, callers, perCaller int) (Throughput, error) {
	lats := make([][]time.Duration, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range callers {
		c := conns[g%len(conns)]
		wg.Go(func() {
			<-start
			for range perCaller {
				d, err := c.ping(ctx)
				if err != nil {
					errs[g] = err
					return
				}
				lats[g] = append(lats[g], d)
			}
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	if err := errors.Join(errs...); err != nil {
		return Throughput{}, err
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	return Throughput{Latency: summarize(all), Callers: callers, CallsPerSec: round3(float64(len(all)) / elapsed.Seconds())}, nil
}

// callSize is the size of one result.
type callSize struct {
	// WireBytes is what the client received for the call: the JSON-RPC
	// response (HTTP: the response body).
	WireBytes int64 `json:"wire_bytes"`
	// TextBytes is the text content; StructuredBytes the structuredContent
	// as compact JSON.
	TextBytes       int `json:"text_bytes"`
	StructuredBytes int `json:"structured_bytes"`
	// Procs is the number of processes listed, for lists.
	Procs int `json:"procs,omitempty"`
	// DefaultFields counts fields of structuredContent that hold an empty
	// or default value, by path (see defaultFields).
	DefaultFields map[string]int `json:"default_fields,omitempty"`
	// ClientDecodeUs is what decoding the result costs the client: the
	// median time this process takes to unmarshal the result's JSON into
	// mcp.CallToolResult, as mcp-go's client does on every call.
	ClientDecodeUs float64 `json:"client_decode_us"`
}

// measureCall makes one call alone on c and records its sizes.
func measureCall(ctx context.Context, c *conn, tool string, args map[string]any) (callSize, error) {
	before := c.rx.Load()
	res, _, err := c.call(ctx, tool, args)
	if err != nil {
		return callSize{}, err
	}
	sc, err := structuredJSON(res)
	if err != nil {
		return callSize{}, err
	}
	df, err := defaultFields(sc)
	if err != nil {
		return callSize{}, err
	}
	cs := callSize{
		WireBytes:       c.rx.Load() - before,
		TextBytes:       len(toolresult.Text(res)),
		StructuredBytes: len(sc),
		DefaultFields:   df,
	}
	if cs.ClientDecodeUs, err = decodeCost(res); err != nil {
		return cs, err
	}
	if tool == "process_list" {
		var v listView
		if err := json.Unmarshal(sc, &v); err != nil {
			return cs, err
		}
		cs.Procs = len(v.Processes)
	}
	return cs, nil
}

// names returns n names prefix0..prefixN-1, zero-padded to a fixed width.
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

// decodeCost is the median time to unmarshal res's JSON into a
// CallToolResult, in microseconds.
func decodeCost(res *mcp.CallToolResult) (float64, error) {
	b, err := json.Marshal(res)
	if err != nil {
		return 0, err
	}
	d := make([]time.Duration, 51)
	for i := range d {
		t0 := time.Now()
		var r mcp.CallToolResult
		if err := json.Unmarshal(b, &r); err != nil {
			return 0, err
		}
		d[i] = time.Since(t0)
	}
	return summarize(d).P50us, nil
}
