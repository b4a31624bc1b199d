//go:build unix && !linux

package procstate

import "syscall"

func setPdeathsig(*syscall.SysProcAttr) {}
