package tools

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// News tells clients what changed without being asked:
//   - notifications/resources/updated for a subscribed resource, when the
//     process list changes (brummer://processes) or a process's output
//     grows (its logs resource);
//   - notifications/resources/list_changed when processes come or go;
//   - notifications/message (warning, logger "brummer") to every session
//     that set a log level, when a process fails without a stop (a
//     non-zero code or a signal), enters backoff or gives up.
//
// One goroutine does it all. It wakes on the supervisor's change signal,
// and on a 250 ms tick only while something is pending or a log is
// subscribed. Sends never block: mcp-go drops a notification when a
// session's queue is full, so what could not be sent stays pending,
// merged with what comes later (one update per resource, the newest alert
// per process), and goes with a later flush. A slow client thus loses no
// news and stalls nothing.
type news struct {
	srv  *server.MCPServer
	sup  *procstate.Supervisor
	log  zerolog.Logger
	wake chan struct{} // a session's interests changed
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex // hooks write sessions; the loop reads them
	sessions map[string]*newsSession

	// Owned by the loop.
	seen      map[string]seenProc
	dying     map[string]dyingRun  // runs that died, until their findings are final
	alertedAt map[string]time.Time // by process: when it was last alerted
	held      map[string]alert     // alerts waiting for their process's second
}

// dyingRun is a run seen dead whose last lines are still being analyzed:
// its alert waits for the last error line, a moment at most.
type dyingRun struct {
	p    *procstate.Process
	rec  *procstate.Record
	seen time.Time
}

// finalWithin bounds how long an alert waits for a run's final findings.
const finalWithin = 2 * time.Second

// flushEvery is the least time between two flushes to one session: at
// most one update per resource per 250 ms.
const flushEvery = 250 * time.Millisecond

// alertEvery is the least time between two alerts about one process.
const alertEvery = time.Second

// newsSession is what one session wants and has not been sent yet.
type newsSession struct {
	subs        map[string]bool // subscribed URIs
	level       bool            // it set a log level: it gets alerts
	pending     map[string]bool // URIs with an update to send
	listChanged bool
	alerts      map[string]alert // by process: the newest not yet sent
	flushed     time.Time
}

// seenProc is a process as the loop last saw it.
type seenProc struct {
	p       *procstate.Process
	rec     *procstate.Record
	lastSeq uint64
}

// alert is a process that died, as a log message's data.
type alert struct {
	Name      string `json:"name"`
	Status    string `json:"status"`
	Message   string `json:"message"`
	ExitCode  *int   `json:"exit_code,omitempty"`
	Signal    string `json:"signal,omitempty"`
	Restarts  int    `json:"restarts,omitempty"`
	LastError string `json:"last_error,omitempty"`
}

// startNews starts telling the sessions of srv what changes in sup.
func startNews(srv *server.MCPServer, sup *procstate.Supervisor, hooks *server.Hooks, log zerolog.Logger) *news {
	n := &news{
		srv: srv, sup: sup, log: log,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		sessions:  map[string]*newsSession{},
		seen:      map[string]seenProc{},
		dying:     map[string]dyingRun{},
		alertedAt: map[string]time.Time{},
		held:      map[string]alert{},
	}
	hooks.AddOnRegisterSession(func(_ context.Context, s server.ClientSession) {
		n.update(s.SessionID(), func(ns *newsSession) {})
	})
	hooks.AddOnUnregisterSession(func(_ context.Context, s server.ClientSession) {
		n.mu.Lock()
		delete(n.sessions, s.SessionID())
		n.mu.Unlock()
	})
	hooks.AddAfterSubscribe(func(ctx context.Context, _ any, req *mcp.SubscribeRequest, _ *mcp.EmptyResult) {
		if id, ok := sessionID(ctx); ok {
			n.update(id, func(ns *newsSession) { ns.subs[req.Params.URI] = true })
		}
	})
	hooks.AddAfterUnsubscribe(func(ctx context.Context, _ any, req *mcp.UnsubscribeRequest, _ *mcp.EmptyResult) {
		if id, ok := sessionID(ctx); ok {
			n.update(id, func(ns *newsSession) { delete(ns.subs, req.Params.URI); delete(ns.pending, req.Params.URI) })
		}
	})
	hooks.AddAfterSetLevel(func(ctx context.Context, _ any, _ *mcp.SetLevelRequest, _ *mcp.EmptyResult) {
		if id, ok := sessionID(ctx); ok {
			n.update(id, func(ns *newsSession) { ns.level = true })
		}
	})
	for _, p := range sup.Processes() {
		n.seen[p.Name()] = seenProc{p: p, rec: p.Record(), lastSeq: p.Log().Stats().LastSeq}
	}
	go n.run()
	return n
}

