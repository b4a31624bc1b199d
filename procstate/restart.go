package procstate

import (
	"errors"
	"fmt"
	"time"
)

// errRestartCancelled: a stop ended the backoff before the restart began.
var errRestartCancelled = errors.New("restart cancelled")

// Restart policy timing: the first restart waits firstBackoff, each next
// one twice as long, up to maxBackoff; a run that lasted stableRun resets
// the count.
const (
	firstBackoff       = 500 * time.Millisecond
	maxBackoff         = 30 * time.Second
	stableRun          = 60 * time.Second
	defaultMaxRestarts = 10
)

// restartLoop is where a name's restarts stand: how many restarts since the
// last stable run, and when that streak began. It passes from a run to the
// next; guarded by the Process's mu.
type restartLoop struct {
	count int
	since time.Time
	stop  func() bool // cancels the pending restart; nil if none
}

// backoff is the wait before restart number n (0-based) of a streak.
func backoff(n int) time.Duration {
	d := firstBackoff
	for range n {
		if d *= 2; d >= maxBackoff {
			return maxBackoff
		}
	}
	return d
}

// exitPlan is what follows a run's end.
type exitPlan struct {
	status Status
	after  time.Duration // with backoff: the wait
	note   string        // what follows, for the exit note; "" for nothing
	reason string        // with failed: why it gave up
}

// planExitLocked decides what follows the end of p's run at ended, with exit
// code and signal, and records the restart streak. p.mu must be held.
func (s *Supervisor) planExitLocked(p *Process, rec *Record, code int, sig string, ended time.Time) exitPlan {
	policy := p.spec.Restart
	failed := code != 0 || sig != ""
	switch {
	case p.stopDone != nil, // stopped on purpose
		policy == "", policy == RestartNever,
		policy == RestartOnFailure && !failed:
		return exitPlan{status: StatusExited}
	}
	loop := &p.loop
	if ended.Sub(rec.StartedAt) >= stableRun || loop.count == 0 {
		loop.count, loop.since = 0, rec.StartedAt
	}
	limit := p.spec.MaxRestarts
	if limit == 0 {
		limit = defaultMaxRestarts
	}
	if loop.count >= limit {
		how := fmt.Sprintf("exited with code %d", code)
		if sig != "" {
			how = "was killed by " + sig
		}
		reason := fmt.Sprintf("crash loop: %s %d times in %s", how, loop.count+1, RunTime(ended.Sub(loop.since)))
		return exitPlan{status: StatusFailed, reason: reason, note: "giving up: " + reason}
	}
	d := backoff(loop.count)
	loop.count++
	return exitPlan{status: StatusBackoff, after: d, note: fmt.Sprintf("restarting in %s (%d of %d)", RunTime(d), loop.count, limit)}
}

// scheduleLocked starts the backoff's timer: the next run starts when it
// fires, unless a stop cancelled it. p.mu must be held.
func (s *Supervisor) scheduleLocked(p *Process, after time.Duration) {
	p.loop.stop = s.cfg.Clock.AfterFunc(after, func() { s.restartAfterBackoff(p) })
}

// restartAfterBackoff starts p's next run, if p is still in backoff.
func (s *Supervisor) restartAfterBackoff(p *Process) {
	p.mu.Lock()
	if p.Record().Status != StatusBackoff {
		p.mu.Unlock()
		return // a stop came first
	}
	loop := p.loop
	loop.stop = nil
	p.mu.Unlock()
	next, err := s.start(p.spec, p, loop)
	if errors.Is(err, errRestartCancelled) {
		return
	}
	if err != nil && next == nil {
		// Shutting down, or the limit of live processes: it stays exited.
		p.update(func(r *Record) {
			r.Status, r.NextRestartAt = StatusExited, time.Time{}
			r.Error = "restart: " + err.Error()
		})
		p.note("restart failed: %v", err)
	}
}

// cancelRestartLocked ends p's backoff: it stays exited. p.mu must be
// held; it reports whether p was in backoff.
func (s *Supervisor) cancelRestartLocked(p *Process) bool {
	if p.rec.Load().Status != StatusBackoff {
		return false
	}
	if p.loop.stop != nil {
		p.loop.stop()
		p.loop.stop = nil
	}
	p.updateLocked(func(r *Record) { r.Status, r.NextRestartAt = StatusExited, time.Time{} })
	return true
}
