package tools

import (
	"container/heap"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/brummer-mcp/brummer-mcp/logring"
	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// A merged read interleaves the lines of many processes in the order they
// were read. Each process is read in small batches, only as far as the
// page needs: a page of 100 lines over 100 processes reads about 200 lines,
// not 100 pages.

// mergeCursor is where a merged reader stands in each process's log: the
// seq of the last line it returned (or skipped). A process it does not
// name is read from its start.
type mergeCursor map[string]uint64

// maxCursorBytes bounds a cursor argument.
const maxCursorBytes = 64 << 10

// cursorPrefix versions the encoding.
const cursorPrefix = "c1."

// String encodes the cursor: opaque to the agent, stable across calls.
func (c mergeCursor) String(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(strconv.FormatUint(c[n], 10))
	}
	return cursorPrefix + base64.RawURLEncoding.EncodeToString([]byte(b.String()))
}

// parseCursor decodes a cursor made by String.
func parseCursor(s string) (mergeCursor, error) {
	rest, ok := strings.CutPrefix(s, cursorPrefix)
	if !ok {
		return nil, errors.New("not a cursor of this server")
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return nil, errors.New("the cursor is damaged")
	}
	c := mergeCursor{}
	if len(raw) == 0 {
		return c, nil
	}
	for _, part := range strings.Split(string(raw), ",") {
		name, seq, ok := strings.Cut(part, "=")
		n, err := strconv.ParseUint(seq, 10, 64)
		if !ok || err != nil || !procstate.NamePattern.MatchString(name) {
			return nil, errors.New("the cursor is damaged")
		}
		c[name] = n
	}
	return c, nil
}

// source is one process's log in a merged read.
type source struct {
	idx   int // into the names table
	ring  *logring.Ring
	match func(*logring.Line) bool
	// pos: forward, the seq after which to read next; backward, the
	// seq before which to read next.
	pos      uint64
	batch    int
	buf      []logring.Line // read, not yet returned; next first
	done     bool
	missed   uint64
	more     bool   // forward: a page stopped at its limit
	examined uint64 // forward: the last seq looked at
}

// fill reads the next batch forward.
func (s *source) fill() {
	page, err := s.ring.Read(logring.Query{Since: s.pos, HasSince: true, Limit: s.batch, Match: s.match})
	if err != nil { // a cursor past the newest line: nothing new
		s.done = true
		return
	}
	s.missed += page.Missed
	s.buf = page.Lines
	s.pos = page.NextSince
	s.examined = page.NextSince
	s.more = page.More
	if !page.More {
		s.done = true
	}
	s.batch = min(2*s.batch, 1024)
}

// fillBack reads the previous batch, newest last in buf (returned from
// the end).
func (s *source) fillBack(first uint64) {
	for len(s.buf) == 0 && !s.done {
		if s.pos <= first {
			s.done = true
			return
		}
		lo := max(first, s.pos-min(s.pos-first, uint64(s.batch)))
		page, err := s.ring.Read(logring.Query{Since: lo - 1, HasSince: true, Limit: int(s.pos - lo)})
		if err != nil {
			s.done = true
			return
		}
		s.pos = lo
		for _, l := range page.Lines {
			if s.match == nil || s.match(&l) {
				s.buf = append(s.buf, l)
			}
		}
		s.batch = min(2*s.batch, 1024)
	}
}

// lineHeap orders the sources' next lines: by read time, then process,
// then seq; reversed for a tail.
type lineHeap struct {
	srcs []*source
	back bool
}

func (h *lineHeap) head(s *source) *logring.Line {
	if h.back {
		return &s.buf[len(s.buf)-1]
	}
	return &s.buf[0]
}

