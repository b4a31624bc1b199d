package logring

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// appendTexts appends texts to r as one batch read from stream.
func appendTexts(r *Ring, stream Stream, texts ...string) {
	lines := make([][]byte, len(texts))
	for i, s := range texts {
		lines[i] = []byte(s)
	}
	r.Append(stream, time.Unix(0, 0), lines, nil)
}

// letters returns n one-byte texts "a", "b", ...
func letters(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = string(rune('a' + i%26))
	}
	return out
}

func textsOf(lines []Line) []string {
	out := []string{}
	for _, ln := range lines {
		out = append(out, ln.Text)
	}
	return out
}

func seqsOf(lines []Line) []uint64 {
	out := []uint64{}
	for _, ln := range lines {
		out = append(out, ln.Seq)
	}
	return out
}

// seqRange returns from..to inclusive (empty if to < from).
func seqRange(from, to uint64) []uint64 {
	out := []uint64{}
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
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

// chunkReader returns its data in reads of the given sizes, cycling through
// them, to exercise lines that straddle reads.
type chunkReader struct {
	data  []byte
	sizes []int
	next  int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(c.sizes[c.next%len(c.sizes)], len(p), len(c.data))
	c.next++
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// ingested runs ingest over rd into a fresh, roomy ring and returns every
// line it stored.
func ingested(t *testing.T, rd io.Reader) []Line {
	t.Helper()
	r := New(1<<20, 1<<30)
	require.NoError(t, r.Ingest(Stdout, rd))
	page, err := r.Read(Query{HasSince: true})
	require.NoError(t, err)
	require.Zero(t, page.Missed)
	return page.Lines
}

type textSplit struct {
	Text  string
	Split bool
}

func piecesOf(lines []Line) []textSplit {
	out := []textSplit{}
	for _, ln := range lines {
		out = append(out, textSplit{ln.Text, ln.Split})
	}
	return out
}

// describe shortens pieces for failure messages: runs of a byte longer than
// 8 become "x*65536", and split pieces end in "|split".
func describe(pieces []textSplit) []string {
	out := []string{}
	for _, p := range pieces {
		var b strings.Builder
		for s := p.Text; len(s) > 0; {
			n := 1
			for n < len(s) && s[n] == s[0] {
				n++
			}
			if n > 8 {
				fmt.Fprintf(&b, "%c*%d", s[0], n)
			} else {
				b.WriteString(s[:n])
			}
			s = s[n:]
		}
		if p.Split {
			b.WriteString("|split")
		}
		out = append(out, b.String())
	}
	return out
}

// rejoin undoes the splitting: pieces flagged Split are glued to the next.
func rejoin(lines []Line) string {
	var b strings.Builder
	for _, ln := range lines {
		b.WriteString(ln.Text)
		if !ln.Split {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func TestStreamString(t *testing.T) {
	tests := []struct {
		name   string
		stream Stream
		want   string
	}{
		{name: "stdout", stream: Stdout, want: "stdout"},
		{name: "stderr", stream: Stderr, want: "stderr"},
		{name: "unknown", stream: Stream(7), want: "stream(7)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.stream.String())
		})
	}
}

func TestRingEmpty(t *testing.T) {
	r := New(10, 100)
	assert.Equal(t, Stats{}, r.Stats())

	page, err := r.Read(Query{Tail: 5})
	require.NoError(t, err)
	assert.Empty(t, page.Lines)
	assert.Zero(t, page.NextSince)
	assert.False(t, page.More)

	page, err = r.Read(Query{HasSince: true})
	require.NoError(t, err)
	assert.Empty(t, page.Lines)
	assert.Zero(t, page.NextSince)
	assert.Zero(t, page.Missed)
}

func TestRingSeqStartsAtOne(t *testing.T) {
	r := New(10, 100)
	ts := time.Unix(1700000000, 123)
	r.Append(Stdout, ts, [][]byte{[]byte("one"), []byte("two")}, []bool{false, true})
	r.Append(Stderr, ts.Add(time.Second), [][]byte{[]byte("three")}, nil)

	page, err := r.Read(Query{HasSince: true})
	require.NoError(t, err)
	require.Len(t, page.Lines, 3)
	assert.Equal(t, Line{Seq: 1, Time: ts.UnixNano(), Stream: Stdout, Text: "one"}, page.Lines[0])
	assert.Equal(t, Line{Seq: 2, Time: ts.UnixNano(), Stream: Stdout, Split: true, Text: "two"}, page.Lines[1])
	assert.Equal(t, Line{Seq: 3, Time: ts.Add(time.Second).UnixNano(), Stream: Stderr, Text: "three"}, page.Lines[2])
	assert.Equal(t, uint64(3), page.NextSince)
	assert.Equal(t, Stats{Lines: 3, Bytes: 11, LastSeq: 3}, r.Stats())
}

func TestRingAppendCopiesText(t *testing.T) {
	r := New(10, 100)
	buf := []byte("hello")
	r.Append(Stdout, time.Now(), [][]byte{buf}, nil)
	copy(buf, "XXXXX")

	page, err := r.Read(Query{Tail: 1})
	require.NoError(t, err)
	require.Len(t, page.Lines, 1)
	assert.Equal(t, "hello", page.Lines[0].Text)
}

func TestRingEviction(t *testing.T) {
	tests := []struct {
		name      string
		maxLines  int
		maxBytes  int
		texts     []string
		wantTexts []string
		wantStats Stats
	}{
		{
			name:     "fits",
			maxLines: 5, maxBytes: 100,
			texts:     []string{"a", "b", "c"},
			wantTexts: []string{"a", "b", "c"},
			wantStats: Stats{Lines: 3, Bytes: 3, LastSeq: 3},
		},
		{
			name:     "by line count",
			maxLines: 3, maxBytes: 100,
			texts:     letters(8),
			wantTexts: []string{"f", "g", "h"},
			wantStats: Stats{Lines: 3, Bytes: 3, Evicted: 5, LastSeq: 8},
		},
		{
			name:     "one line",
			maxLines: 1, maxBytes: 100,
			texts:     letters(4),
			wantTexts: []string{"d"},
			wantStats: Stats{Lines: 1, Bytes: 1, Evicted: 3, LastSeq: 4},
		},
		{
			name:     "by byte count",
			maxLines: 100, maxBytes: 10,
			texts:     []string{"aaaa", "bbbb", "cccc", "dd"},
			wantTexts: []string{"bbbb", "cccc", "dd"},
			wantStats: Stats{Lines: 3, Bytes: 10, Evicted: 1, LastSeq: 4},
		},
		{
			name:     "exact byte fit",
			maxLines: 100, maxBytes: 8,
			texts:     []string{"aaaa", "bbbb"},
			wantTexts: []string{"aaaa", "bbbb"},
			wantStats: Stats{Lines: 2, Bytes: 8, LastSeq: 2},
		},
		{
			name:     "one byte over evicts several",
			maxLines: 100, maxBytes: 8,
			texts:     []string{"a", "b", "c", "d", "e", "f", "g", "h", "ii"},
			wantTexts: []string{"c", "d", "e", "f", "g", "h", "ii"},
			wantStats: Stats{Lines: 7, Bytes: 8, Evicted: 2, LastSeq: 9},
		},
		{
			name:     "newest kept though larger than maxBytes",
			maxLines: 100, maxBytes: 4,
			texts:     []string{"ab", "cd", "0123456789"},
			wantTexts: []string{"0123456789"},
			wantStats: Stats{Lines: 1, Bytes: 10, Evicted: 2, LastSeq: 3},
		},
		{
			name:     "oversized line evicted by the next",
			maxLines: 100, maxBytes: 4,
			texts:     []string{"0123456789", "ab"},
			wantTexts: []string{"ab"},
			wantStats: Stats{Lines: 1, Bytes: 2, Evicted: 1, LastSeq: 2},
		},
		{
			name:     "empty lines count as lines not bytes",
			maxLines: 3, maxBytes: 1,
			texts:     []string{"", "", "", "", "x"},
			wantTexts: []string{"", "", "x"},
			wantStats: Stats{Lines: 3, Bytes: 1, Evicted: 2, LastSeq: 5},
		},
		{
			name:     "both bounds",
			maxLines: 3, maxBytes: 5,
			texts:     []string{"a", "b", "c", "dddd"},
			wantTexts: []string{"c", "dddd"},
			wantStats: Stats{Lines: 2, Bytes: 5, Evicted: 2, LastSeq: 4},
		},
		{
			name:     "zero bounds clamp to one",
			maxLines: 0, maxBytes: 0,
			texts:     []string{"a", "bb", "ccc"},
			wantTexts: []string{"ccc"},
			wantStats: Stats{Lines: 1, Bytes: 3, Evicted: 2, LastSeq: 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			batch := New(tt.maxLines, tt.maxBytes)
			appendTexts(batch, Stdout, tt.texts...)
			oneByOne := New(tt.maxLines, tt.maxBytes)
			for _, s := range tt.texts {
				appendTexts(oneByOne, Stdout, s)
			}
			wantSeqs := seqRange(tt.wantStats.Evicted+1, tt.wantStats.LastSeq)

			for _, r := range []*Ring{batch, oneByOne} {
				assert.Equal(t, tt.wantStats, r.Stats())
				page, err := r.Read(Query{HasSince: true})
				require.NoError(t, err)
				assert.Equal(t, tt.wantTexts, textsOf(page.Lines))
				assert.Equal(t, wantSeqs, seqsOf(page.Lines))
				assert.Equal(t, tt.wantStats.Evicted, page.Missed)
				assert.Equal(t, tt.wantStats.LastSeq, page.NextSince)
			}
		})
	}
}

func TestRingClose(t *testing.T) {
	r := New(10, 100)
	appendTexts(r, Stdout, "a", "b")
	r.Close()
	appendTexts(r, Stdout, "c")

	assert.Equal(t, Stats{Lines: 2, Bytes: 2, LastSeq: 2}, r.Stats())
	page, err := r.Read(Query{Tail: 10})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, textsOf(page.Lines))
}

func TestRingReadSince(t *testing.T) {
	r := New(100, 1000)
	appendTexts(r, Stdout, letters(10)...) // seqs 1..10

	tests := []struct {
		name          string
		since         uint64
		limit         int
		wantSeqs      []uint64
		wantNextSince uint64
		wantMore      bool
	}{
		{name: "from start", since: 0, wantSeqs: seqRange(1, 10), wantNextSince: 10},
		{name: "from middle", since: 4, wantSeqs: seqRange(5, 10), wantNextSince: 10},
		{name: "at last", since: 10, wantSeqs: []uint64{}, wantNextSince: 10},
		{name: "limit", since: 0, limit: 3, wantSeqs: seqRange(1, 3), wantNextSince: 3, wantMore: true},
		{name: "limit one", since: 5, limit: 1, wantSeqs: []uint64{6}, wantNextSince: 6, wantMore: true},
		{name: "limit equals rest", since: 7, limit: 3, wantSeqs: seqRange(8, 10), wantNextSince: 10},
		{name: "limit above rest", since: 7, limit: 50, wantSeqs: seqRange(8, 10), wantNextSince: 10},
		{name: "negative limit is no cap", since: 0, limit: -1, wantSeqs: seqRange(1, 10), wantNextSince: 10},
		{name: "limit at last", since: 10, limit: 3, wantSeqs: []uint64{}, wantNextSince: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := r.Read(Query{Since: tt.since, HasSince: true, Limit: tt.limit})
			require.NoError(t, err)
			assert.Equal(t, tt.wantSeqs, seqsOf(page.Lines))
			assert.Equal(t, tt.wantNextSince, page.NextSince)
			assert.Equal(t, tt.wantMore, page.More)
			assert.Zero(t, page.Missed)
		})
	}
}

func TestRingReadPaging(t *testing.T) {
	r := New(1000, 1<<20)
	for i := range 97 {
		appendTexts(r, Stream(1+i%2), fmt.Sprintf("line %d", i+1))
	}

	var got []uint64
	var since uint64
	pages := 0
	for more := true; more; pages++ {
		require.Less(t, pages, 100, "paging does not terminate")
		page, err := r.Read(Query{Since: since, HasSince: true, Limit: 10})
		require.NoError(t, err)
		require.NotEmpty(t, page.Lines)
		assert.Equal(t, page.Lines[len(page.Lines)-1].Seq, page.NextSince)
		got = append(got, seqsOf(page.Lines)...)
		since, more = page.NextSince, page.More
	}
	assert.Equal(t, 10, pages)
	assert.Equal(t, seqRange(1, 97), got, "no duplicates and no gaps")
	assert.Equal(t, uint64(97), since)

	// Lines appended later continue the same cursor.
	appendTexts(r, Stderr, "late 1", "late 2")
	page, err := r.Read(Query{Since: since, HasSince: true, Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, []string{"late 1", "late 2"}, textsOf(page.Lines))
	assert.Equal(t, uint64(99), page.NextSince)
	assert.False(t, page.More)
}

func TestRingReadMissed(t *testing.T) {
	r := New(5, 1000)
	appendTexts(r, Stdout, letters(12)...) // retains 8..12
	require.Equal(t, Stats{Lines: 5, Bytes: 5, Evicted: 7, LastSeq: 12}, r.Stats())

	tests := []struct {
		name          string
		since         uint64
		limit         int
		wantSeqs      []uint64
		wantMissed    uint64
		wantNextSince uint64
		wantMore      bool
	}{
		{name: "from zero", since: 0, wantSeqs: seqRange(8, 12), wantMissed: 7, wantNextSince: 12},
		{name: "from three", since: 3, wantSeqs: seqRange(8, 12), wantMissed: 4, wantNextSince: 12},
		{name: "one evicted", since: 6, wantSeqs: seqRange(8, 12), wantMissed: 1, wantNextSince: 12},
		{name: "just before oldest", since: 7, wantSeqs: seqRange(8, 12), wantMissed: 0, wantNextSince: 12},
		{name: "inside", since: 10, wantSeqs: seqRange(11, 12), wantMissed: 0, wantNextSince: 12},
		{name: "missed with limit", since: 2, limit: 2, wantSeqs: seqRange(8, 9), wantMissed: 5, wantNextSince: 9, wantMore: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := r.Read(Query{Since: tt.since, HasSince: true, Limit: tt.limit})
			require.NoError(t, err)
			assert.Equal(t, tt.wantSeqs, seqsOf(page.Lines))
			assert.Equal(t, tt.wantMissed, page.Missed)
			assert.Equal(t, tt.wantNextSince, page.NextSince)
			assert.Equal(t, tt.wantMore, page.More)
			// Every seq after the cursor is either returned or missed.
			assert.Equal(t, page.NextSince-tt.since, uint64(len(page.Lines))+page.Missed)
		})
	}
}

func TestRingReadMissedByBytes(t *testing.T) {
	r := New(100, 6)
	appendTexts(r, Stdout, "aaa", "bbb", "ccc", "ddd") // retains 3..4

	page, err := r.Read(Query{Since: 1, HasSince: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"ccc", "ddd"}, textsOf(page.Lines))
	assert.Equal(t, uint64(1), page.Missed)
	assert.Equal(t, uint64(4), page.NextSince)
}

func TestRingReadCursorAhead(t *testing.T) {
	tests := []struct {
		name     string
		texts    []string
		since    uint64
		wantLast uint64
	}{
		{name: "empty ring", texts: nil, since: 1, wantLast: 0},
		{name: "one past last", texts: letters(3), since: 4, wantLast: 3},
		{name: "far past last", texts: letters(3), since: 1 << 40, wantLast: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(10, 100)
			appendTexts(r, Stdout, tt.texts...)
			page, err := r.Read(Query{Since: tt.since, HasSince: true})
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrCursorAhead)
			assert.Empty(t, page.Lines)
			assert.Equal(t, tt.wantLast, page.NextSince)
		})
	}
}

