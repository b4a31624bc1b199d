package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/internal/toolresult"
	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// BenchmarkToolCall measures tool calls through mcp-go's in-process client
// (JSON encoding both ways, no transport), idle and while a child floods
// stdout with 100-byte lines as fast as the pipe takes them. Compare each
// call with ping in the same run: the reader side must not slow down
// during the flood.
func BenchmarkToolCall(b *testing.B) {
	for _, load := range []string{"idle", "flood"} {
		b.Run(load, func(b *testing.B) {
			h := newHarness(b, procstate.Config{})
			for i := range 10 {
				mustStart(b, h, fmt.Sprintf(`{"name":"p%d","command":"seq 1 200; exec sleep 600"}`, i))
			}
			if load == "flood" {
				mustStart(b, h, `{"name":"flood","command":"exec yes 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"}`)
			}
			calls := []struct {
				name string
				do   func(ctx context.Context) error
			}{
				{"ping", func(ctx context.Context) error { return h.client.Ping(ctx) }},
				{"list", callTool(h, "process_list", nil)},
				{"logs100", callTool(h, "process_logs", map[string]any{"name": "p0", "tail": 100})},
			}
			for _, c := range calls {
				b.Run(c.name, func(b *testing.B) {
					ctx := context.Background()
					b.ReportAllocs()
					for b.Loop() {
						if err := c.do(ctx); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

func callTool(h *harness, name string, args map[string]any) func(context.Context) error {
	return func(ctx context.Context) error {
		res, err := h.client.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name, Arguments: args}})
		if err == nil && res.IsError {
			err = fmt.Errorf("%s: %s", name, toolresult.Text(res))
		}
		return err
	}
}

func mustStart(b *testing.B, h *harness, args string) {
	b.Helper()
	var m map[string]any
	require.NoError(b, json.Unmarshal([]byte(args), &m))
	require.NoError(b, callTool(h, "process_start", m)(context.Background()))
}

// BenchmarkServe measures the server's side of a call alone: mcp-go
// dispatching a raw JSON-RPC request to the handler, and the response
// marshalled as the stdio transport writes it. No client decode, no pipe.
func BenchmarkServe(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("procs=%d", n), func(b *testing.B) {
			h := newHarness(b, procstate.Config{MaxProcs: 2000, MaxExited: 2000})
			for i := range n {
				cmd := "exec sleep 600"
				if i == 0 {
					cmd = "seq 1 200; exec sleep 600"
				}
				mustStart(b, h, fmt.Sprintf(`{"name":"p%04d","command":%q}`, i, cmd))
			}
			h.waitLines("p0000", 200)
			calls := []struct{ name, req string }{
				{"ping", `{"jsonrpc":"2.0","id":1,"method":"ping"}`},
				{"empty", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"process_list","arguments":{"status":"exited"}}}`},
				{"list", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"process_list","arguments":{"limit":1000}}}`},
				{"logs100", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"process_logs","arguments":{"name":"p0000","tail":100}}}`},
			}
			for _, c := range calls {
				b.Run(c.name, func(b *testing.B) {
					ctx := context.Background()
					b.ReportAllocs()
					var size int
					for b.Loop() {
						resp := h.srv.HandleMessage(ctx, json.RawMessage(c.req))
						out, err := json.Marshal(resp)
						if err != nil {
							b.Fatal(err)
						}
						size = len(out)
					}
					b.ReportMetric(float64(size), "bytes/op")
				})
			}
		})
	}
}

// BenchmarkMergedLogs compares, in one run, the server's side of a first
// page of one process's log with a first page merged over 100 processes of
// 1,000 lines each (goal: within 3x): the merge reads only as far as the
// page needs. As BenchmarkServe: dispatch, handler, response marshalled.
func BenchmarkMergedLogs(b *testing.B) {
	h := newHarness(b, procstate.Config{})
	for i := range 100 {
		mustStart(b, h, fmt.Sprintf(`{"name":"p%03d","command":"seq 1 1000"}`, i))
	}
	for i := range 100 {
		h.waitDone(fmt.Sprintf("p%03d", i))
	}
	for _, c := range []struct{ name, args string }{
		{"one", `{"name":"p000"}`},
		{"merged100", `{}`},
		{"one-cursor", `{"name":"p000","since":0}`},
		{"merged100-cursor", `{"cursor":"c1:"}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := json.RawMessage(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"process_logs","arguments":` + c.args + `}}`)
			ctx := context.Background()
			b.ReportAllocs()
			var size int
			for b.Loop() {
				out, err := json.Marshal(h.srv.HandleMessage(ctx, req))
				if err != nil {
					b.Fatal(err)
				}
				size = len(out)
			}
			b.ReportMetric(float64(size), "bytes/op")
		})
	}
}
