package procstate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
	"github.com/brummer-mcp/brummer-mcp/logring"
)

// Config sets the supervisor's limits. The zero value of each field means
// the default given in its comment.
type Config struct {
	// Dir is the default working directory and the base of relative ones;
	// default the server's working directory.
	Dir string
	// Env is the base environment of every child; nil means os.Environ().
	Env []string
	// MaxProcs caps live processes; default 1000.
	MaxProcs int
	// MaxExited caps exited processes kept for inspection; the oldest are
	// evicted; default 100.
	MaxExited int
	// LogLines and LogBytes bound each process's log ring; defaults 10,000
	// lines and 8 MiB.
	LogLines int
	LogBytes int
	// WaitDelay bounds how long, after a process exits, its output pipes are
	// still drained when a descendant holds them open; default 500ms.
	WaitDelay time.Duration
	// StopGrace is the grace period Close gives every process between
	// SIGTERM and SIGKILL; default 5s.
	StopGrace time.Duration
	// Subreaper makes this process a child subreaper (Linux only), so that
	// descendants orphaned by a child's exit are reparented to it: it reaps
	// them (no zombies) and Close kills those that left their process group.
	// It changes process-wide state; a server sets it, a library user may not.
	// It also lets a stop after a child's exit reach every member left in
	// the child's group: orphans reparented to us are provably ours.
	// Without it, a member that started in the last 10 ms before the
	// child's exit and did not hold its output pipes is not claimed after
	// the exit (see internal/pgroup).
	Subreaper bool
	// OtherChildren are pids of this process's children that the supervisor
	// did not start (the server's watchdog): the subreaper never reaps or kills
	// them as orphans.
	OtherChildren []int
	// Nice is how much lower than the server's own CPU priority children
	// run, in nice(1) steps: 0 (the default) leaves them at the server's;
	// 1..19 makes them yield the CPU to the server, and to the agents and
	// editor beside it, when the machine is saturated, and only then. The
	// result is capped at nice 19. Unix sets it on the child's process
	// group right after the start (a descendant forked in the first
	// microseconds keeps the server's); Windows uses the below-normal
	// priority class for any value above 0.
	Nice int
	// Groups, if set, is told of every child's process group: the crash
	// insurance that kills what is left of them if the server dies
	// without stopping them.
	Groups GroupWatcher
	// Clock times restart backoffs; nil is the real clock. Tests inject
	// one they advance by hand.
	Clock Clock

	// noAnalysis turns the analyzer off: Findings stay empty (and Final
	// at a run's end). Benchmarks compare ingest without it.
	noAnalysis bool
	// usageEvery and usageLinger replace UsageEvery and UsageLinger, and
	// usageIdle is called each time sampling stops: tests set them.
	usageEvery, usageLinger time.Duration
	usageIdle               func()
}

// Clock is the time source of restart backoffs.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d; stop cancels the
	// call and reports whether it did.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// realClock is the Clock of the time package.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// GroupWatcher is told of every process group the supervisor creates, so
// that it can kill what is left of them if the server dies without
// stopping them. Its methods are called from any goroutine, sometimes with
// a lock held, and must not block.
type GroupWatcher interface {
	// Add records a group: once right after the spawn, and again, with
	// the same Pgid and Start, just before its leader is reaped (Reaped
	// and Known set), which replaces the first record.
	Add(GroupRef)
	// Remove forgets a group: nothing left in it is ours.
	Remove(GroupRef)
}

// GroupRef identifies a process group across pid reuse: its id, its
// leader's start time, and what was known when the leader was reaped.
type GroupRef = pgroup.Ref

// Defaults for Config.
const (
	DefaultMaxProcs  = 1000
	DefaultMaxExited = 100
	DefaultLogLines  = 10000
	DefaultLogBytes  = 8 << 20
	DefaultWaitDelay = 500 * time.Millisecond
	DefaultStopGrace = 5 * time.Second
	// DefaultNice is how much lower the server runs its children: nice(1)'s
	// own default. Config.Nice itself defaults to 0.
	DefaultNice = 10
)

