package dashboard

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// openEvents opens an event stream of srvURL with query q; cancel ends it.
func openEvents(t *testing.T, srvURL, q string) (events <-chan event, cancel func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srvURL+"/api/events?"+q, nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	assert.Equal(t, csp, res.Header.Get("Content-Security-Policy"))
	events = readEvents(res.Body)
	t.Cleanup(func() {
		cancel()
		res.Body.Close()
		for range events { // the reader ends with the body
		}
	})
	return events, cancel
}

// next returns the next event named name, skipping others.
func next(t *testing.T, events <-chan event, name string) event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			require.True(t, ok, "the stream ended while waiting for %q", name)
			if ev.name == name {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %q event", name)
		}
	}
}

// nextLines returns the next lines event.
func nextLines(t *testing.T, events <-chan event) lines {
	t.Helper()
	var l lines
	require.NoError(t, json.Unmarshal([]byte(next(t, events, "lines").data), &l))
	return l
}

// view is what a page has seen of a stream: the newest state and every
// line, and when each event came.
type view struct {
	state  state
	lines  []line
	missed uint64
	cursor string
	at     map[string][]time.Time
}

// until reads events into v until cond holds.
func (v *view) until(t *testing.T, events <-chan event, cond func(*view) bool) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for !cond(v) {
		select {
		case ev, ok := <-events:
			require.True(t, ok, "the stream ended")
			if v.at == nil {
				v.at = map[string][]time.Time{}
			}
			v.at[ev.name] = append(v.at[ev.name], ev.at)
			switch ev.name {
			case "state":
				v.state = state{}
				require.NoError(t, json.Unmarshal([]byte(ev.data), &v.state))
			case "lines":
				var l lines
				require.NoError(t, json.Unmarshal([]byte(ev.data), &l))
				v.lines = append(v.lines, l.Lines...)
				v.missed += l.Missed
				v.cursor = l.Cursor
			}
		case <-timeout:
			t.Fatalf("the stream did not get there: state %+v, lines %q", v.state, texts(v.lines))
		}
	}
}

// proc is the named process in the state, or the zero procInfo.
func (v *view) proc(name string) procInfo {
	for _, p := range v.state.Processes {
		if p.Name == name {
			return p
		}
	}
	return procInfo{}
}

// has reports whether a line that contains text came.
func (v *view) has(text string) bool {
	for _, l := range v.lines {
		if strings.Contains(l.Text, text) {
			return true
		}
	}
	return false
}

// spaced checks that events of each kind came at most every 250 ms: over
// the span of n of them, at least n-1 spacings (less some slack for the
// way to the client, which may delay the first one).
func (v *view) spaced(t *testing.T) {
	t.Helper()
	for name, at := range v.at {
		if n := len(at); n > 1 {
			assert.GreaterOrEqual(t, at[n-1].Sub(at[0]), time.Duration(n-1)*eventGap-150*time.Millisecond, "%d %s events too close together", n, name)
		}
	}
}

// TestEvents: a merged view gets the state when processes start and end,
// and their lines as they come, each kind at most every 250 ms.
func TestEvents(t *testing.T) {
	r := newRig(t, rigOptions{})
	events, _ := openEvents(t, r.srv.URL, "name=&stream=all&cursor="+url.QueryEscape("c1:"))
	first := <-events
	assert.Equal(t, "state", first.name, "the state comes first")
	l := nextLines(t, events)
	assert.Empty(t, l.Lines, "with a cursor, the lines after it, even none")
	assert.Equal(t, "c1:", l.Cursor)

	var v view
	p, err := r.sup.Start(procstate.Spec{Name: "web", Command: `read x; echo "$x"; read y; echo "$y" >&2; exit 4`, Stdin: true})
	require.NoError(t, err)
	v.until(t, events, func(v *view) bool { return v.proc("web").Status == "running" })
	assert.Equal(t, p.Record().Pid, v.proc("web").Pid)

	_, err = p.Input([]byte("hello <b>\n"), false)
	require.NoError(t, err)
	v.until(t, events, func(v *view) bool { return v.has("hello") })
	_, err = p.Input([]byte("\x1b[33mwarn\x1b[0m\n"), false)
	require.NoError(t, err)
	v.until(t, events, func(v *view) bool { return v.has("exited with code 4") && v.proc("web").Status == "exited" })
	require.NotNil(t, v.proc("web").ExitCode)
	assert.Equal(t, 4, *v.proc("web").ExitCode)
	var outs []line
	for _, l := range v.lines {
		if l.Stream != "system" {
			l.TS = 0
			outs = append(outs, l)
		}
	}
	assert.Equal(t, []line{{P: "web", Seq: 2, Stream: "stdout", Text: "hello <b>"}, {P: "web", Seq: 3, Stream: "stderr", Text: "\x1b[33mwarn\x1b[0m"}}, outs)
	assert.Contains(t, v.lines[len(v.lines)-1].Text, "exited with code 4", "the exit note last")
	assert.Equal(t, "c1:web=4", v.cursor)
	v.spaced(t)

	// Close ends the stream.
	r.d.Close()
	for ev := range events {
		assert.Contains(t, []string{"state", "lines"}, ev.name, "only what was sent before")
	}
	res, body := r.get("/api/events")
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, body)
}

