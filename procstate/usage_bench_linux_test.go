package procstate

import (
	"context"
	"strconv"
	"testing"

	"github.com/rs/zerolog"
)

// BenchmarkSampleUsage measures one usage sample of N running processes
// (ns/op per sample): one scan of /proc for all groups, then each
// member's statm and each group's sockets. The sampler takes one per
// UsageEvery while usage is wanted.
//
//	go test -run '^$' -bench BenchmarkSampleUsage ./procstate/
func BenchmarkSampleUsage(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run("procs="+strconv.Itoa(n), func(b *testing.B) {
			s, err := New(Config{}, zerolog.Nop())
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = s.Close(context.Background()) }()
			for range n {
				if _, err := s.Start(Spec{Argv: []string{"sleep", "3600"}}); err != nil {
					b.Fatal(err)
				}
			}
			last := &readings{runs: map[*Process]groupReading{}}
			s.sampleOnce(last) // the first readings
			b.ReportAllocs()
			for b.Loop() {
				s.sampleOnce(last)
			}
		})
	}
}
