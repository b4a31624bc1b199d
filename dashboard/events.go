package dashboard

import (
	"bytes"
	"context"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/brummer-mcp/brummer-mcp/procstate"
	"github.com/brummer-mcp/brummer-mcp/project"
)

// Pacing of an event stream.
const (
	// eventGap is the least time between two events of a kind.
	eventGap = 250 * time.Millisecond
	// heartbeatAfter is how long a stream stays silent before a comment.
	heartbeatAfter = 15 * time.Second
	// writeTimeout ends a stream whose page does not take an event within
	// it.
	writeTimeout = 10 * time.Second
	// maxWatched is the most logs a merged view waits on at once; with
	// more live processes it reads every eventGap while any is live.
	maxWatched = 64
)

// stream is one page's event stream, run by its request's goroutine.
type stream struct {
	d  *Dashboard
	w  http.ResponseWriter
	rc *http.ResponseController
	q  logQuery
	// cur is where the page stands in each log: the last line sent or
	// skipped.
	cur procstate.MergeCursor
	buf bytes.Buffer
	// heartbeat fires after heartbeatAfter without a write.
	heartbeat *time.Timer
	// gap fires when a pending event's spacing has passed (or, polling,
	// when the logs are due to be read).
	gap *time.Timer
	// cases are reused by every wait.
	cases    []reflect.SelectCase
	releases []func()

	// mu orders the write deadlines: once ended (by Close), a write's
	// deadline stays in the past, so that no write blocks.
	mu    sync.Mutex
	ended bool
}

// end unblocks a write in progress and fails those that follow: the
// deadline is the connection's, which may be set from another goroutine.
func (s *stream) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	_ = s.rc.SetWriteDeadline(time.Unix(1, 0))
}

func (d *Dashboard) serveEvents(w http.ResponseWriter, r *http.Request) {
	q, err := parseLogQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if !d.known(q.name) {
		writeError(w, http.StatusNotFound, "%s", d.unknown(q.name))
		return
	}
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		return
	}
	s := &stream{d: d, w: w, rc: http.NewResponseController(w), q: q, cur: q.cursor}
	leave, ok := d.enter(s.end)
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "the dashboard is closing")
		return
	}
	defer leave()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("X-Accel-Buffering", "no") // a proxy in front must not buffer
	w.WriteHeader(http.StatusOK)
	s.heartbeat = time.NewTimer(heartbeatAfter)
	defer s.heartbeat.Stop()
	s.gap = time.NewTimer(time.Hour)
	s.gap.Stop()
	defer s.gap.Stop()
	s.run(r.Context())
}

// run sends events until ctx ends, the dashboard closes or a write fails.
func (s *stream) run(ctx context.Context) {
	sup := s.d.cfg.Sup
	var (
		gen                  uint64
		snap                 *project.Snapshot
		lastState, lastLines time.Time
		// Pending: something to send once its spacing allows.
		statePending, linesPending = true, true
		first                      = true
	)
	for {
		now := time.Now()
		if statePending && now.Sub(lastState) >= eventGap {
			gen, snap = sup.Generation(), s.d.snapshot()
			if !s.send("state", s.d.state()) {
				return
			}
			lastState, statePending = now, false
		}
		if linesPending && now.Sub(lastLines) >= eventGap {
			sent, more, ok := s.sendLines(first)
			if !ok {
				return
			}
			if sent {
				lastLines = now
			}
			first, linesPending = false, more
		}

		// Wait for a change, the spacing, the heartbeat or the end.
		s.cases = s.cases[:0]
		s.add(ctx.Done())
		s.add(s.d.done)
		s.add(s.heartbeat.C)
		gapCase := s.add(s.gap.C)
		stateCase := -1
		if !statePending {
			ch, done := sup.Changes(gen)
			s.releases = append(s.releases, done)
			stateCase = s.add(ch)
		}
		poll := false
		if !linesPending {
			poll = s.watchLogs()
		}
		var due time.Duration = -1
		if statePending {
			due = eventGap - time.Since(lastState)
		}
		if linesPending || poll {
			d := eventGap - time.Since(lastLines)
			if poll {
				d = eventGap
			}
			if due < 0 || d < due {
				due = d
			}
		}
		if due >= 0 {
			s.gap.Reset(max(due, time.Millisecond))
		}
		chosen, _, _ := reflect.Select(s.cases)
		for _, done := range s.releases {
			done()
		}
		clear(s.releases)
		s.releases = s.releases[:0]
		s.gap.Stop()
		switch {
		case chosen <= 1: // the request or the dashboard ended
			return
		case chosen == 2:
			if !s.write(": ping\n\n") {
				return
			}
			if s.d.snapshot() != snap {
				statePending = true // the project's files changed
			}
		case chosen == gapCase:
			linesPending = linesPending || poll
		case chosen == stateCase:
			// A run started or ended: its notes, or a new process's
			// lines, may be in the logs.
			statePending, linesPending = true, true
		default: // a log grew
			linesPending = true
		}
	}
}

