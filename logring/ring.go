package logring

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Stream tells which pipe a line came from.
type Stream uint8

// The two output streams of a child, and the lines its supervisor adds
// about it (started, exited, ...).
const (
	Stdout Stream = 1
	Stderr Stream = 2
	System Stream = 3
)

// String returns "stdout", "stderr" or "system".
func (s Stream) String() string {
	switch s {
	case Stdout:
		return "stdout"
	case Stderr:
		return "stderr"
	case System:
		return "system"
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
	// Partial is set on a line that had no newline yet when its stream
	// went quiet for PartialAfter: a prompt, say. What the stream writes
	// next starts a new line.
	Partial bool
	// Text is the line without its newline (and without a trailing "\r"),
	// always valid UTF-8.
	Text string
}

// Stats are the counters of a ring, read without locking.
type Stats struct {
	// Lines and Bytes are what the ring retains now.
	Lines uint64
	Bytes uint64
	// Evicted counts lines evicted to respect the ring's bounds.
	Evicted uint64
	// LastSeq is the sequence number of the newest line, 0 if none.
	LastSeq uint64
}

const (
	// blockShift sets how many line records are allocated together: block
	// i holds the records of the lines whose seq>>blockShift is i.
	blockShift = 8
	blockLines = 1 << blockShift
	// Text chunks start small, so that a quiet process costs a few KiB, and
	// double with every new chunk up to maxChunkBytes (or the ring's
	// maxBytes, if smaller). A longer line gets a chunk of its size.
	firstChunkBytes = 4 << 10
	maxChunkBytes   = 256 << 10
	// initialChunkSlots is the size of a new ring's chunk table.
	initialChunkSlots = 4
	// A ring keeps at most this many dropped blocks, and full-size chunks,
	// for reuse: a flood then allocates nothing.
	maxSpareBlocks = 4
	maxSpareChunks = 2
)

// lineRec is a line as the ring stores it. It holds no pointer, so that
// record blocks are not scanned by the garbage collector and writing one
// costs no write barrier: the text is referred to by chunk id and offset
// (lines are far shorter than 4 GiB: ingest cuts them at MaxLineBytes).
type lineRec struct {
	time   int64
	off    uint32 // where the text starts in its chunk
	n      uint32 // text length in bytes
	chunk  uint32 // id of the chunk holding the text; any chunk if n is 0
	stream Stream
	split  bool
	// partial: a line without its newline, published because no more
	// output came for PartialAfter (a prompt waiting for input).
	partial bool
}

// recBlock holds the records of the lines whose seq>>blockShift is index.
type recBlock struct {
	index uint64
	recs  [blockLines]lineRec
}

// textChunk is text memory, filled in order.
type textChunk struct {
	id  uint32
	buf []byte
}

// chunkTable holds chunk id in slot id%len; len is a power of two.
type chunkTable []atomic.Pointer[textChunk]

func (t chunkTable) at(id uint32) *atomic.Pointer[textChunk] {
	return &t[id&uint32(len(t)-1)]
}

// spares are blocks and chunk buffers dropped from a ring's tables.
type spares struct {
	blocks []*recBlock
	chunks [][]byte
}

func (s *spares) empty() bool { return len(s.blocks)+len(s.chunks) == 0 }

// take moves the spares of from to s.
func (s *spares) take(from *spares) {
	s.blocks = append(s.blocks, from.blocks...)
	clear(from.blocks)
	from.blocks = from.blocks[:0]
	s.chunks = append(s.chunks, from.chunks...)
	clear(from.chunks)
	from.chunks = from.chunks[:0]
}

// Ring is a bounded, append-only log of output lines, addressed by sequence
// number. Writers serialise on mu; readers take no lock.
//
// A line is a pointer-free record, in a block of records, and its text, in
// a chunk; blocks and chunks are reached through table slots holding atomic
// pointers. Writers write records and text where no published line is, then
// publish a whole batch by storing first, bytes and last. A reader loads
// last, then the tables, and reads lines up to last; it recognises a line
// evicted under it by a table slot that is empty or holds another block or
// chunk (checked by index and id), and counts it as missed. A line evicted
// during a read but still found is returned intact.
//
// A block or chunk whose lines are all evicted is dropped from the tables
// and, once no read that could have found it is in progress, reused: a
// flood allocates nothing. Reads register in one of two counters, chosen by
// the parity of epoch; a writer that dropped blocks or chunks advances the
// epoch and reuses them once the previous epoch's counter is seen at 0.
// Reads therefore copy the text they return: the ring's memory is only
// stable while a read is in progress.
//
// Memory: records take at most len(blocks)+maxSpareBlocks blocks of 6 KiB;
// len(blocks) covers maxLines plus two blocks. Text held is what the
// retained lines use, plus the evicted head of the oldest chunk, the free
// tail of the newest and maxSpareChunks spares (each at most maxChunkBytes),
// plus the tails left unused in the chunks between, each shorter than the
// line that did not fit after it. Output read by ingest has lines of at most
// MaxLineBytes, a quarter of a full chunk, so text held stays under
// 4/3*maxBytes + 4*maxChunkBytes (plus the newest line if it is longer than
// maxBytes, and the few small chunks of the start); with short lines it is
// close to maxBytes + 4*maxChunkBytes.
type Ring struct {
	maxLines uint64
	maxBytes uint64
	chunkMax int // size of the largest chunk that is not one line's

	// blocks holds block i in blocks[i%len]. Its length, fixed by New, is
	// a power of two covering every block that can hold retained lines, so a
	// block is replaced only when all its lines are evicted. Slots are
	// stored under mu and loaded by readers.
	blocks []atomic.Pointer[recBlock]
	// chunks holds every chunk with retained text. It starts small and
	// doubles as more chunks hold retained text. Read without lock, after
	// loading last; replaced under mu, each table holding every chunk of
	// the lines published while it is current.
	chunks atomic.Pointer[chunkTable]

	first atomic.Uint64 // oldest retained seq; last+1 when empty (may pass it for a moment: see firstUpTo)
	last  atomic.Uint64 // newest published seq; 0 when none
	bytes atomic.Uint64 // text bytes retained

	// changed is closed and replaced when lines are appended, but only if a
	// reader asked for it (waiters > 0), so that ingest pays nothing when no
	// one waits.
	changed atomic.Pointer[chan struct{}]
	waiters atomic.Int32

	// reading counts the reads in progress that registered while epoch had
	// the parity of the index.
	epoch   atomic.Uint32
	reading [2]atomic.Int32

	mu          sync.Mutex // serialises writers; never taken by readers
	tail        *recBlock  // guarded by mu: block of the newest line
	chunk       *textChunk // guarded by mu: chunk receiving text; nil before any
	used        int        // guarded by mu: bytes of chunk in use
	nextChunk   int        // guarded by mu: size of the next chunk
	oldestBlock uint64     // guarded by mu: no block before it is in blocks
	oldestChunk uint32     // guarded by mu: no chunk before it is in chunks
	closed      bool       // guarded by mu
	// Spares move from dropped to grace when the epoch advances, and from
	// grace to free when no read of the previous epoch is left.
	dropped, grace, free spares // guarded by mu
	graceSlot            int    // guarded by mu: index in reading of grace's reads
}

// New returns a ring that keeps at most maxLines lines and maxBytes bytes
// of text (the newest line is always kept, whatever its size).
func New(maxLines, maxBytes int) *Ring {
	if maxLines < 1 {
		maxLines = 1
	}
	if maxBytes < 1 {
		maxBytes = 1
	}
	r := &Ring{
		maxLines:    uint64(maxLines),
		maxBytes:    uint64(maxBytes),
		chunkMax:    min(maxChunkBytes, max(firstChunkBytes, maxBytes)),
		nextChunk:   firstChunkBytes,
		oldestChunk: 1,
	}
	// Retained lines span at most maxLines/blockLines+2 blocks: with that
	// many slots, the block a new one replaces holds only evicted lines.
	nblocks := 1
	for nblocks < maxLines>>blockShift+2 {
		nblocks *= 2
	}
	r.blocks = make([]atomic.Pointer[recBlock], nblocks)
	chunks := make(chunkTable, initialChunkSlots)
	r.chunks.Store(&chunks)
	r.first.Store(1)
	ch := make(chan struct{})
	r.changed.Store(&ch)
	return r
}

// NewAfter returns a ring like New whose first line will be seq+1: a log
// that continues the numbering of an earlier one, so that a cursor kept
// from the earlier one never reads a later line as if it were the line it
// meant. The lines up to seq count as evicted.
func NewAfter(maxLines, maxBytes int, seq uint64) *Ring {
	r := New(maxLines, maxBytes)
	r.first.Store(seq + 1)
	r.last.Store(seq)
	r.oldestBlock = (seq + 1) >> blockShift
	return r
}

// firstUpTo returns the oldest retained seq for a reader that loaded last:
// first, or last+1 if first is past it (an append publishes first before
// last, and its evictions may pass the last the reader saw).
func (r *Ring) firstUpTo(last uint64) uint64 {
	return min(r.first.Load(), last+1)
}

// Stats returns the ring's counters. The values are loaded one by one
// without a lock, so they are each exact but may straddle an append.
func (r *Ring) Stats() Stats {
	last := r.last.Load()
	first := r.firstUpTo(last)
	return Stats{Lines: last + 1 - first, Bytes: r.bytes.Load(), Evicted: first - 1, LastSeq: last}
}

// Append adds lines read together from one stream at time ts. It copies
// the text; the caller may reuse the slices.
func (r *Ring) Append(stream Stream, ts time.Time, lines [][]byte, split []bool) {
	r.mu.Lock()
	b := r.beginLocked(stream, ts.UnixNano())
	for i, text := range lines {
		r.addLocked(&b, text, split != nil && split[i])
	}
	added := r.publishLocked(&b)
	r.mu.Unlock()
	if added {
		r.notify()
	}
}

// batch is an append in progress: the lines added to it are published
// together by publishLocked. It holds the ring's bounds as they will be.
type batch struct {
	first, last, bytes uint64
	time               int64
	stream             Stream
}

// beginLocked starts a batch of lines read from stream at time ts.
func (r *Ring) beginLocked(stream Stream, ts int64) batch {
	return batch{first: r.first.Load(), last: r.last.Load(), bytes: r.bytes.Load(), time: ts, stream: stream}
}

// addLocked stores a line in b, evicting old lines to make room for it.
// Readers do not see it before publishLocked.
func (r *Ring) addLocked(b *batch, text []byte, split bool) {
	r.addRecLocked(b, text, split, false)
}

// addRecLocked is addLocked with the partial flag.
func (r *Ring) addRecLocked(b *batch, text []byte, split, partial bool) {
	if r.closed {
		return
	}
	n := uint64(len(text))
	// Evict from the front until the new line fits both bounds.
	for b.last >= b.first && (b.last-b.first+1 >= r.maxLines || b.bytes+n > r.maxBytes) {
		b.bytes -= uint64(r.recLocked(b.first).n)
		b.first++
	}
	id, off := r.internLocked(text, b.first, b.last)
	seq := b.last + 1
	if r.tail == nil || seq&(blockLines-1) == 0 {
		r.newBlockLocked(seq>>blockShift, b.first, b.last)
	}
	r.tail.recs[seq&(blockLines-1)] = lineRec{time: b.time, off: off, n: uint32(n), chunk: id, stream: b.stream, split: split, partial: partial}
	b.last = seq
	b.bytes += n
}

// publishLocked makes the lines of b visible to readers, and reports
// whether there were any.
func (r *Ring) publishLocked(b *batch) bool {
	if b.last == r.last.Load() {
		return false
	}
	// first before last, so that a reader that loads last and then first
	// never counts more than maxLines.
	r.first.Store(b.first)
	r.bytes.Store(b.bytes)
	r.last.Store(b.last)
	r.forgetLocked(b.first, b.last)
	return true
}

// recLocked returns the record of retained line seq.
func (r *Ring) recLocked(seq uint64) *lineRec {
	b := r.blocks[(seq>>blockShift)&uint64(len(r.blocks)-1)].Load()
	return &b.recs[seq&(blockLines-1)]
}

// newBlockLocked makes a block for index i the one receiving records.
// first..last are the lines retained.
func (r *Ring) newBlockLocked(i uint64, first, last uint64) {
	r.forgetLocked(first, last)
	r.reclaimLocked()
	if k := len(r.free.blocks); k > 0 {
		r.tail = r.free.blocks[k-1]
		r.free.blocks[k-1] = nil
		r.free.blocks = r.free.blocks[:k-1]
		r.tail.index = i
	} else {
		r.tail = &recBlock{index: i}
	}
	r.blocks[i&uint64(len(r.blocks)-1)].Store(r.tail)
}

// internLocked copies text into the current chunk, or a new one if it does
// not fit, and returns where it is. first..last are the lines retained.
func (r *Ring) internLocked(text []byte, first, last uint64) (id, off uint32) {
	if len(text) == 0 {
		if r.chunk == nil {
			return 0, 0
		}
		return r.chunk.id, 0
	}
	if r.chunk == nil || len(text) > len(r.chunk.buf)-r.used {
		r.newChunkLocked(len(text), first, last)
	}
	off = uint32(r.used)
	r.used += copy(r.chunk.buf[r.used:], text)
	return r.chunk.id, off
}

// newChunkLocked makes a chunk of at least n bytes the one receiving text
// and puts it in the chunk table, growing the table if the chunks in use
// fill it. first..last are the lines retained.
func (r *Ring) newChunkLocked(n int, first, last uint64) {
	r.forgetLocked(first, last)
	c := &textChunk{id: 1}
	if r.chunk != nil {
		c.id = r.chunk.id + 1
	}
	size := max(r.nextChunk, n)
	r.nextChunk = min(2*r.nextChunk, r.chunkMax)
	if size == r.chunkMax {
		r.reclaimLocked()
	}
	if k := len(r.free.chunks); k > 0 && size == r.chunkMax {
		c.buf = r.free.chunks[k-1]
		r.free.chunks[k-1] = nil
		r.free.chunks = r.free.chunks[:k-1]
	} else {
		c.buf = make([]byte, size)
	}
	tbl := *r.chunks.Load()
	if need := c.id - r.oldestChunk + 1; need > uint32(len(tbl)) {
		size := uint32(len(tbl))
		for size < need {
			size *= 2
		}
		grown := make(chunkTable, size)
		for id := r.oldestChunk; id != c.id; id++ {
			grown.at(id).Store(tbl.at(id).Load())
		}
		r.chunks.Store(&grown)
		tbl = grown
	}
	tbl.at(c.id).Store(c)
	r.chunk, r.used = c, 0
}

// forgetLocked drops from the tables the blocks and chunks that hold none
// of the lines first..last. A reader still looking for those lines counts
// them as missed.
func (r *Ring) forgetLocked(first, last uint64) {
	spareBlocks := maxSpareBlocks - len(r.dropped.blocks) - len(r.grace.blocks) - len(r.free.blocks)
	firstBlock := first >> blockShift
	if n := uint64(len(r.blocks)); firstBlock > r.oldestBlock+n {
		r.oldestBlock = firstBlock - n // the slots of older blocks were reused
	}
	for ; r.oldestBlock < firstBlock; r.oldestBlock++ {
		slot := &r.blocks[r.oldestBlock&uint64(len(r.blocks)-1)]
		if b := slot.Load(); b != nil && b.index == r.oldestBlock {
			slot.Store(nil)
			if spareBlocks > 0 && !r.closed {
				r.dropped.blocks = append(r.dropped.blocks, b)
				spareBlocks--
			}
		}
	}
	if r.chunk == nil {
		return
	}
	keep := r.chunk.id // the chunk of the oldest retained line, or the current one
	if first <= last {
		keep = r.recLocked(first).chunk
	}
	spareChunks := maxSpareChunks - len(r.dropped.chunks) - len(r.grace.chunks) - len(r.free.chunks)
	tbl := *r.chunks.Load()
	for ; int32(keep-r.oldestChunk) > 0; r.oldestChunk++ {
		slot := tbl.at(r.oldestChunk)
		if c := slot.Load(); c != nil && c.id == r.oldestChunk {
			slot.Store(nil)
			if spareChunks > 0 && len(c.buf) == r.chunkMax && !r.closed {
				r.dropped.chunks = append(r.dropped.chunks, c.buf)
				spareChunks--
			}
		}
	}
}

// reclaimLocked moves dropped blocks and chunks towards reuse. A read that
// may have found one registered before it was dropped, so in the epoch of
// the drop or an earlier one; a read registered later cannot find it.
// Advancing the epoch, then seeing the previous epoch's reads at 0, proves
// that those reads are over.
func (r *Ring) reclaimLocked() {
	if !r.grace.empty() {
		if r.reading[r.graceSlot].Load() != 0 {
			return
		}
		r.free.take(&r.grace)
	}
	if r.dropped.empty() {
		return
	}
	r.graceSlot = int((r.epoch.Add(1) - 1) & 1)
	r.grace.take(&r.dropped)
	if r.reading[r.graceSlot].Load() == 0 {
		r.free.take(&r.grace)
	}
}

// startRead registers a read in progress; pass its result to endRead.
func (r *Ring) startRead() int {
	for {
		e := r.epoch.Load()
		slot := int(e & 1)
		r.reading[slot].Add(1)
		// A writer that advanced the epoch before we registered may not
		// wait for us: register again under the new epoch.
		if r.epoch.Load() == e {
			return slot
		}
		r.reading[slot].Add(-1)
	}
}

func (r *Ring) endRead(slot int) { r.reading[slot].Add(-1) }

// Close stops further appends; lines already stored stay readable. The
// spare memory kept for reuse is released.
func (r *Ring) Close() {
	r.mu.Lock()
	r.closed = true
	r.dropped, r.grace, r.free = spares{}, spares{}, spares{}
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

// WaitFor blocks until the ring holds a line with seq at least seq, or
// ctx ends (its error then).
func (r *Ring) WaitFor(ctx context.Context, seq uint64) error {
	for {
		last := r.last.Load()
		if last >= seq {
			return nil
		}
		ch, done := r.Wait(last)
		select {
		case <-ch:
			done()
		case <-ctx.Done():
			done()
			return ctx.Err()
		}
	}
}

// ErrCursorAhead is matched by Read's error for a cursor past the newest
// line, a *CursorAheadError.
var ErrCursorAhead = errors.New("cursor is past the newest line")

// CursorAheadError is Read's error for a cursor past the newest line, as
// after a process was started again under its name.
type CursorAheadError struct {
	// Since is the cursor asked for; Newest the newest line's seq.
	Since, Newest uint64
}

func (e *CursorAheadError) Error() string {
	return fmt.Sprintf("%v: since %d, newest line %d", ErrCursorAhead, e.Since, e.Newest)
}

func (e *CursorAheadError) Unwrap() error { return ErrCursorAhead }

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
	// Match, if set, keeps only the lines for which it returns true. The
	// Line it is passed, Text included, is valid only during the call: its
	// text is still in the ring's memory, which is reused.
	Match func(*Line) bool
}

// Page is the result of a Read.
type Page struct {
	// Lines are the matching lines, oldest first, copied out of the ring:
	// they are the caller's.
	Lines []Line
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
// evicted while the read is in progress count as missed, unless they are
// still found intact.
func (r *Ring) Read(q Query) (Page, error) {
	defer r.endRead(r.startRead())
	last := r.last.Load()
	var start uint64
	var p Page
	if q.HasSince {
		if q.Since > last {
			return Page{NextSince: last}, &CursorAheadError{Since: q.Since, Newest: last}
		}
		start = q.Since + 1
		if first := r.firstUpTo(last); start < first {
			p.Missed = first - start
			start = first
		}
	} else {
		start = r.tailStart(last, q.Tail, q.Match)
	}
	p.NextSince = start - 1
	v := r.view() // after last: it holds every line up to last not evicted
	var lines []Line
	if q.Match == nil && start <= last {
		n := last - start + 1
		if q.Limit > 0 {
			n = min(n, uint64(q.Limit))
		}
		lines = make([]Line, 0, n)
	}
	var ln *Line // for Match
	if q.Match != nil {
		ln = new(Line)
	}
	for seq := start; seq <= last; seq++ {
		rec, text, ok := v.find(seq)
		if !ok {
			// Evicted while we read.
			p.Missed++
			p.NextSince = seq
			continue
		}
		if q.Match != nil {
			if *ln = lineOf(seq, &rec, unsafeString(text)); !q.Match(ln) {
				p.NextSince = seq
				continue
			}
		}
		if q.Limit > 0 && len(lines) >= q.Limit {
			p.More = true
			break
		}
		lines = append(lines, lineOf(seq, &rec, unsafeString(text)))
		p.NextSince = seq
	}
	if len(lines) > 0 {
		// Copy the text out of the ring, which reuses its memory once no
		// read is in progress.
		size := 0
		for i := range lines {
			size += len(lines[i].Text)
		}
		text := make([]byte, 0, size)
		for i := range lines {
			off := len(text)
			text = append(text, lines[i].Text...)
			lines[i].Text = unsafeString(text[off:len(text)]) // text is never written again
		}
		p.Lines = lines
	}
	return p, nil
}

// TimeOf returns when line seq was read, if the ring still holds it,
// without copying anything: a merged reader orders many rings by it and
// reads only those it needs.
func (r *Ring) TimeOf(seq uint64) (int64, bool) {
	defer r.endRead(r.startRead())
	last := r.last.Load()
	if seq == 0 || seq > last || seq < r.firstUpTo(last) {
		return 0, false
	}
	rec, _, ok := r.view().find(seq)
	return rec.time, ok
}

// tailStart returns the sequence number to start a tail read from: the
// tail-th newest matching line, or last+1 for tail 0.
func (r *Ring) tailStart(last uint64, tail int, match func(*Line) bool) uint64 {
	if tail <= 0 {
		return last + 1
	}
	first := r.firstUpTo(last)
	if match == nil {
		return max(first, last+1-min(last, uint64(tail)))
	}
	v := r.view()
	start := last + 1
	found := 0
	ln := new(Line)
	for seq := last; seq >= first && seq > 0; seq-- {
		rec, text, ok := v.find(seq)
		if !ok {
			break // evicted: everything older is gone too
		}
		if *ln = lineOf(seq, &rec, unsafeString(text)); !match(ln) {
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

// view is what a reader needs to find lines: the block slots and the chunk
// table loaded after last, and the block and chunk last found, which the
// next line is most likely in.
type view struct {
	blocks []atomic.Pointer[recBlock]
	chunks chunkTable
	block  *recBlock
	chunk  *textChunk
}

func (r *Ring) view() *view {
	return &view{blocks: r.blocks, chunks: *r.chunks.Load()}
}

// find returns the record of line seq, which must be at most the last the
// view was loaded after, and its text in the ring's memory, valid until
// the read ends. It reports false if the line has been evicted and its
// block or chunk dropped. (A block or chunk found earlier in the read may
// have been dropped since, but it is not reused before the read ends.)
func (v *view) find(seq uint64) (rec lineRec, text []byte, ok bool) {
	idx := seq >> blockShift
	if v.block == nil || v.block.index != idx {
		v.block = v.blocks[idx&uint64(len(v.blocks)-1)].Load()
		if v.block == nil || v.block.index != idx {
			return lineRec{}, nil, false
		}
	}
	rec = v.block.recs[seq&(blockLines-1)]
	if rec.n > 0 {
		if v.chunk == nil || v.chunk.id != rec.chunk {
			v.chunk = v.chunks.at(rec.chunk).Load()
			if v.chunk == nil || v.chunk.id != rec.chunk {
				return lineRec{}, nil, false
			}
		}
		text = v.chunk.buf[rec.off : rec.off+rec.n]
	}
	return rec, text, true
}

// lineOf returns line seq, stored as rec, with text.
func lineOf(seq uint64, rec *lineRec, text string) Line {
	return Line{Seq: seq, Time: rec.time, Stream: rec.stream, Split: rec.split, Partial: rec.partial, Text: text}
}
