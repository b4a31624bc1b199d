package procstate

import (
	"container/heap"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/brummer-mcp/brummer-mcp/logring"
)

// A merged read interleaves the lines of many processes in the order they
// were read. Each process is read in small batches, only as far as the
// page needs: a page of 100 lines over 100 processes reads about 200 lines,
// not 100 pages.

// MergeCursor is where a merged reader stands in each process's log: the
// seq of the last line it returned (or skipped). A process it does not
// name is read from its start.
type MergeCursor map[string]uint64

// cursorPrefix versions the encoding.
const cursorPrefix = "c1:"

// FormatCursor encodes the cursor of processes procs at seqs:
// "c1:api=17,web=5", compact and plain; the agent passes it back as it is.
// The names are in the order of procs (sorted by name by the supervisor).
func FormatCursor(procs []*Process, seqs []uint64) string {
	raw := make([]byte, 0, len(cursorPrefix)+16*len(procs))
	raw = append(raw, cursorPrefix...)
	for i, p := range procs {
		if i > 0 {
			raw = append(raw, ',')
		}
		raw = append(raw, p.Name()...)
		raw = append(raw, '=')
		raw = strconv.AppendUint(raw, seqs[i], 10)
	}
	return string(raw)
}

// ParseCursor decodes a cursor made by String.
func ParseCursor(s string) (MergeCursor, error) {
	raw, ok := strings.CutPrefix(s, cursorPrefix)
	if !ok {
		return nil, errors.New("not a cursor of this server")
	}
	c := MergeCursor{}
	if len(raw) == 0 {
		return c, nil
	}
	for _, part := range strings.Split(raw, ",") {
		name, seq, ok := strings.Cut(part, "=")
		n, err := strconv.ParseUint(seq, 10, 64)
		if !ok || err != nil || !NamePattern.MatchString(name) {
			return nil, errors.New("the cursor is damaged")
		}
		c[name] = n
	}
	return c, nil
}

// source is one process's log in a merged read. Until it is read, its
// key is a bound on its next line's read time, taken from the ring
// without copying (a lower bound forward, an upper bound backward): a
// source whose bound never reaches the head of the merge is never read.
type source struct {
	idx   int // into the names table
	ring  *logring.Ring
	match func(*logring.Line) bool
	// pos: forward, the seq after which to read next; backward, the
	// seq before which to read next.
	pos      uint64
	batch    int
	buf      []logring.Line // read, not yet returned; next first (backward: last)
	key      int64          // the next line's read time, or a bound on it
	exact    bool           // key is the time of a line in buf
	done     bool           // nothing left to read
	missed   uint64
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
	if !page.More {
		s.done = true
	}
	s.batch = min(2*s.batch, 1024)
}

// fillBack reads batches backward until one holds a matching line.
func (s *source) fillBack() {
	first := firstSeq(s.ring)
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
		s.buf = page.Lines
		if s.match != nil {
			s.buf = slices.DeleteFunc(s.buf, func(l logring.Line) bool { return !s.match(&l) })
		}
		s.batch = min(2*s.batch, 1024)
	}
}

// rekey sets the key after the buffer changed; false when the source has
// nothing left.
func (s *source) rekey(back bool) bool {
	switch {
	case len(s.buf) > 0 && back:
		s.key, s.exact = s.buf[len(s.buf)-1].Time, true
	case len(s.buf) > 0:
		s.key, s.exact = s.buf[0].Time, true
	case s.done:
		return false
	case back:
		s.key, s.exact = boundOf(s.ring, s.pos-1, math.MaxInt64), false
	default:
		s.key, s.exact = boundOf(s.ring, s.pos+1, math.MinInt64), false
	}
	return true
}

// boundOf is the read time of line seq, or def when it is gone.
func boundOf(ring *logring.Ring, seq uint64, def int64) int64 {
	if t, ok := ring.TimeOf(seq); ok {
		return t
	}
	return def
}

