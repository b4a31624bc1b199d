//go:build unix

package procstate

import (
	"errors"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// shellCommand returns the argv that runs command through the shell. The
// command line is passed as one argument, so cmdLine is empty: only Windows
// needs a verbatim command line.
func shellCommand(command string) (argv []string, cmdLine string) {
	return []string{"/bin/sh", "-c", command}, ""
}

// sysProcAttr puts the child in a process group of its own, so that a stop
// reaches everything it spawns; see pdeathsig for the rest. cmdLine is
// unused here (see shellCommand), and so is nice (see setNice).
func sysProcAttr(cmdLine string, nice int) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	setPdeathsig(attr)
	return attr
}

// exitOf turns the result of cmd.Wait into exit code, signal name and an
// error text for anything that is not a plain exit. The wait status names
// the signal, so the group is not needed here.
func exitOf(cmd *exec.Cmd, err error, _ *group) (code int, sig string, errText string) {
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
