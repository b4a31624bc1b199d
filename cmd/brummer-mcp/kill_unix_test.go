//go:build unix

package main

import "syscall"

// killGroup SIGKILLs the process group a test's child leads.
func killGroup(pgid int) error { return syscall.Kill(-pgid, syscall.SIGKILL) }
