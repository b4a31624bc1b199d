package crashguard

import (
	"bufio"
	"io"
	"os/exec"
	"sync"

	"github.com/rs/zerolog"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
)

// EnvMode is the environment variable that puts the binary in watchdog
// mode: main calls [RunWatchdog] when it is "1".
const EnvMode = "BRUMMER_GUARD_MODE"

// maxLine bounds one message; a Ref with a few thousand members fits.
const maxLine = 4 << 20

// watchdog is the server's end of the watchdog process.
type watchdog struct {
	mu     sync.Mutex
	w      io.WriteCloser // guarded by mu; nil once closed
	broken bool           // guarded by mu: the watchdog is gone
	cmd    *exec.Cmd
	waited chan struct{} // closed when the watchdog process has been reaped
	log    zerolog.Logger
}

func (d *watchdog) send(msg []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.broken || d.w == nil {
		return
	}
	if _, err := d.w.Write(msg); err != nil {
		d.broken = true
		d.log.Warn().Err(err).Msg("watchdog unreachable")
	}
}

// close says goodbye, so the watchdog exits without killing anything, and
// waits for it. Call it after the server has stopped its children.
func (d *watchdog) close() {
	d.mu.Lock()
	if d.w != nil {
		if !d.broken {
			_, _ = io.WriteString(d.w, byeLine+"\n")
		}
		_ = d.w.Close()
		d.w = nil
	}
	d.mu.Unlock()
	<-d.waited
}

// reapWatchdog waits for the watchdog process and logs an early death.
func (d *watchdog) reap() {
	defer close(d.waited)
	err := d.cmd.Wait()
	d.mu.Lock()
	clean := d.w == nil
	d.broken = true
	d.mu.Unlock()
	if !clean {
		d.log.Warn().Err(err).Msg("watchdog exited early; children are no longer protected against a crash of the server")
	}
}

// group is what the watchdog knows of one group: its record and, pinned
// when it was first told of the group, its leader (see pgroup.Pin): at the
// end, whether the leader is still unreaped then tells exactly whether the
// group id is still ours.
type group struct {
	ref pgroup.Ref
	pin *pgroup.Pin
}

// readGroups applies the messages from in until "bye" or the end, and
// returns the groups recorded then. Bad lines are skipped.
func readGroups(in io.Reader) (map[key]group, bool) {
	groups := map[key]group{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		op, r, bye, err := parseLine(sc.Bytes())
		switch {
		case bye:
			return groups, true
		case err != nil:
			continue
		case op == opAdd:
			g, known := groups[keyOf(r)]
			if !known && r.Reaped == 0 {
				// The server tells of a group right after the spawn, and
				// of the reap before it: its leader is still ours to pin.
				g.pin, _ = pgroup.PinProcess(r.Pgid, r.Start)
			}
			g.ref = r
			groups[keyOf(r)] = g
		case op == opRemove:
			groups[keyOf(r)].pin.Close()
			delete(groups, keyOf(r))
		}
	}
	return groups, false
}
