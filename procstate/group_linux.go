package procstate

import (
	"bytes"
	"os"
	"strconv"
)

// groupAlive reports whether any process of group pgid is still running.
// Zombies do not count: an orphaned grandchild may stay a zombie for a
// while until init reaps it, and kill(-pgid, 0) would still succeed for it.
func groupAlive(pgid int) bool {
	if pgid <= 0 || !groupExists(pgid) {
		return false // the common case, answered by one kill(2) without a scan
	}
	alive := false
	err := scanProcs(func(e procEntry) bool {
		alive = e.pgrp == pgid && e.state != 'Z' && e.state != 'X'
		return !alive
	})
	if err != nil {
		return groupExists(pgid)
	}
	return alive
}

// parseStat extracts state and process group from /proc/<pid>/stat.
func parseStat(b []byte) (state byte, pgrp int, ok bool) {
	state, _, pgrp, ok = statFields(b)
	return state, pgrp, ok
}

// statFields extracts state, parent and process group from
// /proc/<pid>/stat: "pid (comm) S ppid pgrp ...", where comm may hold
// spaces and parentheses.
func statFields(b []byte) (state byte, ppid, pgrp int, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, 0, false
	}
	pp, err1 := strconv.Atoi(string(f[1]))
	pg, err2 := strconv.Atoi(string(f[2]))
	if err1 != nil || err2 != nil {
		return 0, 0, 0, false
	}
	return f[0][0], pp, pg, true
}

// procEntry is one process as seen in /proc.
type procEntry struct {
	pid, ppid, pgrp int
	state           byte
}

// scanProcs calls fn for every process in /proc until fn returns false.
func scanProcs(fn func(procEntry) bool) error {
	d, err := os.Open("/proc")
	if err != nil {
		return err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return err
	}
	buf := make([]byte, 512)
	for _, n := range names {
		if n[0] < '0' || n[0] > '9' {
			continue
		}
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		f, err := os.Open("/proc/" + n + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		k, _ := f.Read(buf)
		f.Close()
		state, ppid, pgrp, ok := statFields(buf[:k])
		if ok && !fn(procEntry{pid: pid, ppid: ppid, pgrp: pgrp, state: state}) {
			return nil
		}
	}
	return nil
}
