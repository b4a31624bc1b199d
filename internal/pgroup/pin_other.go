//go:build !linux

package pgroup

// Pin would hold a process by a pidfd; there are none here, and a Pin is
// never unreaped (see the Linux file).
type Pin struct{}

// PinProcess cannot pin without pidfds.
func PinProcess(int, uint64) (*Pin, bool) { return nil, false }

// Unreaped is false: nothing is pinned.
func (p *Pin) Unreaped() bool { return false }

// Close does nothing.
func (p *Pin) Close() {}
