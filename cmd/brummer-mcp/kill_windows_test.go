package main

import (
	"os/exec"
	"strconv"
)

// killGroup kills the process tree of a test's child. The child's job
// object belongs to the supervisor; taskkill /T finds the tree by parent.
func killGroup(pid int) error {
	return exec.Command("taskkill", "/F", "/T", "/PID", strconv.Itoa(pid)).Run()
}
