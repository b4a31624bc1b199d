package tools

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// notes collects a client's notifications and lets a test wait for one.
type notes struct {
	mu   sync.Mutex
	got  []mcp.JSONRPCNotification
	more chan struct{} // closed and replaced on each notification
}

func collect(h *harness) *notes {
	n := &notes{more: make(chan struct{})}
	h.client.OnNotification(func(m mcp.JSONRPCNotification) {
		n.mu.Lock()
		n.got = append(n.got, m)
		close(n.more)
		n.more = make(chan struct{})
		n.mu.Unlock()
	})
	return n
}

// await waits for a notification that ok accepts, among those from
// index from on, and returns its index.
func (n *notes) await(t *testing.T, from int, ok func(mcp.JSONRPCNotification) bool) int {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		n.mu.Lock()
		for i := from; i < len(n.got); i++ {
			if ok(n.got[i]) {
				n.mu.Unlock()
				return i
			}
		}
		more := n.more
		n.mu.Unlock()
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("no such notification; got %v", n.methods())
		}
	}
}

func (n *notes) methods() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, m := range n.got {
		out = append(out, m.Method)
	}
	return out
}

func (n *notes) len() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.got)
}

func updated(uri string) func(mcp.JSONRPCNotification) bool {
	return func(m mcp.JSONRPCNotification) bool {
		return m.Method == mcp.MethodNotificationResourceUpdated && m.Params.AdditionalFields["uri"] == uri
	}
}

func isMethod(method string) func(mcp.JSONRPCNotification) bool {
	return func(m mcp.JSONRPCNotification) bool { return m.Method == method }
}

// alertData decodes a brummer warning's data.
func alertData(t *testing.T, m mcp.JSONRPCNotification) alert {
	t.Helper()
	var p struct {
		Level  string `json:"level"`
		Logger string `json:"logger"`
		Data   alert  `json:"data"`
	}
	require.NoError(t, json.Unmarshal(mustJSON(m.Params.AdditionalFields), &p))
	assert.Equal(t, "warning", p.Level)
	assert.Equal(t, "brummer", p.Logger)
	return p.Data
}

