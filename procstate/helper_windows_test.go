package procstate

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
)

// selfKill cannot work on Windows: a process cannot die of a signal there.
func selfKill(string) error { return errors.New("mode selfkill: Windows has no signals") }

// ignoreStop makes the helper survive the CTRL_BREAK_EVENT a stop sends
// first. Go reports it as os.Interrupt; an ignored signal would leave it to
// the default handler, which exits, so it is caught and dropped instead.
func ignoreStop() { signal.Notify(make(chan os.Signal, 1), os.Interrupt) }

// detach is not offered on Windows: a job object holds the whole tree.
func detach(*exec.Cmd) error { return errors.New("mode daemon: not on Windows") }
