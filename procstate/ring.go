package procstate

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Stream tells which pipe a line came from.
type Stream uint8

// The two output streams of a child.
const (
	Stdout Stream = 1
	Stderr Stream = 2
)

// String returns "stdout" or "stderr".
func (s Stream) String() string {
	switch s {
	case Stdout:
		return "stdout"
	case Stderr:
		return "stderr"
	}
	return fmt.Sprintf("stream(%d)", uint8(s))
}

// Line is one line of a child's output. Lines are immutable once published.
type Line struct {
	// Seq numbers the lines of one process, starting at 1; never reused.
	Seq uint64
	// Time is when the line was read, in Unix nanoseconds.
	Time int64
	// Stream is the pipe it came from.
	Stream Stream
	// Split is set when the output line was longer than MaxLineBytes: this
	// piece was cut off and the rest follows in the next line of the stream.
	Split bool
	// Text is the line without its newline (and without a trailing "\r"),
	// always valid UTF-8.
	Text string
}

// LogStats are the counters of a ring, read without locking.
type LogStats struct {
	// Lines and Bytes are what the ring retains now.
	Lines uint64
	Bytes uint64
	// Dropped counts lines evicted to respect the ring's bounds.
	Dropped uint64
	// LastSeq is the sequence number of the newest line, 0 if none.
	LastSeq uint64
}

const (
	lineBlockSize = 256       // lines allocated together
	textChunkSize = 256 << 10 // text bytes allocated together
	// blockTextMax is the longest text whose Line comes from a block. A
	// block stays reachable while one of its lines is retained, and so does
	// the text of its evicted lines: longer lines get a Line of their own,
	// so that this costs at most lineBlockSize*blockTextMax beyond maxBytes.
	blockTextMax = 1 << 10
)

// Ring is a bounded, append-only log of output lines, addressed by sequence
// number. Writers serialise on mu; readers take no lock: they load the bounds
// and slot pointers atomically and recognise a slot overwritten under them by
// its sequence number.
type Ring struct {
	maxLines uint64
	maxBytes uint64

	// slots holds line seq in (*slots)[seq%len]. It starts small and
	// doubles, up to maxLines, as lines are retained: a quiet process costs
	// a few hundred bytes, not maxLines pointers. Read without lock (after
	// loading last); replaced under mu, never mutated in size.
	slots atomic.Pointer[slotArray]
	first atomic.Uint64 // oldest retained seq; last+1 when empty
	last  atomic.Uint64 // newest published seq; 0 when none
	bytes atomic.Uint64 // text bytes retained

	// changed is closed and replaced when lines are appended, but only if a
	// reader asked for it (waiters > 0), so that ingest pays nothing when no
	// one waits.
	changed atomic.Pointer[chan struct{}]
	waiters atomic.Int32

	mu     sync.Mutex // serialises writers; never taken by readers
	block  []Line     // guarded by mu: unused tail of the current line block
	chunk  []byte     // guarded by mu: unused tail of the current text chunk
	closed bool       // guarded by mu
}

// slotArray is one generation of a ring's slots.
type slotArray []atomic.Pointer[Line]

// at is the slot of line seq.
func (a slotArray) at(seq uint64) *atomic.Pointer[Line] { return &a[seq%uint64(len(a))] }

const initialSlots = 64

// NewRing returns a ring that keeps at most maxLines lines and maxBytes bytes
// of text (the newest line is always kept, whatever its size).
func NewRing(maxLines, maxBytes int) *Ring {
	if maxLines < 1 {
		maxLines = 1
	}
	if maxBytes < 1 {
		maxBytes = 1
	}
	r := &Ring{
		maxLines: uint64(maxLines),
		maxBytes: uint64(maxBytes),
	}
	arr := make(slotArray, min(initialSlots, maxLines))
	r.slots.Store(&arr)
	r.first.Store(1)
	ch := make(chan struct{})
	r.changed.Store(&ch)
	return r
}

// Stats returns the ring's counters. The values are loaded one by one
// without a lock, so they are each exact but may straddle an append.
func (r *Ring) Stats() LogStats {
	last := r.last.Load()
	first := r.first.Load()
	var lines uint64
	if last >= first {
		lines = last - first + 1
	}
	return LogStats{Lines: lines, Bytes: r.bytes.Load(), Dropped: first - 1, LastSeq: last}
}

// Append adds lines read together from one stream at time ts. It copies
// the text; the caller may reuse the slices.
func (r *Ring) Append(stream Stream, ts time.Time, lines [][]byte, split []bool) {
	r.mu.Lock()
	r.appendLocked(stream, ts.UnixNano(), lines, split)
	r.mu.Unlock()
	r.notify()
}

// appendLocked stores lines; r.mu must be held.
func (r *Ring) appendLocked(stream Stream, ts int64, lines [][]byte, split []bool) {
	if r.closed {
		return
	}
	last := r.last.Load()
	first := r.first.Load()
	bytes := r.bytes.Load()
	arr := *r.slots.Load()
	for i, text := range lines {
		n := uint64(len(text))
		// Evict from the front until the new line fits both bounds.
		for last >= first && (last-first+1 >= r.maxLines || bytes+n > r.maxBytes) {
			slot := arr.at(first)
			if old := slot.Load(); old != nil && old.Seq == first {
				bytes -= uint64(len(old.Text))
			}
			slot.Store(nil)
			first++
			r.first.Store(first)
		}
		var ln *Line
		if n > blockTextMax {
			ln = new(Line)
		} else {
			if len(r.block) == 0 {
				r.block = make([]Line, lineBlockSize)
			}
			ln = &r.block[0]
			r.block = r.block[1:]
		}
		last++
		*ln = Line{Seq: last, Time: ts, Stream: stream, Split: split != nil && split[i], Text: r.internLocked(text)}
		bytes += n
		r.bytes.Store(bytes)
		if retained := last - first + 1; retained > uint64(len(arr)) {
			arr = r.growLocked(arr, first, last-1, retained)
		}
		arr.at(last).Store(ln)
		r.last.Store(last)
	}
}

