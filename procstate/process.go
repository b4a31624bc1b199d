package procstate

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/brummer-mcp/brummer-mcp/logring"
)

// Process is one supervised process: its current Record, published
// atomically, and its log Ring. A Process value stays valid after the
// process exits and after it is removed from the supervisor.
type Process struct {
	name string
	rec  atomic.Pointer[Record]
	log  *logring.Ring
	sup  *Supervisor

	// mu serialises writers of rec and guards the fields below. Readers of
	// rec never take it.
	mu       sync.Mutex
	cmd      *exec.Cmd     // set once spawned; Wait is called only by the waiter
	pgid     int           // process group id (the leader's pid), 0 if never spawned
	grp      *group        // set once spawned, with pgid; nil if never spawned
	stopDone chan struct{} // non-nil once a stop sequence runs; closed when it ends

	killed        atomic.Bool   // the stop sequence had to SIGKILL
	groupDoneOnce atomic.Bool   // groupDone ran: the group is gone (or killed) and never signalled again
	exited        chan struct{} // closed when Wait has returned (the leader is gone)
	done          chan struct{} // closed when the exit is published and the pipes are drained
}

// Name returns the process's name.
func (p *Process) Name() string { return p.name }

// Record returns the current immutable record. It never blocks.
func (p *Process) Record() *Record { return p.rec.Load() }

// Log returns the process's output ring.
func (p *Process) Log() *logring.Ring { return p.log }

// Done returns a channel closed once the process has exited (or failed to
// start), its exit has been published and its output has been drained.
func (p *Process) Done() <-chan struct{} { return p.done }

// update publishes a copy of the current record changed by fn. It is the
// only way a record changes. p.mu must be held.
func (p *Process) updateLocked(fn func(r *Record)) *Record {
	old := p.rec.Load()
	next := *old
	fn(&next)
	next.Version = p.sup.version.Add(1)
	next.changed = make(chan struct{})
	p.rec.Store(&next)
	close(old.changed)
	return &next
}

func (p *Process) update(fn func(r *Record)) *Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.updateLocked(fn)
}

// wait is the process's waiter goroutine, the only caller of cmd.Wait. It
// records the exit only after the output pipes are drained (or waitDelay
// has passed since the exit and the pipes were closed), so that no line
// printed before the exit is missing when the exit is seen.
//
// Where the exit can be seen without reaping (Linux pidfds), the pipes are
// drained before the reap: meanwhile the leader is a zombie that holds its
// pid, so the group id cannot be reused and a stop may still signal the
// group as a whole. If the pipes were still held when the drain ended,
// members outlived the leader: the reap records them first.
func (p *Process) wait(cmd *exec.Cmd, pipes [2]*os.File, readersDone <-chan struct{}, waitDelay time.Duration) {
	var err error
	var report func(GroupRef) // the crash insurance learns of the reap first
	if w := p.sup.cfg.Groups; w != nil {
		report = w.Add
	}
	if awaitExit(cmd.Process.Pid) {
		held := !drain(pipes, readersDone, waitDelay)
		p.grp.reap(held, report, func() { err = cmd.Wait() })
	} else {
		err = cmd.Wait()
		p.grp.reap(false, report, func() {})
		drain(pipes, readersDone, waitDelay)
	}
	p.sup.reap.waited(cmd.Process.Pid, p)
	close(p.exited)

	code, sig, errText := exitOf(cmd, err, p.grp)
	p.update(func(r *Record) {
		r.Status = StatusExited
		r.EndedAt = time.Now()
		r.ExitCode = code
		r.Signal = sig
		r.Error = errText
	})
	p.sup.exited(p)
	if p.grp.alive() {
		p.sup.deferGroup(p)
	} else {
		p.groupDone()
	}
	close(p.done)
}

// drain waits until both pipe readers are done, or waitDelay has passed;
// then it closes the pipes, so that a descendant holding them open does
// not keep the readers forever, and waits for the readers. It reports
// whether the readers were done in time.
func drain(pipes [2]*os.File, readersDone <-chan struct{}, waitDelay time.Duration) bool {
	t := time.NewTimer(waitDelay)
	defer t.Stop()
	select {
	case <-readersDone:
		return true
	case <-t.C:
		pipes[0].Close()
		pipes[1].Close()
		<-readersDone
		return false
	}
}

// groupDone reports the process group as gone for good (or SIGKILLed),
// once, and releases it. From then on it is never signalled again: its id
// may be someone else's.
func (p *Process) groupDone() {
	if p.grp == nil || !p.groupDoneOnce.CompareAndSwap(false, true) {
		return
	}
	p.sup.undeferGroup(p)
	ref := p.grp.ref()
	p.grp.release()
	if w := p.sup.cfg.Groups; w != nil {
		w.Remove(ref)
	}
}

