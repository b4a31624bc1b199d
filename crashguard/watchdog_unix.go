//go:build unix

package crashguard

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
)

// startWatchdog launches exe in watchdog mode. It runs in a process group
// of its own, so that a terminal's Ctrl-C or a signal to the server's group
// does not reach it: it ends by its pipe.
func startWatchdog(exe string, log zerolog.Logger) (*watchdog, error) {
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), EnvMode+"=1")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	w, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("watchdog pipe: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	d := &watchdog{w: w, cmd: cmd, waited: make(chan struct{}), log: log}
	go d.reap()
	return d, nil
}

// RunWatchdog is the watchdog mode's main: it reads messages from in until
// "bye" (returns nil, kills nothing) or EOF (kills what is provably left of
// every recorded group). The signals a terminal or a process manager sends
// the server are ignored: only the pipe ends the watchdog.
func RunWatchdog(in io.Reader) error {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	groups, bye := readGroups(in)
	if bye {
		return nil
	}
	// EOF (or a read error) without "bye": the server is gone, and was
	// alive until just now. A leader it had not reported reaped was
	// unreaped until then.
	return killGroups(groups, pgroup.Now())
}

// killGroups kills what is provably ours in each group; alive is a tick
// at which the server was known to be alive.
func killGroups(groups map[key]group, alive uint64) error {
	var errs []error
	for _, g := range groups {
		o := g.ref.Owned(alive)
		o.Pin = g.pin
		if _, err := o.Kill(); err != nil {
			errs = append(errs, fmt.Errorf("kill group %d: %w", g.ref.Pgid, err))
		}
	}
	return errors.Join(errs...)
}
