//go:build unix

package pgroup

import (
	"errors"
	"syscall"
)

// Owned is the identity rule for a group whose leader has been reaped, or
// whose server is gone (rules 2 and 3 in the package doc): which members of
// group Pgid are provably ours. The zero value of each field proves nothing.
type Owned struct {
	// Pgid is the group's id, its leader's pid.
	Pgid int
	// Leader is the leader's start time, and Reaped says whether we have
	// reaped it. A process with pid Pgid that is not our unreaped leader
	// means the id was free and taken again: nothing in the group is ours.
	// Our unreaped leader (started before Before), still there after a
	// scan, means the id cannot have been reused: everything the scan saw
	// is ours.
	Leader uint64
	Reaped bool
	// Before is a tick at which the leader was known to be unreaped:
	// members that started before it are ours.
	Before uint64
	// Known are members (pid -> start time) recorded while the leader was
	// unreaped.
	Known map[int]uint64
	// Parent is this process's pid if it is a child subreaper: a member
	// that is its child (and does not lead the group) was reparented to it
	// from our group, and its pid cannot be reused while it is unreaped.
	Parent int
	// Pin, if set, holds the leader, pinned while it was known unreaped:
	// while it still is, the id is the leader's and every member is ours,
	// whatever the start times say.
	Pin *Pin
}

// Members lists the members of the group that are provably ours, zombies
// included. Descendants of a proven member that it forked later are
// proven through it.
func (o Owned) Members() ([]Proc, error) {
	if o.Pgid <= 1 {
		return nil, nil
	}
	var in []Proc
	err := Scan(func(p Proc) bool {
		if p.Pgrp == o.Pgid {
			in = append(in, p)
		}
		return true
	})
	if err != nil || len(in) == 0 {
		return nil, err
	}
	// Checked after the scan: a leader there now was there at every read
	// of the scan.
	if o.Pin.Unreaped() {
		return in, nil
	}
	// Otherwise a process with the leader's pid is the leader if it has
	// its start time and started before Before: it was unreaped then, so
	// a process that took its pid later started later, at another tick.
	// Within one tick, start times cannot tell the two apart.
	if l, err := Stat(o.Pgid); err == nil {
		if !o.Reaped && l.Start == o.Leader && o.Leader < o.Before {
			return in, nil
		}
		return nil, nil // the id belongs to another process now, or may
	}
	return o.prove(in), nil
}

// prove returns the processes of in (one group's members) that the rule
// proves ours; in is reused.
func (o Owned) prove(in []Proc) []Proc {
	proven := make(map[int]uint64, len(in)) // pid -> start
	for grew := true; grew; {
		grew = false
		for _, p := range in {
			if _, ok := proven[p.Pid]; ok {
				continue
			}
			known, isKnown := o.Known[p.Pid]
			// A child starts after its parent; a "parent" that started
			// later is a new process on a reused pid.
			parentStart, parentOurs := proven[p.PPid]
			if (isKnown && known == p.Start) ||
				p.Start < o.Before ||
				(o.Parent > 0 && p.PPid == o.Parent && p.Pid != o.Pgid) ||
				(parentOurs && parentStart <= p.Start) {
				proven[p.Pid] = p.Start
				grew = true
			}
		}
	}
	ours := in[:0]
	for _, p := range in {
		if _, ok := proven[p.Pid]; ok {
			ours = append(ours, p)
		}
	}
	return ours
}

// Alive reports whether a proven member is still running.
func (o Owned) Alive() bool {
	if !Exists(o.Pgid) {
		return false // the common case, answered by one kill(2) without a scan
	}
	ms, _ := o.Members()
	for _, m := range ms {
		if m.Running() {
			return true
		}
	}
	return false
}

// Signal sends sig to each proven member that is still running, and
// returns how many it reached.
func (o Owned) Signal(sig syscall.Signal) (int, error) {
	ms, err := o.Members()
	n := 0
	var errs []error
	for _, m := range ms {
		if !m.Running() {
			continue
		}
		switch ok, err := signalProc(m, sig); {
		case err != nil:
			errs = append(errs, err)
		case ok:
			n++
		}
	}
	return n, errors.Join(append(errs, err)...)
}

// maxFreezeRounds bounds Kill's scans: each round stops the members the
// last one found; a round that finds none ends the freeze.
const maxFreezeRounds = 50

// Kill stops every proven member (SIGSTOP) until a scan finds no new one,
// so that none can fork a child that escapes, then SIGKILLs them all. It
// returns how many it killed.
func (o Owned) Kill() (int, error) {
	var errs []error
	frozen := map[int]Proc{}
	for range maxFreezeRounds {
		ms, err := o.Members()
		if err != nil {
			errs = append(errs, err)
			break
		}
		fresh := 0
		for _, m := range ms {
			if f, ok := frozen[m.Pid]; !m.Running() || (ok && f.Start == m.Start) {
				continue
			}
			if ok, err := signalProc(m, syscall.SIGSTOP); err != nil {
				errs = append(errs, err)
			} else if ok {
				frozen[m.Pid] = m
				fresh++
			}
		}
		if fresh == 0 {
			break
		}
	}
	n := 0
	for _, m := range frozen {
		if ok, err := signalProc(m, syscall.SIGKILL); err != nil {
			errs = append(errs, err)
		} else if ok {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// Exists reports whether group pgid has any member, zombies included, ours
// or not. It only asks (signal 0), so it is safe on any group.
func Exists(pgid int) bool {
	if pgid <= 1 {
		return false
	}
	err := syscall.Kill(-pgid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Running reports whether group pgid has a member that has not exited,
// ours or not. It only reads; tests and tools use it to check that a stop
// left nothing behind. Without a process table it counts zombies too.
func Running(pgid int) bool {
	if !Exists(pgid) {
		return false
	}
	running := false
	err := Scan(func(p Proc) bool {
		running = p.Pgrp == pgid && p.Running()
		return !running
	})
	if err != nil {
		return Exists(pgid)
	}
	return running
}

// SignalChild sends sig to the process group that pid leads, where pid is
// an unreaped child of this process: its pid, and so the group id, cannot
// have been reused (rule 1). If pid leads no group, pid alone is signalled.
// A process or group already gone is no error.
func SignalChild(pid int, sig syscall.Signal) error {
	if pid <= 1 {
		return nil
	}
	err := syscall.Kill(-pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		err = syscall.Kill(pid, sig)
	}
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}