// stop runs or joins the stop sequence and waits for it, or for ctx.
func (p *Process) stop(ctx context.Context, sig syscall.Signal, grace time.Duration) (StopResult, error) {
	// A registered process is spawned right after; wait for the outcome
	// (running or failed) rather than signal a group that does not exist yet.
	p.mu.Lock()
	rec := p.rec.Load()
	for rec.Status == StatusStarting {
		p.mu.Unlock()
		select {
		case <-rec.Changed():
		case <-ctx.Done():
			return StopResult{Process: p, Record: p.Record()}, ctx.Err()
		}
		p.mu.Lock()
		rec = p.rec.Load()
	}
	if !rec.Status.Live() {
		p.mu.Unlock()
		p.killLeftovers(true)
		return StopResult{Process: p, Record: rec, AlreadyStopped: true}, nil
	}
	done := p.stopDone
	if done == nil {
		done = make(chan struct{})
		p.stopDone = done
		p.updateLocked(func(r *Record) { r.Status = StatusStopping })
		pgid, grp := p.pgid, p.grp
		p.sup.wg.Go(func() { p.stopSequence(pgid, grp, sig, grace, done) })
	}
	p.mu.Unlock()

	select {
	case <-done:
		return StopResult{Process: p, Record: p.Record(), Killed: p.killed.Load()}, nil
	case <-ctx.Done():
		return StopResult{Process: p, Record: p.Record()}, ctx.Err()
	}
}

// stopSequence signals the group, waits for the leader and then the rest of
// the group to be gone, SIGKILLs whatever is left after grace, and waits
// until the exit is published.
func (p *Process) stopSequence(pgid int, grp *group, sig syscall.Signal, grace time.Duration, done chan struct{}) {
	defer close(done)
	log := p.sup.log.With().Str("process", p.name).Int("pgid", pgid).Logger()
	if err := grp.signal(sig); err != nil {
		log.Warn().Err(err).Msg("signal group")
	}
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	if sig != syscall.SIGKILL && p.awaitGroup(grp, deadline.C) {
		<-p.done
		p.groupDone()
		return
	}
	p.killed.Store(sig != syscall.SIGKILL)
	if err := grp.signal(syscall.SIGKILL); err != nil {
		log.Warn().Err(err).Msg("kill group")
	}
	<-p.done
	// SIGKILL is delivered asynchronously: the leader is gone, but the rest
	// of the group may still be running for a moment. Wait for it (bounded)
	// so that a restart finds the ports and files of the old group free.
	killDeadline := time.NewTimer(killWait)
	defer killDeadline.Stop()
	if !p.awaitGroup(grp, killDeadline.C) {
		log.Warn().Msg("process group still running after SIGKILL")
		return
	}
	p.groupDone()
}

// killWait bounds how long a stop waits for the group to vanish after
// SIGKILL; only a process stuck in the kernel takes that long.
const killWait = 2 * time.Second

// awaitGroup waits until the leader has exited and no member of its group
// is left running, and reports whether that happened before deadline. There
// is no event for "group empty", so after the leader's exit it polls with a
// backoff of up to 20ms.
func (p *Process) awaitGroup(grp *group, deadline <-chan time.Time) bool {
	select {
	case <-p.exited:
	case <-deadline:
		return false
	}
	backoff := time.Millisecond
	for grp.alive() {
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-deadline:
			t.Stop()
			return !grp.alive()
		}
		backoff = min(2*backoff, 20*time.Millisecond)
	}
	return true
}

// killLeftovers SIGKILLs what is left of an exited process's group:
// descendants that outlived it and that are provably ours (see
// pgroup.Group). It is a no-op when the group is empty or was already seen
// gone. With wait, it also waits (up to killWait) until the group is gone,
// as a stop does after SIGKILL: the signal is delivered asynchronously.
func (p *Process) killLeftovers(wait bool) {
	select {
	case <-p.exited:
	default:
		return // still running: leftovers are a stop's business
	}
	if p.grp == nil || p.groupDoneOnce.Load() {
		return
	}
	if p.grp.alive() {
		_ = p.grp.signal(syscall.SIGKILL)
		if wait {
			deadline := time.NewTimer(killWait)
			if !p.awaitGroup(p.grp, deadline.C) {
				p.sup.log.Warn().Str("process", p.name).Int("pgid", p.pgid).Msg("process group still running after SIGKILL")
			}
			deadline.Stop()
		}
	}
	p.groupDone()
}
