//go:build !linux

package pgroup

import (
	"errors"
	"fmt"
)

// RSS is unsupported without /proc.
func RSS(pid int) (uint64, error) {
	return 0, fmt.Errorf("memory of process %d: %w", pid, errors.ErrUnsupported)
}
