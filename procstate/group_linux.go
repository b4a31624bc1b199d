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
	if pgid <= 0 {
		return false
	}
	d, err := os.Open("/proc")
	if err != nil {
		return groupExists(pgid)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return groupExists(pgid)
	}
	buf := make([]byte, 512)
	for _, n := range names {
		if n[0] < '0' || n[0] > '9' {
			continue
		}
		f, err := os.Open("/proc/" + n + "/stat")
		if err != nil {
			continue
		}
		k, _ := f.Read(buf)
		f.Close()
		state, pg, ok := parseStat(buf[:k])
		if ok && pg == pgid && state != 'Z' && state != 'X' {
			return true
		}
	}
	return false
}

// parseStat extracts state and process group from /proc/<pid>/stat:
// "pid (comm) S ppid pgrp ...", where comm may hold spaces and parentheses.
func parseStat(b []byte) (state byte, pgrp int, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pg, err := strconv.Atoi(string(f[2]))
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], pg, true
}
