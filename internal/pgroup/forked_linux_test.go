package pgroup_test

import (
	"os/exec"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	. "github.com/brummer-mcp/brummer-mcp/internal/pgroup"
)

// TestLeadForkedStart checks the claim LeadForked rests on: the start time
// the kernel reports for a child forked between two equal readings of Now
// is that reading. Each child is read from /proc before it is reaped.
func TestLeadForkedStart(t *testing.T) {
	t.Parallel()
	equal := 0
	for range 200 {
		cmd := exec.Command("true")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		before := Now()
		require.NoError(t, cmd.Start())
		after := Now()
		stat, err := Stat(cmd.Process.Pid)
		require.NoError(t, err, "the unreaped child is readable, as a zombie at least")
		g := LeadForked(cmd.Process.Pid, false, before, after)
		assert.Equal(t, stat.Start, g.Ref().Start, "forked between ticks %d and %d", before, after)
		assert.True(t, before <= stat.Start && stat.Start <= after, "started at tick %d, not between %d and %d", stat.Start, before, after)
		if before == after {
			equal++
		}
		g.Reap(false, nil, func() { _ = cmd.Wait() })
	}
	assert.Positive(t, equal, "the readings around a fork were never equal: the claim went untested")
}

// TestLeadForkedUnequal: readings that differ say nothing exact, and the
// start time is read from /proc as for Lead.
func TestLeadForkedUnequal(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	stat, err := Stat(cmd.Process.Pid)
	require.NoError(t, err)
	g := LeadForked(cmd.Process.Pid, false, stat.Start-5, stat.Start+5)
	assert.Equal(t, stat.Start, g.Ref().Start)
	g.Reap(false, nil, func() { _ = cmd.Wait() })
}
