//go:build unix

package procstate

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInput(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	p, err := s.Start(Spec{Name: "reader", Command: `while read x; do echo "got: $x"; done; echo eof`, Stdin: true})
	require.NoError(t, err)

	n, err := p.Input([]byte("a\n"), false)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	waitForLine(t, ctx, p, "got: a")
	_, err = p.Input([]byte("b\n"), true)
	require.NoError(t, err)
	lines := texts(waitForLine(t, ctx, p, "eof"))
	assert.Equal(t, []string{"got: a", "got: b", "eof"}, lines)
	_, err = p.Input([]byte("c\n"), false)
	assert.ErrorIs(t, err, ErrStdinClosed)
	recs := waitDone(t, ctx, p)
	assert.Equal(t, 0, recs[len(recs)-1].ExitCode)
	_, err = p.Input(nil, true)
	assert.ErrorIs(t, err, ErrStdinClosed)
	assert.ErrorContains(t, err, "exited")

	plain, err := s.Start(Spec{Name: "plain", Command: `read x || echo "stdin is empty"`})
	require.NoError(t, err)
	waitForLine(t, ctx, plain, "stdin is empty")
	_, err = plain.Input([]byte("x\n"), false)
	assert.ErrorIs(t, err, ErrNoStdin)
}

// TestInputTimeout: a child that does not read its stdin makes a large
// input fail after the timeout, without holding anything else up.
func TestInputTimeout(t *testing.T) {
	old := inputTimeout
	inputTimeout = 100 * time.Millisecond
	t.Cleanup(func() { inputTimeout = old })
	s := newSupervisor(t, Config{})
	p, err := s.Start(Spec{Name: "deaf", Argv: []string{"sleep", "60"}, Stdin: true})
	require.NoError(t, err)
	n, err := p.Input([]byte(strings.Repeat("x", 1<<20)), false)
	assert.ErrorIs(t, err, ErrInputTimeout)
	assert.Less(t, n, 1<<20)
	assert.Equal(t, StatusRunning, p.Record().Status, "the process is untouched")
}
