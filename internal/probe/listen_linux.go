package probe

import (
	"os"
	"slices"
	"strconv"
)

// Listening returns the TCP ports, sorted, on which any of pids holds a
// listening socket (IPv4 or IPv6). The sockets are matched by inode: the
// listening ones of /proc/PID/net/tcp{,6}, in the network namespace of
// the first of pids still there, against the descriptors in /proc/PID/fd.
func Listening(pids []int) ([]int, error) {
	listeners := make(map[uint64]int)
	var failed error // of a pid that is there but could not be read
	for _, pid := range pids {
		err := readListeners(pid, listeners)
		if err == nil {
			failed = nil
			break
		}
		if !os.IsNotExist(err) {
			failed = err
		}
	}
	if failed != nil {
		return nil, failed
	}
	if len(listeners) == 0 {
		return nil, nil
	}
	var ports []int
	for _, pid := range pids {
		dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
		d, err := os.Open(dir)
		if err != nil {
			continue // gone, or not ours to read
		}
		names, _ := d.Readdirnames(-1)
		d.Close()
		for _, n := range names {
			target, err := os.Readlink(dir + n)
			if err != nil {
				continue
			}
			if ino, ok := socketInode(target); ok {
				if port, ok := listeners[ino]; ok && !slices.Contains(ports, port) {
					ports = append(ports, port)
				}
			}
		}
	}
	slices.Sort(ports)
	return ports, nil
}

// ListenSupported says whether Listening works on this platform.
const ListenSupported = true

// readListeners adds the listening sockets of pid's network namespace to
// listeners. The error matches fs.ErrNotExist if pid is gone.
func readListeners(pid int, listeners map[uint64]int) error {
	base := "/proc/" + strconv.Itoa(pid) + "/net/"
	b, err := os.ReadFile(base + "tcp")
	if err != nil {
		return err
	}
	ParseListeners(b, listeners)
	b, err = os.ReadFile(base + "tcp6")
	switch {
	case os.IsNotExist(err):
		return nil // no IPv6
	case err != nil:
		return err
	}
	ParseListeners(b, listeners)
	return nil
}
