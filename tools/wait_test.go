package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/internal/probe"
	"github.com/brummer-mcp/brummer-mcp/internal/toolresult"
	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// helperEnv makes the test binary a child for the wait tests:
//
//	listen   listen on a free port of 127.0.0.1 after the first line of
//	         stdin (or at once without stdin), print "listening on N",
//	         block until stdin ends or a signal
const helperEnv = "BRUMMER_TOOLS_HELPER"

func runHelper(mode string) int {
	switch mode {
	case "listen":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("listening on %d\n", ln.Addr().(*net.TCPAddr).Port)
		select {}
	}
	fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
	return 2
}

// helperArgs are process_start arguments that run the test binary in mode.
func helperArgs(t *testing.T, name, mode string) string {
	exe, err := os.Executable()
	require.NoError(t, err)
	return fmt.Sprintf(`{"name":%q,"argv":[%q],"env":{%q:%q}`, name, exe, helperEnv, mode)
}

// waited decodes a result with a wait.
func waitedOf(t *testing.T, h *harness, tool, args string) (waitedInfo, string) {
	t.Helper()
	info, txt := ok[waitedInfo](h, tool, args)
	require.NotNil(t, info.Wait, "%s %s: no wait in the result: %s", tool, args, txt)
	return info, txt
}

func TestWaitConditions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/broken" {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusNotFound) // below 500: it answers
	}))
	t.Cleanup(web.Close) // not defer: the subtests run after this function returns
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	port := ln.Addr().(*net.TCPAddr).Port

	type want struct {
		outcome  string
		status   string
		exitCode *int
		match    string
		tail     []string
		http     int
		text     string
	}
	tests := []struct {
		name string
		args string
		want want
	}{
		{
			name: "log ready",
			args: `{"name":"dev","command":"echo booting; echo '\u001b[32mLocal:\u001b[0m http://localhost:5173/'; exec sleep 60","wait_for":{"log":"Local:.*http"}}`,
			want: want{outcome: "ready", status: "running", match: "Local: http://localhost:5173/", text: "dev is ready after"},
		},
		{
			name: "log, crash first",
			args: `{"name":"crash","command":"echo compiling; echo 'Error: bad config' >&2; exit 1","wait_for":{"log":"ready","tail":5}}`,
			want: want{outcome: "exited", status: "exited", exitCode: ptr(1), tail: []string{"compiling", "[stderr] Error: bad config"},
				text: "crash ended (exit 1) after"},
		},
		{
			name: "log in the last line counts",
			args: `{"name":"quick","command":"echo done","wait_for":{"log":"^done$"}}`,
			want: want{outcome: "ready", match: "done"},
		},
		{
			name: "exit 0",
			args: `{"name":"build","command":"echo built","wait_for":{"exit":true}}`,
			want: want{outcome: "ready", status: "exited", exitCode: ptr(0), text: "build is ready after"},
		},
		{
			name: "exit 2",
			args: `{"name":"test","command":"echo FAIL: TestX >&2; exit 2","wait_for":{"exit":true,"tail":1}}`,
			want: want{outcome: "exited", status: "exited", exitCode: ptr(2), tail: []string{"[stderr] FAIL: TestX"},
				text: "test ended (exit 2) after"},
		},
		{
			name: "timeout",
			args: `{"name":"slow","command":"echo warming; exec sleep 60","wait_for":{"log":"never","timeout_ms":300}}`,
			want: want{outcome: "timeout", status: "running", tail: []string{"warming"}, text: "slow: not ready after"},
		},
		{
			name: "port",
			args: fmt.Sprintf(`{"name":"port","argv":["sleep","60"],"wait_for":{"port":%d}}`, port),
			want: want{outcome: "ready", status: "running", text: "listening on port " + strconv.Itoa(port)},
		},
		{
			name: "http below 500",
			args: fmt.Sprintf(`{"name":"web","argv":["sleep","60"],"wait_for":{"http":%q}}`, web.URL+"/health"),
			want: want{outcome: "ready", status: "running", http: 404, text: "HTTP 404"},
		},
		{
			name: "http 502 is not ready",
			args: fmt.Sprintf(`{"name":"gw","argv":["sleep","60"],"wait_for":{"http":%q,"timeout_ms":350}}`, web.URL+"/broken"),
			want: want{outcome: "timeout", status: "running"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			info, txt := waitedOf(t, h, "process_start", tt.args)
			w := info.Wait
			assert.Equal(t, tt.want.outcome, w.Outcome, txt)
			if tt.want.status != "" {
				assert.Equal(t, tt.want.status, info.Status, txt)
			}
			if tt.want.status != "" { // else it may or may not have exited yet
				assert.Equal(t, tt.want.exitCode, info.ExitCode, txt)
			}
			if tt.want.match != "" {
				assert.Equal(t, tt.want.match, w.Match)
				assert.NotZero(t, w.MatchSeq)
				assert.Contains(t, txt, fmt.Sprintf("line %d matched: %s", w.MatchSeq, tt.want.match))
			}
			if tt.want.outcome == "ready" {
				assert.Empty(t, w.Tail, "no tail when ready")
			}
			if tt.want.tail != nil {
				// stdout and stderr are read apart: their order is not kept.
				assert.ElementsMatch(t, tt.want.tail, w.Tail, txt)
			}
			assert.Equal(t, tt.want.http, w.HTTPStatus)
			assert.Contains(t, txt, tt.want.text)
			assert.GreaterOrEqual(t, w.NextSince, w.MatchSeq)
			assert.Regexp(t, `\[next_since=\d+ status=\w+\]$`, txt)
		})
	}
}

