package procstate

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
	"github.com/brummer-mcp/brummer-mcp/internal/probe"
)

// Usage is a sample of what a run's processes use: its process group's
// running members and their descendants (see internal/pgroup.Tree), summed.
// A Usage value is immutable once published: do not modify Ports.
type Usage struct {
	// CPUPct is the CPU time the members used over the last sampling
	// interval, in percent of one core (200 is two cores busy). A member
	// that exited during the interval is not counted.
	CPUPct float64
	// RSSBytes is the members' resident memory (VmRSS) summed; pages
	// they share are counted once per member.
	RSSBytes uint64
	// Ports are the TCP ports, sorted, on which a member listens.
	Ports []int
	// At is when the sample was taken.
	At time.Time
}

// UsageSupported says whether this platform reports usage: Linux only.
const UsageSupported = runtime.GOOS == "linux"

// Usage sampling: at most one sample per UsageEvery, and only while
// someone wants usage: sampling stops UsageLinger after the last
// [Supervisor.WantUsage].
const (
	UsageEvery  = time.Second
	UsageLinger = 5 * time.Second
)

// Usage returns the newest usage sample of the run, and false if there is
// none: usage is not supported here, or nobody has wanted it
// ([Supervisor.WantUsage]) since the run started, or the run has ended
// (its last sample would be stale). It is an atomic load.
//
// Samples are taken only while wanted: the first want after a quiet spell
// starts the sampler, whose first figures appear about UsageEvery later
// (CPU needs two readings); until then Usage gives no sample or the one
// from before the quiet spell, whose At tells its age.
func (p *Process) Usage() (Usage, bool) {
	u := p.usage.Load()
	if u == nil {
		return Usage{}, false
	}
	if st := p.rec.Load().Status; st != StatusRunning && st != StatusStopping {
		return Usage{}, false
	}
	return *u, true
}

// WantUsage says that someone reads usage (a list, a subscription): it
// keeps the sampler going for UsageLinger more, starting it if it was
// idle. It is cheap enough to call on every read: an atomic store, and a
// wake-up only when the sampler sleeps.
func (s *Supervisor) WantUsage() {
	u := s.usage
	if u == nil {
		return
	}
	u.wanted.Store(int64(time.Since(u.epoch)))
	if !u.sampling.Load() {
		select {
		case u.wake <- struct{}{}:
		default: // a wake-up is pending
		}
	}
}

// sampler is the supervisor's goroutine that samples usage while someone
// wants it, and sleeps otherwise.
type sampler struct {
	epoch    time.Time     // wanted counts from here, on the monotonic clock
	wanted   atomic.Int64  // when usage was last wanted, since epoch
	sampling atomic.Bool   // the sampler runs; WantUsage need not wake it
	wake     chan struct{} // buffered 1: wanted again while idle
	stop     chan struct{} // closed by Close
	done     chan struct{} // closed when the goroutine returns
	once     sync.Once     // closes stop
	every    time.Duration // UsageEvery; tests shorten it
	linger   time.Duration // UsageLinger; tests shorten it
	// onIdle, set by tests, is called each time sampling stops.
	onIdle func()
}

// cpuReading is one member's CPU time at a sample.
type cpuReading struct {
	pid   int
	start uint64 // with pid, identifies the process
	ticks uint64 // user and system time
}

// groupReading is what the last sample read of one run.
type groupReading struct {
	members []cpuReading // sorted by pid
	at      time.Time
	tick    uint64 // pgroup.Now() at the sample: members started after it are new
	ports   []int  // never modified
	portsAt time.Time
}

// readings is what the sampler keeps between two samples while sampling:
// the last reading of each run, and the ports any run listened on.
type readings struct {
	runs map[*Process]groupReading
	all  []int
}

// portsRefresh bounds how long a run's ports are taken from an earlier
// sample when no port opened or closed anywhere (see sampleOnce).
const portsRefresh = 10 * time.Second

// startSampler starts the usage sampler goroutine, which Close stops.
func (s *Supervisor) startSampler(cfg Config) {
	u := &sampler{
		epoch:  time.Now(),
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		every:  cfg.usageEvery,
		linger: cfg.usageLinger,
		onIdle: cfg.usageIdle,
	}
	u.wanted.Store(-int64(u.linger)) // never wanted
	s.usage = u
	go s.sample(u)
}

func (s *Supervisor) stopSampler() {
	if s.usage == nil {
		return
	}
	s.usage.once.Do(func() { close(s.usage.stop) })
	<-s.usage.done
}