func (h *lineHeap) Len() int { return len(h.srcs) }
func (h *lineHeap) Less(i, j int) bool {
	a, b := h.head(h.srcs[i]), h.head(h.srcs[j])
	before := a.Time < b.Time || a.Time == b.Time && (h.srcs[i].idx < h.srcs[j].idx || h.srcs[i].idx == h.srcs[j].idx && a.Seq < b.Seq)
	return before != h.back
}
func (h *lineHeap) Swap(i, j int) { h.srcs[i], h.srcs[j] = h.srcs[j], h.srcs[i] }
func (h *lineHeap) Push(x any)    { h.srcs = append(h.srcs, x.(*source)) }
func (h *lineHeap) Pop() any {
	s := h.srcs[len(h.srcs)-1]
	h.srcs = h.srcs[:len(h.srcs)-1]
	return s
}

// mergedLine is a line and the index of its process.
type mergedLine struct {
	logring.Line
	proc int
}

// mergedPage is the result of a merged read.
type mergedPage struct {
	lines  []mergedLine
	cursor mergeCursor
	missed uint64
	more   bool
}

// readMerged reads the lines of procs after cursor (forward, limit lines)
// or, without one, their newest tail lines, in the order they were read.
func readMerged(procs []*procstate.Process, cursor mergeCursor, tail, limit int, match func(*logring.Line) bool) mergedPage {
	out := mergedPage{cursor: mergeCursor{}}
	srcs := make([]*source, len(procs))
	forward := cursor != nil
	n := limit
	if !forward {
		n = tail
	}
	firstBatch := max(n/max(len(procs), 1)+1, 2)
	for i, p := range procs {
		st := p.Log().Stats()
		s := &source{idx: i, ring: p.Log(), match: match, batch: firstBatch}
		srcs[i] = s
		if forward {
			s.pos = min(cursor[p.Name()], st.LastSeq)
			s.examined = s.pos
		} else {
			s.pos = st.LastSeq + 1
		}
		out.cursor[p.Name()] = st.LastSeq // a tail's cursor: everything up to now
	}
	h := &lineHeap{back: !forward}
	for _, s := range srcs {
		if forward {
			s.fill()
		} else {
			s.fillBack(s.ring.Stats().LastSeq - s.ring.Stats().Lines + 1)
		}
		if len(s.buf) > 0 {
			h.srcs = append(h.srcs, s)
		}
	}
	heap.Init(h)
	for len(out.lines) < n && h.Len() > 0 {
		s := h.srcs[0]
		l := *h.head(s)
		if forward {
			s.buf = s.buf[1:]
			if len(s.buf) == 0 && !s.done {
				s.fill()
			}
		} else {
			s.buf = s.buf[:len(s.buf)-1]
			if len(s.buf) == 0 {
				st := s.ring.Stats()
				s.fillBack(st.LastSeq - st.Lines + 1)
			}
		}
		out.lines = append(out.lines, mergedLine{Line: l, proc: s.idx})
		if forward {
			out.cursor[procs[s.idx].Name()] = l.Seq
		}
		if len(s.buf) == 0 {
			heap.Pop(h)
		} else {
			heap.Fix(h, 0)
		}
	}
	if !forward {
		// Oldest first.
		for i, j := 0, len(out.lines)-1; i < j; i, j = i+1, j-1 {
			out.lines[i], out.lines[j] = out.lines[j], out.lines[i]
		}
		return out
	}
	// A source's cursor is its last line returned; one that returned
	// nothing and has nothing left unread moves past what it examined.
	returned := make([]bool, len(procs))
	for _, l := range out.lines {
		returned[l.proc] = true
	}
	for i, s := range srcs {
		out.missed += s.missed
		switch {
		case len(s.buf) > 0 || !s.done:
			out.more = true
			if !returned[i] {
				out.cursor[procs[i].Name()] = min(cursor[procs[i].Name()], procs[i].Log().Stats().LastSeq)
			}
		case !returned[i]:
			out.cursor[procs[i].Name()] = s.examined
		}
	}
	return out
}

// cursorError says what is wrong with a cursor argument.
func cursorError(s string, err error) error {
	return fmt.Errorf(`"cursor" %q: %v; pass a next_cursor from process_logs, or omit it to read the newest lines`, truncate(s, 40), err)
}
