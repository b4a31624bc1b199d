//go:build unix

package transport_test

import "syscall"

// killGroup SIGKILLs the process group a test's child leads.
func killGroup(pgid int) error { return syscall.Kill(-pgid, syscall.SIGKILL) }