func TestRingReadTail(t *testing.T) {
	r := New(8, 1000)
	// Seqs 1..12, odd seqs on stdout, even on stderr; 5..12 retained.
	for i := 1; i <= 12; i++ {
		appendTexts(r, Stream(2-i%2), fmt.Sprintf("%d", i))
	}
	require.Equal(t, uint64(4), r.Stats().Evicted)
	stderrOnly := func(ln *Line) bool { return ln.Stream == Stderr }
	stdoutOnly := func(ln *Line) bool { return ln.Stream == Stdout }
	none := func(*Line) bool { return false }

	tests := []struct {
		name      string
		q         Query
		wantTexts []string
		wantNext  uint64
		wantMore  bool
	}{
		{name: "zero returns only the cursor", q: Query{Tail: 0}, wantTexts: []string{}, wantNext: 12},
		{name: "negative like zero", q: Query{Tail: -3}, wantTexts: []string{}, wantNext: 12},
		{name: "one", q: Query{Tail: 1}, wantTexts: []string{"12"}, wantNext: 12},
		{name: "three", q: Query{Tail: 3}, wantTexts: []string{"10", "11", "12"}, wantNext: 12},
		{name: "all retained", q: Query{Tail: 8}, wantTexts: []string{"5", "6", "7", "8", "9", "10", "11", "12"}, wantNext: 12},
		{name: "more than retained", q: Query{Tail: 100}, wantTexts: []string{"5", "6", "7", "8", "9", "10", "11", "12"}, wantNext: 12},
		{name: "match stderr", q: Query{Tail: 2, Match: stderrOnly}, wantTexts: []string{"10", "12"}, wantNext: 12},
		{name: "match stdout, newest line skipped", q: Query{Tail: 3, Match: stdoutOnly}, wantTexts: []string{"7", "9", "11"}, wantNext: 12},
		{name: "match fewer than tail", q: Query{Tail: 100, Match: stdoutOnly}, wantTexts: []string{"5", "7", "9", "11"}, wantNext: 12},
		{name: "match none", q: Query{Tail: 5, Match: none}, wantTexts: []string{}, wantNext: 12},
		{name: "limit pages the tail", q: Query{Tail: 5, Limit: 2}, wantTexts: []string{"8", "9"}, wantNext: 9, wantMore: true},
		// NextSince moves past the non-matching 11 before the limit stops at 12.
		{name: "limit with match", q: Query{Tail: 3, Limit: 2, Match: stderrOnly}, wantTexts: []string{"8", "10"}, wantNext: 11, wantMore: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := r.Read(tt.q)
			require.NoError(t, err)
			assert.Equal(t, tt.wantTexts, textsOf(page.Lines))
			assert.Equal(t, tt.wantNext, page.NextSince)
			assert.Equal(t, tt.wantMore, page.More)
			assert.Zero(t, page.Missed)
		})
	}
}

