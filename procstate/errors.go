package procstate

import "errors"

// Sentinel errors, wrapped with detail by the functions that return them.
// Match them with errors.Is.
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
