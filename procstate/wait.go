package procstate

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
	"github.com/brummer-mcp/brummer-mcp/internal/probe"
	"github.com/brummer-mcp/brummer-mcp/logring"
)

// Condition is what a wait waits for. Exactly one of Match, Port, Listen,
// HTTP and Exit is set.
type Condition struct {
	// Match is true for an output line (stdout or stderr, not the
	// server's notes) that satisfies the wait. Lines after Since count
	// when HasSince is set; otherwise the lines of the run waited on.
	Match    func(text string) bool
	Since    uint64
	HasSince bool
	// Port is a TCP port that must accept a connection on localhost.
	Port int
	// Listen waits until the process or a descendant listens on a TCP
	// port (Linux only: ErrListenUnsupported elsewhere).
	Listen bool
	// HTTP is a loopback URL that must answer a GET with a status below 500.
	HTTP *url.URL
	// Exit waits for the run to end.
	Exit bool
	// Timeout ends the wait with outcome timeout.
	Timeout time.Duration
}

// Outcome says how a wait ended.
type Outcome string

const (
	// Ready: the condition holds (for Exit: the run exited with code 0).
	Ready Outcome = "ready"
	// Exited: the run ended first (for Exit: with a non-zero code or a signal).
	Exited Outcome = "exited"
	// Timeout: neither within the timeout; the process keeps running.
	Timeout Outcome = "timeout"
)

// WaitResult is what a wait found.
type WaitResult struct {
	Outcome Outcome
	// Process is the run waited on (after a backoff, the next run), and
	// Record its record when the wait ended.
	Process *Process
	Record  *Record
	Elapsed time.Duration
	// Line is the line that matched a log condition.
	Line *logring.Line
	// Ports are the ports found listening (Listen), or the port (Port).
	Ports []int
	// Status is the HTTP status that made an HTTP wait ready.
	Status int
	// Seen counts the lines logged after the point the wait began at (the
	// run's start, or Since), the server's notes included.
	Seen uint64
}

// WaitProgress reports a wait in progress.
type WaitProgress struct {
	Elapsed time.Duration
	// Seen counts the lines so far, as WaitResult.Seen; Last is the
	// newest line of the log. Both are zero in a backoff.
	Seen uint64
	Last string
}

// ErrListenUnsupported is returned for a Listen condition where the
// platform does not say which sockets a process holds.
var ErrListenUnsupported = probe.ErrUnsupported

// Polling intervals of the conditions without an event to block on.
const (
	portPoll    = 25 * time.Millisecond
	listenPoll  = 50 * time.Millisecond
	httpPoll    = 100 * time.Millisecond
	httpTimeout = 2 * time.Second
	// ProgressEvery is how often a wait reports progress.
	ProgressEvery = time.Second
)

// httpProbe is shared by all HTTP waits; it keeps no connections.
var httpProbe = probe.NewHTTP(httpTimeout)

// Wait waits on the current run of the named process; a process in
// backoff is waited on from its next run, and progress goes on while it
// waits for that run to start. The Elapsed of the progress reports and of
// the result count from this call, across the runs. A process found
// ended, or leaving its backoff, is looked up once more under the
// supervisor's lock (see settled): the only lock a wait takes. See
// [Process.Wait].
func (s *Supervisor) Wait(ctx context.Context, name string, c Condition, progress func(WaitProgress)) (WaitResult, error) {
	if err := checkCondition(c); err != nil {
		return WaitResult{}, err
	}
	start := time.Now()
	p := s.Get(name)
	if p == nil {
		return WaitResult{}, fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	rec := p.Record() // one read: the status checked is the one whose change the loop awaits
	if !rec.Status.Live() {
		p = s.settled(name, p)
		rec = p.Record()
	}
	deadline := time.NewTimer(c.Timeout)
	defer deadline.Stop()
	var tick <-chan time.Time
	if progress != nil {
		t := time.NewTicker(ProgressEvery)
		defer t.Stop()
		tick = t.C
		report := progress
		progress = func(pr WaitProgress) {
			pr.Elapsed = time.Since(start)
			report(pr)
		}
	}
	for rec.Status == StatusBackoff {
		select {
		case <-rec.Changed():
			p = s.settled(name, p)
			rec = p.Record()
		case <-tick:
			progress(WaitProgress{})
		case <-ctx.Done():
			return WaitResult{}, ctx.Err()
		case <-deadline.C:
			return WaitResult{Outcome: Timeout, Process: p, Record: p.Record(), Elapsed: time.Since(start)}, nil
		}
	}
	c.Timeout = max(c.Timeout-time.Since(start), time.Nanosecond)
	res, err := p.Wait(ctx, c, progress)
	res.Elapsed = time.Since(start)
	return res, err
}

// settled returns the process named name, or p if the name is gone, once
// a registration in progress has been published. The next run after a
// backoff ends the old run's backoff (its record turns exited) and
// publishes itself as one step under s.mu: a lock-free Get in between
// finds the old run, ended, where the next one is about to be.
func (s *Supervisor) settled(name string, p *Process) *Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.Get(name); q != nil {
		return q
	}
	return p
}

