//go:build unix

package main

import "syscall"

// killGroup SIGKILLs the process group pgid.
func killGroup(pgid int) error { return syscall.Kill(-pgid, syscall.SIGKILL) }

// killProcess SIGKILLs the process pid.
func killProcess(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
