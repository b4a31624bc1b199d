package procstate

// This file re-runs the measurement behind DESIGN.md's "Why atomic
// snapshots": reading one record and listing all records of 1,000 processes,
// without and with a writer updating records at full speed, in the design of
// this package and in the alternatives it was chosen over. Run it with
//
//	go test -run '^$' -bench 'Read|Update' -benchmem ./procstate/
//
// Every design is driven through the small recordStore interface, so each
// pays the same dynamic call. The alternatives are given their cheapest
// reasonable form: the map designs list by visiting records under the lock
// (no copy out, no sorting), and the channel design answers on a reply
// channel made per request, as a plain Go implementation would.

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// benchProcs is the number of processes every design holds.
const benchProcs = 1000

// sampleEvery is how often the latency benchmark times a read: one op in
// sampleEvery, so that the clock reads do not dilute the contention that the
// untimed reads in between create.
const sampleEvery = 16

// sink keeps the benchmarks' results alive.
var sink atomic.Int64

// recordStore is one design for holding process records.
type recordStore interface {
	// get returns a copy of the named record.
	get(name string) Record
	// sumList visits every record and returns the sum of their pids.
	sumList() int
	// update increments the pid of the i-th process (0 <= i < benchProcs).
	update(i int)
	// close releases the store's goroutines, if any.
	close()
}

// benchNames returns the process names used by every design.
func benchNames() []string {
	names := make([]string, benchProcs)
	for i := range names {
		names[i] = fmt.Sprintf("proc-%04d", i)
	}
	return names
}

// newRecord returns the record register would publish for name.
func newRecord(name string, version uint64) Record {
	return Record{
		Name:      name,
		Argv:      []string{"x"},
		Status:    StatusStarting,
		StartedAt: time.Now(),
		ExitCode:  -1,
		Version:   version,
	}
}

func bumpPid(r *Record) { r.Pid++ }

// snapshotStore is this package's design: a real Supervisor whose processes
// are registered but never spawned (register publishes a starting record).
type snapshotStore struct {
	s     *Supervisor
	procs []*Process // in benchNames order
}

func newSnapshotStore(tb testing.TB, names []string) *snapshotStore {
	tb.Helper()
	// One-line rings: the default 10,000-slot ring per process would only
	// add 80 MB of heap for the GC to scan.
	s, err := New(Config{MaxProcs: len(names), LogLines: 1, LogBytes: 1}, zerolog.Nop())
	require.NoError(tb, err)
	tb.Cleanup(s.stopBackground)
	st := &snapshotStore{s: s, procs: make([]*Process, len(names))}
	for i, name := range names {
		p, _, err := s.register(Spec{Name: name, Argv: []string{"x"}}, nil, restartLoop{})
		require.NoError(tb, err)
		st.procs[i] = p
	}
	// No s.Close: nothing was spawned, and a stop would wait for processes
	// that never start; the supervisor's own goroutines stop at cleanup.
	return st
}

func (st *snapshotStore) get(name string) Record { return *st.s.Get(name).Record() }

func (st *snapshotStore) sumList() (n int) {
	for _, p := range st.s.Processes() {
		n += p.Record().Pid
	}
	return n
}

func (st *snapshotStore) update(i int) { st.procs[i].update(bumpPid) }
func (st *snapshotStore) close()       {}

// rwMutexStore is a map of record values behind a sync.RWMutex.
type rwMutexStore struct {
	names []string
	mu    sync.RWMutex
	m     map[string]Record
}

func newRWMutexStore(names []string) *rwMutexStore {
	st := &rwMutexStore{names: names, m: make(map[string]Record, len(names))}
	for i, name := range names {
		st.m[name] = newRecord(name, uint64(i+1))
	}
	return st
}

func (st *rwMutexStore) get(name string) Record {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.m[name]
}

func (st *rwMutexStore) sumList() (n int) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	for _, r := range st.m {
		n += r.Pid
	}
	return n
}

func (st *rwMutexStore) update(i int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	r := st.m[st.names[i]]
	r.Pid++
	st.m[st.names[i]] = r
}

func (st *rwMutexStore) close() {}

// mutexStore is a map of record values behind a sync.Mutex.
type mutexStore struct {
	names []string
	mu    sync.Mutex
	m     map[string]Record
}

func newMutexStore(names []string) *mutexStore {
	st := &mutexStore{names: names, m: make(map[string]Record, len(names))}
	for i, name := range names {
		st.m[name] = newRecord(name, uint64(i+1))
	}
	return st
}

