package procstate

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// BenchmarkLifecycle measures the supervisor's side of a process's life,
// with a small system program as the child: a start followed by a stop
// (SIGTERM to the group, the exit drained and published), and a start of
// a program that exits at once, until its exit is published.
func BenchmarkLifecycle(b *testing.B) {
	ctx := context.Background()
	newSup := func(b *testing.B) *Supervisor {
		s, err := New(Config{}, zerolog.Nop())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	b.Run("start-stop", func(b *testing.B) {
		s := newSup(b)
		for b.Loop() {
			p, err := s.Start(Spec{Argv: []string{"sleep", "60"}})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Stop(ctx, p.Name(), syscall.SIGTERM, 5*time.Second); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("start-exit", func(b *testing.B) {
		s := newSup(b)
		for b.Loop() {
			p, err := s.Start(Spec{Argv: []string{"true"}})
			if err != nil {
				b.Fatal(err)
			}
			<-p.Done()
		}
	})
}
