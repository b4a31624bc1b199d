//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// Children inherit two things about signals across exec that they did not
// ask for: dispositions set to "ignore" and the signal mask. A caught
// signal, in contrast, is reset to its default in the child. So the server
// catches, instead of ignoring, the signals it must survive, and never runs
// with signals blocked.

// catchSignals makes the server survive SIGPIPE (a client that closes our
// stderr must not kill us before the children are stopped) and, if it was
// started with SIGHUP ignored (nohup), SIGHUP, while its children get the
// default action of both: each is caught into a channel that is never read
// (a full channel drops the signal). SIGINT and SIGTERM are main's to catch.
func catchSignals() {
	sigs := []os.Signal{syscall.SIGPIPE}
	if signal.Ignored(syscall.SIGHUP) {
		sigs = append(sigs, syscall.SIGHUP)
	}
	signal.Notify(make(chan os.Signal, 1), sigs...)
}
