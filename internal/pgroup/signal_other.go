//go:build unix && !linux

package pgroup

import "syscall"

// signalProc sends sig to process p if it is still the process p describes
// (same pid, start time and group), and reports whether it did. Without
// pidfds the check and the kill are two steps.
func signalProc(p Proc, sig syscall.Signal) (bool, error) {
	if !same(p) {
		return false, nil
	}
	return sent(syscall.Kill(p.Pid, sig))
}