func TestResources(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	ok[processInfo](h, "process_start", `{"name":"web","command":"echo hello; echo '<b>x</b>'"}`)
	h.waitDone("web")
	ctx := t.Context()

	list, err := h.client.ListResources(ctx, mcp.ListResourcesRequest{})
	require.NoError(t, err)
	var uris []string
	for _, r := range list.Resources {
		uris = append(uris, r.URI)
	}
	assert.ElementsMatch(t, []string{"brummer://processes", "brummer://processes/web/logs"}, uris)
	templates, err := h.client.ListResourceTemplates(ctx, mcp.ListResourceTemplatesRequest{})
	require.NoError(t, err)
	require.Len(t, templates.ResourceTemplates, 1)
	assert.Equal(t, "brummer://processes/{name}/logs", templates.ResourceTemplates[0].URITemplate.Raw())

	read := func(uri string) string {
		res, err := h.client.ReadResource(ctx, mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: uri}})
		require.NoError(t, err, uri)
		require.Len(t, res.Contents, 1)
		tc, ok := res.Contents[0].(mcp.TextResourceContents)
		require.True(t, ok, "%T", res.Contents[0])
		return tc.Text
	}
	var procs listResult
	require.NoError(t, json.Unmarshal([]byte(read("brummer://processes")), &procs))
	require.Len(t, procs.Processes, 1)
	assert.Equal(t, "exited", procs.Processes[0].Status)
	logs := read("brummer://processes/web/logs")
	assert.Contains(t, logs, "hello\n<b>x</b>\n")
	assert.Contains(t, logs, "status=exited exit_code=0]")

	_, err = h.client.ReadResource(ctx, mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: "brummer://processes/nope/logs"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no process "nope"`)
}

// TestNewsSubscriptions: a subscriber hears of new processes, of changes
// to the list and of new output, coalesced.
func TestNewsSubscriptions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	n := collect(h)
	ctx := t.Context()
	subscribe := func(uri string) {
		require.NoError(t, h.client.Subscribe(ctx, mcp.SubscribeRequest{Params: mcp.SubscribeParams{URI: uri}}))
	}
	subscribe("brummer://processes")
	subscribe("brummer://processes/echo/logs")

	ok[processInfo](h, "process_start", `{"name":"echo","argv":["cat"],"stdin":true}`)
	n.await(t, 0, isMethod(mcp.MethodNotificationResourcesListChanged))
	n.await(t, 0, updated("brummer://processes"))
	from := n.await(t, 0, updated("brummer://processes/echo/logs")) + 1

	start := time.Now()
	for i := range 50 {
		ok[inputResult](h, "process_input", `{"name":"echo","text":"line `+strings.Repeat("x", i)+`"}`)
	}
	h.waitLines("echo", 51)
	n.await(t, from, updated("brummer://processes/echo/logs"))
	elapsed := time.Since(start)
	n.mu.Lock()
	count := 0
	for _, m := range n.got[from:] {
		if updated("brummer://processes/echo/logs")(m) {
			count++
		}
	}
	n.mu.Unlock()
	assert.LessOrEqual(t, count, int(elapsed/flushEvery)+2, "at most one update per 250 ms for 50 lines in %s", elapsed)

	require.NoError(t, h.client.Unsubscribe(ctx, mcp.UnsubscribeRequest{Params: mcp.UnsubscribeParams{URI: "brummer://processes/echo/logs"}}))
	ok[stopResult](h, "process_stop", `{"name":"echo"}`)
	n.await(t, from, updated("brummer://processes")) // the stop changed the list
}

// TestNewsAlerts: a session that set a log level hears when a process
// dies on its own, not when it is stopped; at most once a second per
// process.
func TestNewsAlerts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	n := collect(h)
	ctx := t.Context()
	require.NoError(t, h.client.SetLevel(ctx, mcp.SetLevelRequest{Params: mcp.SetLevelParams{Level: mcp.LoggingLevelInfo}}))

	ok[processInfo](h, "process_start", `{"name":"calm","argv":["sleep","60"]}`)
	ok[stopResult](h, "process_stop", `{"name":"calm"}`)
	ok[processInfo](h, "process_start", `{"name":"api","command":"echo 'panic: nil map' >&2; exit 2"}`)
	i := n.await(t, 0, isMethod("notifications/message"))
	a := alertData(t, n.got[i])
	assert.Equal(t, "api", a.Name, "the stopped process is not news")
	require.NotNil(t, a.ExitCode)
	assert.Equal(t, 2, *a.ExitCode)
	assert.Equal(t, "api exit 2", a.Message)
	assert.Equal(t, "panic: nil map", a.LastError)

	// A crash loop: exits every backoff; alerts come at most once a second.
	start := time.Now()
	ok[processInfo](h, "process_start", `{"name":"loop","command":"exit 1","restart":"always","max_restarts":3}`)
	require.Eventually(t, func() bool { return h.sup.Get("loop").Record().Status == procstate.StatusFailed }, 20*time.Second, 5*time.Millisecond)
	last := n.await(t, i+1, func(m mcp.JSONRPCNotification) bool {
		return m.Method == "notifications/message" && alertData(t, m).Status == "failed"
	})
	elapsed := time.Since(start)
	alerts := 0
	n.mu.Lock()
	for _, m := range n.got[i+1 : last+1] {
		if m.Method == "notifications/message" {
			alerts++
		}
	}
	n.mu.Unlock()
	assert.LessOrEqual(t, alerts, int(elapsed/alertEvery)+1, "%d alerts in %s", alerts, elapsed)
	assert.Equal(t, "failed", alertData(t, n.got[last]).Status, "the last word is that it gave up")
}

// TestListFindings: the record shows the URLs a run printed and its
// error lines, without asking the agent to grep.
func TestListFindings(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	ok[processInfo](h, "process_start", `{"name":"vite","command":"printf '  \\033[32m➜\\033[0m  Local:   http://0.0.0.0:5173/\\n'; echo 'src/a.ts(3,1): error TS2304: x'"}`)
	h.waitDone("vite")
	<-h.sup.Get("vite").Analyzed()
	list, txt := ok[listResult](h, "process_list", ``)
	p := list.Processes[0]
	assert.Equal(t, []string{"http://localhost:5173/"}, p.URLs)
	assert.Equal(t, 1, p.Errors)
	require.NotNil(t, p.LastError)
	assert.Equal(t, errorLine{Seq: 3, Text: "src/a.ts(3,1): error TS2304: x"}, *p.LastError)
	assert.Contains(t, txt, "errors=1 http://localhost:5173/")
}

// slowSession is a client session whose notification queue holds two and
// is read only when the test says so: a client that stopped reading.
type slowSession struct {
	ch    chan mcp.JSONRPCNotification
	level mcp.LoggingLevel
}

func (s *slowSession) Initialize()                                         {}
func (s *slowSession) Initialized() bool                                   { return true }
func (s *slowSession) NotificationChannel() chan<- mcp.JSONRPCNotification { return s.ch }
func (s *slowSession) SessionID() string                                   { return "slow" }
func (s *slowSession) SetLogLevel(l mcp.LoggingLevel)                      { s.level = l }
func (s *slowSession) GetLogLevel() mcp.LoggingLevel                       { return s.level }

// TestNewsSlowClient: a session that does not read stalls nothing, and
// once it reads again it gets every update it missed, merged: one per
// resource.
func TestNewsSlowClient(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	slow := &slowSession{ch: make(chan mcp.JSONRPCNotification, 2), level: mcp.LoggingLevelError}
	ctx := h.srv.WithContext(t.Context(), slow)
	require.NoError(t, h.srv.RegisterSession(ctx, slow))
	t.Cleanup(func() { h.srv.UnregisterSession(t.Context(), "slow") })
	const n = 8
	for i := range n {
		ok[processInfo](h, "process_start", fmt.Sprintf(`{"name":"p%d","argv":["cat"],"stdin":true}`, i))
		raw := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"resources/subscribe","params":{"uri":"brummer://processes/p%d/logs"}}`, i+1, i)
		resp := h.srv.HandleMessage(ctx, json.RawMessage(raw))
		require.NotContains(t, string(mustJSON(resp)), `"error"`)
	}
	// Output on every log while the queue is full: the server goes on.
	for round := range 3 {
		for i := range n {
			ok[inputResult](h, "process_input", fmt.Sprintf(`{"name":"p%d","text":"round %d"}`, i, round))
		}
	}
	for i := range n {
		h.waitLines(fmt.Sprintf("p%d", i), 4)
	}
	list, _ := ok[listResult](h, "process_list", ``)
	assert.Len(t, list.Processes, n, "calls are served while the client does not read")

	// It reads again: every log's update arrives, at most one per log
	// since the last full flush.
	got := map[string]int{}
	deadline := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case m := <-slow.ch:
			if m.Method == mcp.MethodNotificationResourceUpdated {
				got[m.Params.AdditionalFields["uri"].(string)]++
			}
		case <-deadline:
			t.Fatalf("updates missing: got %v", got)
		}
	}
	for uri, c := range got {
		assert.LessOrEqual(t, c, 3, "%s: merged, not one per line", uri)
	}
}
