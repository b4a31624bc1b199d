package main

import "syscall"

// childAttr puts a child in its own process group (a Ctrl-C at the terminal
// reaches only the bench, which then shuts the servers down in order) and
// kills it if the bench dies without cleaning up.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
