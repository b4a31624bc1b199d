package procstate

import (
	"slices"
	"strings"
	"syscall"
)

// SignalByName maps "TERM", "SIGTERM", "term" and so on to a signal that a
// stop may send first (see SignalNames). What a signal does to the process
// group depends on the platform: on Windows, TERM and INT are a
// CTRL_BREAK_EVENT and KILL terminates the job object.
func SignalByName(name string) (syscall.Signal, bool) {
	s, ok := stopSignals[normSignal(name)]
	return s, ok
}

// SignalNames lists the names SignalByName accepts on this platform, without
// "SIG", in a fixed order: for tool schemas and error messages.
func SignalNames() []string { return slices.Clone(signalNames) }

// normSignal turns "sigterm", "SIGTERM" and "term" into "TERM".
func normSignal(name string) string {
	name = strings.ToUpper(strings.TrimSpace(name))
	return strings.TrimPrefix(name, "SIG")
}
