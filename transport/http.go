package transport

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"
)

// HTTPConfig configures the HTTP listener. Zero values mean the defaults in
// the field comments.
type HTTPConfig struct {
	// Addr is the listen address, host:port. A host that is not a loopback
	// address requires Token.
	Addr string
	// Listener, if set, is a listening socket to serve on instead of
	// binding Addr (from a service manager, or a parent that bound the
	// port); Addr is then its address.
	Listener net.Listener
	// Token, if set, must be presented by every request as
	// "Authorization: Bearer <token>".
	Token string
	// AllowOrigins lists Origins (scheme://host[:port]) allowed besides
	// loopback ones, for browser-based clients.
	AllowOrigins []string
	// MaxBodyBytes caps a request body; default 4 MiB. Larger ones get 413.
	MaxBodyBytes int64
	// SessionIdleTTL ends streamable HTTP sessions idle this long; default 30m.
	SessionIdleTTL time.Duration
	// Heartbeat is the interval of keep-alive pings on open streams; default 30s.
	Heartbeat time.Duration
	// UI, if set, serves every path the MCP endpoints do not (a web page at
	// / and its assets at /ui/, an API under /api/), behind the same
	// checks. The token is not asked of GET / and GET /ui/...: a static
	// page that holds no data and asks the person for the token, which it
	// then sends with every other request.
	UI http.Handler
}

// Defaults for HTTPConfig.
const (
	DefaultMaxBodyBytes   = 4 << 20
	DefaultSessionIdleTTL = 30 * time.Minute
	DefaultHeartbeat      = 30 * time.Second
)

// ErrTokenRequired is returned for a non-loopback address without a token.
var ErrTokenRequired = errors.New("a token is required to listen on a non-loopback address")

// HTTP serves one MCP server on one listener: streamable HTTP at /mcp,
// legacy HTTP+SSE at /sse and /message, /healthz, and a web UI (HTTPConfig.UI)
// at every other path. Every request passes the same guard: body limit,
// Host and Origin checks, bearer token (which the UI's page and assets are
// spared).
type HTTP struct {
	cfg        HTTPConfig
	log        zerolog.Logger
	streamable *server.StreamableHTTPServer
	sse        *server.SSEServer
	handler    http.Handler
	srv        *http.Server
	ln         net.Listener
	loopback   bool // the listener is bound to loopback only
}

// NewHTTP builds the HTTP transport for srv. It does not listen yet.
func NewHTTP(srv *server.MCPServer, cfg HTTPConfig, log zerolog.Logger) (*HTTP, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.SessionIdleTTL <= 0 {
		cfg.SessionIdleTTL = DefaultSessionIdleTTL
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.Listener != nil {
		cfg.Addr = cfg.Listener.Addr().String()
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("http address %q: %w (want host:port, e.g. 127.0.0.1:7777)", cfg.Addr, err)
	}
	loopback := isLoopbackHost(host)
	if !loopback && cfg.Token == "" {
		return nil, fmt.Errorf("%w: %q; set --token or BRUMMER_TOKEN, or bind 127.0.0.1", ErrTokenRequired, cfg.Addr)
	}
	for _, o := range cfg.AllowOrigins {
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("allowed origin %q must look like scheme://host[:port]", o)
		}
	}
	h := &HTTP{cfg: cfg, log: log.With().Str("component", "http").Logger(), loopback: loopback}
	// The same manager WithStateful(true) would make, kept so that
	// knownSession can check the ids of GETs and DELETEs.
	sessions := &server.InsecureStatefulSessionIdManager{}
	h.streamable = server.NewStreamableHTTPServer(srv,
		server.WithEndpointPath("/mcp"),
		server.WithSessionIdManager(sessions),
		server.WithSessionIdleTTL(cfg.SessionIdleTTL),
		server.WithHeartbeatInterval(cfg.Heartbeat),
		server.WithStreamableHTTPLogger(slogTo(h.log)),
		server.WithStreamableHTTPProtocolVersions(offeredVersions...),
	)
	h.sse = server.NewSSEServer(srv,
		server.WithSSEEndpoint("/sse"),
		server.WithMessageEndpoint("/message"),
		server.WithUseFullURLForMessageEndpoint(false),
		server.WithKeepAlive(true),
		server.WithKeepAliveInterval(cfg.Heartbeat),
	)
	mux := http.NewServeMux()
	mux.Handle("/mcp", knownSession(sessions, h.streamable))
	mux.Handle("/sse", h.sse.SSEHandler())
	mux.Handle("/message", h.sse.MessageHandler())
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	if cfg.UI != nil {
		mux.Handle("/", cfg.UI)
	}
	h.handler = h.guard(mux)
	return h, nil
}

// Handler returns the guarded handler, for tests with httptest.
func (h *HTTP) Handler() http.Handler { return h.handler }

// Listen binds the address (or takes Config.Listener). Serve must be
// called afterwards.
func (h *HTTP) Listen() error {
	ln := h.cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", h.cfg.Addr); err != nil {
			return fmt.Errorf("listen on %s: %w", h.cfg.Addr, err)
		}
	}
	h.ln = ln
	h.srv = &http.Server{
		Handler:           h.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          stdLogTo(h.log),
	}
	return nil
}

// Addr is the bound address (useful with port 0).
func (h *HTTP) Addr() net.Addr { return h.ln.Addr() }

