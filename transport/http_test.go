package transport_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	mcptransport "github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/internal/toolresult"
	"github.com/brummer-mcp/brummer-mcp/procstate"
	"github.com/brummer-mcp/brummer-mcp/tools"
	"github.com/brummer-mcp/brummer-mcp/transport"
)

// protocol is the revision real clients speak. mcp-go's client would
// otherwise negotiate 2026-07-28, which has no sessions to test.
const protocol = mcp.LATEST_LEGACY_PROTOCOL_VERSION

// testMaxBody is the body limit of the test listeners: small, so that the
// over-the-limit requests are cheap.
const testMaxBody = 64 << 10

// discard silences mcp-go's client transports, which log to slog.Default.
var discard = slog.New(slog.DiscardHandler)

// stack is one supervisor and one MCP server, shared by every transport a
// test serves it on, as in the real server.
type stack struct {
	sup *procstate.Supervisor
	srv *server.MCPServer
}

func newStack(t *testing.T) *stack {
	t.Helper()
	sup := newSupervisor(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, sup.Close(ctx))
	})
	srv := tools.NewServer(sup, "test", tools.Policy{}, zerolog.Nop())
	t.Cleanup(srv.Close)
	return &stack{sup: sup, srv: srv.MCPServer}
}

func newSupervisor(t *testing.T) *procstate.Supervisor {
	t.Helper()
	sup, err := procstate.New(procstate.Config{Dir: t.TempDir(), StopGrace: 2 * time.Second}, zerolog.Nop())
	require.NoError(t, err)
	return sup
}

// serve puts the stack's MCP server behind transport.HTTP with cfg on an
// httptest server and returns its base URL. Cleanups run in reverse order:
// clients connected later are closed first, then the transport ends its
// sessions and streams, then the HTTP server waits for its handlers, and
// the supervisor stops its children last.
func (s *stack) serve(t *testing.T, cfg transport.HTTPConfig) string {
	t.Helper()
	h, err := transport.NewHTTP(s.srv, cfg, zerolog.Nop())
	require.NoError(t, err)
	ts := httptest.NewServer(h.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, h.Shutdown(ctx))
		ts.Close()
	})
	return ts.URL
}

// connectStreamable connects mcp-go's streamable HTTP client to base/mcp.
func connectStreamable(t *testing.T, base string, opts ...mcptransport.StreamableHTTPCOption) *client.Client {
	t.Helper()
	c, err := client.NewStreamableHttpClient(base+"/mcp", append([]mcptransport.StreamableHTTPCOption{mcptransport.WithHTTPLogger(discard)}, opts...)...)
	require.NoError(t, err)
	// NewStreamableHttpClient takes only transport options; a ClientOption
	// is a func(*Client), applied here before Start.
	client.WithProtocolVersion(protocol)(c)
	t.Cleanup(func() { _ = c.Close() })
	initialize(t, context.Background(), c)
	return c
}

// connectSSE connects mcp-go's legacy SSE client to base/sse. The context
// given to Start carries the SSE stream, so it must outlive the client;
// cancelling it (the returned func) drops the stream as a vanished client
// would.
func connectSSE(t *testing.T, base string) (*client.Client, context.CancelFunc) {
	t.Helper()
	c, err := client.NewSSEMCPClient(base+"/sse", mcptransport.WithSSELogger(discard))
	require.NoError(t, err)
	client.WithProtocolVersion(protocol)(c)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		_ = c.Close()
		cancel()
	})
	initialize(t, ctx, c)
	return c, cancel
}

// connectInProcess connects mcp-go's in-process client to srv.
func connectInProcess(t *testing.T, srv *server.MCPServer) *client.Client {
	t.Helper()
	c, err := client.NewInProcessClientWithOptions(srv, client.WithProtocolVersion(protocol))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	initialize(t, context.Background(), c)
	return c
}

func initialize(t *testing.T, ctx context.Context, c *client.Client) {
	t.Helper()
	require.NoError(t, c.Start(ctx))
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := c.Initialize(ictx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ProtocolVersion: protocol,
		ClientInfo:      mcp.Implementation{Name: "transport-test", Version: "1"},
	}})
	require.NoError(t, err)
	require.Equal(t, protocol, res.ProtocolVersion)
}

// The tool results, as far as these tests read them.
type procInfo struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Pid    int    `json:"pid"`
	Signal string `json:"signal"`
}

