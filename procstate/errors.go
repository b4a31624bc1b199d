package procstate

import (
	"errors"
	"fmt"
	"io/fs"
)

// Sentinel errors, wrapped with detail by the functions that return them.
// Match them with errors.Is; the typed errors below carry the detail as
// values, for errors.As.
var (
	// ErrUnknown: no process has that name.
	ErrUnknown = errors.New("unknown process")
	// ErrNameInUse: a live process already has that name.
	ErrNameInUse = errors.New("name in use by a live process")
	// ErrLimit: the live-process limit is reached.
	ErrLimit = errors.New("process limit reached")
	// ErrBadSpec: the Spec is malformed (both or neither of Argv and
	// Command, a bad name, a bad environment entry).
	ErrBadSpec = errors.New("invalid process spec")
	// ErrBadCwd: the working directory does not exist or is not a directory.
	ErrBadCwd = errors.New("invalid working directory")
	// ErrSpawn: the process could not be started (program not found, not
	// executable, ...). The process stays listed with status failed.
	ErrSpawn = errors.New("cannot start process")
	// ErrClosed: the supervisor is shutting down.
	ErrClosed = errors.New("supervisor is closed")
)

// NameInUseError is Start's error when a live process has the name. It
// matches ErrNameInUse.
type NameInUseError struct {
	// Record is the live process's record at the time of the refusal.
	Record *Record
}

func (e *NameInUseError) Error() string {
	return fmt.Sprintf("%v: %q is %s (pid %d)", ErrNameInUse, e.Record.Name, e.Record.Status, e.Record.Pid)
}

func (e *NameInUseError) Unwrap() error { return ErrNameInUse }

// CwdError is the error for a working directory that cannot be used. It
// matches ErrBadCwd.
type CwdError struct {
	// Dir is the directory, made absolute.
	Dir string
	// Err says why: fs.ErrNotExist, ErrNotDir, or the error of the stat.
	Err error
}

// ErrNotDir is a CwdError's Err for a path that is not a directory.
var ErrNotDir = errors.New("is not a directory")

func (e *CwdError) Error() string { return ErrBadCwd.Error() + ": " + e.Detail() }

// Detail says what is wrong with the directory, without the sentinel's
// words: `"/x" does not exist`.
func (e *CwdError) Detail() string {
	switch {
	case errors.Is(e.Err, fs.ErrNotExist):
		return fmt.Sprintf("%q does not exist", e.Dir)
	case errors.Is(e.Err, ErrNotDir):
		return fmt.Sprintf("%q is not a directory", e.Dir)
	}
	return e.Err.Error()
}

func (e *CwdError) Unwrap() []error { return []error{ErrBadCwd, e.Err} }

// SpawnError is Start's error when the program could not be started. The
// process stays listed with status failed. It matches ErrSpawn.
type SpawnError struct {
	// Err is the cause: program not found, not executable, ...
	Err error
}

func (e *SpawnError) Error() string { return ErrSpawn.Error() + ": " + e.Err.Error() }

func (e *SpawnError) Unwrap() []error { return []error{ErrSpawn, e.Err} }
