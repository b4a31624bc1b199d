package procstate

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// BenchmarkLogWait measures how long a log wait takes to answer once its
// line is in: from the line's read time, which the ring stamps as the pipe
// read returns (Line.Time), to Wait's return in the waiting goroutine. The
// child is the test binary in echo mode; each op arms the wait with a line
// it sees but does not take (so that it is pending, not starting), then
// writes the line it waits for. ns/op is the whole op, two echoes through
// the child included; the metrics are the latency of interest:
//
//	go test -run '^$' -bench BenchmarkLogWait -benchtime 2000x -count 3 ./procstate/
//
// With others=N, N more waits that never match wait on the same log, as
// many agents waiting on one dev server would: every line wakes them all.
func BenchmarkLogWait(b *testing.B) {
	for _, others := range []int{0, 100} {
		b.Run("others="+strconv.Itoa(others), func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			s, err := New(Config{}, zerolog.Nop())
			if err != nil {
				b.Fatal(err)
			}
			var wg sync.WaitGroup
			defer func() { cancel(); wg.Wait(); _ = s.Close(context.Background()) }()
			spec := helperSpec("echo")
			spec.Stdin = true
			p, err := s.Start(spec)
			if err != nil {
				b.Fatal(err)
			}
			never := Condition{Match: func(string) bool { return false }, Timeout: time.Hour}
			for range others {
				wg.Go(func() { _, _ = p.Wait(ctx, never, nil) })
			}
			cursor := p.Log().Stats().LastSeq
			var lat []time.Duration
			i := 0
			for b.Loop() {
				i++
				arm, mark := fmt.Sprintf("arm-%d", i), fmt.Sprintf("mark-%d", i)
				armed := make(chan struct{})
				c := Condition{Since: cursor, HasSince: true, Timeout: 10 * time.Second,
					Match: func(text string) bool {
						if text == arm {
							close(armed) // the wait runs: from here it is pending
						}
						return text == mark
					}}
				type answer struct {
					res WaitResult
					err error
					lat time.Duration
				}
				done := make(chan answer, 1) // the one answer of this op
				go func() {
					res, err := p.Wait(ctx, c, nil)
					a := answer{res: res, err: err}
					if res.Line != nil {
						a.lat = time.Since(time.Unix(0, res.Line.Time))
					}
					done <- a
				}()
				if _, err := p.Input([]byte(arm+"\n"), false); err != nil {
					b.Fatal(err)
				}
				<-armed
				if _, err := p.Input([]byte(mark+"\n"), false); err != nil {
					b.Fatal(err)
				}
				a := <-done
				if a.err != nil || a.res.Outcome != Ready {
					b.Fatalf("wait %d: outcome %q, err %v", i, a.res.Outcome, a.err)
				}
				cursor = a.res.Line.Seq
				lat = append(lat, a.lat)
			}
			slices.Sort(lat)
			b.ReportMetric(percentile(lat, 0.50)/1e3, "p50-µs")
			b.ReportMetric(percentile(lat, 0.99)/1e3, "p99-µs")
		})
	}
}

// BenchmarkFloodWithWaiters measures a flooding child's ingest rate while
// N log waits that never match wait on its log: a wait must scan lines in
// place, not copy them, or every waiter slows the writer.
//
//	go test -run '^$' -bench BenchmarkFloodWithWaiters -benchtime 1x ./procstate/
func BenchmarkFloodWithWaiters(b *testing.B) {
	for _, waiters := range []int{0, 10, 100} {
		b.Run("waiters="+strconv.Itoa(waiters), func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			s, err := New(Config{}, zerolog.Nop())
			if err != nil {
				b.Fatal(err)
			}
			var wg sync.WaitGroup
			defer func() { cancel(); wg.Wait(); _ = s.Close(context.Background()) }()
			p, err := s.Start(helperSpec("flood"))
			if err != nil {
				b.Fatal(err)
			}
			never := Condition{Match: func(string) bool { return false }, Timeout: time.Hour}
			for range waiters {
				wg.Go(func() { _, _ = p.Wait(ctx, never, nil) })
			}
			for b.Loop() {
				from, t0 := p.Log().Stats().LastSeq, time.Now()
				timer := time.NewTimer(time.Second)
				<-timer.C
				b.ReportMetric(float64(p.Log().Stats().LastSeq-from)/time.Since(t0).Seconds(), "lines/s")
			}
		})
	}
}
