package main

import (
	"os"
	"syscall"
)

// The bench needs Linux (/proc) to measure anything and main refuses to run
// elsewhere; this file only lets the module build for Windows.

// childAttr starts a child in a console process group of its own.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// killGroup kills the process pgid (Windows has no process groups to kill).
func killGroup(pgid int) error { return killProcess(pgid) }

// killProcess kills the process pid.
func killProcess(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
