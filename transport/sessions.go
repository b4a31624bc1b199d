package transport

import (
	"context"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// SessionCalls ends a session's tool calls when the session ends. mcp-go
// cancels a call when its client sends notifications/cancelled, and over
// streamable HTTP when the request's connection closes; but a legacy SSE
// call runs on a context detached from its request (server/sse.go), so a
// client that goes away would leave a long wait running until its
// timeout. Wire both halves into the MCP server: Hooks and Middleware.
type SessionCalls struct {
	mu    sync.Mutex
	calls map[string]*callSet // by session id
}

// callSet holds the cancel functions of one session's calls in progress.
type callSet struct{ m map[*call]struct{} }

type call struct{ cancel context.CancelFunc }

// NewSessionCalls returns an empty registry.
func NewSessionCalls() *SessionCalls {
	return &SessionCalls{calls: make(map[string]*callSet)}
}

// Hooks adds the hook that cancels a session's calls when it unregisters.
func (sc *SessionCalls) Hooks(h *server.Hooks) {
	h.AddOnUnregisterSession(func(_ context.Context, s server.ClientSession) {
		sc.end(s.SessionID())
	})
}

// Middleware runs each tool call on a context that the end of its
// session cancels.
func (sc *SessionCalls) Middleware(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		s := server.ClientSessionFromContext(ctx)
		if s == nil || s.SessionID() == "" {
			return next(ctx, req) // stateless: the request's own context ends it
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		id, c := s.SessionID(), &call{cancel: cancel}
		sc.mu.Lock()
		set := sc.calls[id]
		if set == nil {
			set = &callSet{m: make(map[*call]struct{})}
			sc.calls[id] = set
		}
		set.m[c] = struct{}{}
		sc.mu.Unlock()
		defer func() {
			sc.mu.Lock()
			delete(set.m, c)
			if len(set.m) == 0 && sc.calls[id] == set {
				delete(sc.calls, id)
			}
			sc.mu.Unlock()
		}()
		return next(ctx, req)
	}
}

// end cancels the calls of session id.
func (sc *SessionCalls) end(id string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if set := sc.calls[id]; set != nil {
		for c := range set.m {
			c.cancel()
		}
		delete(sc.calls, id)
	}
}

// Active counts the calls in progress, for tests.
func (sc *SessionCalls) Active() int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	n := 0
	for _, set := range sc.calls {
		n += len(set.m)
	}
	return n
}
