//go:build unix

package procstate

import (
	"errors"
	"os/exec"
	"sync"
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

// group is a child's process group. The child leads it, so its id is the
// child's pid, and everything the child spawns joins it unless it leaves
// on purpose (setsid). The methods accept a nil group (never spawned).
type group struct{ pgid int }

// startGroup returns the group of a child just started with sysProcAttr.
// It cannot fail here; the error is for platforms where it can.
func startGroup(cmd *exec.Cmd) (*group, error) {
	return &group{pgid: cmd.Process.Pid}, nil
}

// setNice lowers the priority of every process in the group by nice steps
// below the server's own, capped at 19; 0 leaves the one they inherited.
func (g *group) setNice(nice int) error {
	if nice == 0 {
		return nil
	}
	return unix.Setpriority(unix.PRIO_PGRP, g.pgid, min(serverNice()+nice, 19))
}

// serverNice is this process's nice value, read once.
var serverNice = sync.OnceValue(func() int {
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		return 0
	}
	return niceFromPriority(prio)
})

// signal sends sig to every process in the group.
func (g *group) signal(sig syscall.Signal) error {
	if g == nil {
		return nil
	}
	return signalGroup(g.pgid, sig)
}

// alive reports whether any process of the group is still running.
func (g *group) alive() bool { return g != nil && groupAlive(g.pgid) }

// release gives up the group once it is gone or killed. A process group
// needs no cleanup; on Windows this closes the job.
func (g *group) release() {}

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

// signalNames are the signals a stop may send, in the order SignalNames
// lists them; every Unix has the same set.
var signalNames = []string{"TERM", "INT", "HUP", "QUIT", "KILL", "USR1", "USR2"}

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

// GroupAlive reports whether any process of group pgid is still running
// (zombies aside, where the platform can tell them apart). Tests and tools
// use it to check that a stop left nothing behind.
func GroupAlive(pgid int) bool { return groupAlive(pgid) }