// add adds a channel to wait on and returns its case's index.
func (s *stream) add(ch any) int {
	s.cases = append(s.cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
	return len(s.cases) - 1
}

// watchLogs adds the logs the view follows to the wait: those that can
// still grow (live runs; a new run moves the supervisor's generation). It
// reports whether there are too many to wait on, so that the caller reads
// them every eventGap instead.
func (s *stream) watchLogs() (poll bool) {
	procs := s.d.procsOf(s.q.name)
	n := 0
	for _, p := range procs {
		if p.Record().Status.Live() {
			n++
		}
	}
	if n > maxWatched {
		return true
	}
	for _, p := range procs {
		if !p.Record().Status.Live() {
			continue
		}
		ch, done := p.Log().Wait(s.cur[p.Name()])
		s.releases = append(s.releases, done)
		s.add(ch)
	}
	return false
}

// sendLines sends the lines after the page's cursor, if there are any (or,
// the first time, the tail or the lines after the cursor given, even
// none). more reports that lines remain to be read.
func (s *stream) sendLines(first bool) (sent, more, ok bool) {
	procs := s.d.procsOf(s.q.name)
	if !first && !s.grew(procs) {
		return false, false, true
	}
	out, next := readLines(procs, &s.q, s.cur)
	s.cur = next
	if !first && len(out.Lines) == 0 && out.Missed == 0 {
		return false, out.more, true
	}
	return true, out.more, s.send("lines", out)
}

// grew reports whether a log of procs has lines after the page's cursor:
// one atomic load per log.
func (s *stream) grew(procs []*procstate.Process) bool {
	for _, p := range procs {
		if p.Log().Stats().LastSeq > s.cur[p.Name()] {
			return true
		}
	}
	return false
}

// send writes an event: its name and its data, v as JSON on one line.
func (s *stream) send(event string, v any) bool {
	s.buf.Reset()
	s.buf.WriteString("event: ")
	s.buf.WriteString(event)
	s.buf.WriteString("\ndata: ")
	if l, ok := v.(lines); ok {
		s.buf.Write(l.appendJSON(s.buf.AvailableBuffer()))
	} else if err := encodeJSON(&s.buf, v); err != nil {
		s.d.log.Error().Err(err).Str("event", event).Msg("encode event")
		return false
	}
	s.buf.WriteString("\n\n")
	return s.writeBuf()
}

func (s *stream) write(text string) bool {
	s.buf.Reset()
	s.buf.WriteString(text)
	return s.writeBuf()
}

// writeBuf writes the buffer and flushes it within writeTimeout; false
// when the page is gone or does not take it.
func (s *stream) writeBuf() bool {
	s.mu.Lock()
	ended := s.ended
	if !ended {
		_ = s.rc.SetWriteDeadline(time.Now().Add(s.d.writeTimeout))
	}
	s.mu.Unlock()
	if ended {
		return false
	}
	if _, err := s.w.Write(s.buf.Bytes()); err != nil {
		return false
	}
	if err := s.rc.Flush(); err != nil {
		return false
	}
	s.heartbeat.Reset(heartbeatAfter)
	return true
}
