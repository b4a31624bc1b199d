package crashguard

import (
	"errors"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
)

// Config says which lines of defence a Guard runs. The zero value of a
// field turns its line off.
type Config struct {
	// Exe is the server's own binary, re-executed as the watchdog.
	Exe string
	// StateDir is where the state file is kept (see [DefaultDir]).
	StateDir string
}

// Guard is told of every process group the server creates
// (procstate.GroupWatcher) and keeps the watchdog and the state file up to
// date.
type Guard struct {
	dog  *watchdog // nil if not running
	file *File     // nil if not kept
}

// Start starts the watchdog and opens the state file, as cfg asks. A line
// that cannot be set up is logged and left out; the error says that none
// could (and wraps errors.ErrUnsupported on Windows).
func Start(cfg Config, log zerolog.Logger) (*Guard, error) {
	log = log.With().Str("component", "crashguard").Logger()
	g := &Guard{}
	var errs []error
	if cfg.Exe != "" {
		d, err := startWatchdog(cfg.Exe, log)
		if errors.Is(err, errors.ErrUnsupported) {
			return nil, err
		}
		if err != nil {
			errs = append(errs, err)
			log.Warn().Err(err).Msg("no watchdog; a crash of the server could leave processes behind until the next start")
		}
		g.dog = d
	}
	if cfg.StateDir != "" {
		f, err := OpenFile(cfg.StateDir, log)
		if err != nil {
			errs = append(errs, err)
			log.Warn().Err(err).Msg("no state file; a crash that also kills the watchdog could leave processes behind")
		}
		g.file = f
	}
	if g.dog == nil && g.file == nil {
		return nil, fmt.Errorf("crash guard: %w", errors.Join(append(errs, errors.New("nothing configured"))...))
	}
	return g, nil
}

// Add records a group, or updates its record.
func (g *Guard) Add(r pgroup.Ref) {
	if g.dog != nil {
		g.dog.send(encode(opAdd, r))
	}
	if g.file != nil {
		g.file.Add(r)
	}
}

// Remove forgets a group. The watchdog may learn of it up to laterDelay
// later, together with the next change: a record that outlives its group
// is harmless, since the leader it names has been reported reaped (Add
// with Reaped set, which is sent at once), so that only members proven to
// be ours could be killed by it.
func (g *Guard) Remove(r pgroup.Ref) {
	if g.dog != nil {
		g.dog.sendLater(encode(opRemove, pgroup.Ref{Pgid: r.Pgid, Start: r.Start}))
	}
	if g.file != nil {
		g.file.Remove(r)
	}
}

// WatchdogPid is the watchdog process's pid, 0 if none runs: a child of
// the server that the supervisor must leave alone.
func (g *Guard) WatchdogPid() int {
	if g.dog == nil {
		return 0
	}
	return g.dog.cmd.Process.Pid
}

// Close ends the guard after a clean shutdown, once the server has stopped
// its children: the watchdog exits without killing, the state file is
// removed.
func (g *Guard) Close() error {
	if g.dog != nil {
		g.dog.close()
	}
	if g.file != nil {
		return g.file.Close()
	}
	return nil
}
