package procstate

import "syscall"

// signalNames are the stops Windows can do: TERM and INT both send
// CTRL_BREAK_EVENT (CTRL_C_EVENT cannot be aimed at one process group),
// KILL terminates the job.
var signalNames = []string{"TERM", "INT", "KILL"}

var stopSignals = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "KILL": syscall.SIGKILL,
}