// growLocked publishes a larger slot array holding lines first..last, big
// enough for need lines. Readers that load last and then the slots always
// get an array holding every line up to that last: a line is written to the
// current array, and a new one is published with copies before any line is
// written to it.
func (r *Ring) growLocked(old slotArray, first, last, need uint64) slotArray {
	size := uint64(len(old))
	for size < need {
		size *= 2
	}
	size = min(size, r.maxLines)
	arr := make(slotArray, size)
	for seq := first; seq <= last && seq > 0; seq++ {
		arr.at(seq).Store(old.at(seq).Load())
	}
	r.slots.Store(&arr)
	return arr
}

// internLocked copies text into the current chunk and returns it as a string
// that shares the chunk's memory. Chunk bytes are never written twice.
func (r *Ring) internLocked(text []byte) string {
	if len(text) == 0 {
		return ""
	}
	if len(text) > len(r.chunk) {
		size := textChunkSize
		if len(text) > size {
			size = len(text)
		}
		r.chunk = make([]byte, size)
	}
	n := copy(r.chunk, text)
	s := unsafeString(r.chunk[:n])
	r.chunk = r.chunk[n:]
	return s
}

// close stops further appends; lines already stored stay readable.
func (r *Ring) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
}

// notify wakes readers waiting in Wait, if any.
func (r *Ring) notify() {
	if r.waiters.Load() == 0 {
		return
	}
	ch := make(chan struct{})
	old := r.changed.Swap(&ch)
	close(*old)
}

// Wait returns a channel that is closed after lines newer than seq are
// appended; it is closed already if there are such lines. Call done when
// you stop waiting.
func (r *Ring) Wait(seq uint64) (ch <-chan struct{}, done func()) {
	r.waiters.Add(1)
	c := *r.changed.Load()
	if r.last.Load() > seq {
		closed := make(chan struct{})
		close(closed)
		return closed, func() { r.waiters.Add(-1) }
	}
	return c, func() { r.waiters.Add(-1) }
}

// ErrCursorAhead is returned by Read for a cursor past the newest line.
var ErrCursorAhead = errors.New("cursor is past the newest line")

// Query selects lines to read from a ring.
type Query struct {
	// Since, when HasSince is set, returns lines with Seq > Since.
	Since    uint64
	HasSince bool
	// Tail, without HasSince, starts at the Tail-th newest matching line;
	// 0 returns no lines, only the cursor.
	Tail int
	// Limit caps the number of lines returned; <= 0 means no cap.
	Limit int
	// Match, if set, keeps only the lines for which it returns true.
	Match func(*Line) bool
}

// Page is the result of a Read.
type Page struct {
	// Lines are the matching lines, oldest first. They are shared,
	// immutable values: do not modify them.
	Lines []*Line
	// NextSince is the cursor to pass as Since to continue after this page.
	NextSince uint64
	// Missed counts lines after the cursor that were evicted before they
	// could be read.
	Missed uint64
	// More is set when lines after NextSince exist that this page did not
	// examine because Limit was reached.
	More bool
}

// Read returns a page of lines without taking the writers' lock. Lines
// evicted while the read is in progress count as missed.
func (r *Ring) Read(q Query) (Page, error) {
	last := r.last.Load()
	var start uint64
	var p Page
	if q.HasSince {
		if q.Since > last {
			return Page{NextSince: last}, fmt.Errorf("%w: since %d, newest line %d", ErrCursorAhead, q.Since, last)
		}
		start = q.Since + 1
		if first := r.first.Load(); start < first {
			p.Missed = first - start
			start = first
		}
	} else {
		start = r.tailStart(last, q.Tail, q.Match)
	}
	p.NextSince = start - 1
	arr := *r.slots.Load() // after last: it holds every line up to last
	for seq := start; seq <= last; seq++ {
		ln := arr.at(seq).Load()
		if ln == nil || ln.Seq != seq {
			// Evicted (or overwritten by a newer line) while we read.
			p.Missed++
			p.NextSince = seq
			continue
		}
		if q.Match != nil && !q.Match(ln) {
			p.NextSince = seq
			continue
		}
		if q.Limit > 0 && len(p.Lines) >= q.Limit {
			p.More = true
			break
		}
		p.Lines = append(p.Lines, ln)
		p.NextSince = seq
	}
	return p, nil
}

// tailStart returns the sequence number to start a tail read from: the
// tail-th newest matching line, or last+1 for tail 0.
func (r *Ring) tailStart(last uint64, tail int, match func(*Line) bool) uint64 {
	if tail <= 0 {
		return last + 1
	}
	first := r.first.Load()
	arr := *r.slots.Load()
	start := last + 1
	found := 0
	for seq := last; seq >= first && seq > 0; seq-- {
		ln := arr.at(seq).Load()
		if ln == nil || ln.Seq != seq {
			break // evicted: everything older is gone too
		}
		if match != nil && !match(ln) {
			continue
		}
		start = seq
		found++
		if found == tail {
			break
		}
	}
	return start
}
