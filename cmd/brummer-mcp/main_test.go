package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/crashguard"
	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// The test binary is the server: with BRUMMER_E2E_SERVER=1 it runs main's
// run() on its real stdin, stdout and stderr, exactly like the built binary.
func TestMain(m *testing.M) {
	// Servers and guards re-executed from this -race binary would each
	// sleep 1s at exit.
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	if os.Getenv(listenEnv) == "1" {
		os.Exit(listenHelper())
	}
	if os.Getenv(wrapEnv) == "1" {
		wrapServer() // execs the server, or fails
		os.Exit(2)
	}
	if os.Getenv("BRUMMER_E2E_SERVER") == "1" || os.Getenv(crashguard.EnvMode) == "1" {
		unblockSignals()
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// serverProc is the server as a child process, with its stdout copied
// aside so that a test can check it carried nothing but JSON-RPC.
type serverProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *syncBuffer
	stderr *syncBuffer
	client *client.Client
	waited chan error
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startServer(t *testing.T, args ...string) *serverProc {
	t.Helper()
	return startServerEnv(t, nil, nil, args...)
}

// wrapEnv, set to 1 in the environment of the test binary, makes it a
// wrapper that starts the server with unusual signal settings (see
// wrapServer).
const wrapEnv = "BRUMMER_E2E_WRAP"

// startServerEnv is startServer with extra environment variables for the
// server process, and files it inherits as descriptors 3, 4, ...
func startServerEnv(t *testing.T, env []string, files []*os.File, args ...string) *serverProc {
	t.Helper()
	base := []string{"--log-level", "debug", "--stop-grace", "2s"}
	if !slices.Contains(args, "--state-dir") {
		base = append(base, "--state-dir", t.TempDir())
	}
	cmd := exec.Command(os.Args[0], append(base, args...)...)
	// A -race binary sleeps 1s at exit unless told not to.
	cmd.Env = append(os.Environ(), "BRUMMER_E2E_SERVER=1", "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	cmd.Env = append(cmd.Env, env...)
	cmd.ExtraFiles = files
	cmd.Dir = t.TempDir()
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdoutPipe, err := cmd.StdoutPipe()
	require.NoError(t, err)
	s := &serverProc{cmd: cmd, stdin: stdin, stdout: &syncBuffer{}, stderr: &syncBuffer{}, waited: make(chan error, 1)}
	cmd.Stderr = s.stderr
	require.NoError(t, cmd.Start())
	go func() { s.waited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.waited
		if t.Failed() {
			t.Logf("server stderr:\n%s", s.stderr.String())
		}
	})

	tr := transport.NewIO(io.TeeReader(stdoutPipe, s.stdout), stdin, io.NopCloser(strings.NewReader("")))
	s.client = client.NewClient(tr, client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.client.Start(ctx))
	init, err := s.client.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ProtocolVersion: mcp.LATEST_LEGACY_PROTOCOL_VERSION,
		ClientInfo:      mcp.Implementation{Name: "e2e", Version: "1"},
	}})
	require.NoError(t, err)
	require.Equal(t, mcp.LATEST_LEGACY_PROTOCOL_VERSION, init.ProtocolVersion)
	require.Contains(t, init.Instructions, "process_logs")
	return s
}

func (s *serverProc) call(t *testing.T, tool string, args map[string]any) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := s.client.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
	require.NoError(t, err)
	require.False(t, res.IsError, "%s: %+v", tool, res.Content)
	out, ok := res.StructuredContent.(map[string]any)
	require.True(t, ok, "%s: structured content %T", tool, res.StructuredContent)
	return out
}

// wait waits for the server to exit and returns its exit code.
func (s *serverProc) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-s.waited:
		s.waited <- err // for the cleanup
		if err == nil {
			return 0
		}
		var exitErr *exec.ExitError
		require.ErrorAs(t, err, &exitErr)
		return exitErr.ExitCode()
	case <-time.After(20 * time.Second):
		t.Fatal("server did not exit")
		return -1
	}
}

