//go:build unix

package guard

import (
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sleeper starts a process in a group of its own and returns its pgid and
// a function that waits for it and says how it ended.
func sleeper(t *testing.T) (int, func() error) {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	wait := sync.OnceValue(cmd.Wait)
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = wait()
	})
	return cmd.Process.Pid, wait
}

func TestRun(t *testing.T) {
	tests := []struct {
		name   string
		script func(pgid string) string
		killed bool
	}{
		{"EOF kills guarded groups", func(p string) string { return "+" + p + "\n" }, true},
		{"bye kills nothing", func(p string) string { return "+" + p + "\nbye\n" }, false},
		{"removed group is spared", func(p string) string { return "+" + p + "\n-" + p + "\n" }, false},
		{"groups are counted", func(p string) string { return "+" + p + "\n+" + p + "\n-" + p + "\n" }, true},
		{"garbage is ignored", func(p string) string { return "hello\n+\n+x\n+0\n+1\n+-3\n*" + p + "\n+" + p + "\n" }, true},
		{"no trailing newline", func(p string) string { return "+" + p }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pgid, wait := sleeper(t)
			require.NoError(t, Run(strings.NewReader(tt.script(strconv.Itoa(pgid)))))
			if tt.killed {
				err := wait()
				var exitErr *exec.ExitError
				require.ErrorAs(t, err, &exitErr)
				assert.Equal(t, syscall.SIGKILL, exitErr.Sys().(syscall.WaitStatus).Signal())
				return
			}
			assert.NoError(t, syscall.Kill(pgid, 0), "an unguarded group was killed")
		})
	}
}
