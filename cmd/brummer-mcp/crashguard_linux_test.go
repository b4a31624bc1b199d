package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup/pgrouptest"
	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// stateGroups returns the process group ids the server's state file lists.
func stateGroups(dir string, serverPid int) ([]int, bool) {
	data, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(serverPid)+".json"))
	if err != nil {
		return nil, false
	}
	var rec struct {
		Groups []struct {
			Pgid int `json:"pgid"`
		} `json:"groups"`
	}
	if json.Unmarshal(data, &rec) != nil {
		return nil, false
	}
	pgids := make([]int, len(rec.Groups))
	for i, g := range rec.Groups {
		pgids[i] = g.Pgid
	}
	return pgids, true
}

// TestGroupEndingAfterItsLeader: a process leaves a member in its group
// that ends on its own later. The server notices (it reaps the orphan), so
// the watchdog and the state file forget the group; and when a stranger
// has taken the group id and the server is then killed, the watchdog
// leaves the stranger alone.
func TestGroupEndingAfterItsLeader(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(t.TempDir(), "release")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	s := startServer(t, "--state-dir", dir)
	watchdogPid := s.watchdog(t)

	pgid := int(s.call(t, "process_start", map[string]any{"name": "job", "command": "cat " + fifo + " >/dev/null 2>&1 & echo started"})["pid"].(float64))
	require.Equal(t, "started", s.readLine(t, "job"))
	require.Eventually(t, func() bool {
		rec := s.call(t, "process_list", nil)["processes"].([]any)[0].(map[string]any)
		return rec["status"] == "exited"
	}, 10*time.Second, 5*time.Millisecond)
	require.True(t, procstate.GroupAlive(pgid), "the member outlives the leader")
	groups, _ := stateGroups(dir, s.cmd.Process.Pid)
	require.Contains(t, groups, pgid, "the group is still guarded while its member runs")

	// The member ends on its own: the server forgets the group.
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.Eventually(t, func() bool {
		groups, ok := stateGroups(dir, s.cmd.Process.Pid)
		return ok && !slices.Contains(groups, pgid)
	}, 10*time.Second, 5*time.Millisecond, "the group is still listed after its last member ended")

	stranger := pgrouptest.StartAt(t, pgid, pgrouptest.Stranger)
	require.NoError(t, s.cmd.Process.Kill())
	s.wait(t)
	require.Eventually(t, func() bool { return !procExists(watchdogPid) || isZombie(watchdogPid) }, 10*time.Second, 5*time.Millisecond, "the watchdog ends")
	assert.False(t, pgrouptest.Signalled(stranger.Process.Pid), "the watchdog killed a stranger's group with our old id")
}
