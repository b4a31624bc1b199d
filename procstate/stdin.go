package procstate

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Errors of Process.Input, wrapped with detail.
var (
	// ErrNoStdin: the process was started without Spec.Stdin.
	ErrNoStdin = errors.New("process has no stdin pipe")
	// ErrStdinClosed: its stdin was closed (by Input with close, or
	// because it exited).
	ErrStdinClosed = errors.New("stdin is closed")
	// ErrInputTimeout: the child did not read its stdin in time.
	ErrInputTimeout = errors.New("stdin is full: the process does not read it")
)

// stdinPipe is our end of a child's stdin. Writers serialise on mu, so
// that one input is never interleaved with another.
type stdinPipe struct {
	mu     sync.Mutex
	w      *os.File // guarded by mu
	closed bool     // guarded by mu
}

func (in *stdinPipe) close() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.closed {
		in.closed = true
		in.w.Close()
	}
}

// InputTimeout bounds how long Input waits for the child to read.
const InputTimeout = 5 * time.Second

// inputTimeout is InputTimeout; tests shorten it.
var inputTimeout = InputTimeout

// Input writes data to the child's stdin, and then closes it if close is
// set (the child reads EOF). A write that the child does not take within
// InputTimeout fails with ErrInputTimeout; what was written stays written.
// It never holds up other processes or readers.
func (p *Process) Input(data []byte, close bool) (int, error) {
	in := p.stdin.Load()
	if in == nil {
		return 0, fmt.Errorf("%w: start it with stdin to write to it", ErrNoStdin)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		if !p.Record().Status.Live() {
			return 0, fmt.Errorf("%w: the process has exited", ErrStdinClosed)
		}
		return 0, ErrStdinClosed
	}
	n := 0
	if len(data) > 0 {
		_ = in.w.SetWriteDeadline(time.Now().Add(inputTimeout))
		var err error
		n, err = in.w.Write(data)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return n, fmt.Errorf("%w: %d of %d bytes written in %s", ErrInputTimeout, n, len(data), inputTimeout)
		case err != nil:
			return n, fmt.Errorf("%w: %v", ErrStdinClosed, err)
		}
	}
	if close {
		in.closed = true
		in.w.Close()
	}
	return n, nil
}
