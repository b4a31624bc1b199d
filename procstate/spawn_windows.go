package procstate

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/windows"
)

// shellCommand runs command through cmd.exe as `cmd.exe /d /s /c "command"`,
// the way Node's child_process does. cmd.exe parses its own command line,
// not by the quoting rules os/exec follows, so the line is passed verbatim
// (cmdLine): /s makes cmd.exe strip just the outer quotes and run the rest
// as typed, /d skips the AutoRun commands of the registry.
func shellCommand(command string) (argv []string, cmdLine string) {
	comspec := os.Getenv("ComSpec")
	if comspec == "" {
		comspec = "cmd.exe"
		if root := os.Getenv("SystemRoot"); root != "" {
			comspec = filepath.Join(root, "System32", "cmd.exe")
		}
	}
	return []string{comspec, "/d", "/s", "/c", command},
		syscall.EscapeArg(comspec) + ` /d /s /c "` + command + `"`
}

// sysProcAttr starts the child suspended, so that startGroup can put it in
// its job object before it runs, and as the leader of a console process
// group of its own, so that a stop can send it CTRL_BREAK_EVENT and a
// Ctrl-C in the server's console does not reach it. A non-empty cmdLine is
// the child's command line verbatim (see shellCommand).
//
// A nice above 0 starts it in the below-normal priority class, which its
// own children inherit.
func sysProcAttr(cmdLine string, nice int) *syscall.SysProcAttr {
	flags := uint32(windows.CREATE_SUSPENDED | windows.CREATE_NEW_PROCESS_GROUP)
	if nice > 0 {
		flags |= windows.BELOW_NORMAL_PRIORITY_CLASS
	}
	return &syscall.SysProcAttr{CreationFlags: flags, CmdLine: cmdLine}
}

// exitOf turns the result of cmd.Wait into exit code, signal name and an
// error text for anything that is not a plain exit. Windows has no signals:
// a leader that TerminateJobObject ended (exit code killedExitCode after a
// stop's KILL) is reported as killed by SIGKILL, as on Unix.
func exitOf(cmd *exec.Cmd, err error, g *group) (code int, sig string, errText string) {
	ps := cmd.ProcessState
	if ps == nil {
		if err != nil {
			errText = err.Error()
		}
		return -1, "", errText
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		errText = err.Error()
	}
	if ps.ExitCode() == killedExitCode && g.wasTerminated() {
		return -1, "SIGKILL", errText
	}
	return ps.ExitCode(), "", errText
}
