package transport_test

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
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

	"github.com/brummer-mcp/brummer-mcp/transport"
)

// stdioPipes serves srv with transport.ServeStdio on in-memory pipes. Only
// one may run at a time: mcp-go's stdio session is a package global.
type stdioPipes struct {
	in   *io.PipeWriter // the client's side of the server's stdin
	out  *io.PipeReader // the client's side of the server's stdout
	done chan error     // ServeStdio's result
}

func serveStdio(t *testing.T, srv *server.MCPServer, cfg transport.StdioConfig) *stdioPipes {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	p := &stdioPipes{in: inW, out: outR, done: make(chan error, 1)}
	go func() {
		err := transport.ServeStdio(context.Background(), srv, inR, outW, cfg, zerolog.Nop())
		_ = outW.Close()
		p.done <- err
	}()
	t.Cleanup(func() {
		_ = inW.Close()
		require.NoError(t, receive(t, p.done, "ServeStdio's return"))
		_ = outR.Close()
	})
	return p
}

// response is a line the server wrote, and when it arrived.
type response struct {
	line []byte
	at   time.Time
}

// lines delivers the server's output line by line until it closes stdout.
func (p *stdioPipes) lines() <-chan response {
	ch := make(chan response, 16)
	go func() {
		defer close(ch)
		r := bufio.NewReader(p.out)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				ch <- response{line, time.Now()}
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

type rpcReply struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

// summary is "ID result" or "ID error CODE".
func (r rpcReply) summary() string {
	if r.Error != nil {
		return fmt.Sprintf("%s error %d", r.ID, r.Error.Code)
	}
	return fmt.Sprintf("%s result", r.ID)
}

// pingLine is a ping request with the given id, padded with spaces to size
// bytes (newline not included).
func pingLine(id, size int) string {
	s := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"ping"`, id)
	return s + strings.Repeat(" ", size-len(s)-1) + "}"
}

// pieces cuts s into pieces of n bytes, each written on its own.
func pieces(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// TestStdioLineLimit: a request line over the limit is answered with a
// JSON-RPC error as soon as it ends, without being read into memory, and the
// requests around it are served. The duration of each answer is logged: the
// 20 MB line is the one to watch.
func TestStdioLineLimit(t *testing.T) {
	const limit = 1 << 10
	huge := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"process_list","arguments":{"status":"` + strings.Repeat("a", 20<<20) + `"}}}`
	tests := []struct {
		name   string
		limit  int64    // 0: the default, transport.DefaultMaxBodyBytes
		writes []string // written one after another, then stdin is closed
		want   []string // the answers, in any order
	}{
		{"exactly at the limit", limit, []string{pingLine(1, limit) + "\n", pingLine(2, 50) + "\n"}, []string{"1 result", "2 result"}},
		{"one byte over", limit, []string{pingLine(1, limit+1) + "\n", pingLine(2, 50) + "\n"}, []string{"1 error -32600", "2 result"}},
		{"20 MB at the default limit", 0, []string{huge + "\n", pingLine(2, 50) + "\n"}, []string{"1 error -32600", "2 result"}},
		{"limit crossed across reads", limit, append(pieces(pingLine(1, limit+1)+"\n"+pingLine(3, limit)+"\n", 100), pingLine(2, 50)+"\n"), []string{"1 error -32600", "3 result", "2 result"}},
		{"no newline at EOF, within", limit, []string{pingLine(2, 50) + "\n", pingLine(1, limit)}, []string{"2 result", "1 result"}},
		{"no newline at EOF, over", limit, []string{pingLine(2, 50) + "\n", pingLine(1, limit+1)}, []string{"2 result", "1 error -32600"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := serveStdio(t, newStack(t).srv, transport.StdioConfig{MaxLineBytes: tt.limit})
			lines := p.lines()
			start := time.Now()
			for _, w := range tt.writes {
				_, err := io.WriteString(p.in, w)
				require.NoError(t, err)
			}
			require.NoError(t, p.in.Close())
			var got []string
			for r := range lines {
				var reply rpcReply
				require.NoError(t, json.Unmarshal(r.line, &reply), "%q", r.line)
				got = append(got, reply.summary())
				t.Logf("%s after %v", reply.summary(), r.at.Sub(start))
				if reply.Error != nil {
					assert.Contains(t, reply.Error.Message, "the limit is "+strconv.Itoa(cmp.Or(int(tt.limit), transport.DefaultMaxBodyBytes))+" bytes")
				}
			}
			assert.ElementsMatch(t, tt.want, got)
		})
	}
}

// modernBody is a request of the stateless protocol (2026-07-28): no
// initialize, its version and the client's capabilities in _meta.
func modernBody(id int, method string, params string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":{%s"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`, id, method, params)
}

// offered is what the transports offer, newest first.
var offered = []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}

// TestStdioProtocolVersions: over stdio, initialize negotiates at most
// 2025-11-25, and every request of the stateless protocol is refused with
// the versions offered, as mcp-go's HTTP transport does.
func TestStdioProtocolVersions(t *testing.T) {
	tests := []struct {
		name      string
		line      string
		want      string   // summary of the answer
		version   string   // the initialize result's protocolVersion
		supported []string // the error data's supported versions
	}{
		{"initialize asking for 2026-07-28", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2026-07-28","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`, "1 result", "2025-11-25", nil},
		{"initialize asking for 2025-06-18", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`, "1 result", "2025-06-18", nil},
		{"server/discover", modernBody(2, "server/discover", ""), "2 error -32022", "", offered},
		{"stateless tools/call", modernBody(3, "tools/call", `"name":"process_list","arguments":{},`), "3 error -32022", "", offered},
		{"stateless tools/list", modernBody(4, "tools/list", ""), "4 error -32022", "", offered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := serveStdio(t, newStack(t).srv, transport.StdioConfig{})
			lines := p.lines()
			_, err := io.WriteString(p.in, tt.line+"\n")
			require.NoError(t, err)
			r, ok := <-lines
			require.True(t, ok, "no answer")
			var reply rpcReply
			require.NoError(t, json.Unmarshal(r.line, &reply), "%q", r.line)
			assert.Equal(t, tt.want, reply.summary())
			var result struct {
				ProtocolVersion string `json:"protocolVersion"`
			}
			var data struct {
				Supported []string `json:"supported"`
			}
			_ = json.Unmarshal(reply.Result, &result)
			if reply.Error != nil {
				_ = json.Unmarshal(reply.Error.Data, &data)
			}
			assert.Equal(t, tt.version, result.ProtocolVersion)
			assert.Equal(t, tt.supported, data.Supported)
		})
	}
}

// connectStdio connects mcp-go's client to srv served on pipes, with
// mcp-go's default protocol preference (2026-07-28 first).
func connectStdio(t *testing.T, srv *server.MCPServer) *client.Client {
	t.Helper()
	p := serveStdio(t, srv, transport.StdioConfig{})
	c := client.NewClient(mcptransport.NewIO(p.out, p.in, io.NopCloser(strings.NewReader(""))))
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.Start(context.Background()))
	return c
}

// TestModernClientFallsBack: mcp-go's client, left to prefer 2026-07-28,
// is refused it on stdio and on streamable HTTP, falls back to initialize
// with 2025-11-25, and everything works.
func TestModernClientFallsBack(t *testing.T) {
	tests := []struct {
		name    string
		connect func(t *testing.T, s *stack) *client.Client
	}{
		{"stdio", func(t *testing.T, s *stack) *client.Client { return connectStdio(t, s.srv) }},
		{"streamable HTTP", func(t *testing.T, s *stack) *client.Client {
			c, err := client.NewStreamableHttpClient(s.serve(t, transport.HTTPConfig{Addr: "127.0.0.1:0"})+"/mcp", mcptransport.WithHTTPLogger(discard))
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			require.NoError(t, c.Start(context.Background()))
			return c
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.connect(t, newStack(t))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, err := c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{
				ClientInfo: mcp.Implementation{Name: "modern", Version: "1"},
			}})
			require.NoError(t, err)
			assert.Equal(t, "2025-11-25", res.ProtocolVersion)
			t.Logf("mcp-go client over %s negotiated %s", tt.name, res.ProtocolVersion)
			require.NoError(t, c.Ping(ctx))
			tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
			require.NoError(t, err)
			assert.NotEmpty(t, tools.Tools)
			assert.Empty(t, call[listResult](t, c, "process_list", nil).Processes)
			require.NoError(t, c.SetLevel(ctx, mcp.SetLevelRequest{Params: mcp.SetLevelParams{Level: mcp.LoggingLevelInfo}}), "logging/setLevel, gone in 2026-07-28")
		})
	}
}
