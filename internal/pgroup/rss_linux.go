package pgroup

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// pageSize is the unit of /proc/PID/statm.
var pageSize = uint64(os.Getpagesize())

// RSS is the resident set size of process pid in bytes: its pages in
// memory (the second field of /proc/PID/statm, VmRSS), shared ones
// included.
func RSS(pid int) (uint64, error) {
	var buf [128]byte
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0, err
	}
	n, err := f.Read(buf[:])
	f.Close()
	if err != nil {
		return 0, err
	}
	pages, ok := parseStatm(buf[:n])
	if !ok {
		return 0, fmt.Errorf("/proc/%d/statm: unexpected format", pid)
	}
	return pages * pageSize, nil
}

// parseStatm returns the resident pages of the text of /proc/PID/statm:
// "size resident shared text lib data dt", in pages.
func parseStatm(b []byte) (resident uint64, ok bool) {
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, false
	}
	resident, err := strconv.ParseUint(string(f[1]), 10, 64)
	if err != nil {
		return 0, false
	}
	return resident, true
}
