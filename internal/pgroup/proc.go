package pgroup

import (
	"bytes"
	"strconv"
	"time"
)

// TicksPerSecond is the unit of start times: USER_HZ, 100 on every Linux
// architecture Go supports.
const TicksPerSecond = 100

// Proc is one process as the kernel reports it.
type Proc struct {
	Pid, PPid, Pgrp int
	// State is the state letter of /proc/PID/stat: R, S, D, T, Z, X, ...
	State byte
	// Start is when the process started, in ticks since boot. With Pid it
	// identifies a process across pid reuse.
	Start uint64
	// UTime and STime are the CPU time it has used in user and kernel
	// mode, in ticks (0 where the platform does not say).
	UTime, STime uint64
}

// CPU is the CPU time the process has used, user and kernel mode together.
func (p Proc) CPU() time.Duration {
	return time.Duration(p.UTime+p.STime) * (time.Second / TicksPerSecond)
}

// Running reports whether the process has not exited: a zombie ('Z') or a
// dying task ('X') has.
func (p Proc) Running() bool { return p.State != 'Z' && p.State != 'X' }

// ParseStat parses the text of /proc/PID/stat: "pid (comm) S ppid pgrp
// ... starttime ...", where comm may hold spaces and parentheses.
func ParseStat(b []byte) (Proc, bool) {
	open := bytes.IndexByte(b, '(')
	i := bytes.LastIndexByte(b, ')')
	if open < 1 || i < open || i+2 >= len(b) {
		return Proc{}, false
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil || pid <= 0 {
		return Proc{}, false
	}
	// After "(comm)": state is field 3 of the line, ppid 4, pgrp 5,
	// utime 14, stime 15, starttime 22.
	f := bytes.Fields(b[i+1:])
	if len(f) < 20 || len(f[0]) != 1 || !isLetter(f[0][0]) {
		return Proc{}, false // the state is one letter: R, S, D, Z, ...
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	pgrp, err2 := strconv.Atoi(string(f[2]))
	utime, err3 := strconv.ParseUint(string(f[11]), 10, 64)
	stime, err4 := strconv.ParseUint(string(f[12]), 10, 64)
	start, err5 := strconv.ParseUint(string(f[19]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || err5 != nil {
		return Proc{}, false
	}
	return Proc{Pid: pid, PPid: ppid, Pgrp: pgrp, State: f[0][0], Start: start, UTime: utime, STime: stime}, true
}

func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
