package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/brummer-mcp/brummer-mcp/internal/toolresult"
)

// This file starts the real server binary and connects mcp-go clients to
// it, pinned to protocol 2025-11-25 as real clients speak it.

// serverConfig says how to run one server.
type serverConfig struct {
	name      string // labels the server's log file
	transport string // how the measured client connects: "stdio" or "http"
	sideHTTP  bool   // a stdio server also serves HTTP, for side clients (the churn)
	debug     bool   // --log-level debug: the server logs each tool call's handler time
	bin       string // the server binary; default this tree's
	args      []string
}

// server is one running brummer-mcp.
type server struct {
	cfg           serverConfig
	pid           int
	stdin, stdout *os.File     // our ends of its stdio (stdio only)
	rx            atomic.Int64 // bytes read from its stdout
	addr          string       // its HTTP address, if it serves HTTP
	log           *serverLog
	done          chan struct{} // closed when the process has exited
	started       time.Time
	closeOnce     sync.Once
	closeErr      error

	mu    sync.Mutex
	conns []*conn
}

// openServer starts a server and connects the bench's first client to it.
// Every server is closed by b.closeAll at the end of its scenario.
func (b *bench) openServer(cfg serverConfig) (*server, *conn, error) {
	args := []string{"--cwd", b.work, "--stop-grace", "2s"}
	if cfg.debug {
		args = append(args, "--log-level", "debug")
	}
	args = append(append(args, cfg.args...), strings.Fields(b.opt.serverArgs)...)
	var theirs []*os.File // the child's ends, closed here once it has them
	var addr string
	if cfg.transport == "http" || cfg.sideHTTP {
		// The server gets its socket bound already (--http-fd), so its
		// address is known without reading its log.
		sock, a, err := httpSocket()
		if err != nil {
			return nil, nil, err
		}
		theirs, addr = append(theirs, sock), a
		args = append(args, "--http-fd", "3")
		if cfg.transport == "http" {
			args = append(args, "--no-stdio")
		}
	}
	logFile, err := os.Create(filepath.Join(b.tmp, fmt.Sprintf("server-%s-%s.log", cfg.name, cfg.transport)))
	if err != nil {
		closeFiles(theirs...)
		return nil, nil, err
	}
	s := &server{cfg: cfg, done: make(chan struct{}), log: newServerLog(logFile), addr: addr}
	bin := cmp.Or(cfg.bin, b.bin)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), b.marker)
	cmd.SysProcAttr = childAttr()
	cmd.ExtraFiles = theirs // the socket, if any, as descriptor 3
	if cfg.transport == "stdio" {
		inR, inW, err1 := os.Pipe()
		outR, outW, err2 := os.Pipe()
		if err := errors.Join(err1, err2); err != nil {
			closeFiles(inR, inW, outR, outW)
			return nil, nil, err
		}
		cmd.Stdin, cmd.Stdout, s.stdin, s.stdout = inR, outW, inW, outR
		theirs = append(theirs, inR, outW)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeFiles(append(theirs, s.stdin, s.stdout)...)
		return nil, nil, err
	}
	cmd.Stderr = errW
	s.started = time.Now()
	err = cmd.Start()
	closeFiles(append(theirs, errW)...)
	if err != nil {
		closeFiles(errR, s.stdin, s.stdout)
		return nil, nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s.pid = cmd.Process.Pid
	b.mu.Lock()
	b.servers = append(b.servers, s)
	b.mu.Unlock()
	go s.log.consume(errR)
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()

	var c *conn
	if cfg.transport == "stdio" {
		c, err = s.connectStdio(b.ctx)
	} else {
		c, err = s.connectHTTP(b.ctx)
	}
	if err != nil {
		return nil, nil, err
	}
	return s, c, nil
}

func closeFiles(fs ...*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}

// connectStdio connects the one client a stdio server has.
func (s *server) connectStdio(ctx context.Context) (*conn, error) {
	tr := transport.NewIO(counter{io.NopCloser(s.stdout), &s.rx}, s.stdin, io.NopCloser(strings.NewReader("")))
	return s.add(ctx, &conn{c: client.NewClient(tr, client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION)), rx: &s.rx})
}

// connectHTTP opens a streamable HTTP session. Each session has its own
// connection pool, so that concurrent callers do not queue for the default
// transport's two idle connections.
func (s *server) connectHTTP(ctx context.Context) (*conn, error) {
	if s.addr == "" {
		return nil, errors.New("the server does not serve HTTP")
	}
	c := &conn{rx: new(atomic.Int64)}
	base := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}
	hc := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(req)
		if err == nil {
			resp.Body = counter{resp.Body, c.rx}
		}
		return resp, err
	})}
	tr, err := transport.NewStreamableHTTP("http://"+s.addr+"/mcp", transport.WithHTTPBasicClient(hc))
	if err != nil {
		return nil, err
	}
	c.c = client.NewClient(tr, client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION))
	return s.add(ctx, c)
}

