// Package tools defines brummer-mcp's MCP tools and the MCP server that
// offers them. One file per tool holds its definition (schemas written by
// hand), its argument struct with validate(), and its handler.
//
// # Concurrency contract
//
// Handlers hold no state of their own. They read process data only through
// procstate's lock-free reads (atomic loads of immutable records and ring
// slots), so any number of calls from any number of sessions run in
// parallel without contending with the supervisor. Writes (start, stop) go
// through procstate.Supervisor, which owns all mutable state.
//
// # Errors
//
// Anything the model can fix is a tool result with isError set and a text
// that names the argument, shows the value and says what to do. A Go error,
// which mcp-go turns into a JSON-RPC error, is returned only when the server
// cannot serve (it is shutting down).
package tools

import (
	"context"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/brummer-mcp/brummer-mcp/procstate"
	"github.com/brummer-mcp/brummer-mcp/project"
)

// Instructions tell a model how to use the tools together.
const Instructions = `brummer-mcp runs and supervises long-running processes (dev servers, watchers, test runs, builds) for you, in the background.
- process_start starts one (command through the shell, or argv); remember its name. With wait_for it returns when the process is ready or has ended: {"log": "ready|Local:"} for a dev server, {"listen": true} when you do not know its port, {"exit": true} for a build or test run (outcome ready means exit 0); the last lines come back when it is not ready.
- process_wait waits the same way for a process that runs already; process_restart restarts one as it was, and takes wait_for too.
- process_logs reads its output. First call without since (the last lines), then pass next_since back as since to get only new output. Use grep to find errors, stream=stderr for stderr only. All runs of a name share one log, so a cursor stays valid.
- process_list shows every process with status, exit code and log counters; exited ones stay listed with their logs.
- process_stop stops a process and everything it spawned (TERM, then KILL after timeout_ms); all=true stops every one.
- process_input writes to the stdin of a process started with stdin=true (to answer a prompt).
Prefer this over running long commands in a shell: nothing blocks, nothing is orphaned, no output is lost.`

// Option configures NewServer.
type Option func(*settings)

type settings struct {
	project     *project.Project
	hooks       []func(*server.Hooks)
	middlewares []server.ToolHandlerMiddleware
}

// WithProject lets process_start run the project's scripts and
// process_list show them.
func WithProject(p *project.Project) Option { return func(s *settings) { s.project = p } }

// WithSessionHooks lets a transport add its session hooks to the server's.
func WithSessionHooks(add func(*server.Hooks)) Option {
	return func(s *settings) { s.hooks = append(s.hooks, add) }
}

// WithMiddleware adds a tool middleware inside the server's own.
func WithMiddleware(mw server.ToolHandlerMiddleware) Option {
	return func(s *settings) { s.middlewares = append(s.middlewares, mw) }
}

// Server is the MCP server of the process tools and resources, with the
// goroutine that tells its clients what changed (news.go).
type Server struct {
	*server.MCPServer
	news *news
}

// Close stops telling clients what changed. The MCP server itself is the
// transports' to shut down.
func (s *Server) Close() { s.news.close() }

// NewServer returns an MCP server offering the process tools backed by sup,
// within the limits of policy. Close it when done.
func NewServer(sup *procstate.Supervisor, version string, policy Policy, log zerolog.Logger, options ...Option) *Server {
	var set settings
	for _, o := range options {
		o(&set)
	}
	log = log.With().Str("component", "tools").Logger()
	hooks := &server.Hooks{}
	for _, add := range set.hooks {
		add(hooks)
	}
	opts := []server.ServerOption{
		server.WithTitle("brummer process manager"),
		server.WithInstructions(Instructions),
		server.WithToolCapabilities(false),
		server.WithResourceCapabilities(true, true),
		server.WithLogging(),
		server.WithRecovery(),
		server.WithHooks(hooks),
		server.WithToolHandlerMiddleware(logCalls(log)),
		server.WithToolHandlerMiddleware(flushNotifications),
	}
	for _, mw := range set.middlewares {
		opts = append(opts, server.WithToolHandlerMiddleware(mw))
	}
	s := server.NewMCPServer("brummer-mcp", version, opts...)
	addResources(s, sup, set.project, hooks)
	s.AddTools(
		server.ServerTool{Tool: listTool(), Handler: listHandler(sup, set.project)},
		server.ServerTool{Tool: logsTool(), Handler: logsHandler(sup)},
		server.ServerTool{Tool: waitTool(), Handler: waitHandler(sup)},
	)
	if !policy.ReadOnly {
		s.AddTools(
			server.ServerTool{Tool: startTool(policy), Handler: startHandler(sup, policy, set.project)},
			server.ServerTool{Tool: stopTool(), Handler: stopHandler(sup)},
			server.ServerTool{Tool: restartTool(), Handler: restartHandler(sup)},
			server.ServerTool{Tool: inputTool(), Handler: inputHandler(sup)},
		)
	}
	return &Server{MCPServer: s, news: startNews(s, sup, hooks, log)}
}

// logCalls logs every tool call at debug level, with its duration and
// whether it was a tool error. Argument values are not logged: they may
// carry secrets (env).
func logCalls(log zerolog.Logger) server.ToolHandlerMiddleware {
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			start := time.Now()
			res, err := next(ctx, req)
			if e := log.Debug(); e.Enabled() {
				e.Str("tool", req.Params.Name).Dur("took", time.Since(start)).
					Bool("is_error", res != nil && res.IsError).Err(err).Msg("call")
			}
			return res, err
		}
	}
}
