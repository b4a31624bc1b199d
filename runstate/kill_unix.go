//go:build unix

package runstate

import (
	"errors"
	"syscall"
)

// recoverable reports whether group g still exists and is the one recorded.
func recoverable(g group) bool {
	if err := syscall.Kill(-g.Pgid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false // no such group
	}
	if alive(g.Pgid) {
		return g.Start != 0 && startTime(g.Pgid) == g.Start
	}
	return true // leader gone, pid unused: the group id cannot have been reused
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func killGroup(pgid int) error {
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}
