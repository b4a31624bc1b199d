package procstate

// niceFromPriority converts what getpriority(2) returns into a nice value:
// the Linux system call returns 20-nice, so that it is never negative.
func niceFromPriority(prio int) int { return 20 - prio }
