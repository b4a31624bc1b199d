//go:build !linux

package procstate

// awaitExit cannot wait without reaping where there are no pidfds: it
// reports false at once, and cmd.Wait blocks a thread.
func awaitExit(int) bool { return false }
