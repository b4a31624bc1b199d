package procstate

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
	"github.com/brummer-mcp/brummer-mcp/logring"
)

// The life of a child, from the supervisor's side: spawn, the waiter that
// reaps it and publishes its exit, the stop sequence, and the cleanup of
// what it left in its process group. A Process only holds the state; every
// step that needs the supervisor's configuration, registry or goroutines
// is a Supervisor method here.

// spawn starts p's child: its own process group (a job object on
// Windows), stdin from the null device, stdout and stderr into pipes read
// into the ring. A non-empty cmdLine is the child's command line verbatim
// (see shellCommand).
func (s *Supervisor) spawn(p *Process, argv []string, cmdLine, cwd string, env []string) error {
	path, err := lookPath(argv[0], env, cwd)
	if err != nil {
		return s.fail(p, cwd, err)
	}
	var pipes, writers [2]*os.File
	for i := range pipes {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll(pipes[:i], writers[:i])
			return s.fail(p, cwd, fmt.Errorf("pipe: %w", err))
		}
		pipes[i], writers[i] = r, w
	}
	var stdinR, stdinW *os.File // the child's end, and ours
	if p.spec.Stdin {
		if stdinR, stdinW, err = os.Pipe(); err != nil {
			closeAll(pipes[:], writers[:])
			return s.fail(p, cwd, fmt.Errorf("pipe: %w", err))
		}
	}
	cmd := &exec.Cmd{
		Path:        path,
		Args:        argv,
		Dir:         cwd,
		Env:         env,
		Stdout:      writers[0],
		Stderr:      writers[1],
		SysProcAttr: sysProcAttr(cmdLine, s.cfg.Nice),
	}
	if stdinR != nil {
		cmd.Stdin = stdinR
	} else if null, err := devNull(); err == nil {
		cmd.Stdin = null
	} // else os/exec opens the null device itself

	var grp *group
	p.mu.Lock()
	err = s.reap.spawn(p, func() (int, error) {
		before := pgroup.Now()
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		g, err := startGroup(cmd, s.reap.subreaper(), [2]uint64{before, pgroup.Now()})
		if err != nil {
			return 0, err // the child has been killed and reaped
		}
		grp = g
		if err := g.setNice(s.cfg.Nice); err != nil {
			s.log.Warn().Err(err).Str("process", p.name).Int("nice", s.cfg.Nice).Msg("lower the child's priority")
		}
		return cmd.Process.Pid, nil
	})
	closeAll(writers[:], []*os.File{stdinR})
	if err != nil {
		p.mu.Unlock()
		closeAll(pipes[:], []*os.File{stdinW})
		return s.fail(p, cwd, err)
	}
	if stdinW != nil {
		p.stdin.Store(&stdinPipe{w: stdinW})
	}
	p.cmd = cmd
	p.pgid = cmd.Process.Pid
	p.grp = grp
	if s.cfg.Groups != nil {
		s.cfg.Groups.Add(grp.ref())
	}
	rec := p.updateLocked(func(r *Record) {
		r.Status = StatusRunning
		r.Pid = cmd.Process.Pid
		r.Cwd = cwd
	})
	p.mu.Unlock()
	// Before the pipe readers start: the line comes before the output.
	p.note("started: %s (pid %d)", rec.CommandLine(), rec.Pid)

	readersDone := make(chan struct{})
	var readers atomic.Int32
	readers.Store(2)
	for i, stream := range [2]logring.Stream{logring.Stdout, logring.Stderr} {
		s.wg.Go(func() {
			defer func() {
				if readers.Add(-1) == 0 {
					close(readersDone)
				}
			}()
			defer pipes[i].Close()
			if err := p.log.Ingest(stream, s.outputReader(p, pipes[i])); err != nil {
				s.log.Debug().Err(err).Str("process", p.name).Stringer("stream", stream).Msg("read output")
			}
			if s.an != nil {
				s.logGrew(p) // the last read's lines: no read follows
			}
		})
	}
	s.wg.Go(func() { s.waitExit(p, cmd, pipes, readersDone, s.cfg.WaitDelay) })
	s.log.Debug().Str("process", p.name).Int("pid", cmd.Process.Pid).Msg("started")
	return nil
}

// devNull is the stdin of every child started without one: the null
// device, opened once, read-only, and never closed, rather than opened and
// closed by os/exec for each start. Sharing it is harmless: reading it
// gives EOF whatever its offset or flags.
var devNull = sync.OnceValues(func() (*os.File, error) { return os.Open(os.DevNull) })

// note adds a line about p's run to its log, on the system stream: the
// agent reads a process's story, runs included, in one place.
func (p *Process) note(format string, args ...any) {
	p.noteLocked(p.Record(), fmt.Sprintf(format, args...))
}

// noteLocked adds text as a note about the run of rec.
func (p *Process) noteLocked(rec *Record, text string) {
	line := fmt.Appendf(nil, "[run %d] %s", rec.Run, text)
	p.log.Append(logring.System, time.Now(), [][]byte{line}, nil)
}

