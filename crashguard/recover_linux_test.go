package crashguard

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
	"github.com/brummer-mcp/brummer-mcp/internal/pgroup/pgrouptest"
)

func TestRecover(t *testing.T) {
	dir := t.TempDir()
	// Left by a crashed instance: a leader still running, and a group
	// whose leader is gone with a member left that started before the
	// instance's last write.
	running, runningPids := pgrouptest.ShellGroup(t, `sleep 3600 & echo $!; echo ready; wait`)
	orphaned, orphanedPids := pgrouptest.ShellGroup(t, `sleep 3600 & echo $!; echo ready`)
	orphanedRef := pgroup.Ref{Pgid: orphaned.Process.Pid, Start: pgroup.Lead(orphaned.Process.Pid, false).Ref().Start}
	require.NoError(t, orphaned.Wait())
	// A live instance's group: untouched.
	mine, minePids := pgrouptest.ShellGroup(t, `sleep 3600 & echo $!; echo ready; wait`)

	pgrouptest.Outlive(t, pgroup.Now()) // the instance lived on after it started them
	crashed := deadPid(t)
	writeRecord(t, dir, record{Pid: crashed, Start: 1, At: pgroup.Now(), Groups: []pgroup.Ref{
		pgroup.Lead(running.Process.Pid, false).Ref(),
		orphanedRef,
		{Pgid: deadPid(t), Start: 5}, // gone already
	}})
	live := os.Getppid()
	liveProc, err := pgroup.Stat(live)
	require.NoError(t, err)
	writeRecord(t, dir, record{Pid: live, Start: liveProc.Start, At: pgroup.Now(), Groups: []pgroup.Ref{pgroup.Lead(mine.Process.Pid, false).Ref()}})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "junk.json"), []byte("{"), 0o600))

	found, err := Recover(dir, zerolog.Nop())
	require.NoError(t, err)
	require.Len(t, found, 2)
	assert.ElementsMatch(t, []int{running.Process.Pid, orphaned.Process.Pid}, []int{found[0].Pgid, found[1].Pgid})
	for _, l := range found {
		assert.Equal(t, crashed, l.Instance)
		assert.NoError(t, l.Err)
		assert.NotEmpty(t, l.Command)
	}
	assert.Eventually(t, func() bool {
		return !pgroup.Running(running.Process.Pid) && !pgrouptest.Alive(runningPids[0]) && !pgrouptest.Alive(orphanedPids[0])
	}, 5*time.Second, 5*time.Millisecond, "the leftovers were not killed")
	assert.True(t, pgrouptest.Alive(mine.Process.Pid) && pgrouptest.Alive(minePids[0]), "a live instance's group was killed")

	assert.NoFileExists(t, filepath.Join(dir, strconv.Itoa(crashed)+".json"))
	assert.NoFileExists(t, filepath.Join(dir, "junk.json"))
	assert.FileExists(t, filepath.Join(dir, strconv.Itoa(live)+".json"))
}

// TestRecoverSparesStrangers: group ids a dead instance recorded that now
// belong to strangers are left alone: a stranger leading the group, and a
// stranger's group whose leader has exited and left a worker (the pid is
// unused, yet the group is not the dead instance's).
func TestRecoverSparesStrangers(t *testing.T) {
	tests := []struct {
		name     string
		stranger func(t *testing.T, pid int) int
	}{
		{"leading the group", func(t *testing.T, pid int) int {
			return pgrouptest.StartAt(t, pid, pgrouptest.Stranger).Process.Pid
		}},
		{"leaderless", leaderlessStranger},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			pgid, start := freedPid(t)
			// The dead instance's last write came before the stranger.
			writeRecord(t, dir, record{Pid: deadPid(t), Start: 1, At: pgroup.Now(), Groups: []pgroup.Ref{{Pgid: pgid, Start: start}}})
			stranger := tt.stranger(t, pgid)

			found, err := Recover(dir, zerolog.Nop())
			require.NoError(t, err)
			assert.Empty(t, found)
			assert.False(t, pgrouptest.Signalled(stranger), "a stranger was killed")
		})
	}
}
