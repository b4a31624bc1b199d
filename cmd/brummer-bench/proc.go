package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
)

// This file reads what Linux knows about a server: memory and threads
// (/proc/PID/status, which only the bench reads) and CPU time.

// memInfo is a process's resident memory, in bytes, and its thread count.
type memInfo struct {
	RSS     int64 // VmRSS: resident now
	HWM     int64 // VmHWM: peak resident since the process started
	Threads int64
}

func readMem(pid int) (memInfo, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memInfo{}, err
	}
	return parseStatusMem(b)
}

// parseStatusMem reads VmRSS and VmHWM ("VmRSS:   12345 kB") and Threads
// from the text of /proc/PID/status.
func parseStatusMem(status []byte) (memInfo, error) {
	var m memInfo
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), ":")
		var dst *int64
		switch key {
		case "Threads":
			m.Threads, _ = strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			continue
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.HWM
		default:
			continue
		}
		kb, ok := strings.CutSuffix(strings.TrimSpace(val), " kB")
		n, err := strconv.ParseInt(strings.TrimSpace(kb), 10, 64)
		if !ok || err != nil {
			return m, fmt.Errorf("%s: unexpected value %q", key, val)
		}
		*dst = n << 10
		found++
	}
	if found != 2 {
		return m, errors.New("VmRSS or VmHWM missing from /proc status")
	}
	return m, nil
}

// cpuTime is the CPU time all live threads of pid have used, in
// nanoseconds from /proc/PID/task/*/schedstat; without schedstat, utime +
// stime, which count in 10 ms ticks.
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
		if f := strings.Fields(string(b)); len(f) > 0 {
			ns, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("schedstat: %w", err)
			}
			total += time.Duration(ns)
		}
	}
	if total > 0 {
		return total, nil
	}
	p, err := pgroup.Stat(pid)
	return p.CPU(), err
}

// sweep SIGKILLs every process but this one whose environment holds marker
// (the KEY=value entry every server and helper of this run gets) and
// returns their pids. It is the last line of defence: the servers stop
// their children themselves, and the bench's children die with it.
func sweep(marker string) []int {
	var killed []int
	_ = pgroup.Scan(func(p pgroup.Proc) bool {
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", p.Pid))
		if p.Pid == os.Getpid() || err != nil || !hasEnvEntry(env, []byte(marker)) {
			return true
		}
		if proc, err := os.FindProcess(p.Pid); err == nil && proc.Kill() == nil {
			killed = append(killed, p.Pid)
		}
		return true
	})
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
