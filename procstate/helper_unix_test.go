//go:build unix

package procstate

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// selfKill sends the helper the signal named name ("KILL", "SIGTERM", ...)
// with its default action restored, so that it dies of it.
func selfKill(name string) error {
	sig := unix.SignalNum("SIG" + strings.TrimPrefix(strings.ToUpper(name), "SIG"))
	if sig == 0 {
		return fmt.Errorf("mode selfkill: unknown signal %q", name)
	}
	signal.Reset(sig)
	return syscall.Kill(os.Getpid(), sig)
}

// ignoreStop makes the helper survive the signal a stop sends first.
func ignoreStop() { signal.Ignore(syscall.SIGTERM) }

// detach makes cmd start in a session, and so a process group, of its own.
func detach(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return nil
}
