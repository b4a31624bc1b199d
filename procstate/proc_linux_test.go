package procstate

import (
	"os"
	"strconv"
)

// procState reads the state letter and process group of pid from
// /proc/<pid>/stat; ok is false when the process does not exist.
func procState(pid int) (state byte, pgrp int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	return parseStat(b)
}
