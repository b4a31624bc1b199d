//go:build unix && !linux

package procstate

import "golang.org/x/sys/unix"

// procState reports the process group of pid; ok is false when the process
// does not exist. Without /proc the state is not known: it is 'R' even for
// a zombie, which only a leader's parent can leave behind, and a stop waits
// until its group, zombies included, is gone (see groupAlive).
func procState(pid int) (state byte, pgrp int, ok bool) {
	pg, err := unix.Getpgid(pid)
	if err != nil {
		return 0, 0, false
	}
	return 'R', pg, true
}