func (s *Supervisor) sample(u *sampler) {
	defer close(u.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-u.stop:
			return
		case <-u.wake:
		}
		if !u.want() {
			continue // a stale wake-up
		}
		u.sampling.Store(true)
		last := &readings{runs: map[*Process]groupReading{}}
		for {
			s.sampleOnce(last)
			if !u.want() {
				u.sampling.Store(false)
				// A want between the check and the store saw sampling
				// set and did not wake us: look once more.
				if !u.want() {
					break
				}
				u.sampling.Store(true)
			}
			timer.Reset(u.every)
			select {
			case <-u.stop:
				return
			case <-timer.C:
			}
		}
		if u.onIdle != nil {
			u.onIdle()
		}
	}
}

// want reports whether usage was wanted in the last linger.
func (u *sampler) want() bool {
	return time.Since(u.epoch)-time.Duration(u.wanted.Load()) < u.linger
}

// sampleOnce reads the usage of every running run, publishes it for the
// runs read before, and keeps the readings in last for the next sample.
//
// One scan of /proc finds every run's processes. Which ports they listen
// on takes the kernel's table of the network namespace's TCP sockets,
// whose reading costs milliseconds on a machine with much memory (the
// kernel walks every bucket of its hash tables), whatever the number of
// sockets. So the table is read once for all runs together; a run's own
// ports are read again only when that set changed, for a run seen the
// first time, and at least every portsRefresh: a port that moves from one
// run to another between two samples, the set unchanged, shows late.
func (s *Supervisor) sampleOnce(last *readings) {
	var procs []*Process
	var pgids []int
	for _, p := range s.Processes() {
		if r := p.Record(); (r.Status == StatusRunning || r.Status == StatusStopping) && r.Pid > 0 {
			procs = append(procs, p)
			pgids = append(pgids, r.Pid)
		}
	}
	for p := range last.runs {
		if !slices.Contains(procs, p) {
			delete(last.runs, p) // ended, or replaced by its next run
		}
	}
	if len(procs) == 0 {
		return
	}
	tick := pgroup.Now()
	trees, err := pgroup.Trees(pgids)
	at := time.Now()
	if err != nil {
		s.log.Debug().Err(err).Msg("sample usage")
		return
	}
	var every []int
	for _, members := range trees {
		for _, m := range members {
			every = append(every, m.Pid)
		}
	}
	all, _ := probe.Listening(every)
	portsMoved := !slices.Equal(all, last.all)
	last.all = all
	published := false
	for i, p := range procs {
		members := trees[pgids[i]]
		now := groupReading{members: make([]cpuReading, len(members)), at: at, tick: tick}
		pids := make([]int, len(members))
		var rss uint64
		for j, m := range members {
			now.members[j] = cpuReading{pid: m.Pid, start: m.Start, ticks: m.UTime + m.STime}
			pids[j] = m.Pid
			if n, err := pgroup.RSS(m.Pid); err == nil {
				rss += n
			}
		}
		slices.SortFunc(now.members, func(a, b cpuReading) int { return a.pid - b.pid })
		before, ok := last.runs[p]
		switch {
		case len(all) == 0:
			now.portsAt = at
		case !ok || portsMoved || at.Sub(before.portsAt) >= portsRefresh:
			now.ports, _ = probe.Listening(pids)
			now.portsAt = at
		default:
			now.ports, now.portsAt = before.ports, before.portsAt
		}
		last.runs[p] = now
		if !ok {
			continue // CPU needs two readings
		}
		p.usage.Store(&Usage{
			CPUPct:   cpuPct(before, now),
			RSSBytes: rss,
			Ports:    slices.Clone(now.ports),
			At:       at,
		})
		published = true
	}
	if published {
		s.changes.bump()
	}
}

// cpuPct is the CPU time the members of now used since before, in percent
// of one core over the time between them. A member read both times counts
// the difference; one started since before counts all its time; one that
// was running but unread before (it joined the tree from elsewhere) counts
// nothing, as its time before cannot be told apart.
func cpuPct(before, now groupReading) float64 {
	elapsed := now.at.Sub(before.at).Seconds()
	if elapsed <= 0 {
		return 0
	}
	var ticks uint64
	for _, m := range now.members {
		i, found := slices.BinarySearchFunc(before.members, m.pid, func(r cpuReading, pid int) int { return r.pid - pid })
		switch {
		case found && before.members[i].start == m.start:
			if m.ticks > before.members[i].ticks {
				ticks += m.ticks - before.members[i].ticks
			}
		case m.start >= before.tick:
			ticks += m.ticks
		}
	}
	return float64(ticks) / pgroup.TicksPerSecond / elapsed * 100
}
