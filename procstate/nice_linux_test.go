package procstate

import (
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// niceOf returns the nice value of process pid (0 for the caller).
func niceOf(t *testing.T, pid int) int {
	t.Helper()
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, pid)
	require.NoError(t, err, "getpriority %d", pid)
	return niceFromPriority(prio)
}

func TestNice(t *testing.T) {
	own := niceOf(t, 0)
	tests := []struct {
		name string
		nice int
		want int
	}{
		{"default keeps the server's", 0, own},
		{"lowered, relative to the server's", 7, min(own+7, 19)},
		{"capped at 19", 19, 19},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			s := newSupervisor(t, Config{Nice: tt.nice})
			p, err := s.Start(helperSpec("grandchildren", "1"))
			require.NoError(t, err)
			pids := stdoutPids(t, waitForLine(t, ctx, p, "ready"))
			require.Len(t, pids, 1)
			assert.Equal(t, tt.want, niceOf(t, p.Record().Pid), "the child")
			assert.Equal(t, tt.want, niceOf(t, pids[0]), "a grandchild it started later")
			assert.Equal(t, own, niceOf(t, 0), "the server keeps its own")
		})
	}
}

func TestNiceOutOfRange(t *testing.T) {
	for _, n := range []int{-1, 20} {
		_, err := New(Config{Nice: n}, zerolog.Nop())
		assert.ErrorContains(t, err, "must be 0..19", "nice %d", n)
	}
}