// fail records a spawn failure: the process stays listed with status failed.
func (s *Supervisor) fail(p *Process, cwd string, cause error) error {
	p.note("failed to start: %v", cause)
	p.endOutput()
	p.update(func(r *Record) {
		r.Status = StatusFailed
		r.Cwd = cwd
		r.EndedAt = time.Now()
		r.Error = cause.Error()
	})
	close(p.exited)
	close(p.done)
	s.runEnded(p)
	s.exited(p)
	return &SpawnError{Err: cause}
}

func closeAll(groups ...[]*os.File) {
	for _, fs := range groups {
		for _, f := range fs {
			if f != nil {
				f.Close()
			}
		}
	}
}

// waitExit is p's waiter goroutine, the only caller of cmd.Wait. It
// records the exit only after the output pipes are drained (or waitDelay
// has passed since the exit and the pipes were closed), so that no line
// printed before the exit is missing when the exit is seen.
//
// Where the exit can be seen without reaping (Linux pidfds), the pipes are
// drained before the reap: meanwhile the leader is a zombie that holds its
// pid, so the group id cannot be reused and a stop may still signal the
// group as a whole. If the pipes were still held when the drain ended,
// members outlived the leader: the reap records them first.
func (s *Supervisor) waitExit(p *Process, cmd *exec.Cmd, pipes [2]*os.File, readersDone <-chan struct{}, waitDelay time.Duration) {
	var err error
	var report func(GroupRef) // the crash insurance learns of the reap first
	if w := s.cfg.Groups; w != nil {
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
	s.reap.waited(cmd.Process.Pid, p)
	close(p.exited)
	if in := p.stdin.Load(); in != nil {
		in.close() // nobody reads it any more
	}

	p.endOutput()
	code, sig, errText := exitOf(cmd, err, p.grp)
	ended := time.Now()
	how := fmt.Sprintf("exited with code %d", code)
	if sig != "" {
		how = "killed by " + sig
	}
	p.mu.Lock()
	rec := p.rec.Load()
	plan := s.planExitLocked(p, rec, code, sig, ended)
	note := fmt.Sprintf("%s after %s", how, RunTime(ended.Sub(rec.StartedAt)))
	if plan.note != "" {
		note += "; " + plan.note
	}
	p.noteLocked(rec, note)
	p.updateLocked(func(r *Record) {
		r.Status = plan.status
		r.EndedAt = ended
		r.ExitCode = code
		r.Signal = sig
		r.Error = errText
		r.Stopped = p.stopDone != nil // a stop sequence is under way
		if plan.reason != "" {
			r.Error = plan.reason
		}
		if plan.status == StatusBackoff {
			r.NextRestartAt = s.cfg.Clock.Now().Add(plan.after)
		}
	})
	if plan.status == StatusBackoff {
		s.scheduleLocked(p, plan.after)
	}
	p.mu.Unlock()
	s.runEnded(p)
	s.exited(p)
	if p.grp.alive() {
		s.deferGroup(p)
	} else {
		s.groupDone(p)
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
func (s *Supervisor) groupDone(p *Process) {
	if p.grp == nil || !p.groupDoneOnce.CompareAndSwap(false, true) {
		return
	}
	s.undeferGroup(p)
	ref := p.grp.ref()
	p.grp.release()
	if w := s.cfg.Groups; w != nil {
		w.Remove(ref)
	}
}

// stop runs or joins p's stop sequence and waits for it, or for ctx.
func (s *Supervisor) stop(ctx context.Context, p *Process, sig syscall.Signal, grace time.Duration) (StopResult, error) {
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
	if s.cancelRestartLocked(p) {
		p.noteLocked(rec, "restart cancelled by a stop")
		rec = p.rec.Load()
	}
	if !rec.Status.Live() {
		p.mu.Unlock()
		s.killLeftovers(p, true)
		return StopResult{Process: p, Record: rec, AlreadyStopped: true}, nil
	}
	done := p.stopDone
	if done == nil {
		done = make(chan struct{})
		p.stopDone = done
		p.updateLocked(func(r *Record) { r.Status = StatusStopping })
		pgid, grp := p.pgid, p.grp
		s.wg.Go(func() { s.stopSequence(p, pgid, grp, sig, grace, done) })
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
func (s *Supervisor) stopSequence(p *Process, pgid int, grp *group, sig syscall.Signal, grace time.Duration, done chan struct{}) {
	defer close(done)
	log := s.log.With().Str("process", p.name).Int("pgid", pgid).Logger()
	if err := grp.signal(sig); err != nil {
		log.Warn().Err(err).Msg("signal group")
	}
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	if sig != syscall.SIGKILL && p.awaitGroup(grp, deadline.C) {
		<-p.done
		s.groupDone(p)
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
	s.groupDone(p)
}

// killWait bounds how long a stop waits for the group to vanish after
// SIGKILL; only a process stuck in the kernel takes that long.
const killWait = 2 * time.Second

// killLeftovers SIGKILLs what is left of exited p's group:
// descendants that outlived it and that are provably ours (see
// pgroup.Group). It is a no-op when the group is empty or was already seen
// gone. With wait, it also waits (up to killWait) until the group is gone,
// as a stop does after SIGKILL: the signal is delivered asynchronously.
func (s *Supervisor) killLeftovers(p *Process, wait bool) {
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
				s.log.Warn().Str("process", p.name).Int("pgid", p.pgid).Msg("process group still running after SIGKILL")
			}
			deadline.Stop()
		}
	}
	s.groupDone(p)
}
