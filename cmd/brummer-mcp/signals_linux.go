package main

import (
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// unblockSignals re-executes the program with an empty signal mask if it
// was started with signals blocked: Go's threads keep the mask they were
// started with for every signal the runtime does not need, and a child
// inherits the mask of the thread that forks it. It returns only if no
// signal was blocked (or the exec failed).
func unblockSignals() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var blocked, none unix.Sigset_t
	if unix.PthreadSigmask(unix.SIG_SETMASK, nil, &blocked) != nil || blocked == none {
		return
	}
	if unix.PthreadSigmask(unix.SIG_SETMASK, &none, nil) != nil {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	_ = syscall.Exec(exe, os.Args, os.Environ())
}