// Wait waits until c holds, the run ends, or c.Timeout passes, and says
// which. The process is not touched: a timeout or a cancelled ctx (the
// error then) leaves it running. A log wait blocks on the ring's change
// signal; port, listen and HTTP waits poll. progress, if set, is called
// about every ProgressEvery.
func (p *Process) Wait(ctx context.Context, c Condition, progress func(WaitProgress)) (WaitResult, error) {
	if err := checkCondition(c); err != nil {
		return WaitResult{}, err
	}
	w := waiter{p: p, c: c, start: time.Now(), cursor: p.logFrom}
	if c.HasSince {
		w.cursor = c.Since
	}
	if _, err := p.log.Read(logring.Query{Since: w.cursor, HasSince: true, Limit: 1}); err != nil {
		return WaitResult{}, err // a cursor past the newest line
	}
	w.seenFrom = w.cursor
	deadline := time.NewTimer(c.Timeout)
	defer deadline.Stop()
	// A probe in flight ends with the wait: a server that accepts but
	// does not answer must not hold the wait past its timeout.
	probeCtx, cancel := context.WithDeadline(ctx, w.start.Add(c.Timeout))
	defer cancel()
	var tick <-chan time.Time
	if progress != nil {
		t := time.NewTicker(ProgressEvery)
		defer t.Stop()
		tick = t.C
	}
	var poll *time.Timer
	if c.Port > 0 || c.Listen || c.HTTP != nil {
		poll = time.NewTimer(0)
		defer poll.Stop()
	}
	for {
		// Done before the check: once it is closed, the log holds all
		// of the run's output, so a match in its last lines still counts.
		done := isClosed(p.done)
		if w.check(probeCtx) {
			return w.result(Ready), nil
		}
		if done {
			if r := p.Record(); c.Exit && r.Signal == "" && r.ExitCode == 0 {
				return w.result(Ready), nil
			}
			return w.result(Exited), nil
		}
		var lines <-chan struct{}
		release := func() {}
		if c.Match != nil {
			lines, release = p.log.Wait(w.cursor)
		}
		var polled <-chan time.Time
		if poll != nil {
			polled = poll.C
		}
		timedOut := false
		select {
		case <-ctx.Done():
		case <-deadline.C:
			timedOut = true
		case <-tick:
			progress(w.progress())
		case <-lines:
		case <-polled:
			w.due = true
			poll.Reset(w.interval())
		case <-p.done:
		}
		release()
		switch {
		case ctx.Err() != nil:
			return WaitResult{}, ctx.Err()
		case timedOut && w.check(probeCtx):
			return w.result(Ready), nil
		case timedOut:
			return w.result(Timeout), nil
		}
	}
}

// waiter is the state of one Wait.
type waiter struct {
	p      *Process
	c      Condition
	start  time.Time
	cursor uint64 // log lines up to here have been looked at
	// seenFrom is the cursor the wait began at: Seen counts the lines
	// after it.
	seenFrom uint64
	due      bool // a poll is due
	res      WaitResult
}

// isClosed reports whether ch is closed, without blocking.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (w *waiter) interval() time.Duration {
	switch {
	case w.c.Port > 0:
		return portPoll
	case w.c.Listen:
		return listenPoll
	}
	return httpPoll
}

// check reports whether the condition holds now.
func (w *waiter) check(ctx context.Context) bool {
	switch c := &w.c; {
	case c.Match != nil:
		return w.scan()
	case !w.due:
		return false
	case c.Port > 0:
		w.due = false
		if probe.Port(ctx, c.Port, time.Second) {
			w.res.Ports = []int{c.Port}
			return true
		}
	case c.Listen:
		w.due = false
		pids, err := pgroup.Tree(w.p.Record().Pid)
		if err == nil {
			if ports, _ := probe.Listening(pids); len(ports) > 0 {
				w.res.Ports = ports
				return true
			}
		}
	case c.HTTP != nil:
		w.due = false
		if status, err := httpProbe.Get(ctx, c.HTTP); err == nil && status < 500 {
			w.res.Status = status
			return true
		}
	}
	return false
}

// scan reads the lines after the cursor and reports whether one matches.
func (w *waiter) scan() bool {
	// Matched in place: only a matching line is copied out of the ring,
	// so a waiter on a flooding process does not slow its writer.
	match := w.c.Match
	page, err := w.p.log.Read(logring.Query{Since: w.cursor, HasSince: true, Limit: 1,
		Match: func(l *logring.Line) bool { return l.Stream != logring.System && match(l.Text) }})
	if err != nil {
		return false
	}
	if len(page.Lines) > 0 {
		w.cursor = page.Lines[0].Seq
		w.res.Line = &page.Lines[0]
		return true
	}
	w.cursor = page.NextSince
	return false
}

// result finishes the wait with outcome o.
func (w *waiter) result(o Outcome) WaitResult {
	w.res.Outcome = o
	w.res.Process = w.p
	if w.res.Record == nil {
		w.res.Record = w.p.Record()
	}
	w.res.Elapsed = time.Since(w.start)
	w.res.Seen = w.seen()
	return w.res
}

// seen counts the output lines added since the wait began.
func (w *waiter) seen() uint64 {
	last := w.p.log.Stats().LastSeq
	if last < w.seenFrom {
		return 0
	}
	return last - w.seenFrom
}

func (w *waiter) progress() WaitProgress {
	pr := WaitProgress{Elapsed: time.Since(w.start), Seen: w.seen()}
	if pr.Seen > 0 {
		if page, err := w.p.log.Read(logring.Query{Tail: 1}); err == nil && len(page.Lines) > 0 {
			pr.Last = page.Lines[0].Text
		}
	}
	return pr
}

// checkCondition says what is wrong with c, if anything, or that this
// platform cannot wait for it.
func checkCondition(c Condition) error {
	n := 0
	for _, set := range [...]bool{c.Match != nil, c.Port != 0, c.Listen, c.HTTP != nil, c.Exit} {
		if set {
			n++
		}
	}
	switch {
	case n != 1:
		return fmt.Errorf("a wait needs exactly one condition, got %d", n)
	case c.Port < 0 || c.Port > 65535:
		return fmt.Errorf("port %d is out of range 1..65535", c.Port)
	case c.Timeout <= 0:
		return errors.New("a wait needs a positive timeout")
	case c.Listen && !probe.ListenSupported:
		return ErrListenUnsupported
	}
	return nil
}
