//go:build unix && !linux

package main

import "syscall"

// childAttr puts a child in its own process group. The bench needs Linux
// (/proc) to measure anything; main refuses to run elsewhere.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