// Serve serves until Shutdown. It returns nil after a Shutdown.
func (h *HTTP) Serve() error {
	h.log.Info().Str("addr", h.ln.Addr().String()).Bool("token", h.cfg.Token != "").Msg("serving MCP over HTTP at /mcp, /sse and /message")
	if err := h.srv.Serve(h.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting connections, closes every MCP session (which
// ends their streams) and waits for requests in flight, until ctx ends;
// then it closes what is left.
func (h *HTTP) Shutdown(ctx context.Context) error {
	done := make(chan error, 1)
	if h.srv != nil {
		go func() { done <- h.srv.Shutdown(ctx) }()
	} else {
		done <- nil
	}
	h.sse.CloseSessions()
	err := h.streamable.Shutdown(ctx)
	if serr := <-done; serr != nil {
		err = errors.Join(err, serr)
		if h.srv != nil {
			_ = h.srv.Close()
		}
	}
	return err
}

// guard applies the checks every request must pass, in order: body limit,
// Host (against DNS rebinding), Origin (against cross-site requests), then
// the bearer token.
func (h *HTTP) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > h.cfg.MaxBodyBytes {
			http.Error(w, fmt.Sprintf("request body is %d bytes; the limit is %d", r.ContentLength, h.cfg.MaxBodyBytes), http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes)
		if h.loopback && !isLoopbackHost(hostOnly(r.Host)) {
			http.Error(w, fmt.Sprintf("forbidden: Host %q is not a loopback name", r.Host), http.StatusForbidden)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" && !h.originAllowed(origin) {
			http.Error(w, fmt.Sprintf("forbidden: Origin %q is not allowed (loopback origins are; add others with --allow-origin)", origin), http.StatusForbidden)
			return
		}
		if h.cfg.Token != "" && !h.public(r) && !h.authorized(r.Header.Get("Authorization")) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="brummer-mcp"`)
			http.Error(w, "unauthorized: send Authorization: Bearer <token>", http.StatusUnauthorized)
			return
		}
		if r.ContentLength < 0 {
			// Unknown length (chunked): read the body here, after the
			// token check, so that an oversized one gets 413 as with a
			// Content-Length, not the JSON-RPC parse error the MCP
			// handlers make of the read error.
			body, err := io.ReadAll(r.Body)
			if tooLarge := new(http.MaxBytesError); errors.As(err, &tooLarge) {
				http.Error(w, fmt.Sprintf("request body is too large; the limit is %d", h.cfg.MaxBodyBytes), http.StatusRequestEntityTooLarge)
				return
			}
			if err != nil {
				http.Error(w, fmt.Sprintf("read request body: %v", err), http.StatusBadRequest)
				return
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
		next.ServeHTTP(w, r)
	})
}

// public reports whether r asks for the page or its assets, which need no
// token: exactly GET / and GET /ui/... with a clean path, when there is a
// UI. Everything else, the UI's API included, needs the token.
func (h *HTTP) public(r *http.Request) bool {
	p := r.URL.Path
	return h.cfg.UI != nil && r.Method == http.MethodGet && path.Clean(p) == p && r.URL.RawPath == "" &&
		(p == "/" || strings.HasPrefix(p, "/ui/"))
}

// knownSession enforces the session rules mcp-go leaves out: a GET or
// DELETE that names a session the server does not know or has terminated
// gets 404 (mcp-go checks ids only on POST, and would open a stream for any
// GET and answer 200 to any DELETE); a POST without a session id that is not
// an initialize gets 400 (mcp-go answers 404). Clients of the stateless
// protocol (2026-07-28 and later) have no sessions and pass through.
func knownSession(sessions server.SessionIdManager, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(server.HeaderKeySessionID)
		switch {
		case id != "" && (r.Method == http.MethodGet || r.Method == http.MethodDelete):
			if terminated, err := sessions.Validate(id); err != nil || terminated {
				http.Error(w, fmt.Sprintf("unknown or terminated session %q; start a new one with initialize", id), http.StatusNotFound)
				return
			}
		case id == "" && r.Method == http.MethodPost && !mcp.IsModernProtocol(r.Header.Get(mcp.HeaderProtocolVersion)):
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, fmt.Sprintf("read request body: %v", err), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			var msg struct {
				Method string `json:"method"`
			}
			// Malformed JSON goes on to mcp-go, which answers it with a
			// JSON-RPC parse error.
			if json.Unmarshal(body, &msg) == nil && msg.Method != "" && msg.Method != string(mcp.MethodInitialize) {
				http.Error(w, fmt.Sprintf("missing %s header: send initialize first, then the session id it returns", server.HeaderKeySessionID), http.StatusBadRequest)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// authorized checks "Bearer <token>" (the scheme is case-insensitive) in
// constant time.
func (h *HTTP) authorized(header string) bool {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(h.cfg.Token)) == 1
}

// originAllowed accepts loopback origins and the configured ones.
func (h *HTTP) originAllowed(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // includes "null"
	}
	if (u.Scheme == "http" || u.Scheme == "https") && isLoopbackHost(u.Hostname()) {
		return true
	}
	return slices.ContainsFunc(h.cfg.AllowOrigins, func(o string) bool {
		return strings.EqualFold(strings.TrimSuffix(o, "/"), origin)
	})
}

// hostOnly strips the port from a Host header value.
func hostOnly(hostport string) string {
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		return host
	}
	return strings.Trim(hostport, "[]")
}

// isLoopbackHost reports whether host names the loopback interface.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}
