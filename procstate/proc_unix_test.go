//go:build linux || darwin

package procstate

import "github.com/brummer-mcp/brummer-mcp/internal/pgroup"

// procState reads the state letter and process group of pid; ok is false
// when the process does not exist.
func procState(pid int) (state byte, pgrp int, ok bool) {
	p, err := pgroup.Stat(pid)
	if err != nil {
		return 0, 0, false
	}
	return p.State, p.Pgrp, true
}
