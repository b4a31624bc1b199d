package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"
)

// StdioWorkers is how many tool calls run at once on stdio: mcp-go's
// most. A call that waits (process_wait, process_stop with a long grace
// period) holds a worker: past this many pending calls, the next queue
// (100) and then hold up reads.
const StdioWorkers = 100

// StdioConfig configures ServeStdio. The zero value is ready to use.
type StdioConfig struct {
	// MaxLineBytes caps one request line, its newline not counted; zero
	// means DefaultMaxBodyBytes, the HTTP body limit. A longer line is
	// skipped as it streams in (never held in memory) and answered with a
	// JSON-RPC error -32600 that names the limit; the next line is served
	// as usual.
	MaxLineBytes int64
}

// ServeStdio serves srv to one client over newline-delimited JSON-RPC on in
// and out. It returns nil when in reaches EOF, or ctx's error when ctx ends.
// Only JSON-RPC is ever written to out; mcp-go's own error messages go to
// log. Signals are the caller's: unlike server.ServeStdio this installs no
// signal handler, so that main can stop the children before it exits.
//
// A last line without a newline at EOF is served like any other (mcp-go
// alone would drop it). Requests of the stateless protocol (2026-07-28) are
// refused; see the package doc.
func ServeStdio(ctx context.Context, srv *server.MCPServer, in io.Reader, out io.Writer, cfg StdioConfig, log zerolog.Logger) error {
	if cfg.MaxLineBytes <= 0 {
		cfg.MaxLineBytes = DefaultMaxBodyBytes
	}
	log = log.With().Str("component", "stdio").Logger()
	w := &lineWriter{w: out}
	s := server.NewStdioServer(srv)
	s.SetErrorLogger(stdLogTo(log))
	s.SetContextFunc(func(ctx context.Context) context.Context {
		return server.WithSupportedProtocolVersions(ctx, offeredVersions)
	})
	server.WithWorkerPoolSize(StdioWorkers)(s)
	lines := newLineFilter(in, w, cfg.MaxLineBytes, log)
	lines.answer = refuseModern
	return s.Listen(ctx, lines, w)
}

// lineWriter serialises the writes to the client. mcp-go writes every
// message with a single Write, from several goroutines (responses under its
// own mutex, requests to the client such as sampling without it), and
// lineFilter writes its errors from the reading goroutine: one mutex over
// every Write keeps each line whole.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// Sizes of lineFilter's buffers.
const (
	// stdioChunk is how much of the input is read at once.
	stdioChunk = 64 << 10
	// idHeadBytes is how much of an overlong line is kept to find its
	// request id: the id comes before params in what clients send.
	idHeadBytes = 512
	// keepLineBytes is the largest line buffer kept for the next line.
	keepLineBytes = 1 << 20
)

// modernMarker is in every request of the stateless protocol: its version
// travels in _meta. Lines without it skip the JSON decoding.
var modernMarker = []byte(`"` + mcp.MetaKeyProtocolVersion + `"`)

// lineFilter sits between the client's input and mcp-go's stdio server,
// which reads from it with bufio.Reader.ReadString('\n'). It hands on every
// line of at most limit bytes unchanged, newline included, and replaces
// each longer line with a JSON-RPC error written to out. A line is held only
// while it is within the limit: once it is over, the rest streams through a
// fixed buffer, so a 20 MB line costs one pass over its bytes and at most
// limit bytes of memory.
//
// A line within the limit can also be answered by answer, if set, instead
// of being handed on: ServeStdio refuses requests of the stateless protocol
// there (see the package doc).
//
// Read is called by one goroutine at a time (mcp-go's reader).
type lineFilter struct {
	r     io.Reader
	out   io.Writer
	limit int64
	log   zerolog.Logger
	// answer returns the reply to a line that must not reach mcp-go, or
	// nil to hand the line on. It sees only lines containing modernMarker.
	answer func(line []byte) []byte

	chunk    []byte // read buffer; chunk[pos:end] is not yet scanned
	pos, end int
	rerr     error // r's error, reported once chunk is drained

	line  []byte // the current line while it is within the limit
	ready []byte // a complete line (newline included) being handed on

	skipping bool   // the current line is over the limit
	skipped  int64  // bytes of the current line, while skipping
	head     []byte // its first idHeadBytes bytes, for the request id
}

func newLineFilter(r io.Reader, out io.Writer, limit int64, log zerolog.Logger) *lineFilter {
	limit = min(limit, math.MaxInt-1) // a line's length is an int
	return &lineFilter{r: r, out: out, limit: limit, log: log, chunk: make([]byte, stdioChunk)}
}

func (l *lineFilter) Read(p []byte) (int, error) {
	for {
		if len(l.ready) > 0 {
			n := copy(p, l.ready)
			l.ready = l.ready[n:]
			if len(l.ready) == 0 {
				l.line = l.line[:0]
				if cap(l.line) > keepLineBytes {
					l.line = nil // a rare long line: give its memory back
				}
			}
			return n, nil
		}
		if l.pos < l.end {
			l.scan()
			continue
		}
		if l.rerr != nil {
			if l.endOfInput() {
				continue
			}
			return 0, l.rerr
		}
		n, err := l.r.Read(l.chunk)
		l.pos, l.end, l.rerr = 0, n, err
	}
}