func (st *mutexStore) get(name string) Record {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.m[name]
}

func (st *mutexStore) sumList() (n int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, r := range st.m {
		n += r.Pid
	}
	return n
}

func (st *mutexStore) update(i int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	r := st.m[st.names[i]]
	r.Pid++
	st.m[st.names[i]] = r
}

func (st *mutexStore) close() {}

// syncMapStore is a sync.Map from name to an immutable *Record; a write
// stores a changed copy. There is a single writer, so Load then Store is
// enough (several writers would need CompareAndSwap).
type syncMapStore struct {
	names []string
	m     sync.Map
}

func newSyncMapStore(names []string) *syncMapStore {
	st := &syncMapStore{names: names}
	for i, name := range names {
		r := newRecord(name, uint64(i+1))
		st.m.Store(name, &r)
	}
	return st
}

func (st *syncMapStore) get(name string) Record {
	v, _ := st.m.Load(name)
	return *v.(*Record)
}

func (st *syncMapStore) sumList() (n int) {
	st.m.Range(func(_, v any) bool {
		n += v.(*Record).Pid
		return true
	})
	return n
}

func (st *syncMapStore) update(i int) {
	v, _ := st.m.Load(st.names[i])
	r := *v.(*Record)
	r.Pid++
	st.m.Store(st.names[i], &r)
}

func (st *syncMapStore) close() {}

// chanStore keeps the map in an owner goroutine that serves requests sent
// on channels; reads get their answer on a reply channel made per request.
type chanStore struct {
	names   []string
	gets    chan getRequest
	lists   chan chan []Record
	updates chan string
	done    chan struct{}
	wg      sync.WaitGroup
}

type getRequest struct {
	name  string
	reply chan Record
}

func newChanStore(names []string) *chanStore {
	m := make(map[string]Record, len(names))
	for i, name := range names {
		m[name] = newRecord(name, uint64(i+1))
	}
	st := &chanStore{
		names:   names,
		gets:    make(chan getRequest),
		lists:   make(chan chan []Record),
		updates: make(chan string),
		done:    make(chan struct{}),
	}
	st.wg.Go(func() { st.own(m) })
	return st
}

// own is the owner goroutine, the only one touching m.
func (st *chanStore) own(m map[string]Record) {
	for {
		select {
		case req := <-st.gets:
			req.reply <- m[req.name]
		case reply := <-st.lists:
			out := make([]Record, 0, len(m))
			for _, r := range m {
				out = append(out, r)
			}
			reply <- out
		case name := <-st.updates:
			r := m[name]
			r.Pid++
			m[name] = r
		case <-st.done:
			return
		}
	}
}

func (st *chanStore) get(name string) Record {
	reply := make(chan Record, 1) // buffered: the owner never waits for us
	st.gets <- getRequest{name: name, reply: reply}
	return <-reply
}

func (st *chanStore) sumList() (n int) {
	reply := make(chan []Record, 1)
	st.lists <- reply
	for _, r := range <-reply {
		n += r.Pid
	}
	return n
}

func (st *chanStore) update(i int) { st.updates <- st.names[i] }

func (st *chanStore) close() {
	close(st.done)
	st.wg.Wait()
}

// designs lists the designs in the order of DESIGN.md's table.
var designs = []struct {
	name string
	new  func(tb testing.TB, names []string) recordStore
}{
	{"snapshot", func(tb testing.TB, names []string) recordStore { return newSnapshotStore(tb, names) }},
	{"rwmutex", func(_ testing.TB, names []string) recordStore { return newRWMutexStore(names) }},
	{"mutex", func(_ testing.TB, names []string) recordStore { return newMutexStore(names) }},
	{"syncmap", func(_ testing.TB, names []string) recordStore { return newSyncMapStore(names) }},
	{"channel", func(_ testing.TB, names []string) recordStore { return newChanStore(names) }},
}

// writer updates records round-robin, as fast as it can, until halted.
type writer struct {
	stop   atomic.Bool
	writes atomic.Int64
	done   chan struct{}
}

func startWriter(st recordStore) *writer {
	w := &writer{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for i := 0; !w.stop.Load(); i++ {
			if i == benchProcs {
				i = 0
			}
			st.update(i)
			w.writes.Add(1)
		}
	}()
	return w
}

// halt stops the writer, waits for it and returns how many updates it made.
// A nil writer made none.
func (w *writer) halt() int64 {
	if w == nil {
		return 0
	}
	w.stop.Store(true)
	<-w.done
	return w.writes.Load()
}

