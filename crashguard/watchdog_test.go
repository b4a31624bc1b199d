package crashguard

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
)

// writes records each Write on the watchdog's pipe.
type writes struct {
	mu     sync.Mutex
	w      [][]byte
	closed bool
	wrote  chan struct{} // gets a value on each write
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.w = append(w.w, bytes.Clone(p))
	w.mu.Unlock()
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *writes) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	return nil
}

func (w *writes) all() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w
}

// TestWatchdogSendLater: a removal waits for the next message and goes out
// before it in the same write, or alone after laterDelay, or with the
// goodbye.
func TestWatchdogSendLater(t *testing.T) {
	a := pgroup.Ref{Pgid: 100, Start: 1}
	b := pgroup.Ref{Pgid: 200, Start: 2, Reaped: 3}
	newDog := func() (*watchdog, *writes) {
		w := &writes{wrote: make(chan struct{}, 1)}
		waited := make(chan struct{})
		close(waited)
		return &watchdog{w: w, waited: waited, log: zerolog.Nop()}, w
	}

	t.Run("with the next message", func(t *testing.T) {
		d, w := newDog()
		d.sendLater(encode(opRemove, a))
		assert.Empty(t, w.all(), "a removal waits")
		d.send(encode(opAdd, b))
		require.Len(t, w.all(), 1, "one write")
		assert.Equal(t, append(encode(opRemove, a), encode(opAdd, b)...), w.all()[0], "the removal first")
		d.close()
		assert.Equal(t, []byte(byeLine+"\n"), w.all()[1])
	})
	t.Run("alone after laterDelay", func(t *testing.T) {
		d, w := newDog()
		d.sendLater(encode(opRemove, a))
		d.sendLater(encode(opRemove, b))
		select {
		case <-w.wrote:
		case <-time.After(10 * time.Second):
			require.FailNow(t, "the removals were never written")
		}
		assert.Equal(t, [][]byte{append(encode(opRemove, a), encode(opRemove, b)...)}, w.all())
		d.close()
	})
	t.Run("with the goodbye", func(t *testing.T) {
		d, w := newDog()
		d.sendLater(encode(opRemove, a))
		d.close()
		assert.Equal(t, [][]byte{append(encode(opRemove, a), byeLine+"\n"...)}, w.all())
		assert.True(t, w.closed)
		d.sendLater(encode(opRemove, b))
		d.send(encode(opAdd, b))
		assert.Len(t, w.all(), 1, "nothing is written after close")
	})
}
