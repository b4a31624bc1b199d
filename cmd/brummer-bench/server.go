package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// buildServer builds ./cmd/brummer-mcp of the module at root into dir.
func buildServer(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "brummer-mcp")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/brummer-mcp")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/brummer-mcp: %w\n%s", err, out)
	}
	return bin, nil
}

// serverConfig says how to run one server.
type serverConfig struct {
	// name labels the server's log file.
	name string
	// transport is how the measured client connects: "stdio" or "http".
	transport string
	// sideHTTP also serves HTTP on a stdio server, for side clients (the
	// churn driver) that must not share the measured client.
	sideHTTP bool
	// debug runs the server at --log-level debug, which logs every tool
	// call's handler duration; they are collected in server.log.
	debug bool
	// args are more flags.
	args []string
}

// server is one running brummer-mcp.
type server struct {
	cfg     serverConfig
	cmd     *exec.Cmd
	pid     int
	stdin   *os.File     // our end of its stdin (stdio only)
	stdout  *os.File     // our end of its stdout (stdio only)
	rx      atomic.Int64 // bytes read from its stdout
	addr    string       // its HTTP address, if it serves HTTP
	log     *serverLog
	done    chan struct{} // closed when the process has exited
	started time.Time

	mu    sync.Mutex
	conns []*conn
	stdio *conn
}

// startServer starts the server binary and waits until it serves.
// openServer starts a server and connects the bench's first client to it.
// The caller closes the server with b.closeServer; if the connection
// fails, openServer closes it itself.
func (b *bench) openServer(cfg serverConfig) (*server, *conn, error) {
	s, err := b.startServer(cfg)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.connect(b.ctx)
	if err != nil {
		b.closeServer(s)
		return nil, nil, err
	}
	return s, c, nil
}

func (b *bench) startServer(cfg serverConfig) (*server, error) {
	args := []string{"--cwd", b.work, "--stop-grace", "2s"}
	if cfg.debug {
		args = append(args, "--log-level", "debug")
	}
	args = append(args, cfg.args...)
	args = append(args, strings.Fields(b.opt.serverArgs)...)
	switch {
	case cfg.transport == "http":
		args = append(args, "--no-stdio", "--http", "127.0.0.1:0")
	case cfg.sideHTTP:
		args = append(args, "--http", "127.0.0.1:0")
	}
	logFile, err := os.Create(filepath.Join(b.tmp, fmt.Sprintf("server-%s-%s.log", cfg.name, cfg.transport)))
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, done: make(chan struct{}), log: newServerLog(logFile)}
	cmd := exec.Command(b.bin, args...)
	cmd.Env = append(os.Environ(), b.marker)
	cmd.SysProcAttr = childAttr()
	var childEnds []*os.File
	if cfg.transport == "stdio" {
		inR, inW, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		outR, outW, err := os.Pipe()
		if err != nil {
			closeFiles(inR, inW)
			return nil, err
		}
		cmd.Stdin, cmd.Stdout = inR, outW
		s.stdin, s.stdout = inW, outR
		childEnds = append(childEnds, inR, outW)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeFiles(childEnds...)
		return nil, err
	}
	cmd.Stderr = errW
	childEnds = append(childEnds, errW)

	s.started = time.Now()
	err = cmd.Start()
	closeFiles(childEnds...)
	if err != nil {
		closeFiles(errR, s.stdin, s.stdout)
		return nil, fmt.Errorf("start %s: %w", b.bin, err)
	}
	s.cmd, s.pid = cmd, cmd.Process.Pid
	b.track(s)
	go s.log.consume(errR)
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()

	if cfg.transport == "http" || cfg.sideHTTP {
		select {
		case s.addr = <-s.log.addr:
		case <-s.done:
			return nil, fmt.Errorf("server exited before serving HTTP; see %s", logFile.Name())
		case <-time.After(10 * time.Second):
			return nil, fmt.Errorf("server did not report its HTTP address in 10s; see %s", logFile.Name())
		}
	}
	return s, nil
}

func closeFiles(fs ...*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}

// connect returns a new client of the measured transport: on stdio the one
// client the server has (connect may be called once), on HTTP a new session.
func (s *server) connect(ctx context.Context) (*conn, error) {
	if s.cfg.transport == "stdio" {
		return s.connectStdio(ctx)
	}
	return s.connectHTTP(ctx)
}

func (s *server) connectStdio(ctx context.Context) (*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stdio != nil {
		return nil, errors.New("a stdio server has one client")
	}
	tr := transport.NewIO(&countingReader{r: s.stdout, n: &s.rx}, s.stdin, io.NopCloser(strings.NewReader("")))
	c := &conn{c: client.NewClient(tr, client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION)), rx: &s.rx}
	if err := c.start(ctx); err != nil {
		return nil, err
	}
	s.stdio = c
	return c, nil
}

