//go:build unix && !linux

package procstate

// niceFromPriority converts what getpriority(2) returns into a nice value:
// outside Linux it is the nice value itself.
func niceFromPriority(prio int) int { return prio }
