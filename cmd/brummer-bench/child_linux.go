package main

import (
	"syscall"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
)

// childAttr puts a child in its own process group (a Ctrl-C at the terminal
// reaches only the bench, which then shuts the servers down in order) and
// kills it if the bench dies without cleaning up.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killChild SIGKILLs the group led by pid, an unreaped child of the bench.
func killChild(pid int) error { return pgroup.SignalChild(pid, syscall.SIGKILL) }
