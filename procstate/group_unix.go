//go:build unix

package procstate

import (
	"os/exec"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
)

// group is a child's process group. The child leads it, so its id is the
// child's pid, and everything the child spawns joins it unless it leaves
// on purpose (setsid). pgroup.Group holds the rule that decides what a
// signal may reach. The methods accept a nil group (never spawned).
type group struct{ g *pgroup.Group }

// startGroup returns the group of a child just started with sysProcAttr.
// With subreaper, this process is a child subreaper, whose reparented
// orphans in the group are provably ours. forked are pgroup.Now read right
// before cmd.Start and right after it: they may tell the leader's start
// time without a read of /proc (see pgroup.LeadForked). It cannot fail
// here; the error is for platforms where it can.
func startGroup(cmd *exec.Cmd, subreaper bool, forked [2]uint64) (*group, error) {
	return &group{pgroup.LeadForked(cmd.Process.Pid, subreaper, forked[0], forked[1])}, nil
}

// setNice lowers the priority of every process in the group by nice steps
// below the server's own, capped at 19; 0 leaves the one they inherited.
// It is called right after the start, before the leader can be reaped.
func (g *group) setNice(nice int) error {
	if nice == 0 {
		return nil
	}
	return unix.Setpriority(unix.PRIO_PGRP, g.g.ID(), min(serverNice()+nice, 19))
}

// serverNice is this process's nice value, read once.
var serverNice = sync.OnceValue(func() int {
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		return 0
	}
	return niceFromPriority(prio)
})

// signal sends sig to the members of the group that are provably ours.
func (g *group) signal(sig syscall.Signal) error {
	if g == nil {
		return nil
	}
	return g.g.Signal(sig)
}

// alive reports whether a member of the group that is ours still runs.
func (g *group) alive() bool { return g != nil && g.g.Alive() }

// ref identifies the group for the crash insurance.
func (g *group) ref() GroupRef {
	if g == nil {
		return GroupRef{}
	}
	return g.g.Ref()
}

// reap runs wait, which reaps the leader, with signals to the group held
// off; see pgroup.Group.Reap.
func (g *group) reap(survivors bool, report func(GroupRef), wait func()) {
	g.g.Reap(survivors, report, wait)
}

// release gives up the group once it is gone or killed. A process group
// needs no cleanup; on Windows this closes the job.
func (g *group) release() {}

// GroupAlive reports whether any process of group pgid, ours or not, is
// still running (zombies aside, where the platform can tell them apart).
// Tests and tools use it to check that a stop left nothing behind.
func GroupAlive(pgid int) bool { return pgroup.Running(pgid) }
