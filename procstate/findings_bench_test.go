package procstate

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/brummer-mcp/brummer-mcp/logring"
)

// floodLines are the lines the flood benchmarks print: one that holds
// nothing of interest, and the worst case, a line that is an error and
// holds a URL.
var floodLines = []struct{ name, line string }{
	{"plain", ""}, // the helper's 99 "x"s
	{"error-url", "src/a.ts(1,1): error TS2322: see http://0.0.0.0:5173/docs/" + "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
}

// BenchmarkFloodFindings measures a flooding child's ingest rate with
// the analyzer off and on: the analyzer reads the logs off the ingest
// path, at most every AnalyzeEvery, so it must not slow the writer.
//
//	go test -run '^$' -bench BenchmarkFloodFindings -benchtime 3x -count 5 ./procstate/
func BenchmarkFloodFindings(b *testing.B) {
	for _, fl := range floodLines {
		for _, on := range []bool{false, true} {
			b.Run("line="+fl.name+"/analyzer="+strconv.FormatBool(on), func(b *testing.B) {
				s, err := New(Config{noAnalysis: !on}, zerolog.Nop())
				if err != nil {
					b.Fatal(err)
				}
				defer func() { _ = s.Close(context.Background()) }()
				spec := helperSpec("flood")
				if fl.line != "" {
					spec = helperSpec("flood", fl.line)
				}
				p, err := s.Start(spec)
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					from, t0 := p.Log().Stats().LastSeq, time.Now()
					timer := time.NewTimer(time.Second)
					<-timer.C
					b.ReportMetric(float64(p.Log().Stats().LastSeq-from)/time.Since(t0).Seconds(), "lines/s")
				}
				f := p.Findings()
				b.ReportMetric(float64(f.Errors), "errors-found")
			})
		}
	}
}

// BenchmarkAnalyzeScan measures one analyzer pass over a full ring of
// 10,000 lines that the pass has not seen (ns/op is per pass; ns/line the
// cost per line), as in a flood, where the ring turns over between passes.
func BenchmarkAnalyzeScan(b *testing.B) {
	for _, fl := range floodLines {
		b.Run("line="+fl.name, func(b *testing.B) {
			text := fl.line
			if text == "" {
				text = string(make([]byte, 0, 99))
				for range 99 {
					text += "x"
				}
			}
			ring := logring.New(DefaultLogLines, DefaultLogBytes)
			lines := make([][]byte, DefaultLogLines)
			for i := range lines {
				lines[i] = []byte(text)
			}
			ring.Append(logring.Stdout, time.Now(), lines, nil)
			p := &Process{log: ring}
			b.ReportAllocs()
			for b.Loop() {
				p.an = analysis{}
				p.an.scan(p)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/DefaultLogLines, "ns/line")
		})
	}
}
