package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/internal/probe"
	"github.com/brummer-mcp/brummer-mcp/internal/toolresult"
)

// listenEnv makes the test binary a child that listens on a free port of
// 127.0.0.1, prints "listening on N" and blocks until a signal ends it.
const listenEnv = "BRUMMER_E2E_LISTEN"

func listenHelper() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("listening on %d\n", ln.Addr().(*net.TCPAddr).Port)
	select {}
}

// waitOf is the wait object of a result with one.
func waitOf(t *testing.T, res map[string]any) map[string]any {
	t.Helper()
	w, ok := res["wait"].(map[string]any)
	require.True(t, ok, "no wait in %v", res)
	return w
}

// TestWaitEndToEnd: the agent's daily loop over stdio, one call each: a
// dev server that prints "ready" after a delay and then listens, a
// crashing start, and a prompt answered through stdin.
func TestWaitEndToEnd(t *testing.T) {
	s := startServer(t)
	exe, err := os.Executable()
	require.NoError(t, err)

	dev := s.call(t, "process_start", map[string]any{
		"name":     "dev",
		"command":  fmt.Sprintf("echo compiling; sleep 0.3; echo 'ready in 300 ms'; %s=1 exec '%s'", listenEnv, exe),
		"wait_for": map[string]any{"log": "^ready", "timeout_ms": 20000},
	})
	w := waitOf(t, dev)
	assert.Equal(t, "ready", w["outcome"])
	assert.Equal(t, "ready in 300 ms", w["match"])
	assert.GreaterOrEqual(t, w["elapsed_ms"], float64(250), "it waited for the line")
	assert.Nil(t, w["tail"])

	if probe.ListenSupported {
		res := s.call(t, "process_wait", map[string]any{"name": "dev", "wait_for": map[string]any{"listen": true, "timeout_ms": 20000}})
		w = waitOf(t, res)
		require.Equal(t, "ready", w["outcome"])
		ports := w["ports"].([]any)
		require.Len(t, ports, 1)
		port := int(ports[0].(float64))
		res = s.call(t, "process_wait", map[string]any{"name": "dev", "wait_for": map[string]any{"port": port}})
		assert.Equal(t, "ready", waitOf(t, res)["outcome"])
		logs := s.call(t, "process_logs", map[string]any{"name": "dev", "stream": "stdout"})
		assert.Equal(t, []any{"compiling", "ready in 300 ms", fmt.Sprintf("listening on %d", port)}, logs["lines"])
	}

	crash := s.call(t, "process_start", map[string]any{
		"name":     "api",
		"command":  "echo starting; echo 'panic: boom' >&2; exit 2",
		"wait_for": map[string]any{"log": "listening"},
	})
	w = waitOf(t, crash)
	assert.Equal(t, "exited", w["outcome"], "a crash is not a timeout")
	assert.Equal(t, float64(2), crash["exit_code"])
	assert.ElementsMatch(t, []any{"starting", "[stderr] panic: boom"}, w["tail"])

	ask := s.call(t, "process_start", map[string]any{
		"name":     "ask",
		"command":  `printf 'Name? '; read n; echo "hello $n"`,
		"stdin":    true,
		"wait_for": map[string]any{"log": `^Name\?`},
	})
	assert.Equal(t, "ready", waitOf(t, ask)["outcome"], "a prompt without a newline is waitable")
	s.call(t, "process_input", map[string]any{"name": "ask", "text": "bob"})
	done := s.call(t, "process_wait", map[string]any{"name": "ask", "wait_for": map[string]any{"exit": true}})
	assert.Equal(t, "ready", waitOf(t, done)["outcome"])
	assert.Equal(t, float64(0), done["exit_code"])
	logs := s.call(t, "process_logs", map[string]any{"name": "ask", "stream": "stdout"})
	assert.Equal(t, []any{"Name? ", "hello bob"}, logs["lines"])

	require.NoError(t, s.stdin.Close())
	assert.Equal(t, 0, s.wait(t))
	assertOnlyJSONRPC(t, s.stdout.String())
}