func (c Config) withDefaults() (Config, error) {
	if c.Dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return c, fmt.Errorf("working directory: %w", err)
		}
		c.Dir = wd
	}
	dir, err := filepath.Abs(c.Dir)
	if err != nil {
		return c, fmt.Errorf("working directory %q: %w", c.Dir, err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return c, &CwdError{Dir: dir, Err: ErrNotDir}
	}
	c.Dir = dir
	if c.Env == nil {
		c.Env = os.Environ()
	}
	if c.Nice < 0 || c.Nice > 19 {
		return c, fmt.Errorf("nice %d: must be 0..19", c.Nice)
	}
	c.MaxProcs = cmp.Or(c.MaxProcs, DefaultMaxProcs)
	c.MaxExited = cmp.Or(c.MaxExited, DefaultMaxExited)
	c.LogLines = cmp.Or(c.LogLines, DefaultLogLines)
	c.LogBytes = cmp.Or(c.LogBytes, DefaultLogBytes)
	c.WaitDelay = cmp.Or(c.WaitDelay, DefaultWaitDelay)
	c.StopGrace = cmp.Or(c.StopGrace, DefaultStopGrace)
	c.usageEvery = cmp.Or(c.usageEvery, UsageEvery)
	c.usageLinger = cmp.Or(c.usageLinger, UsageLinger)
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	return c, nil
}

// index maps names to processes. It is immutable once published and
// replaced as a whole when a process is added or removed.
type index struct {
	byName map[string]*Process
	sorted []*Process // by name
}

// Supervisor starts, tracks and stops child processes.
type Supervisor struct {
	cfg     Config
	log     zerolog.Logger
	version atomic.Uint64         // last version handed out; shared by records and the index
	idx     atomic.Pointer[index] // read without lock; replaced under mu
	changes *changeSignal         // bumped by every observable change; see Changes

	mu     sync.Mutex // serialises index writers; guards live and closed
	live   int
	closed bool

	wg    sync.WaitGroup // waiters, pipe readers and stop sequences
	reap  *reaper        // tracks direct children; reaps orphaned descendants
	an    *analyzer      // reads the logs for findings; nil with Config.noAnalysis
	usage *sampler       // samples usage while wanted; nil where unsupported

	deferMu  sync.Mutex
	deferred map[*Process]struct{} // guarded by deferMu: exited, but their group has members left

	// pruned remembers, for names whose records were pruned, where their
	// log's numbering and their runs stood, so that a new start under the
	// name continues them; guarded by mu, at most maxPruned names.
	pruned map[string]prunedName
}

// prunedName is what a pruned record leaves for its name.
type prunedName struct {
	lastSeq  uint64
	restarts int
}

// maxPruned bounds Supervisor.pruned; beyond it an arbitrary name is
// forgotten (its next run starts its log at seq 1 again).
const maxPruned = 10000

// New returns a supervisor with cfg's limits.
func New(cfg Config, log zerolog.Logger) (*Supervisor, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Supervisor{
		cfg:      cfg,
		log:      log.With().Str("component", "procstate").Logger(),
		deferred: map[*Process]struct{}{},
		pruned:   map[string]prunedName{},
		changes:  newChangeSignal(),
	}
	s.reap = newReaper(cfg.Subreaper, cfg.OtherChildren, s.recheckDeferred, s.log)
	s.idx.Store(&index{byName: map[string]*Process{}})
	if !cfg.noAnalysis {
		s.startAnalyzer()
	}
	if UsageSupported {
		s.startSampler(cfg)
	}
	return s, nil
}

// Config returns the effective configuration, defaults filled in.
func (s *Supervisor) Config() Config { return s.cfg }

// Get returns the process with that name, or nil. It never blocks.
func (s *Supervisor) Get(name string) *Process { return s.idx.Load().byName[name] }

// Processes returns all processes sorted by name. The slice is shared and
// immutable: do not modify it. It never blocks and does not allocate.
func (s *Supervisor) Processes() []*Process { return s.idx.Load().sorted }

