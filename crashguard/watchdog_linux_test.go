package crashguard

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
	"github.com/brummer-mcp/brummer-mcp/internal/pgroup/pgrouptest"
)

// TestWatchdogKills: what the watchdog kills when the server's pipe ends.
func TestWatchdogKills(t *testing.T) {
	// Right after the start, as when the server dies then: start times
	// cannot tell the leader from a later process, its pin can.
	t.Run("a group whose leader runs, all of it", func(t *testing.T) {
		cmd, pids := pgrouptest.ShellGroup(t, `sleep 3600 & echo $!; echo ready; wait`)
		ref := pgroup.Lead(cmd.Process.Pid, false).Ref()
		groups, _ := readGroups(bytesOf(encode(opAdd, ref)))
		require.True(t, groups[keyOf(ref)].pin.Unreaped(), "the leader is pinned")
		require.NoError(t, killGroups(groups, pgroup.Now()))
		assert.Eventually(t, func() bool { return !pgrouptest.Alive(pids[0]) && !pgrouptest.Alive(cmd.Process.Pid) }, 5*time.Second, 5*time.Millisecond)
	})
	t.Run("a removed group, nothing", func(t *testing.T) {
		cmd, _ := pgrouptest.ShellGroup(t, `echo ready; exec sleep 3600`)
		ref := pgroup.Lead(cmd.Process.Pid, false).Ref()
		groups, _ := readGroups(bytesOf(append(encode(opAdd, ref), encode(opRemove, ref)...)))
		require.NoError(t, killGroups(groups, pgroup.Now()))
		assert.True(t, pgrouptest.Alive(cmd.Process.Pid))
	})
	// A group whose members ended on their own after the leader's reap,
	// recorded still (the server had not said so yet): its id now taken
	// by a stranger, who must be spared.
	t.Run("a stale record whose id a stranger took, nothing", func(t *testing.T) {
		pgid, start := freedPid(t)
		stale := pgroup.Ref{Pgid: pgid, Start: start, Reaped: pgroup.Now()}
		stranger := pgrouptest.StartAt(t, pgid, pgrouptest.Stranger)
		groups, _ := readGroups(bytesOf(encode(opAdd, stale)))
		require.NoError(t, killGroups(groups, pgroup.Now()))
		assert.False(t, pgrouptest.Signalled(stranger.Process.Pid), "a stranger was killed")
	})
}