// TestWaitProgressEveryTransport: progress reports reach the client on
// stdio, streamable HTTP and SSE, all of them before the result (mcp-go
// loses the last ones without the server's delay).
func TestWaitProgressEveryTransport(t *testing.T) {
	sock, addr := httpSocket(t)
	s := startServerEnv(t, nil, []*os.File{sock}, "--http-fd", "3")
	web, err := client.NewStreamableHttpClient("http://" + addr + "/mcp")
	require.NoError(t, err)
	require.NoError(t, web.Start(t.Context()))
	initialize(t, web)
	defer web.Close()
	sse, err := client.NewSSEMCPClient("http://" + addr + "/sse")
	require.NoError(t, err)
	require.NoError(t, sse.Start(t.Context()))
	initialize(t, sse)
	defer sse.Close()

	s.call(t, "process_start", map[string]any{"name": "quiet", "argv": []string{"sleep", "60"}})
	clients := map[string]*client.Client{"stdio": s.client, "http": web, "sse": sse}
	type outcome struct {
		name    string
		reports int64
		err     error
	}
	results := make(chan outcome, len(clients))
	for name, c := range clients {
		var reports atomic.Int64
		token := "tok-" + name
		c.OnNotification(func(n mcp.JSONRPCNotification) {
			if n.Method == "notifications/progress" && n.Params.AdditionalFields["progressToken"] == token {
				reports.Add(1)
			}
		})
		go func() {
			req := mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "process_wait",
				Arguments: map[string]any{"name": "quiet", "wait_for": map[string]any{"log": "never", "timeout_ms": 2005}}}}
			req.Params.Meta = &mcp.Meta{ProgressToken: token}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, err := c.CallTool(ctx, req)
			if err == nil && res.IsError {
				err = fmt.Errorf("tool error: %s", toolresult.Text(res))
			}
			results <- outcome{name, reports.Load(), err} // counted when the result is in
		}()
	}
	for range clients {
		r := <-results
		require.NoError(t, r.err, r.name)
		assert.Equal(t, int64(2), r.reports, "%s: one report a second in a 2.005 s wait, the last 5 ms before the result, all before it", r.name)
	}
}

// TestSessionEndCancelsWait: an SSE client that goes away ends its wait at
// once (mcp-go runs SSE calls detached from the request).
func TestSessionEndCancelsWait(t *testing.T) {
	sock, addr := httpSocket(t)
	s := startServerEnv(t, nil, []*os.File{sock}, "--http-fd", "3")
	sse, err := client.NewSSEMCPClient("http://" + addr + "/sse")
	require.NoError(t, err)
	require.NoError(t, sse.Start(t.Context()))
	initialize(t, sse)

	s.call(t, "process_start", map[string]any{"name": "long", "argv": []string{"sleep", "60"}})
	inFlight := make(chan struct{}, 1)
	sse.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == "notifications/progress" {
			select {
			case inFlight <- struct{}{}:
			default:
			}
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		req := mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "process_wait",
			Arguments: map[string]any{"name": "long", "wait_for": map[string]any{"exit": true, "timeout_ms": 600000}}}}
		req.Params.Meta = &mcp.Meta{ProgressToken: 1}
		_, _ = sse.CallTool(ctx, req)
	}()
	select { // a progress report: the wait is in progress on the server
	case <-inFlight:
	case <-time.After(20 * time.Second):
		t.Fatal("no progress report")
	}
	require.NotContains(t, s.stderr.String(), `"tool":"process_wait"`, "the server logs a call when it ends")
	require.NoError(t, sse.Close())
	require.Eventually(t, func() bool {
		return strings.Contains(s.stderr.String(), `"tool":"process_wait"`)
	}, 10*time.Second, 5*time.Millisecond, "the wait ended with its session")
	list := s.call(t, "process_list", nil)
	assert.Equal(t, "running", list["processes"].([]any)[0].(map[string]any)["status"], "the process keeps running")
}
