package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/brummer-mcp/brummer-mcp/internal/toolresult"
)

// TestManyAgents runs the whole server in-process (run(), as main does)
// with stdio and HTTP at once, and drives it for a while from 32 HTTP
// clients and one stdio client mixing list, logs, start and stop on shared
// processes. Afterwards no goroutine and no file descriptor may be left.
func TestManyAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("stress test")
	}
	const (
		httpClients = 32
		duration    = 10 * time.Second
		// maxMine caps the processes an agent keeps alive, so that 33 agents
		// stay under the default limit of 1,000 however fast they go.
		maxMine = 25
	)
	sock, addr := httpSocket(t) // before the count: it stays open until the test ends
	fdsBefore := countFDs(t)
	ignore := goleak.IgnoreCurrent()

	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	stderr := &syncBuffer{}
	exited := make(chan int, 1)
	go func() {
		exited <- run([]string{"--http-fd", strconv.Itoa(int(sock.Fd())), "--cwd", t.TempDir(), "--stop-grace", "1s", "--state-dir", t.TempDir()}, stdinR, stdoutW, stderr)
		stdoutW.Close()
	}()

	// The stdio agent.
	stdio := client.NewClient(transport.NewIO(stdoutR, stdinW, io.NopCloser(strings.NewReader(""))))
	ctx := context.Background()
	require.NoError(t, stdio.Start(ctx))
	initialize(t, stdio)

	// Shared processes every agent reads.
	for i := range 4 {
		call(t, stdio, "process_start", map[string]any{"name": fmt.Sprintf("shared-%d", i), "command": "seq 1 500; exec sleep 600"})
	}

	var ops, toolErrors atomic.Int64
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	// alive[id] is what agent id started and has not stopped when it ends.
	alive := make([][]string, httpClients+1)
	agent := func(c *client.Client, id int) {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(uint64(id), 1))
		var mine []string
		defer func() { alive[id] = mine }()
		for n := 0; time.Now().Before(deadline); n++ {
			var tool string
			var args map[string]any
			switch r := rng.IntN(10); {
			case r < 4:
				tool, args = "process_list", nil
			case r < 7:
				tool, args = "process_logs", map[string]any{"name": fmt.Sprintf("shared-%d", rng.IntN(4)), "tail": 50}
			case (r < 9 || len(mine) == 0) && len(mine) < maxMine:
				tool, args = "process_start", map[string]any{"name": fmt.Sprintf("a%d-%d", id, n), "command": "echo started; exec sleep 30"}
			default:
				tool, args = "process_stop", map[string]any{"name": mine[0], "timeout_ms": 1000}
			}
			res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
			if !assert.NoError(t, err, "agent %d: %s", id, tool) {
				return
			}
			ops.Add(1)
			if res.IsError {
				toolErrors.Add(1)
				t.Errorf("agent %d: %s %v: %s", id, tool, args, toolresult.Text(res))
				continue
			}
			switch tool {
			case "process_start":
				mine = append(mine, args["name"].(string))
			case "process_stop":
				// A stop returns once the process has exited.
				out, _ := res.StructuredContent.(map[string]any)
				assert.Equal(t, "exited", out["status"], "agent %d: stop %s", id, mine[0])
				mine = mine[1:]
			}
		}
	}
	var httpAgents []*client.Client
	for i := range httpClients {
		c, err := client.NewStreamableHttpClient("http://" + addr + "/mcp")
		require.NoError(t, err)
		require.NoError(t, c.Start(ctx))
		initialize(t, c)
		httpAgents = append(httpAgents, c)
		wg.Add(1)
		go agent(c, i)
	}
	wg.Add(1)
	go agent(stdio, httpClients)
	wg.Wait()
	t.Logf("%d calls in %s from %d agents, %d tool errors", ops.Load(), duration, httpClients+1, toolErrors.Load())

	// None was lost: the running processes are exactly the shared ones and
	// those the agents started and did not stop (all on one page: at most
	// 4 + 33*maxMine of them), and the shared ones kept all their output.
	want := []string{"shared-0", "shared-1", "shared-2", "shared-3"}
	for _, names := range alive {
		want = append(want, names...)
	}
	list := call(t, stdio, "process_list", map[string]any{"status": "running", "limit": 1000})
	var running []string
	for _, p := range list["processes"].([]any) {
		p := p.(map[string]any)
		running = append(running, p["name"].(string))
		assert.Equal(t, "running", p["status"], p["name"])
		if strings.HasPrefix(p["name"].(string), "shared-") {
			assert.EqualValues(t, 501, p["last_seq"], "%s: the start note and the lines of seq 1 500", p["name"])
		}
	}
	assert.ElementsMatch(t, want, running)
	assert.EqualValues(t, len(want), list["total"])
	assert.NotContains(t, list, "next_after")

	for _, c := range httpAgents {
		c.Close()
	}
	require.NoError(t, stdinW.Close()) // stdin EOF: the server shuts down
	select {
	case code := <-exited:
		assert.Equal(t, 0, code, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("server did not shut down")
	}
	stdio.Close()
	goleak.VerifyNone(t, ignore)
	// Fewer is fine (a descriptor of an earlier test closed meanwhile); more is a leak.
	assert.LessOrEqual(t, countFDs(t), fdsBefore, "file descriptors leaked")
}

func initialize(t *testing.T, c *client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ProtocolVersion: mcp.LATEST_LEGACY_PROTOCOL_VERSION,
		ClientInfo:      mcp.Implementation{Name: "stress", Version: "1"},
	}})
	require.NoError(t, err)
	require.Equal(t, mcp.LATEST_LEGACY_PROTOCOL_VERSION, res.ProtocolVersion)
}

func call(t *testing.T, c *client.Client, tool string, args map[string]any) map[string]any {
	t.Helper()
	res, err := c.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
	require.NoError(t, err)
	require.False(t, res.IsError, toolresult.Text(res))
	return res.StructuredContent.(map[string]any)
}

func countFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(entries)
}
