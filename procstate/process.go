package procstate

import (
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brummer-mcp/brummer-mcp/logring"
)

// Process is one supervised process: its current Record, published
// atomically, and its log Ring. A Process value stays valid after the
// process exits and after it is removed from the supervisor.
type Process struct {
	name string
	spec Spec // what it was started with, Name included; never modified
	rec  atomic.Pointer[Record]
	log  *logring.Ring
	// logFrom is the seq of the log's newest line before this run: the
	// run's own lines come after it.
	logFrom uint64
	// versions hands out record versions; shared by every process of a
	// supervisor and its index.
	versions *atomic.Uint64
	// changes is the supervisor's change signal, bumped with every record.
	changes *changeSignal

	// mu serialises writers of rec and guards the fields below. Readers of
	// rec never take it.
	mu       sync.Mutex
	cmd      *exec.Cmd     // set once spawned; Wait is called only by the waiter
	pgid     int           // process group id (the leader's pid), 0 if never spawned
	grp      *group        // set once spawned, with pgid; nil if never spawned
	stopDone chan struct{} // non-nil once a stop sequence runs; closed when it ends
	loop     restartLoop   // where the name's restarts stand

	// Findings (see findings.go): published by the analyzer, read without
	// lock; an is its progress, owned by the analyzer goroutine.
	findings atomic.Pointer[Findings]
	analyzed chan struct{} // closed once the final findings are published
	runEnd   atomic.Uint64 // the run's last line, once its output is drained; 0 before
	grew     atomic.Bool   // set by the pipe readers when lines came, cleared by the analyzer when it looks
	an       analysis
	// usage is the newest usage sample, published by the sampler.
	usage atomic.Pointer[Usage]

	stdin         atomic.Pointer[stdinPipe] // our end of its stdin, if it has one
	killed        atomic.Bool               // the stop sequence had to SIGKILL
	groupDoneOnce atomic.Bool               // groupDone ran: the group is gone (or killed) and never signalled again
	exited        chan struct{}             // closed when Wait has returned (the leader is gone)
	done          chan struct{}             // closed when the exit is published and the pipes are drained
}

// Name returns the process's name.
func (p *Process) Name() string { return p.name }

// Record returns the current immutable record. It never blocks.
func (p *Process) Record() *Record { return p.rec.Load() }

// Log returns the process's output ring.
func (p *Process) Log() *logring.Ring { return p.log }

// LogFrom is the seq of the newest log line before this run: the run's
// own lines, its start note first, come after it.
func (p *Process) LogFrom() uint64 { return p.logFrom }

// Done returns a channel closed once the process has exited (or failed to
// start), its exit has been published and its output has been drained.
func (p *Process) Done() <-chan struct{} { return p.done }

// update publishes a copy of the current record changed by fn. It is the
// only way a record changes. p.mu must be held.
func (p *Process) updateLocked(fn func(r *Record)) *Record {
	old := p.rec.Load()
	next := *old
	fn(&next)
	next.Version = p.versions.Add(1)
	next.changed = make(chan struct{})
	p.rec.Store(&next)
	close(old.changed)
	p.changes.bump()
	return &next
}

func (p *Process) update(fn func(r *Record)) *Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.updateLocked(fn)
}

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