// assertOnlyJSONRPC checks that every line the server wrote to stdout is a
// JSON-RPC 2.0 message.
func assertOnlyJSONRPC(t *testing.T, stdout string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 16<<20)
	n := 0
	for sc.Scan() {
		var msg struct {
			JSONRPC string `json:"jsonrpc"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &msg), "stdout line %d is not JSON: %q", n+1, sc.Text())
		require.Equal(t, "2.0", msg.JSONRPC, "stdout line %d: %q", n+1, sc.Text())
		n++
	}
	require.Positive(t, n)
}

func TestStdioEndToEnd(t *testing.T) {
	s := startServer(t)

	started := s.call(t, "process_start", map[string]any{
		"name":    "web",
		"command": "for i in $(seq 1 50); do echo line $i; done; sleep 60 & sleep 60; wait",
		"env":     map[string]any{"API_TOKEN": "s3cr3t-value-never-echoed"},
	})
	pid := int(started["pid"].(float64))
	require.Positive(t, pid)

	// Page through the 50 lines with a cursor, 20 at a time.
	var got []string
	since := 0.0
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < 50 && time.Now().Before(deadline) {
		page := s.call(t, "process_logs", map[string]any{"name": "web", "since": since, "limit": 20, "stream": "stdout"})
		for _, l := range page["lines"].([]any) {
			got = append(got, l.(string))
		}
		since = page["next_since"].(float64)
		if len(page["lines"].([]any)) == 0 {
			// Output not there yet: block until the server has more.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = s.client.Ping(ctx)
			cancel()
		}
	}
	require.Len(t, got, 50)
	for i, text := range got {
		assert.Equal(t, fmt.Sprintf("line %d", i+1), text)
	}

	list := s.call(t, "process_list", nil)
	procs := list["processes"].([]any)
	require.Len(t, procs, 1)
	assert.Equal(t, "running", procs[0].(map[string]any)["status"])
	assert.True(t, procstate.GroupAlive(pid))

	stopped := s.call(t, "process_stop", map[string]any{"name": "web"})
	assert.Equal(t, "exited", stopped["status"])
	assert.Equal(t, "SIGTERM", stopped["signal"])
	assert.False(t, procstate.GroupAlive(pid), "the stop left members of the process group running")

	require.NoError(t, s.stdin.Close())
	assert.Equal(t, 0, s.wait(t))
	assertOnlyJSONRPC(t, s.stdout.String())
	assert.Contains(t, s.stderr.String(), "stdin closed; shutting down")
	// Values of env are never echoed back or logged (debug level included).
	assert.NotContains(t, s.stdout.String(), "s3cr3t-value-never-echoed")
	assert.NotContains(t, s.stderr.String(), "s3cr3t-value-never-echoed")
}

// TestShutdownStopsChildren: however the server is asked to exit, it stops
// every child and everything they spawned first, then exits 0.
func TestShutdownStopsChildren(t *testing.T) {
	tests := []struct {
		name string
		stop func(s *serverProc) error
	}{
		{"stdin EOF", func(s *serverProc) error { return s.stdin.Close() }},
		{"SIGTERM", func(s *serverProc) error { return s.cmd.Process.Signal(syscall.SIGTERM) }},
		{"SIGINT", func(s *serverProc) error { return s.cmd.Process.Signal(syscall.SIGINT) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t)
			var pgids []int
			for _, args := range []map[string]any{
				{"argv": []string{"sleep", "60"}},
				{"command": "sleep 60 & sleep 60 & wait"},
				{"command": "trap '' TERM; sleep 60"}, // needs the SIGKILL after the grace
			} {
				pgids = append(pgids, int(s.call(t, "process_start", args)["pid"].(float64)))
			}
			require.NoError(t, tt.stop(s))
			assert.Equal(t, 0, s.wait(t))
			for _, pgid := range pgids {
				assert.False(t, procstate.GroupAlive(pgid), "group %d outlived the server", pgid)
			}
			assert.Contains(t, s.stderr.String(), "all processes stopped")
		})
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		wantOut    string
		wantErr    string
		stdoutNone bool
	}{
		{name: "version", args: []string{"--version"}, code: 0, wantOut: "brummer-mcp "},
		{name: "help", args: []string{"--help"}, code: 0, wantErr: "--max-procs", stdoutNone: true},
		{name: "unknown flag", args: []string{"--nope"}, code: 2, wantErr: "flag provided but not defined: -nope", stdoutNone: true},
		{name: "bad max-procs", args: []string{"--max-procs", "0"}, code: 2, wantErr: "--max-procs must be at least 1, got 0", stdoutNone: true},
		{name: "bad log level", args: []string{"--log-level", "loud"}, code: 2, wantErr: `--log-level must be debug, info, warn or error, got "loud"`, stdoutNone: true},
		{name: "stray argument", args: []string{"serve"}, code: 2, wantErr: `unexpected argument "serve"`, stdoutNone: true},
		{name: "http without token off loopback", args: []string{"--no-stdio", "--http", "0.0.0.0:0"}, code: 2, wantErr: "--token or BRUMMER_TOKEN", stdoutNone: true},
		{name: "http without port", args: []string{"--http", "127.0.0.1"}, code: 2, wantErr: `http address "127.0.0.1"`, stdoutNone: true},
		{name: "no-stdio without http", args: []string{"--no-stdio"}, code: 2, wantErr: "--no-stdio needs --http", stdoutNone: true},
		{name: "http-fd of stdio", args: []string{"--http-fd", "2"}, code: 2, wantErr: "--http-fd must be an inherited descriptor (3 or more), got 2", stdoutNone: true},
		{name: "http-fd with http", args: []string{"--http-fd", "3", "--http", "127.0.0.1:0"}, code: 2, wantErr: "--http-fd and --http exclude each other", stdoutNone: true},
		{name: "http-fd not a socket", args: []string{"--http-fd", "99", "--no-stdio", "--state-dir", ""}, code: 2, wantErr: "--http-fd 99:", stdoutNone: true},
		{name: "missing cwd", args: []string{"--cwd", "/nonexistent"}, code: 2, wantErr: `--cwd "/nonexistent" is not a directory`, stdoutNone: true},
		{name: "child-nice too high", args: []string{"--child-nice", "20"}, code: 2, wantErr: "--child-nice must be 0..19, got 20", stdoutNone: true},
		{name: "child-nice negative", args: []string{"--child-nice", "-1"}, code: 2, wantErr: "--child-nice must be 0..19, got -1", stdoutNone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, strings.NewReader(""), &stdout, &stderr)
			assert.Equal(t, tt.code, code, stderr.String())
			assert.Contains(t, stdout.String(), tt.wantOut)
			assert.Contains(t, stderr.String(), tt.wantErr)
			assert.Equal(t, tt.stdoutNone, stdout.Len() == 0)
		})
	}
}

// readLine waits for the first output line of a process and returns it.
func (s *serverProc) readLine(t *testing.T, name string) string {
	t.Helper()
	var line string
	require.Eventually(t, func() bool {
		page := s.call(t, "process_logs", map[string]any{"name": name, "since": 0, "limit": 1, "stream": "stdout"})
		lines := page["lines"].([]any)
		if len(lines) > 0 {
			line = lines[0].(string)
		}
		return line != ""
	}, 10*time.Second, 5*time.Millisecond)
	return line
}

// watchdog returns the pid of the server's watchdog: its child that runs
// in watchdog mode.
func (s *serverProc) watchdog(t *testing.T) int {
	t.Helper()
	var pid int
	err := pgroup.Scan(func(p pgroup.Proc) bool {
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", p.Pid))
		if p.PPid == s.cmd.Process.Pid && slices.Contains(strings.Split(string(env), "\x00"), crashguard.EnvMode+"=1") {
			pid = p.Pid
		}
		return pid == 0
	})
	require.NoError(t, err)
	require.NotZero(t, pid, "the server runs no watchdog")
	return pid
}

// httpSocket binds a loopback port for a server to serve HTTP on
// (--http-fd), and returns the socket and its address.
func httpSocket(t *testing.T) (*os.File, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f, err := ln.(*net.TCPListener).File()
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // f is a duplicate: the socket stays open
	t.Cleanup(func() { f.Close() })
	return f, addr
}

func procExists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// TestNoZombiesNoEscapees: the server is a child subreaper. A grandchild
// orphaned by a stop is reaped by the server, not left a zombie; a
// grandchild that left the process group (setsid) is killed at shutdown.
func TestNoZombiesNoEscapees(t *testing.T) {
	s := startServer(t)
	s.call(t, "process_start", map[string]any{"name": "orphaner", "command": "sleep 60 & echo $!; wait"})
	orphan, err := strconv.Atoi(s.readLine(t, "orphaner"))
	require.NoError(t, err)
	s.call(t, "process_start", map[string]any{"name": "escaper", "command": "setsid sh -c 'echo $$; exec sleep 60' & wait"})
	escapee, err := strconv.Atoi(s.readLine(t, "escaper"))
	require.NoError(t, err)

	s.call(t, "process_stop", map[string]any{"name": "orphaner"})
	assert.Eventually(t, func() bool { return !procExists(orphan) }, 5*time.Second, 5*time.Millisecond,
		"grandchild %d is still there (a zombie?) after its group was stopped", orphan)

	s.call(t, "process_stop", map[string]any{"name": "escaper"})
	assert.True(t, procExists(escapee), "the setsid grandchild is out of the group: a stop does not reach it")
	require.NoError(t, s.stdin.Close())
	assert.Equal(t, 0, s.wait(t))
	assert.False(t, procExists(escapee), "setsid grandchild %d outlived the server", escapee)
}

// TestStdioAndHTTPShareOneSupervisor: an agent on stdio and agents on
// streamable HTTP and legacy SSE of the same server see the same processes.
func TestStdioAndHTTPShareOneSupervisor(t *testing.T) {
	sock, addr := httpSocket(t)
	s := startServerEnv(t, nil, []*os.File{sock}, "--http-fd", "3")

	ctx := t.Context()
	web, err := client.NewStreamableHttpClient("http://" + addr + "/mcp")
	require.NoError(t, err)
	require.NoError(t, web.Start(ctx))
	initialize(t, web)
	defer web.Close()
	sse, err := client.NewSSEMCPClient("http://" + addr + "/sse")
	require.NoError(t, err)
	require.NoError(t, sse.Start(ctx))
	initialize(t, sse)
	defer sse.Close()

	started := call(t, web, "process_start", map[string]any{"name": "from-http", "argv": []string{"sleep", "60"}})
	pid := int(started["pid"].(float64))
	for name, c := range map[string]*client.Client{"stdio": s.client, "sse": sse} {
		list := call(t, c, "process_list", nil)
		procs := list["processes"].([]any)
		require.Len(t, procs, 1, name)
		assert.Equal(t, "from-http", procs[0].(map[string]any)["name"], name)
	}
	stopped := call(t, sse, "process_stop", map[string]any{"name": "from-http"})
	assert.Equal(t, "SIGTERM", stopped["signal"])
	logs := call(t, s.client, "process_list", map[string]any{"status": "exited"})
	assert.Len(t, logs["processes"], 1)
	assert.False(t, procstate.GroupAlive(pid))

	web.Close()
	sse.Close()
	require.NoError(t, s.stdin.Close())
	assert.Equal(t, 0, s.wait(t))
	assertOnlyJSONRPC(t, s.stdout.String())
}

// TestServerKilledLeavesNoChildren: even a server killed with SIGKILL, which
// cannot stop anything itself, leaves no child and no grandchild behind
// (one of them ignores SIGTERM): its watchdog kills their process groups.
func TestServerKilledLeavesNoChildren(t *testing.T) {
	trials := 20
	if testing.Short() {
		trials = 3
	}
	survivors := 0
	for trial := range trials {
		s := startServer(t)
		var pgids []int
		for _, args := range []map[string]any{
			{"argv": []string{"sleep", "60"}},
			{"name": "tree", "command": "sleep 60 & (trap '' TERM; exec sleep 61) & echo ready; wait"},
		} {
			pgids = append(pgids, int(s.call(t, "process_start", args)["pid"].(float64)))
		}
		s.readLine(t, "tree")
		watchdogPid := s.watchdog(t)

		require.NoError(t, s.cmd.Process.Kill())
		s.wait(t)
		for _, pgid := range pgids {
			if !assert.Eventually(t, func() bool { return !procstate.GroupAlive(pgid) }, 2*time.Second, 5*time.Millisecond,
				"trial %d: group %d outlived the killed server by 2s", trial, pgid) {
				survivors++
				_ = killGroup(pgid)
			}
		}
		assert.Eventually(t, func() bool { return !procExists(watchdogPid) || isZombie(watchdogPid) }, 2*time.Second, 5*time.Millisecond, "watchdog lingers")
	}
	t.Logf("%d trials, %d surviving process groups", trials, survivors)
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] == 'Z'
}

// TestShutdownWithStopInFlight: a process_stop with a long timeout in
// flight does not hold shutdown beyond --stop-grace, and a second signal
// during shutdown cuts the grace short instead of killing the server
// before its children.
func TestShutdownWithStopInFlight(t *testing.T) {
	tests := []struct {
		name         string
		secondSignal bool
	}{
		{"one signal", false},
		{"second signal", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, "--stop-grace", "1s")
			pgid := int(s.call(t, "process_start", map[string]any{"name": "stubborn", "command": "trap '' TERM; echo ready; sleep 60; sleep 60"})["pid"].(float64))
			s.readLine(t, "stubborn")
			stopDone := make(chan struct{})
			go func() {
				defer close(stopDone)
				_, _ = s.client.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{
					Name: "process_stop", Arguments: map[string]any{"name": "stubborn", "timeout_ms": 60000}}})
			}()
			require.Eventually(t, func() bool {
				procs := s.call(t, "process_list", nil)["processes"].([]any)
				return procs[0].(map[string]any)["status"] == "stopping"
			}, 10*time.Second, time.Millisecond)

			start := time.Now()
			require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
			if tt.secondSignal {
				require.Eventually(t, func() bool { return strings.Contains(s.stderr.String(), "stopping processes") }, 10*time.Second, time.Millisecond)
				require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
			}
			assert.Equal(t, 0, s.wait(t), "the server must exit 0 after stopping its children")
			assert.Less(t, time.Since(start), 1*time.Second+5*time.Second, "shutdown took longer than the grace period allows")
			assert.False(t, procstate.GroupAlive(pgid), "the stubborn group outlived the server")
			<-stopDone
		})
	}
}

// TestMalformedJSONRPCOnStdio: broken input on stdio gets a JSON-RPC error
// where one is due, never a crash or a hang, and the next request is served.
func TestMalformedJSONRPCOnStdio(t *testing.T) {
	cmd := exec.Command(os.Args[0], "--log-level", "error")
	cmd.Env = append(os.Environ(), "BRUMMER_E2E_SERVER=1")
	cmd.Dir = t.TempDir()
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	// Every response, by id, as it arrives.
	responses := make(chan map[string]any, 64)
	go func() {
		defer close(responses)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			var msg map[string]any
			if json.Unmarshal(sc.Bytes(), &msg) == nil {
				responses <- msg
			}
		}
	}()
	send := func(line []byte) {
		_, err := stdin.Write(append(line, '\n'))
		require.NoError(t, err)
	}
	// next returns the responses that arrive until every wanted id has
	// been answered.
	next := func(want ...float64) []map[string]any {
		var got []map[string]any
		timeout := time.After(60 * time.Second)
		for len(want) > 0 {
			select {
			case msg, ok := <-responses:
				require.True(t, ok, "the server closed stdout (crashed?)")
				got = append(got, msg)
				id, _ := msg["id"].(float64)
				want = slices.DeleteFunc(want, func(w float64) bool { return w == id })
			case <-timeout:
				t.Fatalf("no response with ids %v (the server hangs?)", want)
			}
		}
		return got
	}
	send([]byte(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`))
	next(1)
	send([]byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))

	tests := []struct {
		name string
		line []byte
		id   float64 // the request's id, if it has one: its answer is awaited too
		code float64 // the JSON-RPC error code due; 0 for none
	}{
		{"garbage", []byte("garbage"), 0, -32700},
		{"truncated JSON", []byte(`{"jsonrpc":"2.0","id":5,"method":"pi`), 0, -32700},
		{"invalid UTF-8", []byte("\xff\xfe{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}"), 0, -32700},
		{"wrong jsonrpc version", []byte(`{"jsonrpc":"1.0","id":6,"method":"ping"}`), 6, -32600},
		{"no version, no method", []byte(`{"id":9}`), 9, -32600},
		{"unknown method", []byte(`{"jsonrpc":"2.0","id":10,"method":"nope"}`), 10, -32601},
		{"empty array", []byte(`[]`), 0, -32700},
		// Over --max-body-bytes (4 MiB): skipped unread, answered with
		// Invalid Request and the id found at the line's start.
		{"20 MB line", []byte(`{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"process_list","arguments":{"status":"` + strings.Repeat("a", 20<<20) + `"}}}`), 12, -32600},
		{"empty line", []byte(""), 0, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			send(tt.line)
			ping := float64(1000 + i)
			send([]byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"ping"}`, int(ping))))
			wait := []float64{ping}
			if tt.id != 0 {
				wait = append(wait, tt.id)
			}
			got := next(wait...)
			for _, msg := range got {
				if msg["id"] == ping {
					assert.Contains(t, msg, "result", "the ping after it was not served")
				}
			}
			if tt.code != 0 {
				var codes []float64
				for _, msg := range got {
					if e, ok := msg["error"].(map[string]any); ok {
						codes = append(codes, e["code"].(float64))
					}
				}
				assert.Contains(t, codes, tt.code)
			}
		})
	}
	require.NoError(t, stdin.Close())
	require.NoError(t, cmd.Wait(), "the server must exit 0 at stdin EOF")
}

// TestCrashedInstanceLeftovers: when the server and its watchdog both die
// without stopping anything, the next server started with the same state
// directory stops what they left behind, and says so.
func TestCrashedInstanceLeftovers(t *testing.T) {
	dir := t.TempDir()
	s1 := startServer(t, "--state-dir", dir)
	pgid := int(s1.call(t, "process_start", map[string]any{"name": "tree", "command": "sleep 60 & echo $!; wait"})["pid"].(float64))
	grandchild, err := strconv.Atoi(s1.readLine(t, "tree"))
	require.NoError(t, err)
	watchdogPid := s1.watchdog(t)
	// The state file is written shortly after a change (coalesced), and
	// again every second: wait until it lists the group, written after the
	// grandchild started, as a crash later than that would find it.
	record := filepath.Join(dir, strconv.Itoa(s1.cmd.Process.Pid)+".json")
	gc, err := pgroup.Stat(grandchild)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var rec struct {
			At     uint64 `json:"at"`
			Groups []struct {
				Pgid int `json:"pgid"`
			} `json:"groups"`
		}
		data, _ := os.ReadFile(record)
		if json.Unmarshal(data, &rec) != nil || rec.At <= gc.Start {
			return false
		}
		return slices.ContainsFunc(rec.Groups, func(g struct {
			Pgid int `json:"pgid"`
		}) bool {
			return g.Pgid == pgid
		})
	}, 10*time.Second, 5*time.Millisecond, "the state file should list the group")
	watchdog, err := os.FindProcess(watchdogPid)
	require.NoError(t, err)
	require.NoError(t, watchdog.Kill())
	require.NoError(t, s1.cmd.Process.Kill())
	s1.wait(t)
	require.True(t, procExists(grandchild) && !isZombie(grandchild), "the test needs a leftover: the grandchild should have survived")
	t.Cleanup(func() { _ = killGroup(pgid) })

	s2 := startServer(t, "--state-dir", dir)
	assert.Contains(t, s2.stderr.String(), "stopped processes left running by a crashed instance")
	assert.Contains(t, s2.stderr.String(), fmt.Sprintf(`"pgid":%d`, pgid))
	assert.Eventually(t, func() bool { return !procstate.GroupAlive(pgid) }, 2*time.Second, 5*time.Millisecond)
	require.NoError(t, s2.stdin.Close())
	assert.Equal(t, 0, s2.wait(t))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "a clean exit leaves no record, and the crashed one's was removed")
}
