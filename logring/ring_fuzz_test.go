package logring

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// FuzzRingIngest feeds child output to ingest in reads of fuzzed sizes, into
// a ring with fuzzed small bounds so that lines are evicted and the ring's
// blocks and chunks reused, while a reader reads the newest lines after every read. The ring
// must then hold exactly the newest lines the bounds allow, each as
// SplitLines cuts the whole output at once, and count the rest as evicted.
func FuzzRingIngest(f *testing.F) {
	f.Add([]byte("a\nbb\r\nccc\n\xff\xfe\nlast"), []byte{1, 3, 7}, uint8(2), uint16(4))
	f.Add(bytes.Repeat([]byte("0123456789abcdef\n"), 600), []byte{255, 17}, uint8(40), uint16(300))
	f.Add(append(bytes.Repeat([]byte("é"), 40000), '\n'), []byte{200, 1}, uint8(3), uint16(65535))
	f.Fuzz(func(t *testing.T, data, sizes []byte, maxLines uint8, maxBytes uint16) {
		if len(sizes) == 0 {
			sizes = []byte{0}
		}
		var want []textSplit
		SplitLines(data, true, func(line []byte, split bool) {
			want = append(want, textSplit{string(line), split})
		})

		r := New(int(maxLines)+1, int(maxBytes)+1)
		rd := &readerThen{chunkReader: chunkReader{data: data}, after: func() {
			if _, err := r.Read(Query{Tail: 3}); err != nil {
				t.Fatalf("read during ingest: %v", err)
			}
		}}
		for _, s := range sizes {
			// At most about 1,000 reads, so that long inputs stay quick.
			rd.sizes = append(rd.sizes, max(int(s)*97+1, len(data)/1000))
		}
		if err := r.Ingest(Stdout, rd); err != nil {
			t.Fatal(err)
		}

		// The lines the bounds keep: the newest, as many as fit.
		keep, size := 0, 0
		for i := len(want) - 1; i >= 0; i-- {
			n := len(want[i].Text)
			if keep > 0 && (keep >= int(maxLines)+1 || size+n > int(maxBytes)+1) {
				break
			}
			keep, size = keep+1, size+n
		}
		page, err := r.Read(Query{HasSince: true})
		if err != nil {
			t.Fatal(err)
		}
		got := piecesOf(page.Lines)
		if exp := want[len(want)-keep:]; !equalPieces(exp, got) {
			t.Fatalf("ring holds %q, want the newest %d of %d: %q", describe(got), keep, len(want), describe(exp))
		}
		if page.Missed != uint64(len(want)-keep) {
			t.Fatalf("missed %d, want %d", page.Missed, len(want)-keep)
		}
		for i, ln := range page.Lines {
			if ln.Seq != uint64(len(want)-keep+i+1) {
				t.Fatalf("line %d has seq %d, want %d", i, ln.Seq, len(want)-keep+i+1)
			}
			if !utf8.ValidString(ln.Text) {
				t.Fatalf("line %d is not valid UTF-8: %q", ln.Seq, ln.Text)
			}
		}
		st := r.Stats()
		if st.LastSeq != uint64(len(want)) || st.Lines != uint64(keep) || st.Bytes != uint64(size) || st.Evicted != uint64(len(want)-keep) {
			t.Fatalf("stats %+v, want %d lines of %d bytes kept, last seq %d", st, keep, size, len(want))
		}
	})
}

// readerThen is a chunkReader that calls after after every read.
type readerThen struct {
	chunkReader
	after func()
}

func (r *readerThen) Read(p []byte) (int, error) {
	n, err := r.chunkReader.Read(p)
	r.after()
	return n, err
}

func equalPieces(a, b []textSplit) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