func TestRingReadMatch(t *testing.T) {
	r := New(100, 1000)
	appendTexts(r, Stdout, "o1", "o2")
	appendTexts(r, Stderr, "e3")
	appendTexts(r, Stdout, "o4")
	appendTexts(r, Stderr, "e5", "e6")
	stderrOnly := func(ln *Line) bool { return ln.Stream == Stderr }
	stdoutOnly := func(ln *Line) bool { return ln.Stream == Stdout }

	tests := []struct {
		name      string
		q         Query
		wantTexts []string
		wantNext  uint64
		wantMore  bool
	}{
		{name: "stdout", q: Query{HasSince: true, Match: stdoutOnly}, wantTexts: []string{"o1", "o2", "o4"}, wantNext: 6},
		{name: "stderr", q: Query{HasSince: true, Match: stderrOnly}, wantTexts: []string{"e3", "e5", "e6"}, wantNext: 6},
		{name: "stderr since", q: Query{Since: 3, HasSince: true, Match: stderrOnly}, wantTexts: []string{"e5", "e6"}, wantNext: 6},
		{name: "stderr limit", q: Query{HasSince: true, Limit: 1, Match: stderrOnly}, wantTexts: []string{"e3"}, wantNext: 4, wantMore: true},
		{name: "stdout limit skips to the end", q: Query{Since: 2, HasSince: true, Limit: 1, Match: stdoutOnly}, wantTexts: []string{"o4"}, wantNext: 6},
		{name: "text match", q: Query{HasSince: true, Match: func(ln *Line) bool { return strings.HasSuffix(ln.Text, "5") }}, wantTexts: []string{"e5"}, wantNext: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := r.Read(tt.q)
			require.NoError(t, err)
			assert.Equal(t, tt.wantTexts, textsOf(page.Lines))
			assert.Equal(t, tt.wantNext, page.NextSince)
			assert.Equal(t, tt.wantMore, page.More)
		})
	}
}

