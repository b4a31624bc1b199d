package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// WaitResult is the wait scenario on one transport: how soon a log wait
// answers once its line is in, and what pending waits cost the calls of
// everyone else.
type WaitResult struct {
	// LineToAnswer is, for each round, the time from the echoed line's
	// read time to the wait's answer reaching the client, bounded from
	// above: the line's ts in process_logs has millisecond precision,
	// truncated, and the line cannot have been read before process_input
	// was called, so each sample is measured from the later of the two.
	// TSToAnswer is from the ts alone (0-1 ms high), InputToAnswer from
	// the process_input call alone (the whole loop through the child).
	LineToAnswer  Latency `json:"line_to_answer"`
	TSToAnswer    Latency `json:"ts_to_answer"`
	InputToAnswer Latency `json:"input_to_answer"`
	// HeadStartMs is how long each wait was pending before its line was
	// written.
	HeadStartMs float64 `json:"head_start_ms"`
	// Phases are interleaved ping and process_list rounds with no wait
	// pending ("none") and with Waiters waits pending ("waiting"), in
	// waitBlocks blocks of each, taking turns.
	Phases        map[string]map[string]Latency `json:"phases"`
	Waiters       int                           `json:"waiters"`
	WaiterClients int                           `json:"waiter_clients"`
	ListedProcs   int                           `json:"listed_procs"`
}

const (
	waitersPending = 100
	waiterClients  = 8
	waitBlocks     = 4
	// waitHeadStart is how long a wait is pending before its line is
	// written, so that it waits rather than starts.
	waitHeadStart = 5 * time.Millisecond
	echoProc      = "echo"
)

func (b *bench) runWait(tr string) (*WaitResult, error) {
	ctx := b.ctx
	s, c, err := b.openServer(serverConfig{name: "wait", transport: tr, sideHTTP: tr == "stdio"})
	if err != nil {
		return nil, err
	}
	defer s.close()
	r := &WaitResult{HeadStartMs: ms(waitHeadStart), Waiters: waitersPending, WaiterClients: waiterClients, Phases: map[string]map[string]Latency{}}
	if _, err := pingLoad(ctx, []*conn{c}, 1, 200); err != nil { // warm up
		return nil, err
	}

	b.progress("  log wait latency")
	// cat copies each line it reads to stdout at once.
	if _, _, err := c.call(ctx, "process_start", startArgs{"name": echoProc, "argv": []string{"cat"}, "stdin": true}); err != nil {
		return nil, err
	}
	if r.LineToAnswer, r.TSToAnswer, r.InputToAnswer, err = logWaits(ctx, c, max(b.n.rounds/4, 20)); err != nil {
		return nil, err
	}

	b.progress(fmt.Sprintf("  list with %d pending waits", waitersPending))
	if err := b.startLogProcs(ctx, c, 0, 10); err != nil {
		return nil, err
	}
	steps := []step{pingStep(c), toolStep("list", c, "process_list", nil)}
	listed, err := list(ctx, c, "")
	if err != nil {
		return nil, err
	}
	r.ListedProcs = len(listed.Processes)
	// The waiters are on HTTP sessions of their own, on stdio too: a stdio
	// client has StdioWorkers tool calls at once (see transport/stdio.go).
	var waiters []*conn
	for range waiterClients {
		wc, err := s.connectHTTP(ctx)
		if err != nil {
			return nil, err
		}
		waiters = append(waiters, wc)
	}
	// Blocks without and with the waits take turns, so that both see the
	// machine's drift alike.
	none, waiting := map[string][]time.Duration{}, map[string][]time.Duration{}
	n := max(b.n.rounds/waitBlocks, 10)
	for k := range waitBlocks {
		if err := roundsInto(ctx, none, n, b.n.phaseMax/waitBlocks, steps...); err != nil {
			return nil, err
		}
		stopWaits := pendWaits(ctx, waiters, waitersPending, 10)
		// Give the waits time to arrive and block: nothing tells the
		// client that a wait is pending, only that it has ended.
		err := sleepCtx(ctx, time.Second)
		if err == nil {
			stop := func() {}
			if k == 0 {
				stop = b.profile(s, "wait-"+tr)
			}
			err = roundsInto(ctx, waiting, n, b.n.phaseMax/waitBlocks, steps...)
			stop()
		}
		if werr := stopWaits(); err == nil {
			err = werr
		}
		if err != nil {
			return nil, err
		}
		// The cancellations reach the server.
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return nil, err
		}
	}
	r.Phases["none"], r.Phases["waiting"] = summarizeAll(none), summarizeAll(waiting)
	return r, nil
}

// waitView is the part of a process_wait result the bench reads.
type waitView struct {
	Wait struct {
		Outcome   string `json:"outcome"`
		MatchSeq  uint64 `json:"match_seq"`
		NextSince uint64 `json:"next_since"`
	} `json:"wait"`
}