// Version returns the newest version handed out. Any change to any process
// or to the set of processes increases it. See [Supervisor.Generation]
// for a counter that also covers findings and usage.
func (s *Supervisor) Version() uint64 { return s.version.Load() }

// Names returns the names of all processes, sorted; for error messages.
func (s *Supervisor) Names() []string {
	ps := s.Processes()
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.name
	}
	return names
}

// Start starts a process described by spec. The process is registered
// before it is spawned, so even a spawn failure leaves a record (status
// failed) together with the error, a *SpawnError. The process's
// lifetime is not tied to any context: only Stop and Close end it.
func (s *Supervisor) Start(spec Spec) (*Process, error) {
	return s.start(spec, nil, restartLoop{})
}

// start is Start; from, if set, is the process in backoff whose next run
// this is, which carries on its restart streak.
func (s *Supervisor) start(spec Spec, from *Process, loop restartLoop) (*Process, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	cwd, err := s.resolveCwd(spec.Cwd)
	if err != nil {
		return nil, err
	}
	argv, cmdLine := spec.Argv, ""
	if spec.Command != "" {
		argv, cmdLine = shellCommand(spec.Command)
	}
	argv = slices.Clone(argv)
	env := mergeEnv(s.cfg.Env, spec.Env)

	p, replaced, err := s.register(spec, from, loop)
	if err != nil {
		return nil, err
	}
	if replaced != nil {
		s.killLeftovers(replaced, true)
	}
	return p, s.spawn(p, argv, cmdLine, cwd, env)
}

// register reserves the name and adds a process in state starting. A
// live process holding the name refuses it, except from, whose next run
// this is.
func (s *Supervisor) register(spec Spec, from *Process, loop restartLoop) (p, replaced *Process, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, ErrClosed
	}
	ix := s.idx.Load()
	name, restarts := spec.Name, 0
	switch old := ix.byName[name]; {
	case from != nil:
		// The next run after a backoff, unless a stop ended the backoff
		// first: the check and the end of the backoff are one step under
		// from.mu (lock order: s.mu, then a Process's mu).
		if old != from {
			return nil, nil, errRestartCancelled
		}
		from.mu.Lock()
		r := from.rec.Load()
		if r.Status != StatusBackoff {
			from.mu.Unlock()
			return nil, nil, errRestartCancelled
		}
		from.updateLocked(func(r *Record) { r.Status, r.NextRestartAt = StatusExited, time.Time{} })
		from.mu.Unlock()
		restarts, replaced = r.Restarts+1, old
	case name == "":
		name = uniqueName(ix, spec.baseName())
	case old != nil:
		r := old.Record()
		if r.Status.Live() {
			return nil, nil, &NameInUseError{Record: r}
		}
		restarts, replaced = r.Restarts+1, old
	}
	if s.live >= s.cfg.MaxProcs {
		return nil, nil, fmt.Errorf("%w: %d live processes (limit %d)", ErrLimit, s.live, s.cfg.MaxProcs)
	}
	// One log per name: a new run continues the log of the last one, or
	// at least its numbering if that record was pruned.
	var log *logring.Ring
	switch f, pruned := s.pruned[name]; {
	case replaced != nil:
		log = replaced.log
	case pruned:
		log, restarts = logring.NewAfter(s.cfg.LogLines, s.cfg.LogBytes, f.lastSeq), f.restarts+1
		delete(s.pruned, name)
	default:
		log = logring.New(s.cfg.LogLines, s.cfg.LogBytes)
	}
	spec.Name = name
	spec.Argv, spec.Env = slices.Clone(spec.Argv), maps.Clone(spec.Env)
	p = &Process{
		name:     name,
		loop:     loop, // the restart streak a backoff hands on
		spec:     spec,
		log:      log,
		logFrom:  log.Stats().LastSeq,
		versions: &s.version,
		changes:  s.changes,
		exited:   make(chan struct{}),
		done:     make(chan struct{}),
		analyzed: make(chan struct{}),
	}
	p.an.cursor = p.logFrom
	p.rec.Store(&Record{
		Name:      name,
		Argv:      slices.Clone(spec.Argv),
		Command:   spec.Command,
		Status:    StatusStarting,
		StartedAt: time.Now(),
		ExitCode:  -1,
		Restarts:  restarts,
		Run:       restarts + 1,
		Version:   s.version.Add(1),
		changed:   make(chan struct{}),
	})
	s.live++
	s.storeIndexLocked(ix, p, nil)
	return p, replaced, nil
}

