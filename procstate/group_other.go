//go:build unix && !linux

package procstate

// groupAlive reports whether any process of group pgid still exists.
// Without /proc, zombies count as alive.
func groupAlive(pgid int) bool { return pgid > 0 && groupExists(pgid) }