// BenchmarkRead reads one record (copying it) or visits all records, with
// GOMAXPROCS readers, and either no writer or one writer at full speed.
//
// allocs/op counts every allocation in the process, the writer's included;
// read-allocs/op subtracts the writer's (its allocations per update are
// measured beforehand), leaving what the reads themselves allocate.
// writes/op is how many updates the writer got done per read.
func BenchmarkRead(b *testing.B) {
	names := benchNames()
	reads := []struct {
		name string
		op   func(st recordStore, names []string, i int) int
	}{
		{"one", func(st recordStore, names []string, i int) int {
			r := st.get(names[i])
			return r.Pid + len(r.Name)
		}},
		{"list", func(st recordStore, _ []string, _ int) int { return st.sumList() }},
	}
	for _, read := range reads {
		for _, d := range designs {
			for _, withWriter := range []bool{false, true} {
				b.Run(read.name+"/"+d.name+"/"+scenario(withWriter), func(b *testing.B) {
					st := d.new(b, names)
					defer st.close()
					benchRead(b, st, names, read.op, withWriter)
				})
			}
		}
	}
}

func scenario(withWriter bool) string {
	if withWriter {
		return "writer"
	}
	return "idle"
}

func benchRead(b *testing.B, st recordStore, names []string, op func(recordStore, []string, int) int, withWriter bool) {
	perUpdate := testing.AllocsPerRun(100, func() { st.update(benchProcs / 2) })
	b.ReportAllocs()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var w *writer
	if withWriter {
		w = startWriter(st)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i, sum := rand.IntN(len(names)), 0
		for pb.Next() {
			sum += op(st, names, i)
			if i++; i == len(names) {
				i = 0
			}
		}
		sink.Add(int64(sum))
	})
	b.StopTimer()
	writes := w.halt()
	runtime.ReadMemStats(&after)

	readAllocs := float64(after.Mallocs-before.Mallocs) - float64(writes)*perUpdate
	// Rounded: runtime bookkeeping leaves a few allocations per run.
	b.ReportMetric(math.Round(max(0, readAllocs)/float64(b.N)*1000)/1000, "read-allocs/op")
	if withWriter {
		b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
	}
}

// BenchmarkUpdate changes one record among 1,000: this package's per-process
// atomic pointer against publishing a copy of the whole map per update, the
// design DESIGN.md rejects.
func BenchmarkUpdate(b *testing.B) {
	names := benchNames()
	b.Run("snapshot", func(b *testing.B) {
		st := newSnapshotStore(b, names)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			st.procs[i].update(bumpPid)
			if i++; i == len(names) {
				i = 0
			}
		}
	})
	b.Run("mapcopy", func(b *testing.B) {
		st := newMapCopyStore(names)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			st.update(i)
			if i++; i == len(names) {
				i = 0
			}
		}
	})
}

// mapCopyStore publishes an immutable map through an atomic pointer and
// copies the whole map on every update.
type mapCopyStore struct {
	names []string
	mu    sync.Mutex // serialises writers
	cur   atomic.Pointer[map[string]*Record]
}

func newMapCopyStore(names []string) *mapCopyStore {
	m := make(map[string]*Record, len(names))
	for i, name := range names {
		r := newRecord(name, uint64(i+1))
		m[name] = &r
	}
	st := &mapCopyStore{names: names}
	st.cur.Store(&m)
	return st
}

func (st *mapCopyStore) update(i int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	old := *st.cur.Load()
	next := make(map[string]*Record, len(old))
	maps.Copy(next, old)
	r := *old[st.names[i]]
	r.Pid++
	next[st.names[i]] = &r
	st.cur.Store(&next)
}