type listResult struct {
	Processes []procInfo `json:"processes"`
}

type logsResult struct {
	Lines     []string `json:"lines"`
	NextSince uint64   `json:"next_since"`
	More      bool     `json:"more"`
}

// call invokes a tool that must succeed and decodes its structured content.
func call[T any](t *testing.T, c *client.Client, tool string, args map[string]any) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
	require.NoError(t, err, "%s: a protocol error where a tool result was due", tool)
	return decode[T](t, tool, res)
}

func decode[T any](t *testing.T, tool string, res *mcp.CallToolResult) T {
	t.Helper()
	require.False(t, res.IsError, "%s: %s", tool, toolresult.Text(res))
	raw, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	var out T
	require.NoError(t, json.Unmarshal(raw, &out), "%s: %s", tool, raw)
	return out
}

// find returns the named process of a list, or a zero procInfo.
func find(l listResult, name string) procInfo {
	for _, p := range l.Processes {
		if p.Name == name {
			return p
		}
	}
	return procInfo{}
}

// waitLines waits until the named process has at least n lines of output.
func waitLines(t *testing.T, sup *procstate.Supervisor, name string, n uint64) {
	t.Helper()
	p := sup.Get(name)
	require.NotNil(t, p, "process %q", name)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := p.Log().WaitFor(ctx, n); err != nil {
		t.Fatalf("process %q has %d lines, want %d", name, p.Log().Stats().LastSeq, n)
	}
}

// waitStatus waits until the named process is in state st.
func waitStatus(t *testing.T, sup *procstate.Supervisor, name string, st procstate.Status) {
	t.Helper()
	p := sup.Get(name)
	require.NotNil(t, p, "process %q", name)
	deadline := time.After(20 * time.Second)
	for {
		r := p.Record()
		if r.Status == st {
			return
		}
		select {
		case <-r.Changed():
		case <-deadline:
			t.Fatalf("process %q is %s, want %s", name, r.Status, st)
		}
	}
}

// receive waits for one value from ch.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// Raw HTTP, for what mcp-go's clients never send.

