package probe

import (
	"net"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gonePid returns the pid of a process that has exited and been reaped.
func gonePid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

// TestListening: the ports this test process listens on are found, IPv4
// and IPv6, and a connected socket's port is not.
func TestListening(t *testing.T) {
	t.Parallel()
	ln, port := listen(t, "127.0.0.1:0")
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	connPort := conn.LocalAddr().(*net.TCPAddr).Port

	self := os.Getpid()
	tests := []struct {
		name string
		addr string // listened on, besides port; "" for nothing
		pids []int
	}{
		{name: "IPv4", pids: []int{self}},
		{name: "IPv6", addr: "[::1]:0", pids: []int{self}},
		{name: "first pid gone", pids: []int{gonePid(t), self}},
		{name: "twice", pids: []int{self, self}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := []int{port}
			if tt.addr != "" {
				_, p := listen(t, tt.addr)
				want = append(want, p)
			}
			got, err := Listening(tt.pids)
			require.NoError(t, err)
			assert.Subset(t, got, want)
			assert.NotContains(t, got, connPort, "a connection is no listener")
			assert.True(t, slices.IsSorted(got), "sorted: %v", got)
			assert.Equal(t, got, slices.Compact(slices.Clone(got)), "no port twice")
		})
	}
}

func TestListeningNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pids []int
	}{
		{"no pids", nil},
		{"gone", []int{gonePid(t)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Listening(tt.pids)
			assert.NoError(t, err)
			assert.Empty(t, got)
		})
	}
}
