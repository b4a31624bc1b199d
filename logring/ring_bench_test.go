package logring

// BenchmarkIngestFlood measures what a child flooding its stdout with
// 100-byte lines costs the ring, against a bare bufio.Scanner reading the
// same stream: compare the sub-benchmarks' ns/op of one run (one op is one
// line), since this machine is too noisy to compare across runs.
//
//	go test -run '^$' -bench IngestFlood -count 5 ./procstate/
//
// BenchmarkIngestTrickle is the opposite case: a child writing long lines a
// byte at a time.

import (
	"bufio"
	"bytes"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

const (
	floodLineBytes = 100      // with its newline
	pipeReadBytes  = 64 << 10 // what one read of a full Linux pipe returns
)

// floodReader yields lines lines of floodLineBytes, at most pipeReadBytes
// per read, like a pipe that a child keeps full.
type floodReader struct {
	pattern []byte // lines repeated to cover an offset plus a full read
	off     int    // position in the stream, modulo floodLineBytes
	left    int    // bytes still to yield
}

// The bounds of a server's rings by default (procstate's DefaultLogLines
// and DefaultLogBytes).
const (
	testLines = 10000
	testBytes = 8 << 20
)

func newFloodReader(lines int) *floodReader {
	line := append(bytes.Repeat([]byte("flood log line "), floodLineBytes/15+1)[:floodLineBytes-1], '\n')
	return &floodReader{
		pattern: bytes.Repeat(line, pipeReadBytes/floodLineBytes+2),
		left:    lines * floodLineBytes,
	}
}

func (f *floodReader) Read(p []byte) (int, error) {
	if f.left == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), pipeReadBytes, f.left)], f.pattern[f.off:])
	f.off = (f.off + n) % floodLineBytes
	f.left -= n
	return n, nil
}

func BenchmarkIngestFlood(b *testing.B) {
	report := func(b *testing.B, run func()) {
		b.ReportAllocs()
		b.SetBytes(floodLineBytes)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.ResetTimer()
		run()
		b.StopTimer()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		b.ReportMetric(float64(after.NumGC-before.NumGC)/float64(b.N)*1e6, "GCs/Mline")
	}
	b.Run("scanner", func(b *testing.B) {
		report(b, func() {
			sc := bufio.NewScanner(newFloodReader(b.N))
			n := 0
			for sc.Scan() {
				n++
			}
			if sc.Err() != nil || n != b.N {
				b.Fatalf("scanned %d lines of %d: %v", n, b.N, sc.Err())
			}
		})
	})
	b.Run("ring", func(b *testing.B) {
		r := New(testLines, testBytes)
		report(b, func() {
			if err := r.Ingest(Stdout, newFloodReader(b.N)); err != nil {
				b.Fatal(err)
			}
		})
		if got := r.Stats().LastSeq; got != uint64(b.N) {
			b.Fatalf("ingested %d lines of %d", got, b.N)
		}

	})
	// A reader follows the flood, as a client tailing the log would, a
	// page of up to 100 lines at a time.
	b.Run("ring+follower", func(b *testing.B) {
		r := New(testLines, testBytes)
		done := make(chan struct{})
		var pages atomic.Int64
		var wg sync.WaitGroup
		wg.Go(func() {
			var cursor uint64
			for {
				ch, stop := r.Wait(cursor)
				select {
				case <-ch:
				case <-done:
					stop()
					return
				}
				stop()
				page, err := r.Read(Query{Since: cursor, HasSince: true, Limit: 100})
				if err != nil {
					panic(err)
				}
				cursor = page.NextSince
				pages.Add(1)
			}
		})
		report(b, func() {
			if err := r.Ingest(Stdout, newFloodReader(b.N)); err != nil {
				b.Fatal(err)
			}
		})
		close(done)
		wg.Wait()
		b.ReportMetric(float64(pages.Load())/float64(b.N)*1e6, "pages/Mline")

	})
}

// trickleReader yields lines of lineBytes (with the newline) one byte per
// read, like a child that writes its output a byte at a time.
type trickleReader struct {
	line []byte
	off  int
	left int // bytes still to yield
}

func (t *trickleReader) Read(p []byte) (int, error) {
	if t.left == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = t.line[t.off]
	t.off = (t.off + 1) % len(t.line)
	t.left--
	return 1, nil
}

// BenchmarkIngestTrickle: one op is one byte, read alone, of 16 KiB lines.
// A bare bufio.Scanner re-scans its buffered bytes after every read; the
// ring must not.
//
//	go test -run '^$' -bench IngestTrickle -count 5 ./procstate/
func BenchmarkIngestTrickle(b *testing.B) {
	const lineBytes = 16 << 10
	line := append(bytes.Repeat([]byte("t"), lineBytes-1), '\n')
	newReader := func(n int) *trickleReader { return &trickleReader{line: line, left: n} }
	b.Run("scanner", func(b *testing.B) {
		b.SetBytes(1)
		sc := bufio.NewScanner(newReader(b.N))
		for sc.Scan() {
		}
		if sc.Err() != nil {
			b.Fatal(sc.Err())
		}
	})
	b.Run("ring", func(b *testing.B) {
		b.SetBytes(1)
		r := New(testLines, testBytes)
		if err := r.Ingest(Stdout, newReader(b.N)); err != nil {
			b.Fatal(err)
		}
		if want := uint64((b.N + lineBytes - 1) / lineBytes); r.Stats().LastSeq != want {
			b.Fatalf("ingested %d lines, want %d", r.Stats().LastSeq, want)
		}
	})
}
