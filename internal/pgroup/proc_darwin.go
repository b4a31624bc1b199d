package pgroup

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// On macOS, sysctl(kern.proc) stands in for /proc. Start times there are
// wall-clock times; they are kept in the same unit, ticks (of the epoch
// here), and compared only with [Now].

// Stat asks sysctl(kern.proc.pid) about one process.
func Stat(pid int) (Proc, error) {
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil {
		return Proc{}, err
	}
	if kp.Proc.P_pid != int32(pid) {
		return Proc{}, fmt.Errorf("process %d: %w", pid, unix.ESRCH)
	}
	return fromKinfo(kp), nil
}

// Scan calls fn for every process until fn returns false.
func Scan(fn func(Proc) bool) error {
	kps, err := unix.SysctlKinfoProcSlice("kern.proc.all")
	if err != nil {
		return err
	}
	for i := range kps {
		if !fn(fromKinfo(&kps[i])) {
			return nil
		}
	}
	return nil
}

func fromKinfo(kp *unix.KinfoProc) Proc {
	state := byte('R')
	switch kp.Proc.P_stat {
	case 4: // SSTOP
		state = 'T'
	case 5: // SZOMB
		state = 'Z'
	}
	tv := kp.Proc.P_starttime
	return Proc{
		Pid:   int(kp.Proc.P_pid),
		PPid:  int(kp.Eproc.Ppid),
		Pgrp:  int(kp.Eproc.Pgid),
		State: state,
		Start: uint64(tv.Sec)*TicksPerSecond + uint64(tv.Usec)/(1e6/TicksPerSecond),
	}
}

// Now is the current time in the unit of [Proc.Start].
func Now() uint64 {
	return uint64(time.Now().UnixNano()) / (1e9 / TicksPerSecond)
}

// Cmdline is "" on macOS: only the crash recovery's log would show it.
func Cmdline(int) string { return "" }