var httpClient = &http.Client{Timeout: 10 * time.Second}

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + protocol + `","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

const listToolsBody = `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`

// mcpHeader is what a streamable HTTP client sends with a POST, plus the
// given extra header pairs.
func mcpHeader(kv ...string) map[string]string {
	h := map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	return h
}

// send makes one request and returns the response with its body read.
// host, if not empty, replaces the Host header.
func send(t *testing.T, method, url, host string, header map[string]string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	req.Host = cmp.Or(host, req.Host)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// newSession opens a streamable HTTP session by hand and returns its id.
func newSession(t *testing.T, base string) string {
	t.Helper()
	resp, body := send(t, http.MethodPost, base+"/mcp", "", mcpHeader(), strings.NewReader(initializeBody))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	id := resp.Header.Get("Mcp-Session-Id")
	require.NotEmpty(t, id)
	resp, body = send(t, http.MethodPost, base+"/mcp", "", mcpHeader("Mcp-Session-Id", id, "Mcp-Protocol-Version", protocol),
		strings.NewReader(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
	return id
}

// rpcErrorCode is the JSON-RPC error code in body, or 0.
func rpcErrorCode(body string) int {
	var msg struct {
		Error struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal([]byte(body), &msg)
	return msg.Error.Code
}

// unsized hides the length of r, so that the request goes out chunked.
func unsized(r io.Reader) io.Reader { return struct{ io.Reader }{r} }

// padded is a valid initialize request padded with spaces to n bytes.
func padded(n int) string { return initializeBody + strings.Repeat(" ", n-len(initializeBody)) }

func TestHTTPGuard(t *testing.T) {
	s := newStack(t)
	local := s.serve(t, transport.HTTPConfig{Addr: "127.0.0.1:0", AllowOrigins: []string{"https://app.example"}, MaxBodyBytes: testMaxBody})
	remote := s.serve(t, transport.HTTPConfig{Addr: "0.0.0.0:0", Token: "s3cret", MaxBodyBytes: testMaxBody})

	live := newSession(t, local)
	ended := newSession(t, local)
	resp, body := send(t, http.MethodDelete, local+"/mcp", "", mcpHeader("Mcp-Session-Id", ended, "Mcp-Protocol-Version", protocol), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	sse, _ := connectSSE(t, local)
	message := local + client.GetEndpoint(sse).RequestURI() // /message?sessionId=...

	over := strings.Repeat("x", testMaxBody+1)
	initialized := `"protocolVersion":"` + protocol + `"`

	tests := []struct {
		name     string
		method   string
		url      string
		host     string
		header   map[string]string
		body     io.Reader
		want     int
		wantBody string // a substring of the body
		wantCode int    // the JSON-RPC error code in the body; 0 for none
		wantAuth string // a prefix of WWW-Authenticate
	}{
		{name: "healthz", method: "GET", url: local + "/healthz", want: 200, wantBody: "ok"},

		{name: "Origin localhost with port", method: "POST", url: local + "/mcp", header: mcpHeader("Origin", "http://localhost:3000"), body: strings.NewReader(initializeBody), want: 200, wantBody: initialized},
		{name: "Origin 127.0.0.1", method: "POST", url: local + "/mcp", header: mcpHeader("Origin", "http://127.0.0.1"), body: strings.NewReader(initializeBody), want: 200, wantBody: initialized},
		{name: "Origin [::1]", method: "POST", url: local + "/mcp", header: mcpHeader("Origin", "http://[::1]:8080"), body: strings.NewReader(initializeBody), want: 200, wantBody: initialized},
		{name: "Origin from --allow-origin", method: "POST", url: local + "/mcp", header: mcpHeader("Origin", "https://app.example"), body: strings.NewReader(initializeBody), want: 200, wantBody: initialized},
		{name: "Origin from --allow-origin on another port", method: "POST", url: local + "/mcp", header: mcpHeader("Origin", "https://app.example:8443"), body: strings.NewReader(initializeBody), want: 403, wantBody: "Origin"},
		{name: "Origin evil on /mcp", method: "POST", url: local + "/mcp", header: mcpHeader("Origin", "https://evil.example"), body: strings.NewReader(initializeBody), want: 403, wantBody: `Origin "https://evil.example" is not allowed`},
		{name: "Origin evil on /sse", method: "GET", url: local + "/sse", header: map[string]string{"Origin": "https://evil.example", "Accept": "text/event-stream"}, want: 403, wantBody: "Origin"},
		{name: "Origin evil on /message", method: "POST", url: message, header: mcpHeader("Origin", "https://evil.example"), body: strings.NewReader(listToolsBody), want: 403, wantBody: "Origin"},
		{name: "Origin evil on /healthz", method: "GET", url: local + "/healthz", header: map[string]string{"Origin": "https://evil.example"}, want: 403, wantBody: "Origin"},
		{name: "Origin evil posing as localhost", method: "GET", url: local + "/healthz", header: map[string]string{"Origin": "http://localhost.evil.example"}, want: 403, wantBody: "Origin"},
		{name: "Origin null", method: "POST", url: local + "/mcp", header: mcpHeader("Origin", "null"), body: strings.NewReader(initializeBody), want: 403, wantBody: `Origin "null"`},

		{name: "Host evil on /mcp", method: "POST", url: local + "/mcp", host: "evil.example", header: mcpHeader(), body: strings.NewReader(initializeBody), want: 403, wantBody: "Host"},
		{name: "Host evil on /sse", method: "GET", url: local + "/sse", host: "evil.example", header: map[string]string{"Accept": "text/event-stream"}, want: 403, wantBody: "Host"},
		{name: "Host evil on /healthz", method: "GET", url: local + "/healthz", host: "evil.example:80", want: 403, wantBody: `Host "evil.example:80" is not a loopback name`},
		{name: "Host localhost", method: "GET", url: local + "/healthz", host: "localhost:1", want: 200, wantBody: "ok"},

		{name: "token missing", method: "POST", url: remote + "/mcp", header: mcpHeader(), body: strings.NewReader(initializeBody), want: 401, wantAuth: "Bearer"},
		{name: "token wrong", method: "POST", url: remote + "/mcp", header: mcpHeader("Authorization", "Bearer s3cre"), body: strings.NewReader(initializeBody), want: 401, wantAuth: "Bearer"},
		{name: "token without scheme", method: "POST", url: remote + "/mcp", header: mcpHeader("Authorization", "s3cret"), body: strings.NewReader(initializeBody), want: 401, wantAuth: "Bearer"},
		{name: "token missing on /sse", method: "GET", url: remote + "/sse", header: map[string]string{"Accept": "text/event-stream"}, want: 401, wantAuth: "Bearer"},
		{name: "token right", method: "POST", url: remote + "/mcp", header: mcpHeader("Authorization", "Bearer s3cret"), body: strings.NewReader(initializeBody), want: 200, wantBody: initialized},
		{name: "token right, Origin evil", method: "POST", url: remote + "/mcp", header: mcpHeader("Authorization", "Bearer s3cret", "Origin", "https://evil.example"), body: strings.NewReader(initializeBody), want: 403, wantBody: "Origin"},

		{name: "body at the limit", method: "POST", url: local + "/mcp", header: mcpHeader(), body: strings.NewReader(padded(testMaxBody)), want: 200, wantBody: initialized},
		{name: "body at the limit, chunked", method: "POST", url: local + "/mcp", header: mcpHeader(), body: unsized(strings.NewReader(padded(testMaxBody))), want: 200, wantBody: initialized},
		{name: "body over the limit", method: "POST", url: local + "/mcp", header: mcpHeader(), body: strings.NewReader(over), want: 413, wantBody: fmt.Sprintf("the limit is %d", testMaxBody)},
		{name: "body over the limit, chunked", method: "POST", url: local + "/mcp", header: mcpHeader(), body: unsized(strings.NewReader(over)), want: 413, wantBody: fmt.Sprintf("the limit is %d", testMaxBody)},
		{name: "body over the limit, chunked, on /message", method: "POST", url: message, header: mcpHeader(), body: unsized(strings.NewReader(over)), want: 413, wantBody: fmt.Sprintf("the limit is %d", testMaxBody)},

		{name: "live session", method: "POST", url: local + "/mcp", header: mcpHeader("Mcp-Session-Id", live, "Mcp-Protocol-Version", protocol), body: strings.NewReader(listToolsBody), want: 200, wantBody: "process_start"},
		{name: "unknown session", method: "POST", url: local + "/mcp", header: mcpHeader("Mcp-Session-Id", "mcp-session-00000000-0000-4000-8000-000000000000", "Mcp-Protocol-Version", protocol), body: strings.NewReader(listToolsBody), want: 404},
		{name: "malformed session id", method: "POST", url: local + "/mcp", header: mcpHeader("Mcp-Session-Id", "nope", "Mcp-Protocol-Version", protocol), body: strings.NewReader(listToolsBody), want: 404},
		{name: "terminated session", method: "POST", url: local + "/mcp", header: mcpHeader("Mcp-Session-Id", ended, "Mcp-Protocol-Version", protocol), body: strings.NewReader(listToolsBody), want: 404},
		{name: "unknown session, GET", method: "GET", url: local + "/mcp", header: map[string]string{"Accept": "text/event-stream", "Mcp-Session-Id": "mcp-session-00000000-0000-4000-8000-000000000000", "Mcp-Protocol-Version": protocol}, want: 404, wantBody: "unknown or terminated session"},
		{name: "terminated session, GET", method: "GET", url: local + "/mcp", header: map[string]string{"Accept": "text/event-stream", "Mcp-Session-Id": ended, "Mcp-Protocol-Version": protocol}, want: 404, wantBody: "unknown or terminated session"},
		{name: "unknown session, DELETE", method: "DELETE", url: local + "/mcp", header: map[string]string{"Mcp-Session-Id": "nope", "Mcp-Protocol-Version": protocol}, want: 404, wantBody: "unknown or terminated session"},
		{name: "no session, not initialize", method: "POST", url: local + "/mcp", header: mcpHeader("Mcp-Protocol-Version", protocol), body: strings.NewReader(listToolsBody), want: 400, wantBody: "missing Mcp-Session-Id header"},
		{name: "terminated session, DELETE", method: "DELETE", url: local + "/mcp", header: map[string]string{"Mcp-Session-Id": ended, "Mcp-Protocol-Version": protocol}, want: 404, wantBody: "unknown or terminated session"},
		// Legacy SSE predates the 404 rule; mcp-go answers a JSON-RPC error.
		{name: "unknown SSE session on /message", method: "POST", url: local + "/message?sessionId=nope", header: mcpHeader(), body: strings.NewReader(listToolsBody), want: 400, wantCode: mcp.INVALID_PARAMS},
		{name: "unsupported protocol version", method: "POST", url: local + "/mcp", header: mcpHeader("Mcp-Session-Id", live, "Mcp-Protocol-Version", "1999-01-01"), body: strings.NewReader(listToolsBody), want: 400, wantBody: "1999-01-01"},
		{name: "malformed JSON on /mcp", method: "POST", url: local + "/mcp", header: mcpHeader("Mcp-Session-Id", live, "Mcp-Protocol-Version", protocol), body: strings.NewReader(`{"jsonrpc":"2.0","id":3,`), want: 400, wantCode: mcp.PARSE_ERROR},
		{name: "malformed JSON on /message", method: "POST", url: message, header: mcpHeader(), body: strings.NewReader(`{"jsonrpc":`), want: 400, wantCode: mcp.PARSE_ERROR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := send(t, tt.method, tt.url, tt.host, tt.header, tt.body)
			assert.Equal(t, tt.want, resp.StatusCode, body)
			assert.Contains(t, body, tt.wantBody)
			assert.Equal(t, tt.wantCode, rpcErrorCode(body), body)
			assert.True(t, strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), tt.wantAuth), "WWW-Authenticate: %q", resp.Header.Get("WWW-Authenticate"))
		})
	}

	// None of this disturbed the sessions that were open.
	call[listResult](t, sse, "process_list", nil)
	resp, body = send(t, http.MethodPost, local+"/mcp", "", mcpHeader("Mcp-Session-Id", live, "Mcp-Protocol-Version", protocol), strings.NewReader(listToolsBody))
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
}

// TestHTTPUI: the UI serves what the MCP endpoints do not, behind the same
// guard; the token is not asked of exactly GET / and GET /ui/..., the page
// and its assets, which hold no data.
func TestHTTPUI(t *testing.T) {
	s := newStack(t)
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "ui %s %s", r.Method, r.URL.Path)
	})
	remote := s.serve(t, transport.HTTPConfig{Addr: "0.0.0.0:0", Token: "s3cret", MaxBodyBytes: testMaxBody, UI: ui})
	local := s.serve(t, transport.HTTPConfig{Addr: "127.0.0.1:0", MaxBodyBytes: testMaxBody, UI: ui})
	bare := s.serve(t, transport.HTTPConfig{Addr: "0.0.0.0:0", Token: "s3cret", MaxBodyBytes: testMaxBody})
	token := map[string]string{"Authorization": "Bearer s3cret"}
	action := map[string]string{"Content-Type": "application/json", "X-Brummer-Action": "1"}
	over := strings.Repeat("x", testMaxBody+1)

	tests := []struct {
		name, method, url, host string
		header                  map[string]string
		body                    string
		want                    int
		wantBody                string
	}{
		{name: "page without token", method: "GET", url: remote + "/", want: 200, wantBody: "ui GET /"},
		{name: "asset without token", method: "GET", url: remote + "/ui/app.js", want: 200, wantBody: "ui GET /ui/app.js"},
		{name: "missing asset without token", method: "GET", url: remote + "/ui/nope/deeper.css", want: 200, wantBody: "ui GET /ui/nope/deeper.css"},
		{name: "API needs the token", method: "GET", url: remote + "/api/state", want: 401},
		{name: "API with the token", method: "GET", url: remote + "/api/state", header: token, want: 200, wantBody: "ui GET /api/state"},
		{name: "events need the token", method: "GET", url: remote + "/api/events", want: 401},
		{name: "POST needs the token", method: "POST", url: remote + "/api/stop", header: action, body: `{"all":true}`, want: 401},
		{name: "POST to the page needs the token", method: "POST", url: remote + "/", body: "x", want: 401},
		{name: "POST to an asset needs the token", method: "POST", url: remote + "/ui/app.js", body: "x", want: 401},
		{name: "HEAD needs the token", method: "HEAD", url: remote + "/", want: 401},
		{name: "other paths need the token", method: "GET", url: remote + "/favicon.ico", want: 401},
		{name: "a prefix is not the folder", method: "GET", url: remote + "/uiapi/state", want: 401},
		{name: "the folder itself", method: "GET", url: remote + "/ui/", want: 401},
		{name: "dot segments", method: "GET", url: remote + "/ui/../api/state", want: 401},
		{name: "escaped dot segments", method: "GET", url: remote + "/ui/..%2Fapi%2Fstate", want: 401},
		{name: "MCP still needs the token", method: "POST", url: remote + "/mcp", header: mcpHeader(), body: initializeBody, want: 401},
		{name: "page with Origin evil", method: "GET", url: remote + "/", header: map[string]string{"Origin": "https://evil.example"}, want: 403, wantBody: "Origin"},
		{name: "API with Origin evil", method: "POST", url: local + "/api/stop", header: map[string]string{"Origin": "https://evil.example", "Content-Type": "application/json", "X-Brummer-Action": "1"}, body: `{"all":true}`, want: 403, wantBody: "Origin"},
		{name: "page with Host evil", method: "GET", url: local + "/", host: "evil.example", want: 403, wantBody: "Host"},
		{name: "body over the limit", method: "POST", url: local + "/api/start", header: action, body: over, want: 413},
		{name: "page on loopback", method: "GET", url: local + "/", want: 200, wantBody: "ui GET /"},
		{name: "healthz is not the UI's", method: "GET", url: local + "/healthz", want: 200, wantBody: "ok"},
		{name: "no UI: no exemption", method: "GET", url: bare + "/", want: 401},
		{name: "no UI: no page", method: "GET", url: bare + "/", header: token, want: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			resp, got := send(t, tt.method, tt.url, tt.host, tt.header, body)
			assert.Equal(t, tt.want, resp.StatusCode, got)
			assert.Contains(t, got, tt.wantBody)
		})
	}
}

func TestNewHTTPRefusesNonLoopbackWithoutToken(t *testing.T) {
	tests := []struct {
		name string
		addr string
	}{
		{"all IPv4 interfaces", "0.0.0.0:0"},
		{"all IPv6 interfaces", "[::]:7777"},
		{"empty host", ":7777"},
		{"LAN address", "192.0.2.10:7777"},
		{"host name", "example.com:7777"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := transport.NewHTTP(server.NewMCPServer("t", "1"), transport.HTTPConfig{Addr: tt.addr}, zerolog.Nop())
			require.ErrorIs(t, err, transport.ErrTokenRequired)
			assert.ErrorContains(t, err, "--token")
			assert.ErrorContains(t, err, tt.addr)
		})
	}
}

func TestNewHTTPRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     transport.HTTPConfig
		wantErr string
	}{
		{"no port", transport.HTTPConfig{Addr: "127.0.0.1"}, `http address "127.0.0.1"`},
		{"origin without scheme", transport.HTTPConfig{Addr: "127.0.0.1:0", AllowOrigins: []string{"app.example"}}, `allowed origin "app.example" must look like scheme://host[:port]`},
		{"origin with a path", transport.HTTPConfig{Addr: "127.0.0.1:0", AllowOrigins: []string{"https://app.example/x"}}, `allowed origin "https://app.example/x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := transport.NewHTTP(server.NewMCPServer("t", "1"), tt.cfg, zerolog.Nop())
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// TestToolFlowAcrossTransports runs the whole tool flow over each transport
// against one supervisor, and checks that every other transport sees what
// it did.
func TestToolFlowAcrossTransports(t *testing.T) {
	s := newStack(t)
	base := s.serve(t, transport.HTTPConfig{Addr: "127.0.0.1:0", MaxBodyBytes: testMaxBody})
	sse, _ := connectSSE(t, base)
	clients := []struct {
		name string
		c    *client.Client
	}{
		{"streamable-http", connectStreamable(t, base)},
		{"sse", sse},
		{"in-process", connectInProcess(t, s.srv)},
	}
	var want []string
	for i := 1; i <= 30; i++ {
		want = append(want, fmt.Sprintf("line %d", i))
	}

	for _, tt := range clients {
		t.Run(tt.name, func(t *testing.T) {
			name := "lines-" + tt.name
			started := call[procInfo](t, tt.c, "process_start", map[string]any{
				"name":    name,
				"command": "for i in $(seq 1 30); do echo line $i; done; exec sleep 60",
			})
			require.Equal(t, "running", started.Status)
			require.Positive(t, started.Pid)
			waitLines(t, s.sup, name, 31) // the server's start note, then 30 lines

			// Page through the output ten lines at a time with the cursor.
			var got []string
			var since uint64
			for page := range 3 {
				logs := call[logsResult](t, tt.c, "process_logs", map[string]any{"name": name, "since": since, "limit": 10, "stream": "stdout"})
				assert.Len(t, logs.Lines, 10, "page %d", page)
				assert.Equal(t, page < 2, logs.More, "page %d", page)
				got = append(got, logs.Lines...)
				since = logs.NextSince
			}
			assert.Equal(t, want, got)
			rest := call[logsResult](t, tt.c, "process_logs", map[string]any{"name": name, "since": since, "stream": "stdout"})
			assert.Empty(t, rest.Lines)
			assert.Equal(t, since, rest.NextSince)

			for _, o := range clients {
				assert.Equal(t, procInfo{Name: name, Status: "running", Pid: started.Pid},
					find(call[listResult](t, o.c, "process_list", nil), name), "started over %s, listed over %s", tt.name, o.name)
			}

			stopped := call[procInfo](t, tt.c, "process_stop", map[string]any{"name": name})
			assert.Equal(t, "exited", stopped.Status)
			assert.Equal(t, "SIGTERM", stopped.Signal)
			assert.False(t, procstate.GroupAlive(started.Pid))

			for _, o := range clients {
				assert.Equal(t, procInfo{Name: name, Status: "exited", Pid: started.Pid, Signal: "SIGTERM"},
					find(call[listResult](t, o.c, "process_list", nil), name), "stopped over %s, listed over %s", tt.name, o.name)
			}
		})
	}
}

// TestSlowCallDoesNotDelayOthers: while one call waits (a stop of a process
// that ignores SIGTERM, with a long grace period), other calls, from other
// sessions or the same one, are answered at once.
func TestSlowCallDoesNotDelayOthers(t *testing.T) {
	s := newStack(t)
	base := s.serve(t, transport.HTTPConfig{Addr: "127.0.0.1:0", MaxBodyBytes: testMaxBody})
	streamA, streamB := connectStreamable(t, base), connectStreamable(t, base)
	sseA, _ := connectSSE(t, base)
	sseB, _ := connectSSE(t, base)

	tests := []struct {
		name       string
		slow, fast *client.Client
	}{
		{"streamable slow, other streamable session lists", streamA, streamB},
		{"streamable slow, SSE session lists", streamA, sseA},
		{"streamable slow, same session lists", streamA, streamA},
		{"SSE slow, other SSE session lists", sseA, sseB},
		{"SSE slow, streamable session lists", sseA, streamA},
		{"SSE slow, same session lists", sseA, sseA},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("stubborn-%d", i)
			started := call[procInfo](t, tt.slow, "process_start", map[string]any{
				"name":    name,
				"command": "trap '' TERM; echo ready; exec sleep 60",
			})
			waitLines(t, s.sup, name, 2) // the start note, then "ready": the trap is set

			type outcome struct {
				res *mcp.CallToolResult
				err error
			}
			slowDone := make(chan outcome, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				res, err := tt.slow.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{
					Name:      "process_stop",
					Arguments: map[string]any{"name": name, "timeout_ms": 60000},
				}})
				slowDone <- outcome{res, err}
			}()
			waitStatus(t, s.sup, name, procstate.StatusStopping)

			begin := time.Now()
			listed := find(call[listResult](t, tt.fast, "process_list", nil), name)
			took := time.Since(begin)
			assert.Equal(t, "stopping", listed.Status)
			assert.Empty(t, slowDone, "the slow stop returned before the list did: the test shows nothing")
			assert.Less(t, took, 5*time.Second)

			// SIGKILL the group the SIGTERM could not stop; the slow call
			// returns with the outcome.
			require.NoError(t, killGroup(started.Pid))
			out := receive(t, slowDone, "the slow stop")
			require.NoError(t, out.err)
			stopped := decode[procInfo](t, "process_stop", out.res)
			assert.Equal(t, "exited", stopped.Status)
			assert.Equal(t, "SIGKILL", stopped.Signal)
		})
	}
}

// postStatus is the HTTP status of a tools/list POST to url with the given
// session id (empty for none), or 0 if there was no answer. It runs in
// require.Eventually's goroutine, so it must not fail the test itself.
func postStatus(url, session string) int {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(listToolsBody))
	if err != nil {
		return 0
	}
	for k, v := range mcpHeader("Mcp-Session-Id", session, "Mcp-Protocol-Version", protocol) {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestDisconnectKeepsProcesses: a client that goes away, politely or not,
// leaves the processes it started running.
func TestDisconnectKeepsProcesses(t *testing.T) {
	s := newStack(t)
	base := s.serve(t, transport.HTTPConfig{Addr: "127.0.0.1:0", MaxBodyBytes: testMaxBody})
	observer := connectInProcess(t, s.srv)

	tests := []struct {
		name string
		// connect returns a client, a way to make it go away, and a check
		// that the server has forgotten its session.
		connect func(t *testing.T) (c *client.Client, disconnect func(), gone func() bool)
	}{
		{"streamable HTTP client closed", func(t *testing.T) (*client.Client, func(), func() bool) {
			c := connectStreamable(t, base)
			id := c.GetSessionId()
			return c, func() { _ = c.Close() }, func() bool { return postStatus(base+"/mcp", id) == http.StatusNotFound }
		}},
		{"SSE client's context cancelled", func(t *testing.T) (*client.Client, func(), func() bool) {
			c, cancel := connectSSE(t, base)
			endpoint := client.GetEndpoint(c).String()
			return c, cancel, func() bool { return postStatus(endpoint, "") == http.StatusBadRequest }
		}},
		{"SSE client closed", func(t *testing.T) (*client.Client, func(), func() bool) {
			c, _ := connectSSE(t, base)
			endpoint := client.GetEndpoint(c).String()
			return c, func() { _ = c.Close() }, func() bool { return postStatus(endpoint, "") == http.StatusBadRequest }
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, disconnect, gone := tt.connect(t)
			name := fmt.Sprintf("orphan-%d", i)
			started := call[procInfo](t, c, "process_start", map[string]any{"name": name, "command": "sleep 60 & exec sleep 60"})
			require.False(t, gone(), "the session is already gone before the disconnect")

			disconnect()
			require.Eventually(t, gone, 10*time.Second, 5*time.Millisecond, "the server still serves the session")

			assert.Equal(t, procstate.StatusRunning, s.sup.Get(name).Record().Status)
			assert.True(t, procstate.GroupAlive(started.Pid))
			assert.Equal(t, "running", find(call[listResult](t, observer, "process_list", nil), name).Status)
			stopped := call[procInfo](t, observer, "process_stop", map[string]any{"name": name})
			assert.Equal(t, "SIGTERM", stopped.Signal)
		})
	}
}

// TestShutdown: with sessions and streams open on both transports,
// Shutdown ends them and returns at once, Serve returns nil, and the
// supervisor's Close afterwards leaves no child behind.
func TestShutdown(t *testing.T) {
	sup := newSupervisor(t)
	srv := tools.NewServer(sup, "test", tools.Policy{}, zerolog.Nop())
	t.Cleanup(srv.Close)
	h, err := transport.NewHTTP(srv.MCPServer, transport.HTTPConfig{Addr: "127.0.0.1:0"}, zerolog.Nop())
	require.NoError(t, err)
	require.NoError(t, h.Listen())
	served := make(chan error, 1)
	go func() { served <- h.Serve() }()
	base := "http://" + h.Addr().String()

	streamable := connectStreamable(t, base)
	sse, _ := connectSSE(t, base)

	// The streamable session's server stream (what a client with continuous
	// listening holds open), opened by hand so that the test knows it is open.
	req, err := http.NewRequest(http.MethodGet, base+"/mcp", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", streamable.GetSessionId())
	req.Header.Set("Mcp-Protocol-Version", protocol)
	stream, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, stream.StatusCode)
	streamEnded := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, stream.Body)
		stream.Body.Close()
		streamEnded <- err
	}()

	var pids []int
	pids = append(pids, call[procInfo](t, streamable, "process_start", map[string]any{"command": "sleep 60 & sleep 60 & wait"}).Pid)
	pids = append(pids, call[procInfo](t, sse, "process_start", map[string]any{"argv": []string{"sleep", "60"}}).Pid)
	pids = append(pids, call[procInfo](t, sse, "process_start", map[string]any{"command": "trap '' TERM; exec sleep 60"}).Pid)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	begin := time.Now()
	require.NoError(t, h.Shutdown(ctx))
	assert.Less(t, time.Since(begin), 2*time.Second, "Shutdown waited for open streams")
	assert.NoError(t, receive(t, served, "Serve to return"))
	receive(t, streamEnded, "the streamable server stream to end")
	_, err = httpClient.Get(base + "/healthz")
	assert.Error(t, err, "still accepting connections after Shutdown")

	// The transport does not own the children: they outlive it, until the
	// supervisor is closed.
	for _, pid := range pids {
		assert.True(t, procstate.GroupAlive(pid), "group %d", pid)
	}
	require.NoError(t, sup.Close(ctx))
	for _, pid := range pids {
		assert.False(t, procstate.GroupAlive(pid), "group %d outlived the supervisor", pid)
	}
}