// TestWaitListen: a process that listens on a port it chose is found, its
// port named, whether the leader or a child of a shell holds the socket.
func TestWaitListen(t *testing.T) {
	if !probe.ListenSupported {
		t.Skip("listen needs /proc")
	}
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	for _, name := range []string{"leader", "child"} {
		args := helperArgs(t, name, "listen") + `,"wait_for":{"listen":true,"timeout_ms":20000}}`
		if name == "child" {
			exe, err := os.Executable()
			require.NoError(t, err)
			args = string(mustJSON(obj{"name": "child", "command": helperEnv + "=listen '" + exe + "' & wait",
				"wait_for": obj{"listen": true, "timeout_ms": 20000}}))
		}
		info, txt := waitedOf(t, h, "process_start", args)
		require.Equal(t, "ready", info.Wait.Outcome, txt)
		require.Len(t, info.Wait.Ports, 1, txt)
		h.waitLines(name, 2)
		logs, _ := ok[logsResult](h, "process_logs", fmt.Sprintf(`{"name":%q,"stream":"stdout"}`, name))
		assert.Equal(t, []string{fmt.Sprintf("listening on %d", info.Wait.Ports[0])}, logs.Lines)
		assert.Contains(t, txt, fmt.Sprintf("listening on port %d", info.Wait.Ports[0]))
	}
}

