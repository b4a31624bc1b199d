package transport

import (
	"context"
	"io"

	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"
)

// StdioWorkers is how many tool calls run at once on stdio. A call that
// waits (process_stop with a long grace period) must not hold up reads.
const StdioWorkers = 16

// ServeStdio serves srv to one client over newline-delimited JSON-RPC on in
// and out. It returns nil when in reaches EOF, or ctx's error when ctx ends.
// Only JSON-RPC is ever written to out; mcp-go's own error messages go to
// log. Signals are the caller's: unlike server.ServeStdio this installs no
// signal handler, so that main can stop the children before it exits.
func ServeStdio(ctx context.Context, srv *server.MCPServer, in io.Reader, out io.Writer, log zerolog.Logger) error {
	log = log.With().Str("component", "stdio").Logger()
	s := server.NewStdioServer(srv)
	s.SetErrorLogger(stdLogTo(log))
	server.WithWorkerPoolSize(StdioWorkers)(s)
	return s.Listen(ctx, in, out)
}