// storeIndexLocked publishes a copy of ix with add added (replacing a
// process of the same name) and the processes in drop removed.
func (s *Supervisor) storeIndexLocked(ix *index, add *Process, drop map[*Process]bool) {
	next := &index{byName: make(map[string]*Process, len(ix.byName)+1)}
	next.sorted = make([]*Process, 0, len(ix.sorted)+1)
	for _, p := range ix.sorted {
		if drop[p] || (add != nil && p.name == add.name) {
			continue
		}
		next.sorted = append(next.sorted, p)
		next.byName[p.name] = p
	}
	if add != nil {
		i, _ := slices.BinarySearchFunc(next.sorted, add.name, func(p *Process, name string) int {
			return strings.Compare(p.name, name)
		})
		next.sorted = slices.Insert(next.sorted, i, add)
		next.byName[add.name] = add
	}
	s.version.Add(1)
	s.idx.Store(next)
	s.changes.bump()
}

// exited is called by a process's waiter once its exit is published.
func (s *Supervisor) exited(p *Process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live--
	s.pruneLocked()
}

// pruneLocked evicts the oldest exited processes beyond MaxExited.
func (s *Supervisor) pruneLocked() {
	ix := s.idx.Load()
	var ended []*Process
	for _, p := range ix.sorted {
		if !p.Record().Status.Live() {
			ended = append(ended, p)
		}
	}
	if len(ended) <= s.cfg.MaxExited {
		return
	}
	slices.SortFunc(ended, func(a, b *Process) int {
		return a.Record().EndedAt.Compare(b.Record().EndedAt)
	})
	drop := map[*Process]bool{}
	for _, p := range ended[:len(ended)-s.cfg.MaxExited] {
		drop[p] = true
		s.killLeftovers(p, false) // under s.mu: do not wait
		if len(s.pruned) >= maxPruned {
			for name := range s.pruned {
				delete(s.pruned, name)
				break
			}
		}
		s.pruned[p.name] = prunedName{lastSeq: p.log.Stats().LastSeq, restarts: p.Record().Restarts}
	}
	s.storeIndexLocked(ix, nil, drop)
}

// stopBackground stops the supervisor's own goroutines, which New started,
// and waits for them.
func (s *Supervisor) stopBackground() {
	s.stopAnalyzer()
	s.stopSampler()
}

// deferGroup notes that p has exited with members of its group left; see
// recheckDeferred.
func (s *Supervisor) deferGroup(p *Process) {
	s.deferMu.Lock()
	s.deferred[p] = struct{}{}
	s.deferMu.Unlock()
}

func (s *Supervisor) undeferGroup(p *Process) {
	s.deferMu.Lock()
	delete(s.deferred, p)
	s.deferMu.Unlock()
}

// recheckDeferred reports the groups of exited processes whose last members
// have ended on their own since. The subreaper calls it after reaping
// orphans: a group's last member, its parent gone, is one of those. Until
// then the crash insurance keeps the group, and a group id that becomes
// free could be taken by a stranger.
func (s *Supervisor) recheckDeferred() {
	s.deferMu.Lock()
	ps := make([]*Process, 0, len(s.deferred))
	for p := range s.deferred {
		ps = append(ps, p)
	}
	s.deferMu.Unlock()
	for _, p := range ps {
		if !p.grp.alive() {
			s.groupDone(p)
		}
	}
}

func uniqueName(ix *index, base string) string {
	if ix.byName[base] == nil {
		return base
	}
	for i := 2; ; i++ {
		name := base + "-" + strconv.Itoa(i)
		if ix.byName[name] == nil {
			return name
		}
	}
}

