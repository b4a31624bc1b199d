//go:build unix

package procstate

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysProcAttr puts the child in a process group of its own, so that a stop
// reaches everything it spawns; see pdeathsig for the rest.
func sysProcAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	setPdeathsig(attr)
	return attr
}

// signalGroup sends sig to every process in the group pgid. A group that
// is already gone is not an error.
func signalGroup(pgid int, sig syscall.Signal) error {
	if pgid <= 0 {
		return nil
	}
	err := syscall.Kill(-pgid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// exitOf turns the result of cmd.Wait into exit code, signal name and an
// error text for anything that is not a plain exit.
func exitOf(cmd *exec.Cmd, err error) (code int, sig string, errText string) {
	code = -1
	ps := cmd.ProcessState
	if ps == nil {
		if err != nil {
			errText = err.Error()
		}
		return code, "", errText
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		errText = err.Error()
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, unix.SignalName(ws.Signal()), errText
	}
	return ps.ExitCode(), "", errText
}

// SignalByName maps "TERM", "SIGTERM", "term" and so on to a signal for
// the signals a stop may send.
func SignalByName(name string) (syscall.Signal, bool) {
	s, ok := stopSignals[normSignal(name)]
	return s, ok
}

var stopSignals = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "HUP": syscall.SIGHUP,
	"QUIT": syscall.SIGQUIT, "KILL": syscall.SIGKILL,
	"USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2,
}

// groupExists reports whether group pgid has any member, zombies included.
func groupExists(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// normSignal turns "sigterm", "SIGTERM" and "term" into "TERM".
func normSignal(name string) string {
	name = strings.ToUpper(strings.TrimSpace(name))
	return strings.TrimPrefix(name, "SIG")
}

// GroupAlive reports whether any process of group pgid is still running
// (zombies aside, where the platform can tell them apart). Tests and tools
// use it to check that a stop left nothing behind.
func GroupAlive(pgid int) bool { return groupAlive(pgid) }
