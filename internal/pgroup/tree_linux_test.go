package pgroup_test

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	. "github.com/brummer-mcp/brummer-mcp/internal/pgroup"
	"github.com/brummer-mcp/brummer-mcp/internal/pgroup/pgrouptest"
)

// TestTree: the tree of a group holds its leader, its members, and their
// descendants that left it (a daemon in a session of its own, and that
// daemon's child), and nothing else.
func TestTree(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid program")
	}
	// The member is a sleep; the daemon is a sh that setsid moves to a
	// session of its own (in a pipeline, it is no group leader, so setsid
	// does not fork), which starts a sleep and then becomes one; the last
	// element of the pipeline prints the daemon's pids once both are there.
	cmd, pids := pgrouptest.ShellGroup(t, `sleep 3600 & echo $!
setsid sh -c 'sleep 3600 & echo $!; echo $$; exec sleep 3600' | { read child; read daemon; echo $child; echo $daemon; echo ready; cat >/dev/null; }`)
	require.Len(t, pids, 3)
	leader, member, daemonChild, daemon := cmd.Process.Pid, pids[0], pids[1], pids[2]
	d, err := Stat(daemon)
	require.NoError(t, err)
	require.NotEqual(t, leader, d.Pgrp, "the daemon left the group")
	require.Equal(t, leader, d.PPid)
	c, err := Stat(daemonChild)
	require.NoError(t, err)
	require.Equal(t, daemon, c.PPid)

	got, err := Tree(leader)
	require.NoError(t, err)
	for _, pid := range []int{leader, member, daemon, daemonChild} {
		assert.Contains(t, got, pid)
	}
	assert.NotContains(t, got, os.Getpid(), "the leader's parent is not in its tree")
	for _, pid := range got {
		p, err := Stat(pid)
		if err != nil {
			continue // ended since
		}
		assert.True(t, p.Pgrp == leader || p.Pid == daemon || p.Pid == daemonChild, "pid %d (%s) is neither in the group nor the daemon or its child", pid)
	}
}

func TestTreeNothing(t *testing.T) {
	t.Parallel()
	gone := exec.Command("true")
	require.NoError(t, gone.Run())
	tests := []struct {
		name string
		pgid int
	}{
		{"0", 0},
		{"init", 1},
		{"negative", -5},
		{"gone", gone.Process.Pid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Tree(tt.pgid)
			assert.NoError(t, err)
			assert.Empty(t, got)
		})
	}
}

// TestTrees: one scan lists several groups, each as Tree lists it, with
// the kernel's view of each process; groups without running members and
// ids that are no group have no entry.
func TestTrees(t *testing.T) {
	t.Parallel()
	a, apids := pgrouptest.ShellGroup(t, "sleep 3600 & echo $!; echo ready; exec sleep 3600")
	b, bpids := pgrouptest.ShellGroup(t, "sleep 3600 & echo $!; echo ready; exec sleep 3600")
	gone := exec.Command("true")
	require.NoError(t, gone.Run())

	trees, err := Trees([]int{a.Process.Pid, b.Process.Pid, gone.Process.Pid, 1, 0})
	require.NoError(t, err)
	assert.Len(t, trees, 2)
	for _, g := range []struct {
		leader int
		pids   []int
	}{{a.Process.Pid, apids}, {b.Process.Pid, bpids}} {
		var got []int
		for _, p := range trees[g.leader] {
			got = append(got, p.Pid)
			assert.True(t, p.Running())
			assert.Equal(t, g.leader, p.Pgrp)
		}
		assert.ElementsMatch(t, append([]int{g.leader}, g.pids...), got)
		tree, err := Tree(g.leader)
		require.NoError(t, err)
		assert.Equal(t, got, tree, "Tree lists what Trees does")
	}
}

func TestTreesNothing(t *testing.T) {
	t.Parallel()
	trees, err := Trees([]int{0, 1, -3})
	assert.NoError(t, err)
	assert.Empty(t, trees)
	trees, err = Trees(nil)
	assert.NoError(t, err)
	assert.Empty(t, trees)
}
