package pgroup

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// signalProc sends sig to process p if it is still the process p describes
// (same pid, start time and group), and reports whether it did. The pidfd
// is opened before the check, so the signal reaches the process checked
// even if it exits and its pid is reused in between.
func signalProc(p Proc, sig syscall.Signal) (bool, error) {
	fd, err := unix.PidfdOpen(p.Pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return false, nil
	}
	if err != nil { // no pidfds (Linux before 5.3): check, then kill
		if !same(p) {
			return false, nil
		}
		return sent(syscall.Kill(p.Pid, sig))
	}
	defer unix.Close(fd)
	if !same(p) {
		return false, nil
	}
	return sent(unix.PidfdSendSignal(fd, sig, nil, 0))
}
