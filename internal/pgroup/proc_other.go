//go:build !linux && !darwin

package pgroup

import (
	"errors"
	"fmt"
)

// Stat is unsupported without /proc.
func Stat(pid int) (Proc, error) {
	return Proc{}, fmt.Errorf("stat of process %d: %w", pid, errors.ErrUnsupported)
}

// Scan is unsupported without /proc.
func Scan(func(Proc) bool) error {
	return fmt.Errorf("process scan: %w", errors.ErrUnsupported)
}

// Now is 0 without /proc: no start time can be compared with it.
func Now() uint64 { return 0 }

// Cmdline is "" without /proc.
func Cmdline(int) string { return "" }
