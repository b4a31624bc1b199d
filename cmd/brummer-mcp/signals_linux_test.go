package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// wrapServer starts the server as a careless parent might: with SIGHUP
// and SIGPIPE ignored (nohup, a shell that ignores SIGPIPE) and SIGUSR1 and
// SIGPIPE blocked. Both survive exec. It does not return.
func wrapServer() {
	runtime.LockOSThread()
	signal.Ignore(syscall.SIGHUP, syscall.SIGPIPE)
	var block unix.Sigset_t
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGPIPE} {
		block.Val[(sig-1)/64] |= 1 << ((sig - 1) % 64)
	}
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &block, nil); err != nil {
		fmt.Fprintln(os.Stderr, "wrapper:", err)
		return
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, wrapEnv+"=") })
	err := syscall.Exec(os.Args[0], os.Args, append(env, "BRUMMER_E2E_SERVER=1"))
	fmt.Fprintln(os.Stderr, "wrapper:", err)
}

// signalMasks returns the SigIgn and SigBlk lines of a process's status.
func signalMasks(t *testing.T, pid int) (ignored, blocked string) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(line, ":")
		switch k {
		case "SigIgn":
			ignored = strings.TrimSpace(v)
		case "SigBlk":
			blocked = strings.TrimSpace(v)
		}
	}
	return ignored, blocked
}

// TestChildSignalDefaults: children start with every signal at its
// default and none blocked, whatever the server survives (SIGPIPE on a
// closed stderr) and however it was started. A writer into a closed pipe
// dies of SIGPIPE at once instead of spinning on write errors.
func TestChildSignalDefaults(t *testing.T) {
	tests := []struct {
		name string
		env  []string
	}{
		{"plain start", nil},
		{"started with signals ignored and blocked", []string{wrapEnv + "=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServerEnv(t, tt.env, nil)
			pid := int(s.call(t, "process_start", map[string]any{"argv": []string{"sleep", "60"}})["pid"].(float64))
			ignored, blocked := signalMasks(t, pid)
			assert.Equal(t, "0000000000000000", ignored, "the child inherited ignored signals")
			assert.Equal(t, "0000000000000000", blocked, "the child inherited blocked signals")

			s.call(t, "process_start", map[string]any{"name": "pipe", "command": "(while :; do echo x; done) | head -n 1"})
			var rec map[string]any
			require.Eventually(t, func() bool {
				rec = s.call(t, "process_list", nil)["processes"].([]any)[0].(map[string]any)
				return rec["name"] == "pipe" && rec["status"] == "exited"
			}, 10*time.Second, 5*time.Millisecond, "the writer into a closed pipe did not end")
			assert.EqualValues(t, 0, rec["exit_code"])
			assert.Less(t, rec["uptime_ms"].(float64), 1000.0, "it should end at once")
			lines := s.call(t, "process_logs", map[string]any{"name": "pipe", "since": 0, "stream": "stdout"})["lines"].([]any)
			assert.Equal(t, []any{"x"}, lines, "no write errors")

			// The server itself still survives a broken stderr.
			require.NoError(t, s.stdin.Close())
			assert.Equal(t, 0, s.wait(t))
		})
	}
}