// TestEventsRate: a process that prints all the time and whose findings
// change all the time gets each kind of event at most every 250 ms.
func TestEventsRate(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.start("flood", `while :; do echo "error: could not compile x"; done`)
	events, _ := openEvents(t, r.srv.URL, "name=flood")
	var v view
	v.until(t, events, func(v *view) bool { return len(v.at["state"]) >= 4 && len(v.at["lines"]) >= 6 })
	v.spaced(t)
	assert.Positive(t, v.proc("flood").Errors)
}

// TestEventsOne: a view of one process follows it across runs, with its
// filter; a process the project defines gets its lines once it starts.
func TestEventsOne(t *testing.T) {
	r := newRig(t, rigOptions{files: map[string]string{"brummer.json": `{"processes": {"job": {"command": "echo one; echo two; echo one more; exec sleep 60"}}}`}})
	events, _ := openEvents(t, r.srv.URL, "name=job&grep=%5Eone&cursor="+url.QueryEscape("c1:"))
	var v view
	v.until(t, events, func(v *view) bool { return v.cursor != "" })
	assert.Equal(t, "idle", v.proc("job").Status)
	assert.Empty(t, v.lines)

	status, body := r.post("/api/start", `{"script":"job"}`, nil)
	wantDone(t, status, body)
	v.until(t, events, func(v *view) bool { return len(v.lines) == 2 })
	assert.Equal(t, []string{"one", "one more"}, texts(v.lines))

	status, body = r.post("/api/restart", `{"name":"job"}`, nil)
	wantDone(t, status, body)
	v.until(t, events, func(v *view) bool { return len(v.lines) == 4 && v.proc("job").Run == 2 })
	assert.Equal(t, []string{"one", "one more", "one", "one more"}, texts(v.lines), "the next run, in the same log")
	assert.Zero(t, v.missed)
	assert.Regexp(t, `^c1:job=\d+$`, v.cursor)

	head, err := http.Head(r.srv.URL + "/api/events?name=job")
	require.NoError(t, err)
	head.Body.Close()
	assert.Equal(t, http.StatusOK, head.StatusCode, "HEAD: the headers, no stream")
	assert.Equal(t, "text/event-stream; charset=utf-8", head.Header.Get("Content-Type"))

	res, body := r.get("/api/events?name=nope")
	assert.Equal(t, http.StatusNotFound, res.StatusCode, body)
	res, body = r.get("/api/events?grep=(")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode, body)
}

// TestEventsDisconnect: the stream ends with its request.
func TestEventsDisconnect(t *testing.T) {
	r := newRig(t, rigOptions{})
	returned := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.d.Handler().ServeHTTP(w, req)
		close(returned)
	}))
	defer srv.Close()
	events, cancel := openEvents(t, srv.URL, "")
	next(t, events, "lines")
	cancel()
	select {
	case <-returned:
	case <-time.After(20 * time.Second):
		t.Fatal("the stream did not end with its request")
	}
}

// gateListener makes a page that stops reading: while hold is set, writes
// to its connections block (until their write deadline passes, as a full
// socket's would).
type gateListener struct {
	net.Listener
	mu       sync.Mutex
	hold     bool
	blocked  chan struct{} // closed when a write blocks while hold is set
	changed  chan struct{} // closed when hold or a deadline changes
	deadline time.Time
}