func TestWaitBadArgs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	ok[processInfo](h, "process_start", `{"name":"w","argv":["sleep","60"]}`)
	tests := []struct{ name, tool, args, want string }{
		{"none", "process_wait", `{"name":"w","wait_for":{}}`, `"wait_for" needs exactly one of log, port, listen, http, exit; got none`},
		{"two", "process_wait", `{"name":"w","wait_for":{"log":"x","exit":true}}`, `got log, exit`},
		{"false is none", "process_wait", `{"name":"w","wait_for":{"exit":false}}`, `got none`},
		{"missing", "process_wait", `{"name":"w"}`, `"wait_for" is required`},
		{"no name", "process_wait", `{"wait_for":{"exit":true}}`, `"name" is required`},
		{"unknown", "process_wait", `{"name":"nope","wait_for":{"exit":true}}`, `unknown process "nope" (known: w)`},
		{"bad regexp", "process_wait", `{"name":"w","wait_for":{"log":"(["}}`, `"wait_for.log" "([" is not a valid RE2 regular expression: missing closing ]`},
		{"port range", "process_wait", `{"name":"w","wait_for":{"port":70000}}`, `"wait_for.port" must be 1..65535, got 70000`},
		{"port type", "process_wait", `{"name":"w","wait_for":{"port":"3000"}}`, `"wait_for": "wait_for.port" must be an integer, got string`},
		{"not an object", "process_start", `{"command":"true","wait_for":"ready"}`, `"wait_for": must be an object, e.g. {"log": "ready"}`},
		{"unknown field", "process_restart", `{"name":"w","wait_for":{"exit":true,"grep":"x"}}`, `"wait_for": unknown field "wait_for.grep" (allowed: exit, http, listen, log, port, tail, timeout_ms)`},
		{"remote host", "process_wait", `{"name":"w","wait_for":{"http":"http://example.com/"}}`, `"wait_for.http" "http://example.com/": the host must be localhost, 127.0.0.1 or [::1], got "example.com" (only this machine is probed)`},
		{"scheme", "process_wait", `{"name":"w","wait_for":{"http":"ftp://localhost/"}}`, `the scheme must be http or https, got "ftp"`},
		{"timeout 0", "process_wait", `{"name":"w","wait_for":{"exit":true,"timeout_ms":0}}`, `"wait_for.timeout_ms" must be 1..600000, got 0`},
		{"timeout big", "process_wait", `{"name":"w","wait_for":{"exit":true,"timeout_ms":600001}}`, `must be 1..600000, got 600001`},
		{"tail", "process_wait", `{"name":"w","wait_for":{"exit":true,"tail":201}}`, `"wait_for.tail" must be 0..200, got 201`},
		{"since without log", "process_wait", `{"name":"w","since":0,"wait_for":{"exit":true}}`, `"since" applies to a "wait_for.log" condition only`},
		{"since ahead", "process_wait", `{"name":"w","since":99,"wait_for":{"log":"x"}}`, `"since" 99 is past the newest line of "w" (1): pass since=1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.call(tt.tool, tt.args)
			require.True(t, res.IsError, toolresult.Text(res))
			assert.Contains(t, toolresult.Text(res), tt.want)
		})
	}
	// A refused start starts nothing.
	list, _ := ok[listResult](h, "process_list", ``)
	assert.Len(t, list.Processes, 1)
}

// TestProcessWaitSince: a log wait on an existing process matches only
// lines after its cursor, from now by default, so an old "ready" line
// never satisfies a new wait; since 0 searches the whole log.
func TestProcessWaitSince(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	ok[processInfo](h, "process_start", `{"name":"srv","command":"echo ready; read x; echo \"ready again $x\"; exec sleep 60","stdin":true}`)
	h.waitLines("srv", 2)

	info, txt := waitedOf(t, h, "process_wait", `{"name":"srv","wait_for":{"log":"ready","timeout_ms":200}}`)
	assert.Equal(t, "timeout", info.Wait.Outcome, "the old line does not count: %s", txt)
	assert.Equal(t, "running", info.Status)

	info, _ = waitedOf(t, h, "process_wait", `{"name":"srv","since":0,"wait_for":{"log":"ready"}}`)
	assert.Equal(t, "ready", info.Wait.Outcome)
	assert.Equal(t, uint64(2), info.Wait.MatchSeq)

	// A cursor taken before the input: the line counts whether it comes
	// before or after the wait begins (from "now" it might come before).
	since := h.sup.Get("srv").Log().Stats().LastSeq
	done := make(chan waitedInfo, 1)
	go func() {
		res := h.call("process_wait", fmt.Sprintf(`{"name":"srv","since":%d,"wait_for":{"log":"again","timeout_ms":20000}}`, since))
		var info waitedInfo
		_ = json.Unmarshal(mustJSON(res.StructuredContent), &info)
		done <- info
	}()
	ok[inputResult](h, "process_input", `{"name":"srv","text":"1"}`)
	info = <-done
	require.NotNil(t, info.Wait)
	assert.Equal(t, "ready", info.Wait.Outcome)
	assert.Equal(t, "ready again 1", info.Wait.Match)
}

// TestRestartWait: a restart waits for its new run; a cursor from the
// first run never matches the first run's line.
func TestRestartWait(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	first, _ := waitedOf(t, h, "process_start", `{"name":"api","command":"echo listening; exec sleep 60","wait_for":{"log":"listening"}}`)
	require.Equal(t, "ready", first.Wait.Outcome)
	info, txt := waitedOf(t, h, "process_restart", `{"name":"api","wait_for":{"log":"listening"}}`)
	assert.Equal(t, "ready", info.Wait.Outcome)
	assert.Equal(t, 1, info.Restarts)
	assert.Greater(t, info.Wait.MatchSeq, first.Wait.MatchSeq, "the new run's line")
	assert.Regexp(t, `^restarted api: run 2, pid \d+ \(the previous run was killed by SIGTERM\)\napi is ready after \d+ ms: line \d+ matched: listening\n`, txt)
}

// TestWaitAfterSpawnFailure: a start that fails is a tool error, not a wait.
func TestWaitAfterSpawnFailure(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	res := h.call("process_start", `{"name":"x","argv":["/nonexistent/prog"],"wait_for":{"exit":true}}`)
	require.True(t, res.IsError)
	assert.Contains(t, toolresult.Text(res), `cannot start "x"`)
}

// TestWaitProgress: with a progress token, a wait reports about once a
// second, and the last report arrives before the result.
func TestWaitProgress(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	var mu sync.Mutex
	var got []mcp.JSONRPCNotification
	h.client.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == "notifications/progress" {
			mu.Lock()
			got = append(got, n)
			mu.Unlock()
		}
	})
	ok[processInfo](h, "process_start", `{"name":"p","command":"echo step 1; exec sleep 60"}`)
	h.waitLines("p", 2)
	req := callRequest("process_wait", map[string]any{"name": "p", "since": 0, "wait_for": map[string]any{"log": "never", "timeout_ms": 2300}})
	req.Params.Meta = &mcp.Meta{ProgressToken: "tok-1"}
	res, err := h.client.CallTool(t.Context(), req)
	require.NoError(t, err)
	require.False(t, res.IsError, toolresult.Text(res))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 2, "one report a second in a 2.3 s wait, all delivered before the result")
	var last float64
	for _, n := range got {
		var f struct {
			ProgressToken string  `json:"progressToken"`
			Progress      float64 `json:"progress"`
			Message       string  `json:"message"`
		}
		require.NoError(t, json.Unmarshal(mustJSON(n.Params.AdditionalFields), &f))
		assert.Equal(t, "tok-1", f.ProgressToken)
		p := f.Progress
		assert.Greater(t, p, last, "progress increases")
		last = p
		assert.Regexp(t, `^waiting \d+ s, 2 lines seen; last: step 1$`, f.Message)
	}
}

// TestWaitCancel: a cancelled wait returns at once and leaves the
// process running.
func TestWaitCancel(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	ok[processInfo](h, "process_start", `{"name":"c","argv":["sleep","60"]}`)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := h.client.CallTool(ctx, callRequest("process_wait", map[string]any{"name": "c", "wait_for": map[string]any{"exit": true, "timeout_ms": 600000}}))
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		require.Error(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the cancelled wait did not return")
	}
	assert.Equal(t, procstate.StatusRunning, h.sup.Get("c").Record().Status)
}

// TestFlushNotifications: a result waits notifyGap after the call's last
// notification, which mcp-go could otherwise drop or deliver late.
func TestFlushNotifications(t *testing.T) {
	t.Parallel()
	var sentAt time.Time
	h := flushNotifications(func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		sentAt = time.Now()
		sentFrom(ctx).Store(sentAt.UnixNano())
		return &mcp.CallToolResult{}, nil
	})
	_, err := h(t.Context(), mcp.CallToolRequest{})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(sentAt), notifyGap)
}

// TestWaitSeams: waits meet stops, restart policies and backoff.
func TestWaitSeams(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})

	t.Run("a stop ends a wait", func(t *testing.T) {
		ok[processInfo](h, "process_start", `{"name":"s","command":"echo up; exec sleep 60"}`)
		h.waitLines("s", 2)
		done := make(chan waitedInfo)
		go func() {
			info, _ := waitedOf(t, h, "process_wait", `{"name":"s","wait_for":{"log":"never"}}`)
			done <- info
		}()
		ok[stopResult](h, "process_stop", `{"name":"s"}`)
		info := <-done
		assert.Equal(t, "exited", info.Wait.Outcome)
		assert.Equal(t, "SIGTERM", info.Signal)
		assert.Equal(t, []string{"up"}, info.Wait.Tail)
	})

	t.Run("a crash under a restart policy", func(t *testing.T) {
		info, txt := waitedOf(t, h, "process_start", `{"name":"c","command":"echo attempt; exit 1","restart":"on-failure","wait_for":{"log":"listening"}}`)
		assert.Equal(t, "exited", info.Wait.Outcome, txt)
		assert.Equal(t, []string{"attempt"}, info.Wait.Tail)
		assert.Contains(t, []string{"exited", "backoff"}, info.Status, "the run ended; the next may be pending")

		// In backoff, a wait follows the next run.
		require.Eventually(t, func() bool { return h.sup.Get("c").Record().Status == procstate.StatusBackoff }, 10*time.Second, time.Millisecond)
		next, txt := waitedOf(t, h, "process_wait", `{"name":"c","wait_for":{"exit":true}}`)
		assert.Equal(t, "exited", next.Wait.Outcome, txt)
		assert.GreaterOrEqual(t, next.Restarts, 1, "a later run")
		ok[stopResult](h, "process_stop", `{"name":"c"}`)
	})
}