func TestRingWait(t *testing.T) {
	t.Run("closes on append", func(t *testing.T) {
		r := New(10, 100)
		appendTexts(r, Stdout, "a")
		ch, done := r.Wait(1)
		defer done()
		require.False(t, isClosed(ch))
		appendTexts(r, Stdout, "b")
		// Append notifies before it returns.
		assert.True(t, isClosed(ch))
	})
	t.Run("closed when newer lines exist", func(t *testing.T) {
		r := New(10, 100)
		appendTexts(r, Stdout, "a", "b")
		ch, done := r.Wait(1)
		defer done()
		assert.True(t, isClosed(ch))
		ch0, done0 := r.Wait(0)
		defer done0()
		assert.True(t, isClosed(ch0))
	})
	t.Run("empty ring", func(t *testing.T) {
		r := New(10, 100)
		ch, done := r.Wait(0)
		defer done()
		require.False(t, isClosed(ch))
		appendTexts(r, Stderr, "x")
		assert.True(t, isClosed(ch))
	})
	t.Run("done releases the waiter", func(t *testing.T) {
		r := New(10, 100)
		_, done1 := r.Wait(0)
		_, done2 := r.Wait(0)
		assert.Equal(t, int32(2), r.waiters.Load())
		done1()
		done2()
		assert.Zero(t, r.waiters.Load())
	})
	t.Run("wakes a blocked goroutine", func(t *testing.T) {
		r := New(10, 100)
		appendTexts(r, Stdout, "a")
		ch, done := r.Wait(1)
		woke := make(chan uint64)
		go func() {
			defer done()
			<-ch
			woke <- r.Stats().LastSeq
		}()
		appendTexts(r, Stdout, "b")
		assert.Equal(t, uint64(2), <-woke)
	})
}

// TestRingConcurrentReaders has two writers (stdout and stderr, through
// ingest, as a child's pipe readers do) flood a small ring while readers
// follow it with their own cursors, waiting with Wait between pages.
func TestRingConcurrentReaders(t *testing.T) {
	const (
		perStream = 3000
		maxLines  = 32
	)
	r := New(maxLines, 1<<20)

	streamInput := func(name string) []byte {
		var b bytes.Buffer
		for i := 1; i <= perStream; i++ {
			fmt.Fprintf(&b, "%s %d\n", name, i)
		}
		return b.Bytes()
	}
	writersDone := make(chan struct{})
	var writers sync.WaitGroup
	writers.Go(func() {
		assert.NoError(t, r.Ingest(Stdout, &chunkReader{data: streamInput("stdout"), sizes: []int{1, 7, 100, 13}}))
	})
	writers.Go(func() {
		assert.NoError(t, r.Ingest(Stderr, &chunkReader{data: streamInput("stderr"), sizes: []int{3, 64, 5}}))
	})

	type result struct {
		seen, missed uint64
		cursor       uint64
	}
	limits := []int{0, 1, 5, 17}
	results := make([]result, len(limits))
	var readers sync.WaitGroup
	for i, limit := range limits {
		readers.Go(func() {
			var res result
			var prevSeq uint64
			prevNum := map[Stream]int{}
			for {
				page, err := r.Read(Query{Since: res.cursor, HasSince: true, Limit: limit})
				if !assert.NoError(t, err) {
					return
				}
				assert.Equal(t, page.NextSince-res.cursor, uint64(len(page.Lines))+page.Missed,
					"page after %d accounts for every seq", res.cursor)
				for _, ln := range page.Lines {
					assert.Greater(t, ln.Seq, prevSeq, "seqs strictly increase")
					prevSeq = ln.Seq
					var name string
					var num int
					_, err := fmt.Sscanf(ln.Text, "%s %d", &name, &num)
					assert.NoError(t, err, "line %q", ln.Text)
					assert.Equal(t, ln.Stream.String(), name)
					assert.Greater(t, num, prevNum[ln.Stream], "stream order kept")
					prevNum[ln.Stream] = num
				}
				res.seen += uint64(len(page.Lines))
				res.missed += page.Missed
				res.cursor = page.NextSince
				if page.More {
					continue
				}
				ch, done := r.Wait(res.cursor)
				select {
				case <-ch:
					done()
				case <-writersDone:
					done()
					if r.Stats().LastSeq == res.cursor {
						results[i] = res
						return
					}
				}
			}
		})
	}
	// A stats reader checks the counters stay coherent under writes.
	statsDone := make(chan struct{})
	var stats sync.WaitGroup
	stats.Go(func() {
		var prev uint64
		for {
			s := r.Stats()
			assert.GreaterOrEqual(t, s.LastSeq, prev)
			assert.LessOrEqual(t, s.Lines, uint64(maxLines))
			prev = s.LastSeq
			select {
			case <-statsDone:
				return
			default:
			}
		}
	})

	writers.Wait()
	close(writersDone)
	readers.Wait()
	close(statsDone)
	stats.Wait()

	final := r.Stats()
	require.Equal(t, uint64(2*perStream), final.LastSeq)
	assert.Equal(t, uint64(maxLines), final.Lines)
	assert.Equal(t, final.LastSeq-maxLines, final.Evicted)
	for i, res := range results {
		assert.Equal(t, final.LastSeq, res.cursor, "reader %d", i)
		assert.Equal(t, final.LastSeq, res.seen+res.missed, "reader %d: seen %d + missed %d", i, res.seen, res.missed)
		assert.NotZero(t, res.seen, "reader %d", i)
	}
}