// connectHTTP opens a streamable HTTP session. Each session has its own
// connection pool, so that concurrent callers do not queue for the default
// transport's two idle connections.
func (s *server) connectHTTP(ctx context.Context) (*conn, error) {
	if s.addr == "" {
		return nil, errors.New("the server does not serve HTTP")
	}
	c := &conn{rx: new(atomic.Int64)}
	hc := &http.Client{Transport: &countingTransport{
		base: &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute},
		n:    c.rx,
	}}
	tr, err := transport.NewStreamableHTTP("http://"+s.addr+"/mcp", transport.WithHTTPBasicClient(hc))
	if err != nil {
		return nil, err
	}
	c.c = client.NewClient(tr, client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION))
	if err := c.start(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	return c, nil
}

// close shuts the server down as a client would: HTTP sessions end, then
// stdin reaches EOF (stdio) or the server gets SIGTERM (HTTP only). The
// server stops its children itself. After timeout it is killed.
func (s *server) close(timeout time.Duration) error {
	s.mu.Lock()
	conns, stdio := s.conns, s.stdio
	s.conns, s.stdio = nil, nil
	s.mu.Unlock()
	for _, c := range conns {
		c.c.Close()
	}
	switch {
	case stdio != nil:
		stdio.c.Close() // closes our end of stdin: EOF
	case s.stdin != nil:
		s.stdin.Close()
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
	}
	var err error
	select {
	case <-s.done:
	case <-time.After(timeout):
		_ = killChild(s.pid)
		<-s.done
		err = fmt.Errorf("server %d did not shut down in %s; killed", s.pid, timeout)
	}
	closeFiles(s.stdout)
	s.log.close()
	return err
}

// conn is one MCP client session.
type conn struct {
	c  *client.Client
	rx *atomic.Int64 // bytes received on this connection (stdio: the server's stdout)
}

func (c *conn) start(ctx context.Context) error {
	// The transport keeps Start's context for the connection's lifetime.
	if err := c.c.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start client: %w", err)
	}
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := c.c.Initialize(ictx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ProtocolVersion: mcp.LATEST_LEGACY_PROTOCOL_VERSION,
		ClientInfo:      mcp.Implementation{Name: "brummer-bench", Version: "1"},
	}})
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	if res.ProtocolVersion != mcp.LATEST_LEGACY_PROTOCOL_VERSION {
		return fmt.Errorf("initialize: server chose protocol %s, want %s", res.ProtocolVersion, mcp.LATEST_LEGACY_PROTOCOL_VERSION)
	}
	return nil
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

// structuredJSON is a result's structuredContent as JSON.
func structuredJSON(res *mcp.CallToolResult) ([]byte, error) {
	if res.StructuredContent == nil {
		return nil, errors.New("result has no structuredContent")
	}
	return json.Marshal(res.StructuredContent)
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type countingTransport struct {
	base http.RoundTripper
	n    *atomic.Int64
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err == nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: t.n}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// serverLog copies a server's stderr (JSON log lines) to a file and picks
// out what the bench needs: the HTTP address, and at debug level the
// handler duration of every tool call (tools/server.go logCalls:
// "tool":"process_list","took":<ms>). The handler duration ends when the
// handler returns, before mcp-go encodes the result.
type serverLog struct {
	file *os.File
	addr chan string // receives the HTTP address once

	mu   sync.Mutex
	took map[string][]float64 // tool -> handler durations in ms
	sent bool
}

func newServerLog(f *os.File) *serverLog {
	return &serverLog{file: f, addr: make(chan string, 1), took: map[string][]float64{}}
}

func (l *serverLog) consume(r io.ReadCloser) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			l.mu.Lock()
			_, _ = l.file.Write(line)
			e, ok := parseLogLine(line)
			if ok && e.Addr != "" && !l.sent {
				l.sent = true
				l.addr <- e.Addr
			}
			if ok && e.Tool != "" && e.Took != nil {
				l.took[e.Tool] = append(l.took[e.Tool], *e.Took)
			}
			l.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// takeTook returns the handler durations of tool logged since the last call
// and forgets them.
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
	Addr string   `json:"addr"`
}

// parseLogLine decodes the fields the bench needs from one JSON log line;
// lines that carry none of them are skipped without decoding.
func parseLogLine(line []byte) (logEntry, bool) {
	var e logEntry
	s := string(line)
	if !strings.Contains(s, `"took"`) && !strings.Contains(s, `"addr"`) {
		return e, false
	}
	if err := json.Unmarshal(line, &e); err != nil {
		return e, false
	}
	return e, true
}