// firstSeq is the seq of the oldest line ring retains.
func firstSeq(ring *logring.Ring) uint64 {
	st := ring.Stats()
	return st.LastSeq - st.Lines + 1
}

// lineHeap orders the sources by key, then process: oldest first, or
// newest first for a tail.
type lineHeap struct {
	srcs []*source
	back bool
}

func (h *lineHeap) Len() int { return len(h.srcs) }
func (h *lineHeap) Less(i, j int) bool {
	a, b := h.srcs[i], h.srcs[j]
	if a.key != b.key {
		return (a.key < b.key) != h.back
	}
	return (a.idx < b.idx) != h.back
}
func (h *lineHeap) Swap(i, j int) { h.srcs[i], h.srcs[j] = h.srcs[j], h.srcs[i] }
func (h *lineHeap) Push(x any)    { h.srcs = append(h.srcs, x.(*source)) }
func (h *lineHeap) Pop() any {
	s := h.srcs[len(h.srcs)-1]
	h.srcs = h.srcs[:len(h.srcs)-1]
	return s
}

// MergedLine is a line and the index of its process in the procs read.
type MergedLine struct {
	logring.Line
	Proc int
}

// MergedPage is the result of a merged read.
type MergedPage struct {
	Lines []MergedLine
	// Next is the cursor after the page, per process (as procs).
	Next   []uint64
	Missed uint64
	More   bool
}

// ReadMerged reads the lines of procs after cursor (forward, limit lines)
// or, without one, their newest tail lines, in the order they were read.
func ReadMerged(procs []*Process, cursor MergeCursor, tail, limit int, match func(*logring.Line) bool) MergedPage {
	out := MergedPage{Next: make([]uint64, len(procs))}
	forward := cursor != nil
	n := limit
	if !forward {
		n = tail
	}
	srcs := make([]source, len(procs))
	h := &lineHeap{back: !forward, srcs: make([]*source, 0, len(procs))}
	for i, p := range procs {
		last := p.Log().Stats().LastSeq
		s := &srcs[i]
		*s = source{idx: i, ring: p.Log(), match: match, batch: max(n/max(len(procs), 1)+1, 4)}
		out.Next[i] = last // a tail's cursor: everything up to now
		if forward {
			s.pos = min(cursor[p.Name()], last)
			s.examined = s.pos
			s.done = s.pos == last
		} else {
			s.pos = last + 1
			s.done = last == 0
		}
		if n > 0 && s.rekey(!forward) {
			h.srcs = append(h.srcs, s)
		}
	}
	heap.Init(h)
	for len(out.Lines) < n && h.Len() > 0 {
		s := h.srcs[0]
		if !s.exact { // its bound leads: read it
			if forward {
				s.fill()
			} else {
				s.fillBack()
			}
		} else { // its line leads: take it
			var l logring.Line
			if forward {
				l, s.buf = s.buf[0], s.buf[1:]
			} else {
				l, s.buf = s.buf[len(s.buf)-1], s.buf[:len(s.buf)-1]
			}
			out.Lines = append(out.Lines, MergedLine{Line: l, Proc: s.idx})
		}
		if s.rekey(!forward) {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	if !forward {
		slices.Reverse(out.Lines) // oldest first
		return out
	}
	// A source's cursor is its last line returned; one that returned
	// nothing and has nothing left unread moves past what it examined.
	returned := make([]uint64, len(procs))
	for _, l := range out.Lines {
		returned[l.Proc] = l.Seq
	}
	for i := range srcs {
		s := &srcs[i]
		out.Missed += s.missed
		switch {
		case returned[i] != 0:
			out.Next[i] = returned[i]
		case len(s.buf) > 0 || !s.done:
			out.Next[i] = min(cursor[procs[i].Name()], out.Next[i])
		default:
			out.Next[i] = s.examined
		}
		if len(s.buf) > 0 || !s.done {
			out.More = true
		}
	}
	return out
}
