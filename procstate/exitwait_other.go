//go:build !linux

package procstate

// awaitExit is a no-op where there are no pidfds: cmd.Wait blocks a thread.
func awaitExit(int) {}