// logWaits makes n rounds of: a process_wait for "mark-I" on the echo
// process, pending for waitHeadStart; then process_input "mark-I"; then
// the line's ts from process_logs. It returns the latency to the wait's
// answer from the later of the line's ts and the input's call, from the
// ts, and from the input's call.
func logWaits(ctx context.Context, c *conn, n int) (lineToAnswer, tsToAnswer, inputToAnswer Latency, err error) {
	since, _, err := lastSeq(ctx, c, echoProc)
	if err != nil {
		return
	}
	type answer struct {
		v   waitView
		at  time.Time
		err error
	}
	fromLine := make([]time.Duration, 0, n)
	fromTS := make([]time.Duration, 0, n)
	fromInput := make([]time.Duration, 0, n)
	for i := range n {
		mark := fmt.Sprintf("mark-%d", i)
		done := make(chan answer, 1) // the one answer of this round
		go func() {
			res, _, err := c.call(ctx, "process_wait", map[string]any{
				"name":     echoProc,
				"wait_for": map[string]any{"log": "^" + mark + "$", "timeout_ms": 10000, "tail": 0},
				"since":    since,
			})
			a := answer{at: time.Now(), err: err}
			if err == nil {
				a.err = decodeStructured(res, &a.v)
			}
			done <- a
		}()
		if err = sleepCtx(ctx, waitHeadStart); err != nil {
			return
		}
		sent := time.Now()
		if _, _, err = c.call(ctx, "process_input", map[string]any{"name": echoProc, "text": mark}); err != nil {
			return
		}
		a := <-done
		switch {
		case a.err != nil:
			err = a.err
			return
		case a.v.Wait.Outcome != "ready":
			err = fmt.Errorf("wait for %s: outcome %q", mark, a.v.Wait.Outcome)
			return
		}
		since = a.v.Wait.NextSince
		var ts time.Time
		if ts, err = lineTime(ctx, c, echoProc, a.v.Wait.MatchSeq); err != nil {
			return
		}
		fromLine = append(fromLine, a.at.Sub(later(ts, sent)))
		fromTS = append(fromTS, a.at.Sub(ts))
		fromInput = append(fromInput, a.at.Sub(sent))
	}
	return summarize(fromLine), summarize(fromTS), summarize(fromInput), nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// lineTime is the read time of line seq of the named process, from
// process_logs with timestamps (millisecond precision).
func lineTime(ctx context.Context, c *conn, name string, seq uint64) (time.Time, error) {
	res, _, err := c.call(ctx, "process_logs", map[string]any{"name": name, "since": seq - 1, "limit": 1, "timestamps": true})
	if err != nil {
		return time.Time{}, err
	}
	var v struct {
		FirstSeq uint64   `json:"first_seq"`
		TS       []string `json:"ts"`
	}
	if err := decodeStructured(res, &v); err != nil {
		return time.Time{}, err
	}
	if v.FirstSeq != seq || len(v.TS) != 1 {
		return time.Time{}, fmt.Errorf("process_logs since %d: got first_seq %d with %d timestamps, want line %d", seq-1, v.FirstSeq, len(v.TS), seq)
	}
	return time.Parse(time.RFC3339Nano, v.TS[0])
}

// pendWaits keeps n log waits that never match pending, spread over conns
// and the processes p000..p<procs-1>, until stop, which cancels them.
func pendWaits(ctx context.Context, conns []*conn, n, procs int) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, _, err := conns[i%len(conns)].call(ctx, "process_wait", map[string]any{
				"name":     fmt.Sprintf("p%03d", i%procs),
				"wait_for": map[string]any{"log": "^never printed$", "timeout_ms": 600000, "tail": 0},
			})
			if ctx.Err() == nil { // a wait that ended before stop is a failure
				errs[i] = fmt.Errorf("pending wait %d ended early: %v", i, err)
			}
		})
	}
	return func() error {
		cancel()
		wg.Wait()
		return errors.Join(errs...)
	}
}

// decodeStructured decodes a result's structuredContent into v.
func decodeStructured(res *mcp.CallToolResult, v any) error {
	b, err := structuredJSON(res)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func (r *WaitResult) figures() []figure {
	p := func(phase, call string) Latency { return r.Phases[phase][call] }
	return []figure{
		{"log wait to the answer, p50 / p99: from the line's read time (bounded above), from its ts alone (0-1 ms high), from process_input sent (through cat)",
			lat(r.LineToAnswer) + "; " + lat(r.TSToAnswer) + "; " + lat(r.InputToAnswer)},
		{fmt.Sprintf("process_list (%d processes) p50 / p99: no waits; %d waits pending from %d HTTP sessions (%d blocks of each, taking turns)", r.ListedProcs, r.Waiters, r.WaiterClients, waitBlocks),
			fmt.Sprintf("%s; %s", lat(p("none", "list")), lat(p("waiting", "list")))},
		{"process_list p50 with the waits vs without; ping p50 the same; list/ping with vs without",
			fmt.Sprintf("%.2fx; %.2fx; %.2fx", ratio(p("waiting", "list").P50us, p("none", "list").P50us), ratio(p("waiting", "ping").P50us, p("none", "ping").P50us),
				ratio(ratio(p("waiting", "list").P50us, p("waiting", "ping").P50us), ratio(p("none", "list").P50us, p("none", "ping").P50us)))},
	}
}
