package crashguard

import (
	"bufio"
	"io"
	"os/exec"
	"sync"
	"time"

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
	// later holds the messages that may wait (see sendLater), guarded by
	// mu; flush writes them laterDelay after the first of them, unless a
	// send took them along first.
	later  []byte
	flush  *time.Timer // guarded by mu; nil until the first sendLater
	cmd    *exec.Cmd
	waited chan struct{} // closed when the watchdog process has been reaped
	log    zerolog.Logger
}

// laterDelay bounds how long a message given to sendLater waits.
const laterDelay = 50 * time.Millisecond

// send writes msg, after the messages that were waiting, in one write.
// It returns once the pipe holds them: a message sent before the server
// dies is read by the watchdog.
func (d *watchdog) send(msg []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.later) > 0 {
		msg = append(d.later, msg...)
		d.later = nil
		d.flush.Stop()
	}
	d.writeLocked(msg)
}

// sendLater queues msg to go out with the next send, or laterDelay from
// now at the latest. Each write wakes the watchdog, which costs as much as
// the rest of a start here; a message that loses nothing by waiting (a
// removal: see Guard.Remove) rides along with the next one instead.
func (d *watchdog) sendLater(msg []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.broken || d.w == nil {
		return
	}
	if len(d.later) == 0 {
		if d.flush == nil {
			d.flush = time.AfterFunc(laterDelay, d.flushLater)
		} else {
			d.flush.Reset(laterDelay)
		}
	}
	d.later = append(d.later, msg...)
}

// flushLater writes the messages that were waiting, if a send has not.
func (d *watchdog) flushLater() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.later) > 0 {
		msg := d.later
		d.later = nil
		d.writeLocked(msg)
	}
}

func (d *watchdog) writeLocked(msg []byte) {
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
	if d.flush != nil {
		d.flush.Stop() // a flush already under way finds the pipe closed
	}
	if d.w != nil {
		d.writeLocked(append(d.later, byeLine+"\n"...))
		d.later = nil
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
