//go:build unix

package pgroup

import (
	"errors"
	"syscall"
)

// same reports whether the process with p's pid is still p, in p's group.
func same(p Proc) bool {
	cur, err := Stat(p.Pid)
	return err == nil && cur.Start == p.Start && cur.Pgrp == p.Pgrp
}

// sent turns the result of a kill into (delivered, error): a process that
// is gone by now was not signalled, and that is no error.
func sent(err error) (bool, error) {
	if errors.Is(err, syscall.ESRCH) {
		return false, nil
	}
	return err == nil, err
}
