package pgroup

import "golang.org/x/sys/unix"

// Pin holds a process by a pidfd, so that one can tell later, exactly,
// whether it has been reaped: unlike its pid, a pidfd never comes to mean
// another process. A nil Pin is never unreaped.
type Pin struct{ fd int }

// PinProcess pins process pid if it is still the process that started at
// start; ok is false if it is gone or is another one.
func PinProcess(pid int, start uint64) (pin *Pin, ok bool) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, false
	}
	if p, err := Stat(pid); err != nil || p.Start != start {
		unix.Close(fd)
		return nil, false
	}
	return &Pin{fd: fd}, true
}

// Unreaped reports whether the pinned process has not been reaped yet: it
// runs, or it is a zombie, and its pid is still its own.
func (p *Pin) Unreaped() bool {
	return p != nil && unix.PidfdSendSignal(p.fd, 0, nil, 0) == nil
}

// Close releases the pidfd.
func (p *Pin) Close() {
	if p != nil {
		unix.Close(p.fd)
	}
}
