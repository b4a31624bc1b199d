package procstate

import (
	"os"

	"golang.org/x/sys/unix"
)

// awaitExit blocks until process pid, a child, has exited, without
// reaping it and without holding an OS thread: it waits for its pidfd to
// become readable through Go's network poller. It reports whether it saw
// the exit; cmd.Wait, called afterwards, then reaps at once. Without this,
// each child's Wait holds a thread blocked in waitid (a thousand children,
// a thousand threads), and the exit is known only once the child is
// reaped. If pidfds are not available it returns false at once.
func awaitExit(pid int) bool {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	// The callback asks, without waiting and without reaping (WNOWAIT: the
	// zombie is cmd.Wait's), whether the process has exited; if not, Read
	// waits for the poller to report the pidfd readable and asks again.
	// Asking first matters: readiness that arrived before Read began is
	// cleared by it, so a bare wait would miss an exit that came early.
	exited := false
	err = rc.Read(func(fd uintptr) bool {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		exited = err == nil && info.Signo != 0
		return err != nil || exited
	})
	return err == nil && exited
}
