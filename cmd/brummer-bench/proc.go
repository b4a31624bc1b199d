package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// This file reads what the kernel knows about a process: its memory, its CPU
// time, and whether it carries this run's marker. Linux only (/proc).

// memInfo is a process's resident memory, in bytes, and its thread count.
type memInfo struct {
	RSS     int64 // VmRSS: resident now
	HWM     int64 // VmHWM: peak resident since the process started
	Threads int64
}

// readMem reads VmRSS, VmHWM and Threads of pid from /proc/<pid>/status.
func readMem(pid int) (memInfo, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memInfo{}, err
	}
	return parseStatusMem(b)
}

// parseStatusMem extracts VmRSS and VmHWM ("VmRSS:   12345 kB"), and
// Threads, from the text of /proc/<pid>/status.
func parseStatusMem(status []byte) (memInfo, error) {
	var m memInfo
	var found int
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if ok && key == "Threads" {
			m.Threads, _ = strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			continue
		}
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("%s: unexpected value %q", key, val)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("%s: %w", key, err)
		}
		if key == "VmRSS" {
			m.RSS = kb << 10
		} else {
			m.HWM = kb << 10
		}
		found++
	}
	if found != 2 {
		return m, errors.New("VmRSS or VmHWM missing from /proc status")
	}
	return m, nil
}

// cpuTime is the CPU time all live threads of pid have used, from
// /proc/<pid>/task/*/schedstat (nanoseconds). If the kernel keeps no
// schedstat, it falls back to utime+stime of /proc/<pid>/stat, which counts
// in clock ticks (10 ms).
func cpuTime(pid int) (time.Duration, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // the thread ended
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("schedstat: %w", err)
		}
		total += time.Duration(ns)
	}
	if total > 0 {
		return total, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// clockTick is USER_HZ, the unit of utime and stime; 100 on Linux.
const clockTick = 10 * time.Millisecond

// parseStatCPU returns utime+stime from the text of /proc/<pid>/stat. The
// command name (field 2) may contain spaces and parentheses, so fields are
// counted from the last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(stat[i+1:]))
	// After the name: state(3) ... utime(14) stime(15), so indexes 11 and 12.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc stat times: %w", err)
	}
	return time.Duration(u+s) * clockTick, nil
}

// sweep SIGKILLs every process whose environment carries marker (the
// KEY=value entry given to every server and helper this run started), except
// this process. It is the last line of defence: the servers stop their
// children themselves, and every process started here dies with its parent
// (Pdeathsig). It returns the pids it killed.
func sweep(marker string) []int {
	self := os.Getpid()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var killed []int
	want := []byte(marker)
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile(d + "/environ")
		if err != nil {
			continue
		}
		if !hasEnvEntry(env, want) {
			continue
		}
		if killProcess(pid) == nil {
			killed = append(killed, pid)
		}
	}
	return killed
}

// hasEnvEntry reports whether the NUL-separated environment block env holds
// exactly the entry want.
func hasEnvEntry(env, want []byte) bool {
	for e := range bytes.SplitSeq(env, []byte{0}) {
		if bytes.Equal(e, want) {
			return true
		}
	}
	return false
}
