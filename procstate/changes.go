package procstate

import "sync/atomic"

// changeSignal tells watchers that something a reader can observe through
// the supervisor has changed: a generation counter, and a channel closed
// and replaced whenever the counter moves while someone watches. Like
// [logring.Ring.Wait] it costs a writer one atomic add and one atomic load
// while nobody watches, and never blocks a writer.
type changeSignal struct {
	gen     atomic.Uint64
	waiters atomic.Int64
	ch      atomic.Pointer[chan struct{}] // closed when gen moves; replaced then
	done    func()                        // release, made once: a method value allocates
}

func newChangeSignal() *changeSignal {
	c := &changeSignal{}
	ch := make(chan struct{})
	c.ch.Store(&ch)
	c.done = c.release
	return c
}

// bump records a change, after the changed value is published, and wakes
// the watchers.
func (c *changeSignal) bump() {
	c.gen.Add(1)
	if c.waiters.Load() == 0 {
		return
	}
	next := make(chan struct{})
	close(*c.ch.Swap(&next))
}

// wait returns a channel closed once the generation is past after. A bump
// that a watcher's load of gen misses comes after its waiters.Add, so the
// bump sees the watcher and closes the channel it loaded (or one that
// replaced it, closed by the bump that did).
func (c *changeSignal) wait(after uint64) (<-chan struct{}, func()) {
	c.waiters.Add(1)
	ch := *c.ch.Load()
	if c.gen.Load() > after {
		ch = closedChan
	}
	return ch, c.done
}

func (c *changeSignal) release() { c.waiters.Add(-1) }

// closedChan is a channel that is always closed.
var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// Generation counts the changes of everything a reader can observe
// through the supervisor apart from log lines: records (every change that
// moves [Supervisor.Version]), the set of processes, a run's [Findings]
// and the [Usage] samples. It only grows. Pair it with [Supervisor.Changes]
// to wait for the next change; unlike Version, it is not a record's
// version and moves when no record changed.
func (s *Supervisor) Generation() uint64 { return s.changes.gen.Load() }

// Changes returns a channel that is closed once [Supervisor.Generation]
// is greater than after; it is closed already if it is. Call done, once,
// when you stop waiting. It is how a subscription waits for "anything
// changed" without polling: load Generation, read what you need, then wait
// on Changes of the generation you loaded, and read again when it fires.
// A change that comes between the load and the read fires it at once:
// nothing is missed, and a wake-up may find nothing new. Log output has
// its own signal, [logring.Ring.Wait].
//
// Watching is lock-free and costs the writers nothing while nobody
// watches. While someone does, each change allocates one channel; a
// change never waits for a watcher.
func (s *Supervisor) Changes(after uint64) (ch <-chan struct{}, done func()) {
	return s.changes.wait(after)
}
