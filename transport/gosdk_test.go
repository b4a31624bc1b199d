package transport_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/procstate"
	"github.com/brummer-mcp/brummer-mcp/tools"
	"github.com/brummer-mcp/brummer-mcp/transport"
)

// stdioServerEnv, set to 1, makes TestStdioServerProcess the stdio server.
const stdioServerEnv = "BRUMMER_TRANSPORT_STDIO_SERVER"

// TestStdioServerProcess is not a test: started by another test with
// stdioServerEnv=1, the test binary is a stdio server (supervisor, tools,
// transport.ServeStdio on its stdin and stdout) until stdin ends, as in
// os/exec's TestHelperProcess.
func TestStdioServerProcess(t *testing.T) {
	if os.Getenv(stdioServerEnv) != "1" {
		t.Skip("the stdio server of the other tests")
	}
	log := zerolog.New(os.Stderr).Level(zerolog.InfoLevel)
	dir, err := os.Getwd()
	require.NoError(t, err)
	sup, err := procstate.New(procstate.Config{Dir: dir, StopGrace: 2 * time.Second}, log)
	require.NoError(t, err)
	srv := tools.NewServer(sup, "test", tools.Policy{}, log)
	serr := transport.ServeStdio(context.Background(), srv.MCPServer, os.Stdin, os.Stdout, transport.StdioConfig{}, log)
	srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cerr := sup.Close(ctx)
	if serr != nil || cerr != nil {
		log.Error().AnErr("serve", serr).AnErr("close", cerr).Msg("stdio server")
		os.Exit(1)
	}
	os.Exit(0)
}

// TestGoSDKClient: the official MCP Go SDK, a client written apart from
// mcp-go, offers 2026-07-28 first; on stdio (the test binary as the server)
// and on streamable HTTP it is refused that, falls back to initialize with
// 2025-11-25, and pings, lists the tools, and starts and stops a process.
func TestGoSDKClient(t *testing.T) {
	tests := []struct {
		name      string
		transport func(t *testing.T) sdk.Transport
	}{
		{"stdio", func(t *testing.T) sdk.Transport {
			cmd := exec.Command(os.Args[0], "-test.run=^TestStdioServerProcess$")
			// A -race binary would sleep 1s at exit.
			cmd.Env = append(os.Environ(), stdioServerEnv+"=1", "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			cmd.Dir = t.TempDir()
			cmd.Stderr = &testWriter{t}
			return &sdk.CommandTransport{Command: cmd}
		}},
		{"streamable HTTP", func(t *testing.T) sdk.Transport {
			return &sdk.StreamableClientTransport{Endpoint: newStack(t).serve(t, transport.HTTPConfig{Addr: "127.0.0.1:0"}) + "/mcp"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c := sdk.NewClient(&sdk.Implementation{Name: "go-sdk-test", Version: "1"}, nil)
			cs, err := c.Connect(ctx, tt.transport(t), nil)
			require.NoError(t, err)
			defer func() { assert.NoError(t, cs.Close()) }()
			assert.Equal(t, "2025-11-25", cs.InitializeResult().ProtocolVersion)
			t.Logf("go-sdk client over %s negotiated %s", tt.name, cs.InitializeResult().ProtocolVersion)

			require.NoError(t, cs.Ping(ctx, nil))
			list, err := cs.ListTools(ctx, nil)
			require.NoError(t, err)
			var names []string
			for _, tool := range list.Tools {
				names = append(names, tool.Name)
			}
			assert.Contains(t, names, "process_list")

			started := sdkCall[procInfo](t, ctx, cs, "process_start", map[string]any{"name": "sleeper", "command": "sleep 60"})
			assert.Positive(t, started.Pid)
			assert.Equal(t, "running", find(sdkCall[listResult](t, ctx, cs, "process_list", map[string]any{}), "sleeper").Status)
			stopped := sdkCall[procInfo](t, ctx, cs, "process_stop", map[string]any{"name": "sleeper"})
			assert.NotEqual(t, "running", stopped.Status)
		})
	}
}

// sdkCall calls a tool that must succeed through the go-sdk client and
// decodes its structured content.
func sdkCall[T any](t *testing.T, ctx context.Context, cs *sdk.ClientSession, tool string, args map[string]any) T {
	t.Helper()
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: tool, Arguments: args})
	require.NoError(t, err, "%s: a protocol error where a tool result was due", tool)
	text, _ := json.Marshal(res.Content)
	require.False(t, res.IsError, "%s: %s", tool, text)
	raw, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	var out T
	require.NoError(t, json.Unmarshal(raw, &out), "%s: %s", tool, raw)
	return out
}

// testWriter logs a child's stderr, for when a test fails.
type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Logf("server: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