// add starts and initializes c and keeps it for close.
func (s *server) add(ctx context.Context, c *conn) (*conn, error) {
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	// The transport keeps Start's context for the connection's lifetime.
	if err := c.c.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("start client: %w", err)
	}
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := c.c.Initialize(ictx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ProtocolVersion: mcp.LATEST_LEGACY_PROTOCOL_VERSION,
		ClientInfo:      mcp.Implementation{Name: "brummer-bench", Version: "1"},
	}})
	if err != nil {
		return nil, fmt.Errorf("initialize: %w", err)
	}
	if res.ProtocolVersion != mcp.LATEST_LEGACY_PROTOCOL_VERSION {
		return nil, fmt.Errorf("initialize: server chose protocol %s, want %s", res.ProtocolVersion, mcp.LATEST_LEGACY_PROTOCOL_VERSION)
	}
	return c, nil
}

// close shuts the server down once, as a client would: the sessions end,
// then stdin reaches EOF (stdio) or the server gets SIGTERM (HTTP only); the
// server stops its children itself. After 30 s it is killed.
func (s *server) close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		conns := s.conns
		s.conns = nil
		s.mu.Unlock()
		for _, c := range conns {
			c.c.Close()
		}
		if s.stdin != nil {
			s.stdin.Close()
		} else if p, err := os.FindProcess(s.pid); err == nil {
			_ = p.Signal(syscall.SIGTERM)
		}
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			_ = killChild(s.pid)
			<-s.done
			s.closeErr = fmt.Errorf("server %d did not shut down in 30s; killed", s.pid)
		}
		closeFiles(s.stdout)
		s.log.close()
	})
	return s.closeErr
}

// conn is one MCP client session.
type conn struct {
	c  *client.Client
	rx *atomic.Int64 // bytes received on this connection (stdio: the server's stdout)
}

// ping times one MCP ping.
func (c *conn) ping(ctx context.Context) (time.Duration, error) {
	t0 := time.Now()
	err := c.c.Ping(ctx)
	return time.Since(t0), err
}

// call times one tool call. A tool error is an error.
func (c *conn) call(ctx context.Context, tool string, args map[string]any) (*mcp.CallToolResult, time.Duration, error) {
	t0 := time.Now()
	res, err := c.c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
	d := time.Since(t0)
	if err != nil {
		return nil, d, fmt.Errorf("%s: %w", tool, err)
	}
	if res.IsError {
		return res, d, &toolError{tool: tool, text: toolresult.Text(res)}
	}
	return res, d, nil
}

// toolError is an isError result.
type toolError struct{ tool, text string }

func (e *toolError) Error() string { return e.tool + ": tool error: " + e.text }

// counter counts the bytes read through it.
type counter struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c counter) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// httpSocket binds a loopback port for a server to inherit, and returns
// the socket and its address.
func httpSocket() (*os.File, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	defer ln.Close() // the file is a duplicate
	f, err := ln.(*net.TCPListener).File()
	return f, ln.Addr().String(), err
}

// serverLog copies a server's stderr (JSON log lines) to a file and picks
// out, at debug level, each tool call's handler time
// ("tool":"process_list","took":<ms>), which ends before mcp-go encodes the
// result.
type serverLog struct {
	file *os.File

	mu   sync.Mutex
	took map[string][]float64 // tool -> handler durations in ms
}

func newServerLog(f *os.File) *serverLog {
	return &serverLog{file: f, took: map[string][]float64{}}
}

func (l *serverLog) consume(r io.ReadCloser) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			l.mu.Lock()
			_, _ = l.file.Write(line)
			if e, ok := parseLogLine(line); ok && e.Tool != "" && e.Took != nil {
				l.took[e.Tool] = append(l.took[e.Tool], *e.Took)
			}
			l.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// takeTook returns the handler durations of tool logged since the last
// call and forgets them.
func (l *serverLog) takeTook(tool string) []float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.took[tool]
	delete(l.took, tool)
	return d
}

func (l *serverLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.file.Close()
}

// logEntry is what the bench reads from a server log line.
type logEntry struct {
	Tool string   `json:"tool"`
	Took *float64 `json:"took"` // milliseconds (zerolog's default duration unit)
}

// parseLogLine decodes the fields the bench needs from one JSON log line;
// lines that carry none of them are skipped without decoding.
func parseLogLine(line []byte) (logEntry, bool) {
	var e logEntry
	s := string(line)
	if !strings.Contains(s, `"took"`) {
		return e, false
	}
	return e, json.Unmarshal(line, &e) == nil
}