func (s *Supervisor) resolveCwd(cwd string) (string, error) {
	dir := cwd
	if dir == "" {
		dir = s.cfg.Dir
	} else if !filepath.IsAbs(dir) {
		dir = filepath.Join(s.cfg.Dir, dir)
	}
	dir = filepath.Clean(dir)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", &CwdError{Dir: dir, Err: os.ErrNotExist}
	case err != nil:
		return "", &CwdError{Dir: dir, Err: err}
	case !fi.IsDir():
		return "", &CwdError{Dir: dir, Err: ErrNotDir}
	}
	return dir, nil
}

// mergeEnv returns base with the overrides applied, overrides sorted by key
// at the end so that the result is deterministic.
func mergeEnv(base []string, over map[string]string) []string {
	env := make([]string, 0, len(base)+len(over))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := over[k]; !ok {
			env = append(env, kv)
		}
	}
	keys := make([]string, 0, len(over))
	for k := range over {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		env = append(env, k+"="+over[k])
	}
	return env
}

// StopResult is the outcome of a stop.
type StopResult struct {
	// Process is the process that was stopped.
	Process *Process
	// Record is the final record of the process.
	Record *Record
	// AlreadyStopped is set when the process had exited before the stop.
	AlreadyStopped bool
	// Killed is set when the grace period ran out and SIGKILL was sent.
	Killed bool
}

// Stop sends sig to the process group of the named process, waits up to
// grace for the whole group to exit, then SIGKILLs the group. It returns
// once the exit is published. If ctx ends first, Stop returns ctx's error
// but the stop goes on to completion in the background.
func (s *Supervisor) Stop(ctx context.Context, name string, sig syscall.Signal, grace time.Duration) (StopResult, error) {
	p := s.Get(name)
	if p == nil {
		return StopResult{}, fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	return s.stop(ctx, p, sig, grace)
}

// Restart stops the named process as Stop does (if it is still live) and
// starts it again with the same Spec: its next run, under the same name
// and log. The process returned is the new run; StopResult is the old
// one's end. If ctx ends during the stop, Restart returns ctx's error and
// starts nothing (the stop goes on).
func (s *Supervisor) Restart(ctx context.Context, name string, sig syscall.Signal, grace time.Duration) (*Process, StopResult, error) {
	p := s.Get(name)
	if p == nil {
		return nil, StopResult{}, fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	res, err := s.stop(ctx, p, sig, grace)
	if err != nil {
		return nil, res, err
	}
	next, err := s.Start(p.spec)
	return next, res, err
}

// Close stops every process (SIGTERM, then SIGKILL after StopGrace) and
// waits for all of them and every goroutine of the supervisor. No process
// can be started afterwards. If ctx ends first, everything left is
// SIGKILLed at once; Close still waits, and returns ctx's error.
func (s *Supervisor) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()

	procs := s.Processes()
	var stops sync.WaitGroup
	for _, p := range procs {
		stops.Go(func() {
			// A stop already in progress (with its own, maybe longer, grace
			// period) is joined, but Close's grace period still applies.
			gctx, cancel := context.WithTimeout(ctx, s.cfg.StopGrace+100*time.Millisecond)
			_, err := s.stop(gctx, p, syscall.SIGTERM, s.cfg.StopGrace)
			cancel()
			if err != nil && ctx.Err() == nil {
				p.mu.Lock()
				grp := p.grp
				p.mu.Unlock()
				_ = grp.signal(syscall.SIGKILL)
				select {
				case <-p.done:
				case <-ctx.Done():
				}
			}
			s.killLeftovers(p, true)
		})
	}
	stops.Wait()
	err := ctx.Err()
	if err != nil {
		for _, p := range procs {
			p.mu.Lock()
			grp := p.grp
			p.mu.Unlock()
			_ = grp.signal(syscall.SIGKILL) // only what is provably ours
		}
	}
	s.wg.Wait()
	s.stopBackground() // after every exit is published: their final findings
	// Descendants that left their process group (setsid) were reparented to
	// us when their parent died: nothing else would stop them.
	s.reap.killOrphans(2 * time.Second)
	s.reap.close()
	return err
}
