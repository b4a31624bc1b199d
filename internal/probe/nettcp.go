package probe

import (
	"bytes"
	"strconv"
)

// tcpListen is the state code of a listening socket in /proc/net/tcp.
const tcpListen = "0A"

// ParseListeners parses the text of /proc/net/tcp or /proc/net/tcp6 and
// adds the listening sockets to ports, by inode. Malformed lines are
// skipped.
//
//	sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
//	 0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41953 ...
func ParseListeners(text []byte, ports map[uint64]int) {
	for line := range bytes.Lines(text) {
		f := bytes.Fields(line)
		if len(f) < 10 || string(f[3]) != tcpListen {
			continue
		}
		local := f[1]
		i := bytes.LastIndexByte(local, ':')
		if i < 0 {
			continue
		}
		port, err := strconv.ParseUint(string(local[i+1:]), 16, 16)
		if err != nil || port == 0 {
			continue
		}
		inode, err := strconv.ParseUint(string(f[9]), 10, 64)
		if err != nil || inode == 0 {
			continue
		}
		ports[inode] = int(port)
	}
}

// socketInode returns the inode of a link target "socket:[12345]".
func socketInode(target string) (uint64, bool) {
	s, ok := cutAround(target, "socket:[", "]")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

func cutAround(s, prefix, suffix string) (string, bool) {
	if len(s) < len(prefix)+len(suffix) || s[:len(prefix)] != prefix || s[len(s)-len(suffix):] != suffix {
		return "", false
	}
	return s[len(prefix) : len(s)-len(suffix)], true
}