func TestRingIngest(t *testing.T) {
	tests := []struct {
		name  string
		input string
		sizes []int
		want  []textSplit
	}{
		{name: "empty", input: "", sizes: []int{1}, want: []textSplit{}},
		{name: "lines", input: "a\nbb\nccc\n", sizes: []int{1 << 20}, want: []textSplit{{"a", false}, {"bb", false}, {"ccc", false}}},
		{name: "lines across reads", input: "hello\nworld\n", sizes: []int{3, 5, 1}, want: []textSplit{{"hello", false}, {"world", false}}},
		{name: "byte by byte", input: "ab\ncd\n", sizes: []int{1}, want: []textSplit{{"ab", false}, {"cd", false}}},
		{name: "crlf", input: "a\r\nb\r\n", sizes: []int{1 << 20}, want: []textSplit{{"a", false}, {"b", false}}},
		{name: "crlf torn across reads", input: "ab\r\ncd\r\n", sizes: []int{3, 4}, want: []textSplit{{"ab", false}, {"cd", false}}},
		{name: "inner cr kept", input: "a\rb\n\r\r\n", sizes: []int{2}, want: []textSplit{{"a\rb", false}, {"\r", false}}},
		{name: "final line without newline", input: "a\nlast", sizes: []int{4}, want: []textSplit{{"a", false}, {"last", false}}},
		{name: "final cr at eof trimmed", input: "a\nlast\r", sizes: []int{1 << 20}, want: []textSplit{{"a", false}, {"last", false}}},
		{name: "empty lines", input: "\n\n\n", sizes: []int{1}, want: []textSplit{{"", false}, {"", false}, {"", false}}},
		{name: "nul bytes kept", input: "a\x00b\n\x00\n", sizes: []int{2}, want: []textSplit{{"a\x00b", false}, {"\x00", false}}},
		{name: "invalid utf8 replaced", input: "a\xffb\n\xfe\xfe\n", sizes: []int{1}, want: []textSplit{{"a\uFFFDb", false}, {"\uFFFD", false}}},
		{name: "truncated rune replaced", input: "x\xe2\x82\ny\n", sizes: []int{2}, want: []textSplit{{"x\uFFFD", false}, {"y", false}}},
		{name: "valid runes across reads", input: "h\u00e9\u20ac\U0001F600\n", sizes: []int{2, 1}, want: []textSplit{{"h\u00e9\u20ac\U0001F600", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ingested(t, &chunkReader{data: []byte(tt.input), sizes: tt.sizes})
			assert.Equal(t, tt.want, piecesOf(got))
		})
	}
}

// TestRingIngestLong checks lines around and above MaxLineBytes, fed in
// several read patterns: the result must not depend on how reads fall.
func TestRingIngestLong(t *testing.T) {
	const max = MaxLineBytes
	x := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name  string
		input string
		want  []textSplit
	}{
		{name: "just under", input: x(max-1) + "\n", want: []textSplit{{x(max - 1), false}}},
		{name: "exactly max", input: x(max) + "\nb\n", want: []textSplit{{x(max), false}, {"b", false}}},
		{name: "exactly max at eof", input: x(max), want: []textSplit{{x(max), false}}},
		{name: "exactly max crlf", input: x(max-1) + "\r\n", want: []textSplit{{x(max - 1), false}}},
		{name: "one over", input: x(max+1) + "\n", want: []textSplit{{x(max), true}, {"x", false}}},
		{name: "one over at eof", input: x(max + 1), want: []textSplit{{x(max), true}, {"x", false}}},
		{
			name:  "two and a half",
			input: x(max) + "y" + x(max-1) + "z" + x(100) + "\nnext\n",
			want:  []textSplit{{x(max), true}, {"y" + x(max-1), true}, {"z" + x(100), false}, {"next", false}},
		},
		{
			// The "\r" of a "\r\n" ending falls right at the cut.
			name:  "crlf after max",
			input: x(max) + "\r\n",
			want:  []textSplit{{x(max), true}, {"", false}},
		},
	}
	readers := []struct {
		name string
		wrap func([]byte) io.Reader
	}{
		{name: "whole", wrap: func(b []byte) io.Reader { return bytes.NewReader(b) }},
		{name: "small", wrap: func(b []byte) io.Reader { return &chunkReader{data: b, sizes: []int{1021}} }},
		{name: "half", wrap: func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},
		{name: "data with eof", wrap: func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }},
		{name: "cut at max", wrap: func(b []byte) io.Reader { return &chunkReader{data: b, sizes: []int{max, 1}} }},
		{name: "cut before max", wrap: func(b []byte) io.Reader { return &chunkReader{data: b, sizes: []int{max - 1, 1, 1}} }},
		{name: "odd", wrap: func(b []byte) io.Reader { return &chunkReader{data: b, sizes: []int{4093, 65521, 7}} }},
		{name: "byte by byte", wrap: func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				got := ingested(t, rd.wrap([]byte(tt.input)))
				assert.Equal(t, describe(tt.want), describe(piecesOf(got)))
			})
		}
	}
}

