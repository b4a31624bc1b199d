package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestChildNice: the server runs its processes 10 nice steps below itself
// unless told otherwise, and stays at its own priority.
func TestChildNice(t *testing.T) {
	niceOf := func(pid int) int {
		prio, err := unix.Getpriority(unix.PRIO_PROCESS, pid)
		require.NoError(t, err)
		return 20 - prio // Linux's getpriority returns 20-nice
	}
	own := niceOf(0)
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"default", nil, min(own+10, 19)},
		{"off", []string{"--child-nice", "0"}, own},
		{"set", []string{"--child-nice", "3"}, min(own+3, 19)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, tt.args...)
			pid := int(s.call(t, "process_start", map[string]any{"name": "cpu", "argv": []string{"sleep", "60"}})["pid"].(float64))
			assert.Equal(t, tt.want, niceOf(pid), "the child")
			assert.Equal(t, own, niceOf(s.cmd.Process.Pid), "the server")
		})
	}
}