// scan consumes the unscanned input up to and including the next newline.
func (l *lineFilter) scan() {
	data := l.chunk[l.pos:l.end]
	nl := bytes.IndexByte(data, '\n')
	seg := data
	if nl >= 0 {
		seg = data[:nl]
		l.pos += nl + 1
	} else {
		l.pos = l.end
	}
	if !l.skipping {
		if int64(len(l.line))+int64(len(seg)) <= l.limit {
			switch {
			case nl < 0:
				l.appendLine(seg)
			case len(l.line) == 0:
				l.complete(data[:nl+1]) // the whole line is in chunk: no copy
			default:
				l.appendLine(seg)
				l.appendLine(newline)
				l.complete(l.line)
			}
			return
		}
		// Over the limit: keep the head for the id, drop the rest.
		l.skipping, l.skipped = true, int64(len(l.line))
		l.head = append(l.head[:0], l.line[:min(len(l.line), idHeadBytes)]...)
		l.line = l.line[:0]
	}
	if len(l.head) < idHeadBytes {
		l.head = append(l.head, seg[:min(len(seg), idHeadBytes-len(l.head))]...)
	}
	l.skipped += int64(len(seg))
	if nl >= 0 {
		l.reject()
	}
}

var newline = []byte{'\n'}

// appendLine appends b to the current line. The buffer doubles, up to the
// limit, so that a line arriving in many reads costs few copies.
func (l *lineFilter) appendLine(b []byte) {
	if need := len(l.line) + len(b); need > cap(l.line) {
		n := max(need, min(2*cap(l.line), int(l.limit)+1), stdioChunk)
		l.line = append(make([]byte, 0, n), l.line...)
	}
	l.line = append(l.line, b...)
}

// complete hands on line, a whole line within the limit, unless answer
// answers it.
func (l *lineFilter) complete(line []byte) {
	if l.answer != nil && bytes.Contains(line, modernMarker) {
		if reply := l.answer(line); reply != nil {
			l.write(reply)
			l.line = l.line[:0]
			return
		}
	}
	l.ready = line
}

// endOfInput ends a last line that has no newline, once the input is
// drained, and reports whether there is a line to hand on.
func (l *lineFilter) endOfInput() bool {
	switch {
	case l.skipping:
		l.reject()
	case len(l.line) > 0:
		l.appendLine(newline)
		l.complete(l.line)
	}
	return len(l.ready) > 0
}

// reject answers the overlong line just skipped.
func (l *lineFilter) reject() {
	msg := fmt.Sprintf("request of %d bytes skipped: the limit is %d bytes (--max-body-bytes)", l.skipped, l.limit)
	l.log.Warn().Int64("bytes", l.skipped).Int64("limit", l.limit).Msg("request line over the limit skipped")
	l.write(rpcError(requestID(l.head), mcp.INVALID_REQUEST, msg, nil))
	l.skipping, l.skipped, l.head = false, 0, l.head[:0]
}

func (l *lineFilter) write(msg []byte) {
	if _, err := l.out.Write(msg); err != nil {
		l.log.Warn().Err(err).Msg("write error response")
	}
}

// refuseModern returns the error for a request of a protocol version that
// is not offered, or nil if line is not one (a notification, or the marker
// was only in a string). It is the answer mcp-go's streamable HTTP server
// gives: -32022 with the versions offered, from which clients negotiate
// down to initialize.
func refuseModern(line []byte) []byte {
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Params struct {
			Meta *mcp.Meta `json:"_meta"`
		} `json:"params"`
	}
	if json.Unmarshal(line, &msg) != nil {
		return nil
	}
	version := msg.Params.Meta.ProtocolVersion()
	if msg.ID == nil || !mcp.IsModernProtocol(version) {
		return nil
	}
	e := mcp.UnsupportedProtocolVersionError{Version: version, Supported: offeredVersions}.JSONRPCError()
	return rpcError(msg.ID, e.Error.Code, e.Error.Message, e.Error.Data)
}

// rpcError renders a JSON-RPC error response as one line. A nil id is
// written as null.
func rpcError(id json.RawMessage, code int, message string, data any) []byte {
	type details struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}
	b, err := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   details         `json:"error"`
	}{mcp.JSONRPC_VERSION, id, details{code, message, data}})
	if err != nil { // only an invalid id can fail
		return rpcError(nil, code, message, data)
	}
	return append(b, '\n')
}

// requestID returns the id of the JSON-RPC request that head begins, if it
// comes before any member that head cuts short, and is a string or a
// number; otherwise nil.
func requestID(head []byte) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(head))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil
		}
		if key != "id" {
			continue
		}
		// A number at the very end of head may be cut short.
		if dec.InputOffset() >= int64(len(head)) || len(v) == 0 || v[0] == '{' || v[0] == '[' || v[0] == 't' || v[0] == 'f' || v[0] == 'n' {
			return nil
		}
		return v
	}
	return nil
}