// TestRingIngestRuneAtCut puts a multi-byte rune across the MaxLineBytes cut
// at every offset: the piece boundary moves before the rune.
func TestRingIngestRuneAtCut(t *testing.T) {
	type runeCase struct {
		name   string
		prefix int
		r      string
	}
	var tests []runeCase
	for _, r := range []string{"\u00e9", "\u20ac", "\U0001F600"} {
		for k := 1; k < len(r); k++ { // k bytes of the rune fall before the cut
			tests = append(tests, runeCase{
				name:   fmt.Sprintf("%d-byte rune with %d before cut", len(r), k),
				prefix: MaxLineBytes - k,
				r:      r,
			})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := strings.Repeat("x", tt.prefix) + tt.r + strings.Repeat("y", MaxLineBytes+10)
			got := ingested(t, &chunkReader{data: []byte(line + "\nafter\n"), sizes: []int{9973}})

			require.Len(t, got, 4)
			assert.Equal(t, line+"\nafter\n", rejoin(got))
			for i, ln := range got {
				assert.True(t, utf8.ValidString(ln.Text), "piece %d", i)
				assert.LessOrEqual(t, len(ln.Text), MaxLineBytes, "piece %d", i)
			}
			// The first cut moves back to just before the rune.
			assert.Equal(t, strings.Repeat("x", tt.prefix), got[0].Text)
			assert.Equal(t, []bool{true, true, false, false}, splitsOf(got))
			assert.True(t, strings.HasPrefix(got[1].Text, tt.r))
		})
	}
}

func splitsOf(lines []Line) []bool {
	out := []bool{}
	for _, ln := range lines {
		out = append(out, ln.Split)
	}
	return out
}

func TestRingIngestInvalidUTF8(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
	}{
		{name: "short", input: []byte("a\xffb\xc0\n")},
		{name: "lone continuation bytes", input: []byte("\x80\x80\x80abc\x80\n")},
		{name: "truncated rune at eof", input: []byte("abc\xf0\x9f\x98")},
		{name: "surrogate", input: []byte("x\xed\xa0\x80y\n")},
		{name: "long, every other byte invalid", input: bytes.Repeat([]byte("a\xff"), MaxLineBytes)},
		{name: "long, all invalid", input: bytes.Repeat([]byte{0xff}, 3*MaxLineBytes)},
		{name: "long, truncated rune at cut", input: append(bytes.Repeat([]byte("x"), MaxLineBytes-2), "\xe2\x82zz\n"...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ingested(t, &chunkReader{data: tt.input, sizes: []int{7919}})
			require.NotEmpty(t, got, "invalid input is never dropped")
			joined := rejoin(got)
			assert.Contains(t, joined, "\uFFFD")
			assert.Equal(t, asciiOf(string(tt.input)), asciiOf(joined),
				"every ASCII byte survives, in order")
			for i, ln := range got {
				assert.True(t, utf8.ValidString(ln.Text), "piece %d", i)
				assert.LessOrEqual(t, len(ln.Text), MaxLineBytes, "piece %d", i)
			}
		})
	}
}

// asciiOf keeps the bytes below 0x80 except '\r' and a final '\n'.
func asciiOf(s string) string {
	s = strings.TrimSuffix(s, "\n")
	var b strings.Builder
	for i := range len(s) {
		if s[i] < utf8.RuneSelf && s[i] != '\r' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func TestRingIngestPipe(t *testing.T) {
	r := New(100, 1<<20)
	pr, pw := io.Pipe()
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, chunk := range []string{"fir", "st\nsec", "ond\r", "\nthi", "rd"} {
			_, err := pw.Write([]byte(chunk))
			assert.NoError(t, err)
		}
		assert.NoError(t, pw.Close())
	})
	require.NoError(t, r.Ingest(Stderr, pr))
	wg.Wait()

	page, err := r.Read(Query{Tail: 10})
	require.NoError(t, err)
	assert.Equal(t, []string{"first", "second", "third"}, textsOf(page.Lines))
	for _, ln := range page.Lines {
		assert.Equal(t, Stderr, ln.Stream)
		assert.NotZero(t, ln.Time)
	}
}

func TestRingIngestErrors(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		err     error
		wantErr error
	}{
		{name: "eof", err: io.EOF, wantErr: nil},
		{name: "closed pipe ends like eof", err: os.ErrClosed, wantErr: nil},
		{name: "wrapped closed pipe", err: fmt.Errorf("read |0: %w", os.ErrClosed), wantErr: nil},
		{name: "other error returned", err: errBoom, wantErr: errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(100, 1000)
			rd := io.MultiReader(strings.NewReader("a\nunfinished"), iotest.ErrReader(tt.err))
			err := r.Ingest(Stdout, rd)
			assert.ErrorIs(t, err, tt.wantErr)
			page, rerr := r.Read(Query{Tail: 10})
			require.NoError(t, rerr)
			assert.Equal(t, []string{"a", "unfinished"}, textsOf(page.Lines), "the unfinished line is kept")
		})
	}
}

// ingestInput is benchmark output: n lines of 100 bytes with their newline.
func ingestInput(n int) []byte {
	line := append(bytes.Repeat([]byte("0123456789"), 10)[:99], '\n')
	return bytes.Repeat(line, n)
}

