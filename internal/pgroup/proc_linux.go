package pgroup

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Stat reads /proc/PID/stat.
func Stat(pid int) (Proc, error) {
	var buf [512]byte
	p, ok, err := readStat(strconv.Itoa(pid), buf[:])
	if err != nil {
		return Proc{}, err
	}
	if !ok {
		return Proc{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return p, nil
}

func readStat(pid string, buf []byte) (Proc, bool, error) {
	f, err := os.Open("/proc/" + pid + "/stat")
	if err != nil {
		return Proc{}, false, err
	}
	n, err := f.Read(buf)
	f.Close()
	if err != nil {
		return Proc{}, false, err
	}
	p, ok := ParseStat(buf[:n])
	return p, ok, nil
}

// Scan calls fn for every process in /proc until fn returns false.
// Processes that exit during the scan are skipped.
func Scan(fn func(Proc) bool) error {
	d, err := os.Open("/proc")
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return err
	}
	buf := make([]byte, 512)
	for _, n := range names {
		if n[0] < '0' || n[0] > '9' {
			continue
		}
		p, ok, err := readStat(n, buf)
		if err != nil || !ok {
			continue // exited meanwhile
		}
		if !fn(p) {
			return nil
		}
	}
	return nil
}

// Now is the current time in the unit of [Proc.Start]: ticks since boot,
// rounded down, on the clock the kernel stamps start times with.
func Now() uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0
	}
	return uint64(ts.Nano()) / (1e9 / TicksPerSecond)
}

// Cmdline is a process's command line, arguments separated by spaces; ""
// if it cannot be read.
func Cmdline(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return ""
	}
	return strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " ")
}