// BenchmarkReadLatency times single reads of one record, one in every
// sampleEvery, by GOMAXPROCS readers: b.N reads with no writer, then b.N
// reads with one writer at full speed. It reports the p99 and p99.9 of both
// runs and the inflation p99(writer) / p99(idle). Each sample includes two
// clock reads; timer-ns is the median cost of an empty timed section.
// writes/read is how many updates the writer made per read in the second
// run; fresh-% is the share of timed reads under the writer that found the
// record replaced since that reader last read it. Such a read fetches the
// new record from the writer's core: when it is over 1%, the p99 under the
// writer is that cross-core fetch, whatever the design (with -cpu 1, where
// no read crosses cores, the inflation is about 1x). ns/op is suppressed: it
// would mix the two runs.
func BenchmarkReadLatency(b *testing.B) {
	names := benchNames()
	for _, d := range designs {
		b.Run(d.name, func(b *testing.B) {
			st := d.new(b, names)
			defer st.close()
			timer := timerCost()
			b.ResetTimer()
			idle, _, _ := sampleReadOne(st, names, b.N, false)
			busy, writes, fresh := sampleReadOne(st, names, b.N, true)
			b.StopTimer()

			b.ReportMetric(0, "ns/op")
			b.ReportMetric(percentile(idle, 0.99), "p99-idle-ns")
			b.ReportMetric(percentile(busy, 0.99), "p99-writer-ns")
			b.ReportMetric(percentile(busy, 0.99)/percentile(idle, 0.99), "p99-inflation")
			b.ReportMetric(percentile(idle, 0.999), "p999-idle-ns")
			b.ReportMetric(percentile(busy, 0.999), "p999-writer-ns")
			b.ReportMetric(timer, "timer-ns")
			b.ReportMetric(float64(writes)/float64(b.N), "writes/read")
			b.ReportMetric(100*float64(fresh)/float64(max(len(busy), 1)), "fresh-%")
		})
	}
}

// sampleReadOne does ops reads spread over GOMAXPROCS goroutines, timing
// one in sampleEvery, and returns the sampled latencies sorted, the number
// of updates the writer made meanwhile and how many sampled reads were
// fresh: the record's pid (the writer's version counter) had changed since
// that goroutine's previous read of it.
func sampleReadOne(st recordStore, names []string, ops int, withWriter bool) ([]time.Duration, int64, int64) {
	readers := runtime.GOMAXPROCS(0)
	per := ops/readers + 1
	samples := make([][]time.Duration, readers)
	for g := range samples {
		samples[g] = make([]time.Duration, 0, per/sampleEvery+1)
	}
	// Start from a collected heap: garbage from before (the writer's, the
	// other benchmarks') must not be swept or marked during this run.
	runtime.GC()
	var w *writer
	if withWriter {
		w = startWriter(st)
	}
	start := make(chan struct{})
	var fresh atomic.Int64
	var wg sync.WaitGroup
	for g := range readers {
		wg.Go(func() {
			i, sum, nfresh := g*len(names)/readers, 0, int64(0)
			seen := make([]int, len(names)) // pid last read; pids start at 1
			<-start
			for k := range per {
				if k%sampleEvery == 0 {
					t0 := time.Now()
					r := st.get(names[i])
					samples[g] = append(samples[g], time.Since(t0))
					if seen[i] != 0 && seen[i] != r.Pid {
						nfresh++
					}
					seen[i] = r.Pid
				} else {
					seen[i] = st.get(names[i]).Pid
				}
				if i++; i == len(names) {
					i = 0
				}
			}
			for _, pid := range seen {
				sum += pid
			}
			sink.Add(int64(sum))
			fresh.Add(nfresh)
		})
	}
	close(start)
	wg.Wait()
	writes := w.halt()
	all := slices.Concat(samples...)
	slices.Sort(all)
	return all, writes, fresh.Load()
}

// timerCost is the median duration of an empty timed section.
func timerCost() float64 {
	d := make([]time.Duration, 10000)
	for i := range d {
		t0 := time.Now()
		d[i] = time.Since(t0)
	}
	slices.Sort(d)
	return percentile(d, 0.5)
}

// percentile returns the q-quantile of sorted in nanoseconds.
func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[int(q*float64(len(sorted)-1))].Nanoseconds())
}

// TestReadAllocs checks the claim of the package doc and DESIGN.md that
// reading a record, and listing all of them, does not allocate.
func TestReadAllocs(t *testing.T) {
	names := benchNames()
	st := newSnapshotStore(t, names)
	s, name := st.s, names[benchProcs/2]
	var got Record
	var pids int
	tests := []struct {
		name string
		read func()
	}{
		{"Get+Record+copy", func() { got = *s.Get(name).Record() }},
		{"Processes+Record", func() {
			for _, p := range s.Processes() {
				pids += p.Record().Pid
			}
		}},
	}
	allocs := make([]float64, len(tests))
	for i, tt := range tests {
		allocs[i] = testing.AllocsPerRun(1000, tt.read)
	}
	require.Equal(t, name, got.Name)
	if raceEnabled {
		t.Skipf("allocation counts are not meaningful under -race (got %v)", allocs)
	}
	for i, tt := range tests {
		assert.Zero(t, allocs[i], tt.name)
	}
}