func BenchmarkRingAppend(b *testing.B) {
	const lines = 10000
	input := ingestInput(lines)
	r := New(testLines, testBytes)
	b.ReportAllocs()
	b.SetBytes(int64(len(input)))
	for b.Loop() {
		if err := r.Ingest(Stdout, bytes.NewReader(input)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*lines/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkRingRead(b *testing.B) {
	r := New(testLines, testBytes)
	if err := r.Ingest(Stdout, bytes.NewReader(ingestInput(testLines))); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		page, err := r.Read(Query{Tail: 100})
		if err != nil || len(page.Lines) != 100 {
			b.Fatalf("read: %d lines, %v", len(page.Lines), err)
		}
	}
}

// TestRingGrowsUnderReaders: the chunk table starts small and doubles, and
// text chunks grow, while readers read without a lock. No reader may ever
// see a line as missing while nothing has been evicted, and every line
// arrives once, in order, with its text.
func TestRingGrowsUnderReaders(t *testing.T) {
	const (
		total     = 15000
		lineBytes = 1000
	)
	r := New(20000, 1<<30)
	assert.Len(t, *r.chunks.Load(), initialChunkSlots, "a new ring starts small")
	var wg sync.WaitGroup
	for reader := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var cursor uint64
			for cursor < total {
				ch, done := r.Wait(cursor)
				<-ch
				done()
				page, err := r.Read(Query{Since: cursor, HasSince: true, Limit: 1 + reader*7})
				if !assert.NoError(t, err) {
					return
				}
				if !assert.Zero(t, page.Missed, "reader %d: a line went missing while nothing was evicted", reader) {
					return
				}
				for _, ln := range page.Lines {
					if !assert.Equal(t, cursor+1, ln.Seq, "reader %d", reader) ||
						!assert.Equal(t, fmt.Sprintf("%0*d", lineBytes, ln.Seq), ln.Text, "reader %d", reader) {
						return
					}
					cursor = ln.Seq
				}
				if !page.More {
					cursor = max(cursor, page.NextSince)
				}
			}
		}()
	}
	for seq := 1; seq <= total; seq++ {
		r.Append(Stdout, time.Now(), [][]byte{fmt.Appendf(nil, "%0*d", lineBytes, seq)}, nil)
		if seq == 1 {
			assert.Len(t, r.chunk.buf, firstChunkBytes, "the first chunk is small")
		}
	}
	wg.Wait()
	// 15 MB of text: chunks of 4 KiB doubling to 128 KiB, then 57 of
	// 256 KiB: 63 in a table of 64.
	assert.Len(t, *r.chunks.Load(), 64)
	assert.Equal(t, Stats{Lines: total, Bytes: total * lineBytes, LastSeq: total}, r.Stats())
}

// seqText is the text of line seq in the reuse tests: it identifies the
// line, and its length varies from 2 to 105 bytes.
func seqText(seq uint64) string {
	s := fmt.Sprintf("%d:", seq)
	return s + strings.Repeat(string(rune('a'+seq%26)), int(seq*7%100))
}

// TestRingReuseUnderReaders floods a ring small enough that its blocks and
// chunks are reused all the time, while readers page through it, tail it
// and match on text: every line they get must carry its own text, and
// every seq must be returned or counted as missed. Run with -race, it
// checks that memory is reused only once no read can see it.
func TestRingReuseUnderReaders(t *testing.T) {
	const total = 40000
	r := New(300, 2000) // chunks of 4 KiB, reused every 75 lines or so
	done := make(chan struct{})
	var readers sync.WaitGroup
	for i := range 3 {
		readers.Go(func() {
			var cursor uint64
			for {
				page, err := r.Read(Query{Since: cursor, HasSince: true, Limit: 1 + i*40})
				if !assert.NoError(t, err) {
					return
				}
				if !assert.Equal(t, page.NextSince-cursor, uint64(len(page.Lines))+page.Missed) {
					return
				}
				for _, ln := range page.Lines {
					if !assert.Equal(t, seqText(ln.Seq), ln.Text) {
						return
					}
				}
				if cursor = page.NextSince; cursor == total {
					return
				}
				if len(page.Lines) == 0 && page.Missed == 0 {
					ch, stop := r.Wait(cursor)
					<-ch
					stop()
				}
			}
		})
	}
	readers.Go(func() {
		for {
			var wrong []string
			page, err := r.Read(Query{Tail: 50, Match: func(ln *Line) bool {
				if ln.Text != seqText(ln.Seq) {
					wrong = append(wrong, strings.Clone(ln.Text))
				}
				return ln.Seq%2 == 0
			}})
			if !assert.NoError(t, err) || !assert.Empty(t, wrong, "texts passed to Match") {
				return
			}
			for _, ln := range page.Lines {
				if !assert.Equal(t, seqText(ln.Seq), ln.Text) {
					return
				}
			}
			select {
			case <-done:
				return
			default:
			}
		}
	})
	var lines [][]byte
	for seq := uint64(1); seq <= total; {
		lines = lines[:0]
		for n := seq%37 + 1; n > 0 && seq <= total; n-- {
			lines = append(lines, []byte(seqText(seq)))
			seq++
		}
		r.Append(Stdout, time.Now(), lines, nil)
	}
	close(done)
	readers.Wait()
	st := r.Stats()
	assert.Equal(t, uint64(total), st.LastSeq)
	assert.LessOrEqual(t, st.Bytes, uint64(2000))
}

// chunkBufs returns the first byte of every chunk buffer in r's table.
func chunkBufs(r *Ring) map[*byte]bool {
	bufs := map[*byte]bool{}
	for i := range *r.chunks.Load() {
		if c := (*r.chunks.Load())[i].Load(); c != nil {
			bufs[&c.buf[0]] = true
		}
	}
	return bufs
}

// TestRingReuseWaitsForReads checks the grace period directly: chunks that
// a read in progress may see are not reused before it ends, and are after.
func TestRingReuseWaitsForReads(t *testing.T) {
	r := New(1000, firstChunkBytes)
	line := [][]byte{bytes.Repeat([]byte("x"), 100)}
	fill := func(n int) {
		for range n {
			r.Append(Stdout, time.Now(), line, nil)
		}
	}
	fill(500) // every chunk is full size by now, and some were reused
	seen := chunkBufs(r)
	slot := r.startRead()
	fill(500)
	for buf := range chunkBufs(r) {
		assert.False(t, seen[buf], "a chunk was reused while a read that may see it was in progress")
	}
	r.endRead(slot)
	fill(500)
	reused := false
	for buf := range chunkBufs(r) {
		reused = reused || seen[buf]
	}
	assert.True(t, reused, "chunks are reused once the read ended")
}

// TestRingFloodAllocatesNothing: once a ring is full, appending reuses the
// blocks and chunks of evicted lines.
func TestRingFloodAllocatesNothing(t *testing.T) {
	lines := make([][]byte, 100)
	for i := range lines {
		lines[i] = bytes.Repeat([]byte{byte('a' + i%26)}, 99)
	}
	for _, bounds := range []struct{ lines, bytes int }{{1000, 1 << 30}, {1 << 20, 64 << 10}} {
		r := New(bounds.lines, bounds.bytes)
		ts := time.Now()
		for range 100 {
			r.Append(Stdout, ts, lines, nil)
		}
		page, err := r.Read(Query{Tail: 10}) // reads do not stop reuse once over
		require.NoError(t, err)
		require.Len(t, page.Lines, 10)
		allocs := testing.AllocsPerRun(100, func() { r.Append(Stdout, ts, lines, nil) })
		assert.Zero(t, allocs, "bounds %+v", bounds)
	}
}

