package crashguard

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
	"github.com/brummer-mcp/brummer-mcp/internal/pgroup/pgrouptest"
)

// freedPid returns the pid and start time of a group leader that has
// exited and been reaped, with its group empty: a pid a stranger may take.
func freedPid(t *testing.T) (int, uint64) {
	t.Helper()
	cmd := exec.Command("true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	ref := pgroup.Lead(cmd.Process.Pid, false).Ref()
	require.NoError(t, cmd.Wait())
	return ref.Pgid, ref.Start
}

// leaderlessStranger puts on pid a stranger's group whose leader has
// exited and left a worker in it, and returns the worker's pid.
func leaderlessStranger(t *testing.T, pid int) int {
	t.Helper()
	var out *os.File
	leader := pgrouptest.StartAt(t, pid, func() *exec.Cmd {
		cmd := exec.Command("sh", "-c", "sleep 3600 & echo $!; echo ready")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		r, w, err := os.Pipe()
		require.NoError(t, err)
		cmd.Stdout = w
		out = r
		return cmd
	})
	cmd := leader
	cmd.Stdout.(*os.File).Close()
	pids := pgrouptest.ReadPids(t, out)
	out.Close()
	require.Len(t, pids, 1)
	require.NoError(t, cmd.Wait())
	require.True(t, pgrouptest.Alive(pids[0]))
	require.True(t, pgroup.Exists(pid), "the worker keeps the stranger's group")
	return pids[0]
}

func writeRecord(t *testing.T, dir string, rec record) {
	t.Helper()
	data, err := json.Marshal(rec)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, strconv.Itoa(rec.Pid)+".json"), data, 0o600))
}

// deadPid returns the pid of a process that has exited.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

func bytesOf(b []byte) *strings.Reader { return strings.NewReader(string(b)) }
