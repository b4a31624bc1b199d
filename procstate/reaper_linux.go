package procstate

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
)

// reaper makes the server a child subreaper (Linux): descendants orphaned
// by a child's exit are reparented to us instead of to init. It reaps them
// as they die, so no zombie lingers, and lets Close find and kill the ones
// that escaped their process group (setsid daemons).
//
// Reaping must never steal the exit status of a direct child whose waiter
// is in cmd.Wait. Spawns register the child under mu in the same critical
// section as the fork, and the reaper holds mu while it waits for
// untracked pids only.
type reaper struct {
	mu      sync.Mutex
	tracked map[int]*Process // direct children not yet reaped by their waiter; guarded by mu
	enabled bool             // set once in start

	reaped    func()         // called after a pass that reaped orphans
	sigs      chan os.Signal // SIGCHLD; buffered 1 as signal.Notify requires
	stop      chan struct{}
	closeOnce sync.Once
	done      chan struct{}
	log       zerolog.Logger
}

// newReaper makes this process a child subreaper if enable is set. others
// are children it must leave alone; reaped is called on the reaper's
// goroutine after each pass that reaped an orphan.
func newReaper(enable bool, others []int, reaped func(), log zerolog.Logger) *reaper {
	r := &reaper{tracked: map[int]*Process{}, reaped: reaped, log: log}
	for _, pid := range others {
		r.tracked[pid] = notOurs
	}
	if !enable {
		return r
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		log.Warn().Err(err).Msg("cannot become a child subreaper; orphaned grandchildren go to init")
		return r
	}
	r.enabled = true
	r.sigs = make(chan os.Signal, 1)
	r.stop = make(chan struct{})
	r.done = make(chan struct{})
	signal.Notify(r.sigs, syscall.SIGCHLD)
	go r.loop()
	return r
}

// subreaper reports whether this process is a child subreaper.
func (r *reaper) subreaper() bool { return r.enabled }

// notOurs marks tracked children that another part of the program waits for.
var notOurs = &Process{}

// spawn runs start (a fork) and tracks the child it returns.
func (r *reaper) spawn(p *Process, start func() (pid int, err error)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := start()
	if err == nil {
		r.tracked[pid] = p
	}
	return err
}

// waited forgets a direct child once its waiter has reaped it.
func (r *reaper) waited(pid int, p *Process) {
	r.mu.Lock()
	if r.tracked[pid] == p {
		delete(r.tracked, pid)
	}
	r.mu.Unlock()
}

// reapInterval is the least time between two scans for orphans. Every
// child's exit raises SIGCHLD, but only orphans need the reaper (the waiters
// reap our own children), and a scan reads all of /proc: under churn, one
// scan per exit would cost a third of the server's CPU. An orphan's zombie
// lingers at most this long.
const reapInterval = 100 * time.Millisecond

func (r *reaper) loop() {
	defer close(r.done)
	for {
		select {
		case <-r.sigs:
			if r.reapOrphans() > 0 && r.reaped != nil {
				r.reaped()
			}
		case <-r.stop:
			return
		}
		// Let exits pile up: SIGCHLDs meanwhile coalesce into one (the
		// channel holds one), and the next scan reaps them all.
		t := time.NewTimer(reapInterval)
		select {
		case <-t.C:
		case <-r.stop:
			t.Stop()
			return
		}
	}
}

// reapOrphans reaps every exited child that no waiter tracks, and returns
// how many it reaped. The /proc scan runs without the lock, so that spawns
// are not held up by it: a zombie child of ours can be reaped only by us,
// and the tracked check and the wait happen together under the lock.
func (r *reaper) reapOrphans() int {
	zombies := childrenOf(os.Getpid(), true)
	if len(zombies) == 0 {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, pid := range zombies {
		if r.tracked[pid] != nil {
			continue
		}
		var ws unix.WaitStatus
		if got, _ := unix.Wait4(pid, &ws, unix.WNOHANG, nil); got == pid {
			n++
		}
	}
	return n
}

// childrenOf lists the children of parent that are zombies (or, with
// zombies false, that are not).
func childrenOf(parent int, zombies bool) []int {
	var pids []int
	_ = pgroup.Scan(func(p pgroup.Proc) bool {
		if p.PPid == parent && !p.Running() == zombies {
			pids = append(pids, p.Pid)
		}
		return true
	})
	return pids
}

// killOrphans SIGKILLs the reparented descendants still running, and
// whatever they leave behind, until none is left or timeout passes.
func (r *reaper) killOrphans(timeout time.Duration) {
	if !r.enabled {
		return
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		running := childrenOf(os.Getpid(), false)
		// Under the lock no child of ours is reaped, so each pid listed is
		// still that child's (or a zombie of it): the signal is exact.
		r.mu.Lock()
		killed := 0
		for _, pid := range running {
			if r.tracked[pid] == nil {
				r.log.Warn().Int("pid", pid).Msg("killing a descendant that left its process group")
				_ = pgroup.SignalChild(pid, unix.SIGKILL)
				killed++
			}
		}
		r.mu.Unlock()
		if killed == 0 {
			return
		}
		r.reapOrphans()
		time.Sleep(10 * time.Millisecond) // let the killed exit; SIGCHLD reaps them too
	}
}

// close stops the reaper goroutine, after one last reaping pass.
func (r *reaper) close() {
	if !r.enabled {
		return
	}
	r.closeOnce.Do(func() {
		signal.Stop(r.sigs)
		close(r.stop)
		<-r.done
		r.reapOrphans()
	})
}
