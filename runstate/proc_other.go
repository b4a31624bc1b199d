//go:build !linux

package runstate

// Without /proc, start times are unknown (0): a leftover whose leader still
// runs is not killed, since its pid may belong to another process by now.
func startTime(int) uint64 { return 0 }

func cmdline(int) string { return "" }