func newGateListener(l net.Listener) *gateListener {
	return &gateListener{Listener: l, blocked: make(chan struct{}), changed: make(chan struct{})}
}

func (g *gateListener) Accept() (net.Conn, error) {
	c, err := g.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &gateConn{Conn: c, g: g}, nil
}

// set holds or releases the writes; a new hold has a new blocked channel.
func (g *gateListener) set(hold bool) <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if hold && !g.hold {
		g.blocked = make(chan struct{})
	}
	g.hold = hold
	close(g.changed)
	g.changed = make(chan struct{})
	return g.blocked
}

type gateConn struct {
	net.Conn
	g          *gateListener
	signalOnce sync.Once
}

func (c *gateConn) Write(b []byte) (int, error) {
	for {
		g := c.g
		g.mu.Lock()
		hold, deadline, changed, blocked := g.hold, g.deadline, g.changed, g.blocked
		g.mu.Unlock()
		if !hold {
			return c.Conn.Write(b)
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return 0, os.ErrDeadlineExceeded
		}
		select {
		case <-blocked:
		default:
			close(blocked)
		}
		var expire <-chan time.Time
		if !deadline.IsZero() {
			t := time.NewTimer(time.Until(deadline))
			defer t.Stop()
			expire = t.C
		}
		select {
		case <-changed:
		case <-expire:
		}
	}
}

func (c *gateConn) SetWriteDeadline(t time.Time) error {
	c.g.mu.Lock()
	c.g.deadline = t
	close(c.g.changed)
	c.g.changed = make(chan struct{})
	c.g.mu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}

func (c *gateConn) SetDeadline(t time.Time) error {
	if err := c.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetReadDeadline(t)
}

// TestEventsBehind: a page that does not read is not queued for; when it
// reads again it skips to the newest lines and is told what it missed.
// Close ends a stream whose write is blocked.
func TestEventsBehind(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.d.writeTimeout = time.Hour // only Close can end a blocked write here
	gate := newGateListener(newLocalListener(t))
	srv := httptest.NewUnstartedServer(r.d.Handler())
	srv.Listener.Close()
	srv.Listener = gate
	srv.Start()
	defer srv.Close()

	p, err := r.sup.Start(procstate.Spec{Name: "gen", Command: `read a; seq 1 600; read b; seq 601 6000; exec sleep 60`, Stdin: true})
	require.NoError(t, err)
	r.lines(p, 1)
	events, _ := openEvents(t, srv.URL, "name=gen&cursor="+url.QueryEscape("c1:gen=1"))
	next(t, events, "lines")

	blocked := gate.set(true)
	_, err = p.Input([]byte("a\n"), false)
	require.NoError(t, err)
	<-blocked // an event is stuck
	_, err = p.Input([]byte("b\n"), false)
	require.NoError(t, err)
	r.lines(p, 6001)
	gate.set(false)

	var total, missed uint64
	skipped := false
	for total+missed < 6000 {
		l := nextLines(t, events)
		assert.LessOrEqual(t, len(l.Lines), maxLines)
		total += uint64(len(l.Lines))
		missed += l.Missed
		skipped = skipped || l.Missed > 0
	}
	assert.True(t, skipped, "what the page could not take was skipped")
	assert.Equal(t, uint64(6000), total+missed, "every line sent or counted as missed")
	assert.LessOrEqual(t, total, uint64(600+maxLines)+600, "not every line")

	// A stream stuck in a write ends with Close.
	blocked = gate.set(true)
	r.start("other", "exec sleep 60") // a state event, which blocks
	<-blocked
	closed := make(chan struct{})
	go func() {
		r.d.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not end a stream stuck in a write")
	}
	gate.set(false)
}

func newLocalListener(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return l
}

// TestEventsHeartbeat: a quiet stream sends a comment now and then.
func TestEventsHeartbeat(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 15 s")
	}
	r := newRig(t, rigOptions{})
	events, _ := openEvents(t, r.srv.URL, "")
	next(t, events, "lines")
	select {
	case ev := <-events:
		assert.True(t, ev.comment, "a heartbeat, not %q", ev.name)
		assert.Empty(t, strings.TrimSpace(ev.data))
	case <-time.After(heartbeatAfter + 10*time.Second):
		t.Fatal("no heartbeat")
	}
}
