package tools

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/brummer-mcp/brummer-mcp/internal/toolresult"
	"github.com/brummer-mcp/brummer-mcp/procstate"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode)) // a child of a test (wait_test.go)
	}
	goleak.VerifyTestMain(m)
}

// harness is a real MCP server with a real supervisor, driven by mcp-go's
// in-process client pinned to the protocol real clients speak.
type harness struct {
	t       testing.TB
	sup     *procstate.Supervisor
	srv     *server.MCPServer
	client  *client.Client
	schemas map[string]*jsonschema.Schema // output schema per tool
}

func newHarness(t testing.TB, cfg procstate.Config) *harness {
	t.Helper()
	return newHarnessPolicy(t, cfg, Policy{})
}

func newHarnessPolicy(t testing.TB, cfg procstate.Config, policy Policy) *harness {
	t.Helper()
	return newHarnessWith(t, cfg, policy)
}

func newHarnessWith(t testing.TB, cfg procstate.Config, policy Policy, opts ...Option) *harness {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	sup, err := procstate.New(cfg, zerolog.Nop())
	require.NoError(t, err)
	srv := NewServer(sup, "test", policy, zerolog.Nop(), opts...)
	c, err := client.NewInProcessClientWithOptions(srv.MCPServer, client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION))
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, c.Start(ctx))
	init, err := c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ProtocolVersion: mcp.LATEST_LEGACY_PROTOCOL_VERSION,
		ClientInfo:      mcp.Implementation{Name: "tools-test", Version: "1"},
	}})
	require.NoError(t, err)
	require.Equal(t, mcp.LATEST_LEGACY_PROTOCOL_VERSION, init.ProtocolVersion)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, sup.Close(ctx))
		c.Close()
	})

	t.Cleanup(srv.Close) // before the supervisor's Close: cleanups run last first
	h := &harness{t: t, sup: sup, srv: srv.MCPServer, client: c, schemas: map[string]*jsonschema.Schema{}}
	list, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	require.NoError(t, err)
	compiler := jsonschema.NewCompiler()
	for _, tool := range list.Tools {
		raw, err := json.Marshal(tool.OutputSchema)
		require.NoError(t, err)
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
		require.NoError(t, err)
		url := "mem://" + tool.Name + ".json"
		require.NoError(t, compiler.AddResource(url, doc))
		h.schemas[tool.Name], err = compiler.Compile(url)
		require.NoError(t, err)
	}
	return h
}

// call invokes a tool with arguments given as JSON. Successful results are
// checked against the tool's output schema.
func (h *harness) call(tool string, argsJSON string) *mcp.CallToolResult {
	h.t.Helper()
	var args any
	if argsJSON != "" {
		require.NoError(h.t, json.Unmarshal([]byte(argsJSON), &args), "test args: %s", argsJSON)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := h.client.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
	require.NoError(h.t, err, "%s %s: a protocol error where a tool result was due", tool, argsJSON)
	if !res.IsError {
		require.NotNil(h.t, res.StructuredContent, "%s: success without structuredContent", tool)
		raw, err := json.Marshal(res.StructuredContent)
		require.NoError(h.t, err)
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
		require.NoError(h.t, err)
		require.NoError(h.t, h.schemas[tool].Validate(doc), "%s result does not match its output schema: %s", tool, raw)
	}
	return res
}

// ok calls a tool that must succeed and decodes its structured content.
func ok[T any](h *harness, tool, argsJSON string) (T, string) {
	h.t.Helper()
	res := h.call(tool, argsJSON)
	require.False(h.t, res.IsError, "%s %s: %s", tool, argsJSON, toolresult.Text(res))
	var out T
	raw, err := json.Marshal(res.StructuredContent)
	require.NoError(h.t, err)
	require.NoError(h.t, json.Unmarshal(raw, &out))
	return out, toolresult.Text(res)
}

// waitDone waits until the named process has exited and its output is in.
func (h *harness) waitDone(name string) {
	h.t.Helper()
	p := h.sup.Get(name)
	require.NotNil(h.t, p, "process %q", name)
	select {
	case <-p.Done():
	case <-time.After(20 * time.Second):
		h.t.Fatalf("process %q did not exit", name)
	}
}

// waitLines waits until the named process has at least n lines of output.
func (h *harness) waitLines(name string, n uint64) {
	h.t.Helper()
	p := h.sup.Get(name)
	require.NotNil(h.t, p, "process %q", name)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Log().WaitFor(ctx, n); err != nil {
		h.t.Fatalf("process %q has %d lines, want %d", name, p.Log().Stats().LastSeq, n)
	}
}

func listToolsRequest() mcp.ListToolsRequest { return mcp.ListToolsRequest{} }

func callRequest(name string, args map[string]any) mcp.CallToolRequest {
	return mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name, Arguments: args}}
}