// heldMemory returns the bytes of text chunks and the record blocks that r
// references, in its tables and as spares.
func heldMemory(r *Ring) (text, blocks int) {
	for _, s := range []*spares{&r.dropped, &r.grace, &r.free} {
		for _, buf := range s.chunks {
			text += len(buf)
		}
		blocks += len(s.blocks)
	}
	tbl := *r.chunks.Load()
	for i := range tbl {
		if c := tbl[i].Load(); c != nil {
			text += len(c.buf)
		}
	}
	for i := range r.blocks {
		if r.blocks[i].Load() != nil {
			blocks++
		}
	}
	return text, blocks
}

// TestRingMemoryBound floods rings with lines of ingest's sizes, at most
// MaxLineBytes, and checks the bound on held memory stated on Ring.
func TestRingMemoryBound(t *testing.T) {
	const maxBytes = 2 << 20
	tests := []struct {
		name   string
		length func(i int) int
		// slack is what text held may exceed maxBytes by.
		slack int
	}{
		{name: "short lines", length: func(i int) int { return 100 }, slack: 4 * maxChunkBytes},
		{name: "varied lines", length: func(i int) int { return i * 7919 % (MaxLineBytes + 1) }, slack: maxBytes/3 + 4*maxChunkBytes},
		// Three of these fill a chunk but for MaxLineBytes-3 bytes: the
		// worst waste for ingested output.
		{name: "worst case", length: func(i int) int { return []int{1, MaxLineBytes}[i%2] }, slack: maxBytes/3 + 4*maxChunkBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(1<<20, maxBytes)
			buf := make([]byte, MaxLineBytes)
			maxText, maxBlocks := 0, 0
			for i, appended := 0, 0; appended < 5*maxBytes; i++ {
				appended += tt.length(i)
				r.Append(Stdout, time.Now(), [][]byte{buf[:tt.length(i)]}, nil)
				if i%97 == 0 {
					text, blocks := heldMemory(r)
					maxText, maxBlocks = max(maxText, text), max(maxBlocks, blocks)
				}
			}
			assert.LessOrEqual(t, r.Stats().Bytes, uint64(maxBytes))
			assert.LessOrEqual(t, maxText, maxBytes+tt.slack)
			assert.LessOrEqual(t, maxBlocks, len(r.blocks)+maxSpareBlocks)
			t.Logf("text held at most %d bytes for %d retained", maxText, r.Stats().Bytes)
		})
	}
}

// TestNewAfter: a ring that continues another's numbering reads like one
// whose first lines were evicted.
func TestNewAfter(t *testing.T) {
	for _, after := range []uint64{0, 1, 255, 256, 1000, 1 << 40} {
		r := NewAfter(4, 1<<10, after)
		assert.Equal(t, Stats{Evicted: after, LastSeq: after}, r.Stats())
		page, err := r.Read(Query{HasSince: true, Since: after})
		require.NoError(t, err)
		assert.Empty(t, page.Lines)
		assert.Equal(t, after, page.NextSince)

		r.Append(Stdout, time.Unix(0, 0), [][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("d"), []byte("e")}, nil)
		page, err = r.Read(Query{HasSince: true})
		require.NoError(t, err)
		assert.Equal(t, []uint64{after + 2, after + 3, after + 4, after + 5}, seqsOf(page.Lines), "after %d", after)
		assert.Equal(t, after+1, page.Missed)
		page, err = r.Read(Query{Tail: 2})
		require.NoError(t, err)
		assert.Equal(t, []string{"d", "e"}, textsOf(page.Lines))
		_, err = r.Read(Query{HasSince: true, Since: after + 6})
		assert.ErrorIs(t, err, ErrCursorAhead)
	}
}

// TestIngestPartialLine: a line without its newline that gets no more
// output is published as partial (a prompt); what follows is a new line.
func TestIngestPartialLine(t *testing.T) {
	rd, wr, err := os.Pipe()
	require.NoError(t, err)
	r := New(100, 1<<20)
	done := make(chan error, 1)
	go func() { done <- r.Ingest(Stdout, rd) }()
	next := func(since uint64) Line {
		t.Helper()
		for {
			ch, stop := r.Wait(since)
			select {
			case <-ch:
			case <-time.After(10 * time.Second):
				stop()
				require.FailNow(t, "no line came")
			}
			stop()
			page, err := r.Read(Query{HasSince: true, Since: since})
			require.NoError(t, err)
			if len(page.Lines) > 0 {
				return page.Lines[0]
			}
		}
	}

	_, err = wr.WriteString("Enter value: ")
	require.NoError(t, err)
	prompt := next(0)
	assert.Equal(t, Line{Seq: 1, Time: prompt.Time, Stream: Stdout, Partial: true, Text: "Enter value: "}, prompt)

	_, err = wr.WriteString("answer noted\nlast")
	require.NoError(t, err)
	assert.Equal(t, "answer noted", next(1).Text)
	assert.False(t, next(1).Partial)
	tail := next(2)
	assert.Equal(t, "last", tail.Text)
	assert.True(t, tail.Partial)
	require.NoError(t, wr.Close())
	require.NoError(t, <-done)
	assert.Equal(t, uint64(3), r.Stats().LastSeq, "nothing more at EOF: the partial line was the rest")
	rd.Close()
}

// TestWaitFor: it returns once the seq is in, at once if it is already,
// and with ctx's error when ctx ends first.
func TestWaitFor(t *testing.T) {
	r := New(100, 1<<20)
	r.Append(Stdout, time.Now(), [][]byte{[]byte("a")}, nil)
	require.NoError(t, r.WaitFor(t.Context(), 1))
	errc := make(chan error, 1)
	go func() { errc <- r.WaitFor(t.Context(), 3) }()
	r.Append(Stdout, time.Now(), [][]byte{[]byte("b"), []byte("c")}, nil)
	require.NoError(t, <-errc)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, r.WaitFor(ctx, 10), context.Canceled)
}
