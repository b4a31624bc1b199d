package probe

import (
	"os"
	"slices"
	"strconv"
)

// Listening returns the TCP ports, sorted, on which any of pids holds a
// listening socket (IPv4 or IPv6). The sockets are matched by inode: the
// listening ones of /proc/PID/net/tcp{,6}, in the network namespace of
// the first pid, against the descriptors in /proc/PID/fd.
func Listening(pids []int) ([]int, error) {
	if len(pids) == 0 {
		return nil, nil
	}
	listeners := make(map[uint64]int)
	base := "/proc/" + strconv.Itoa(pids[0]) + "/net/"
	for _, f := range [...]string{"tcp", "tcp6"} {
		b, err := os.ReadFile(base + f)
		if err != nil {
			if os.IsNotExist(err) {
				continue // no IPv6, or the process is gone
			}
			return nil, err
		}
		ParseListeners(b, listeners)
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
