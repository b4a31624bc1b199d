//go:build unix

package pgroup

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"syscall"
)

// Owned applies the identity rule to a group that a server recorded and
// that may have outlived it. alive is a tick at which the server was known
// to be alive: a leader it had not reported reaped was unreaped then.
func (r Ref) Owned(alive uint64) Owned {
	o := Owned{Pgid: r.Pgid, Leader: r.Start, Reaped: r.Reaped != 0, Before: r.Reaped, Known: r.Known}
	if r.Reaped == 0 {
		o.Before = alive
	}
	return o
}

// Group is a process group led by a child of this process: the one place
// that signals it (rule 1 of the package doc while the leader is unreaped,
// rule 2 after).
type Group struct {
	id     int
	parent int // this process, if it is a child subreaper

	mu     sync.Mutex
	reaped bool   // guarded by mu: the leader has been (or is being) reaped
	start  uint64 // guarded by mu: the leader's start time, once read
	ref    Ref    // guarded by mu; Reaped and Known are set at the reap
}

// Lead returns the group that child pid leads: it was started with
// Setpgid and has not been reaped. With subreaper, this process is a child
// subreaper (Linux), so that descendants orphaned in the group are its
// children and provably ours.
func Lead(pid int, subreaper bool) *Group {
	g := &Group{id: pid, ref: Ref{Pgid: pid}}
	if subreaper {
		g.parent = os.Getpid()
	}
	return g
}

// LeadForked is [Lead] for a child forked between two readings of [Now]:
// before, read before the fork began, and after, read once it returned.
// On Linux, Now reads the clock the kernel stamps a process's start time
// with when it forks it (CLOCK_BOOTTIME) and rounds it down to ticks as
// field 22 of /proc/PID/stat does, so the leader's start time lies
// between the two readings; when they are equal, it is that tick, and
// [Group.Ref] reads no /proc. A fork straddles a tick as often as it is
// long against one: a fork of half a millisecond, one time in twenty.
// Then, and elsewhere than Linux, Ref reads the start time as for Lead.
func LeadForked(pid int, subreaper bool, before, after uint64) *Group {
	g := Lead(pid, subreaper)
	if startsOnNow && before != 0 && before == after {
		g.start, g.ref.Start = before, before
	}
	return g
}

// startsOnNow reports whether start times are on Now's clock, rounded as
// Now rounds: Linux's /proc. macOS's are wall-clock times, which can step.
const startsOnNow = runtime.GOOS == "linux"

// ID is the group's id, its leader's pid.
func (g *Group) ID() int { return g.id }

// Ref returns the group's identity for outside records. The leader's
// start time is read on the first call, which must come before the reap;
// a group never asked for its Ref costs no read of /proc.
func (g *Group) Ref() Ref {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.readStartLocked()
	return g.ref
}

func (g *Group) readStartLocked() {
	if g.start != 0 || g.reaped {
		return
	}
	if p, err := Stat(g.id); err == nil {
		g.start = p.Start
		g.ref.Start = p.Start
	}
}

// Reap runs reap, which reaps the leader (cmd.Wait) and must return
// promptly: call it once the leader is known to have exited. No signal is
// sent by group id from then on. With survivors, the members still in the
// group are recorded first (a scan of every process: ask for it only when
// members may have outlived the leader, e.g. when they hold its output
// pipes). report is called next, under the same lock, with the group's new
// Ref, so that an outside record has it before the reap can have happened.
func (g *Group) Reap(survivors bool, report func(Ref), reap func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if report != nil {
		g.readStartLocked() // the record needs it; the leader is still ours
	}
	ref := Ref{Pgid: g.id, Start: g.start, Reaped: max(Now(), 1)}
	if survivors {
		_ = Scan(func(p Proc) bool {
			if p.Pgrp == g.id && p.Pid != g.id && p.Running() {
				if ref.Known == nil {
					ref.Known = map[int]uint64{}
				}
				ref.Known[p.Pid] = p.Start
			}
			return true
		})
	}
	g.reaped, g.ref = true, ref
	if report != nil {
		report(ref)
	}
	reap()
}

// Signal sends sig to the group. While the leader is unreaped that is one
// kill(-pgid); afterwards only proven members are signalled, and SIGKILL
// freezes them first (see [Owned.Kill]). A group with no member left is no
// error.
func (g *Group) Signal(sig syscall.Signal) error {
	g.mu.Lock()
	if !g.reaped {
		defer g.mu.Unlock()
		err := syscall.Kill(-g.id, sig)
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return err
	}
	o := g.ownedLocked()
	g.mu.Unlock()
	var err error
	if sig == syscall.SIGKILL {
		_, err = o.Kill()
	} else {
		_, err = o.Signal(sig)
	}
	return err
}

// Alive reports whether a member of the group that is ours is still
// running (zombies do not count).
func (g *Group) Alive() bool {
	if !Exists(g.id) {
		return false // the common case, answered by one kill(2) without a scan
	}
	g.mu.Lock()
	if !g.reaped {
		// Rule 1: the whole group is ours while the lock holds off the reap.
		defer g.mu.Unlock()
		return Running(g.id)
	}
	o := g.ownedLocked()
	g.mu.Unlock()
	ms, _ := o.Members()
	for _, m := range ms {
		if m.Running() {
			return true
		}
	}
	return false
}

// ownedLocked is rule 2 for the reaped group.
func (g *Group) ownedLocked() Owned {
	o := g.ref.Owned(0)
	o.Parent = g.parent
	return o
}