func sessionID(ctx context.Context) (string, bool) {
	s := server.ClientSessionFromContext(ctx)
	if s == nil || s.SessionID() == "" {
		return "", false
	}
	return s.SessionID(), true
}

// update changes session id's interests and wakes the loop.
func (n *news) update(id string, fn func(*newsSession)) {
	n.mu.Lock()
	ns := n.sessions[id]
	if ns == nil {
		ns = &newsSession{subs: map[string]bool{}, pending: map[string]bool{}, alerts: map[string]alert{}}
		n.sessions[id] = ns
	}
	fn(ns)
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// close stops the loop and waits for it.
func (n *news) close() {
	if n == nil {
		return
	}
	select {
	case <-n.stop:
	default:
		close(n.stop)
	}
	<-n.done
}

func (n *news) run() {
	defer close(n.done)
	tick := time.NewTimer(flushEvery)
	tick.Stop()
	defer tick.Stop()
	ticking := false
	version := n.sup.Generation()
	for {
		changes, release := n.sup.Changes(version)
		var ticked <-chan time.Time
		if ticking {
			ticked = tick.C
		}
		select {
		case <-n.stop:
			release()
			return
		case <-changes:
		case <-ticked:
			ticking = false
		case <-n.wake:
		}
		release()
		version = n.sup.Generation()
		now := time.Now()
		n.mu.Lock()
		n.observe(now)
		n.flush(now)
		if !ticking && n.busy() { // idle, it does not tick
			tick.Reset(flushEvery)
			ticking = true
		}
		n.mu.Unlock()
	}
}

// observe compares what the supervisor shows with what was seen last
// and records what each session is owed. n.mu is held.
func (n *news) observe(now time.Time) {
	procs := n.sup.Processes()
	listChanged := len(procs) != len(n.seen)
	wantUsage := false
	for _, ns := range n.sessions {
		if ns.subs[processesURI] {
			wantUsage = true
		}
	}
	if wantUsage {
		n.sup.WantUsage()
	}
	current := make(map[string]bool, len(procs))
	recordsChanged := false
	for _, p := range procs {
		name := p.Name()
		current[name] = true
		prev, known := n.seen[name]
		if !known {
			listChanged = true
		}
		rec, last := p.Record(), p.Log().Stats().LastSeq
		if known && prev.rec.Status.Live() {
			// The run seen last, even if a new one replaced it since.
			if old := prev.p.Record(); diedOnItsOwn(prev.rec, old) {
				n.dying[name] = dyingRun{p: prev.p, rec: old, seen: now}
			}
		}
		if !known || rec != prev.rec {
			recordsChanged = true
			n.owe(logsURI(name))
		}
		if last != prev.lastSeq {
			n.owe(logsURI(name))
		}
		n.seen[name] = seenProc{p: p, rec: rec, lastSeq: last}
	}
	for name := range n.seen {
		if !current[name] {
			delete(n.seen, name)
			delete(n.alertedAt, name)
			listChanged = true
		}
	}
	if recordsChanged || listChanged {
		n.owe(processesURI)
	}
	if listChanged {
		for _, ns := range n.sessions {
			ns.listChanged = true
		}
	}
	for name, d := range n.dying {
		if d.p.Findings().Final || now.Sub(d.seen) >= finalWithin {
			delete(n.dying, name)
			n.queueAlert(alertOf(d.p, d.rec), now)
		}
	}
	// Alerts held for their process's second.
	for name, a := range n.held {
		if now.Sub(n.alertedAt[name]) >= alertEvery {
			delete(n.held, name)
			n.sendAlert(a, now)
		}
	}
}

// diedOnItsOwn reports whether a run seen live (before) has since ended
// badly without a stop: it failed (a non-zero code or a signal), crashed
// into backoff, or gave up. A build that exits 0 is not news.
func diedOnItsOwn(before, now *procstate.Record) bool {
	if now == before || now.Stopped || now.EndedAt.IsZero() {
		return false
	}
	switch now.Status {
	case procstate.StatusExited:
		return now.Signal != "" || now.ExitCode != 0
	case procstate.StatusBackoff, procstate.StatusFailed:
		return true
	}
	return false
}

// alertOf describes run p's end.
func alertOf(p *procstate.Process, rec *procstate.Record) alert {
	info := infoFrom(p, rec, time.Now(), "")
	a := alert{Name: rec.Name, Status: string(rec.Status), ExitCode: info.ExitCode, Signal: rec.Signal, Restarts: rec.Restarts}
	a.Message = rec.Name + " " + outcome(info)
	switch rec.Status {
	case procstate.StatusBackoff:
		a.Message += "; it restarts at " + formatTime(rec.NextRestartAt)
	case procstate.StatusFailed:
		a.Message += "; it gave up: " + rec.Error
	}
	if f := p.Findings(); f.LastError != nil {
		a.LastError = f.LastError.Text
	}
	return a
}

// queueAlert sends a, or holds it until its process's second has passed.
func (n *news) queueAlert(a alert, now time.Time) {
	if now.Sub(n.alertedAt[a.Name]) < alertEvery {
		n.held[a.Name] = a // the newest wins
		return
	}
	n.sendAlert(a, now)
}

// sendAlert queues a for every session that set a log level.
func (n *news) sendAlert(a alert, now time.Time) {
	n.alertedAt[a.Name] = now
	for _, ns := range n.sessions {
		if ns.level {
			ns.alerts[a.Name] = a
		}
	}
}

// owe marks uri updated for the sessions subscribed to it.
func (n *news) owe(uri string) {
	for _, ns := range n.sessions {
		if ns.subs[uri] {
			ns.pending[uri] = true
		}
	}
}

// flush sends each session what it is owed, at most every flushEvery.
// n.mu is held.
func (n *news) flush(now time.Time) {
	for id, ns := range n.sessions {
		if now.Sub(ns.flushed) < flushEvery || (!ns.listChanged && len(ns.pending) == 0 && len(ns.alerts) == 0) {
			continue
		}
		ns.flushed = now
		if ns.listChanged && n.sent(id, n.srv.SendNotificationToSpecificClient(id, mcp.MethodNotificationResourcesListChanged, nil)) {
			ns.listChanged = false
		}
		for uri := range ns.pending {
			if n.sent(id, n.srv.SendNotificationToSpecificClient(id, mcp.MethodNotificationResourceUpdated, map[string]any{"uri": uri})) {
				delete(ns.pending, uri)
			}
		}
		for name, a := range ns.alerts {
			err := n.srv.SendLogMessageToSpecificClient(id, mcp.NewLoggingMessageNotification(mcp.LoggingLevelWarning, "brummer", a))
			if n.sent(id, err) {
				delete(ns.alerts, name)
			}
		}
	}
}

// sent reports whether a send is done with: sent, or never to be sent
// (the session is gone). A full queue keeps it pending.
func (n *news) sent(id string, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, server.ErrNotificationChannelBlocked), errors.Is(err, server.ErrSessionNotInitialized):
		return false
	case errors.Is(err, server.ErrSessionNotFound):
		delete(n.sessions, id)
		return true
	}
	n.log.Debug().Err(err).Str("session", id).Msg("notification")
	return true
}

// busy reports whether the loop must tick: something is pending, held, or
// a log is subscribed (output does not move the version).
func (n *news) busy() bool {
	if len(n.held) > 0 || len(n.dying) > 0 {
		return true
	}
	for _, ns := range n.sessions {
		if ns.listChanged || len(ns.pending) > 0 || len(ns.alerts) > 0 {
			return true
		}
		for uri := range ns.subs {
			if uri != processesURI {
				return true
			}
		}
	}
	return false
}
