package tools

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/brummer-mcp/brummer-mcp/detect"
	"github.com/brummer-mcp/brummer-mcp/internal/probe"
	"github.com/brummer-mcp/brummer-mcp/internal/rx"
	"github.com/brummer-mcp/brummer-mcp/logring"
	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// Wait bounds.
const (
	defaultWaitMs   = 30000
	maxWaitMs       = 600000
	defaultWaitTail = 20
	maxWaitTail     = 200
	maxURLBytes     = 2048
	// progressTextBytes bounds the last line shown in a progress message.
	progressTextBytes = 200
)

// waitFor is the wait_for argument of process_start, process_restart and
// process_wait: one condition, its timeout and how many lines to show
// when it does not hold.
type waitFor struct {
	Log       string `json:"log"`
	Port      int    `json:"port"`
	Listen    bool   `json:"listen"`
	HTTP      string `json:"http"`
	Exit      bool   `json:"exit"`
	TimeoutMs *int64 `json:"timeout_ms"`
	Tail      *int   `json:"tail"`

	cond procstate.Condition
	tail int
}

// fieldError is a mistake in a nested argument, already worded.
type fieldError struct{ error }

// UnmarshalJSON decodes wait_for strictly, naming its fields in errors.
func (w *waitFor) UnmarshalJSON(data []byte) error {
	type plain waitFor // without this method
	if err := decodeArgs(data, (*plain)(w)); err != nil {
		msg := err.Error()
		switch {
		case strings.HasPrefix(msg, "arguments must be"):
			msg = `must be an object, e.g. {"log": "ready"}`
		default:
			// `"port" must be an integer`, `unknown argument "x"`: name
			// the field by its path.
			msg = strings.Replace(msg, "unknown argument", "unknown field", 1)
			msg = strings.Replace(msg, `"`, `"wait_for.`, 1)
		}
		return fieldError{fmt.Errorf(`"wait_for": %s`, msg)}
	}
	return nil
}

// validate checks the condition and builds it.
func (w *waitFor) validate() error {
	var names []string
	c := &w.cond
	if w.Log != "" {
		names = append(names, "log")
		if len(w.Log) > maxGrepBytes {
			return fmt.Errorf(`"wait_for.log" is %d bytes; the limit is %d`, len(w.Log), maxGrepBytes)
		}
		re, err := rx.Compile("wait_for.log", w.Log)
		if err != nil {
			return err
		}
		c.Match = func(s string) bool { return re.MatchString(detect.StripANSI(s)) }
	}
	if w.Port != 0 {
		names = append(names, "port")
		if w.Port < 1 || w.Port > 65535 {
			return fmt.Errorf(`"wait_for.port" must be 1..65535, got %d`, w.Port)
		}
		c.Port = w.Port
	}
	if w.Listen {
		names = append(names, "listen")
		if !probe.ListenSupported {
			return errors.New(`"wait_for.listen" needs Linux (it reads /proc); wait for a known "port" or a "log" line instead`)
		}
		c.Listen = true
	}
	if w.HTTP != "" {
		names = append(names, "http")
		if len(w.HTTP) > maxURLBytes {
			return fmt.Errorf(`"wait_for.http" is %d bytes; the limit is %d`, len(w.HTTP), maxURLBytes)
		}
		u, err := probe.LoopbackURL(w.HTTP)
		if err != nil {
			return fmt.Errorf(`"wait_for.http" %q: %v (only this machine is probed)`, truncate(w.HTTP, 100), err)
		}
		c.HTTP = u
	}
	if w.Exit {
		names = append(names, "exit")
		c.Exit = true
	}
	if len(names) != 1 {
		got := "none"
		if len(names) > 0 {
			got = strings.Join(names, ", ")
		}
		return fmt.Errorf(`"wait_for" needs exactly one of log, port, listen, http, exit; got %s`, got)
	}
	c.Timeout = defaultWaitMs * time.Millisecond
	if w.TimeoutMs != nil {
		if *w.TimeoutMs < 1 || *w.TimeoutMs > maxWaitMs {
			return fmt.Errorf(`"wait_for.timeout_ms" must be 1..%d, got %d`, maxWaitMs, *w.TimeoutMs)
		}
		c.Timeout = time.Duration(*w.TimeoutMs) * time.Millisecond
	}
	w.tail = defaultWaitTail
	if w.Tail != nil {
		if *w.Tail < 0 || *w.Tail > maxWaitTail {
			return fmt.Errorf(`"wait_for.tail" must be 0..%d, got %d`, maxWaitTail, *w.Tail)
		}
		w.tail = *w.Tail
	}
	return nil
}

// waitForSchema is the full wait_for shape, described once in process_wait.
func waitForSchema() obj {
	s := objectSchema(obj{
		"log":        str("RE2 on new output lines."),
		"port":       obj{"type": "integer", "description": "localhost:port accepts TCP."},
		"listen":     obj{"type": "boolean", "description": "It or a child listens on TCP; ports returned."},
		"http":       str("GET of a localhost URL answers <500."),
		"exit":       obj{"type": "boolean", "description": "It ends; ready if exit 0."},
		"timeout_ms": obj{"type": "integer", "description": "Default 30000."},
		"tail":       obj{"type": "integer", "description": "Lines shown unless ready; 20."},
	})
	s["description"] = "One of log, port, listen, http, exit."
	return s
}

// waitForRef is wait_for on the tools that start a run: the shape is
// described once, in process_wait.
func waitForRef() obj {
	return obj{"type": "object", "description": "Then wait as process_wait."}
}

// waitResult is how a wait ended, inside the record of the run waited on.
type waitResult struct {
	Outcome   string `json:"outcome"`
	ElapsedMs int64  `json:"elapsed_ms"`
	// Match is the line that satisfied a log wait, MatchSeq its seq.
	Match    string `json:"match,omitempty"`
	MatchSeq uint64 `json:"match_seq,omitempty"`
	Ports    []int  `json:"ports,omitempty"`
	// HTTPStatus answered an http wait.
	HTTPStatus int    `json:"http_status,omitempty"`
	NextSince  uint64 `json:"next_since"`
	// Tail are the run's last output lines, unless ready; stderr lines
	// are marked as in process_logs' text.
	Tail []string `json:"tail,omitempty"`
}

// waitedInfo is a record with the wait that ended the call.
type waitedInfo struct {
	processInfo
	Wait *waitResult `json:"wait,omitempty"`
}

func waitOutputSchema() obj {
	s := processSchema()
	s["properties"].(obj)["wait"] = objectSchema(obj{
		"outcome":     obj{"type": "string", "enum": []string{string(procstate.Ready), string(procstate.Exited), string(procstate.Timeout)}},
		"elapsed_ms":  obj{"type": "integer"},
		"match":       obj{"type": "string"},
		"match_seq":   obj{"type": "integer"},
		"ports":       obj{"type": "array", "items": obj{"type": "integer"}},
		"http_status": obj{"type": "integer"},
		"next_since":  obj{"type": "integer"},
		"tail":        obj{"type": "array", "items": obj{"type": "string"}},
	}, "outcome", "elapsed_ms", "next_since")
	return s
}

type waitArgs struct {
	Name    string   `json:"name"`
	WaitFor *waitFor `json:"wait_for"`
	Since   *uint64  `json:"since"`
}

func (a *waitArgs) validate() error {
	switch {
	case a.Name == "":
		return errors.New(`"name" is required: the process to wait for (see process_list)`)
	case a.WaitFor == nil:
		return errors.New(`"wait_for" is required, e.g. {"log": "ready|listening"}, {"port": 3000}, {"listen": true} or {"exit": true}`)
	}
	if err := a.WaitFor.validate(); err != nil {
		return err
	}
	if a.Since != nil {
		if a.WaitFor.cond.Match == nil {
			return errors.New(`"since" applies to a "wait_for.log" condition only`)
		}
		a.WaitFor.cond.Since, a.WaitFor.cond.HasSince = *a.Since, true
	}
	return nil
}

func waitTool() mcp.Tool {
	return mcp.Tool{
		Name: "process_wait",
		Description: "Wait until a process is ready or ends, or timeout_ms passes: outcome ready, exited or timeout (it keeps running). " +
			"Unless ready, its last lines come too. A log wait sees lines after `since` (default: now; 0: the whole log).",
		RawInputSchema: mustJSON(objectSchema(obj{
			"name":     nameArg(),
			"wait_for": waitForSchema(),
			"since":    obj{"type": "integer"},
		}, "name", "wait_for")),
		RawOutputSchema: mustJSON(bare(waitOutputSchema())),
		Annotations:     annotations(true, false, true, false),
	}
}

func waitHandler(sup *procstate.Supervisor) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, bad := bindArgs[waitArgs](req)
		if bad != nil {
			return bad, nil
		}
		c := args.WaitFor.cond
		if c.Match != nil && !c.HasSince {
			p := sup.Get(args.Name)
			if p == nil {
				return unknownProcess(sup, args.Name), nil
			}
			// From now: an old "ready" line never ends a new wait.
			c.Since, c.HasSince = p.Log().Stats().LastSeq, true
		}
		res, err := sup.Wait(ctx, args.Name, c, progressSender(ctx, req))
		var ahead *logring.CursorAheadError
		switch {
		case errors.Is(err, procstate.ErrUnknown):
			return unknownProcess(sup, args.Name), nil
		case errors.As(err, &ahead):
			return toolError(`"since" %d is past the newest line of %q (%d): pass since=%d to wait for what comes next, or omit since`,
				ahead.Since, args.Name, ahead.Newest, ahead.Newest), nil
		case err != nil:
			return nil, err // cancelled: no result is read
		}
		info := waited(res, args.WaitFor.tail)
		return structured(info, waitText(info, c.Exit, "")), nil
	}
}

// waitAfter runs the wait of a start or restart on its new run p, and
// returns the result with headline first in its text.
func waitAfter(ctx context.Context, req mcp.CallToolRequest, p *procstate.Process, w *waitFor, headline string) (*mcp.CallToolResult, error) {
	res, err := p.Wait(ctx, w.cond, progressSender(ctx, req))
	if err != nil {
		return nil, err // cancelled; the process keeps running
	}
	info := waited(res, w.tail)
	return structured(info, waitText(info, w.cond.Exit, headline)), nil
}

// waited builds the result of a wait.
func waited(res procstate.WaitResult, tail int) waitedInfo {
	p := res.Process
	st := p.Log().Stats()
	w := &waitResult{
		Outcome:    string(res.Outcome),
		ElapsedMs:  res.Elapsed.Milliseconds(),
		Ports:      res.Ports,
		HTTPStatus: res.Status,
		NextSince:  st.LastSeq,
	}
	if res.Line != nil {
		w.Match, w.MatchSeq = detect.StripANSI(res.Line.Text), res.Line.Seq
	}
	if res.Outcome != procstate.Ready && tail > 0 {
		from := p.LogFrom()
		// Output only: the text says how the run ended.
		page, _ := p.Log().Read(logring.Query{Tail: tail, Match: func(l *logring.Line) bool { return l.Seq > from && l.Stream != logring.System }})
		w.Tail = make([]string, len(page.Lines))
		for i, l := range page.Lines {
			w.Tail[i] = streamPrefix(l.Stream) + detect.StripANSI(l.Text)
		}
	}
	return waitedInfo{processInfo: infoFrom(p, res.Record, time.Now(), ""), Wait: w}
}

// streamPrefix marks a line of stream s in text: stdout is unmarked.
func streamPrefix(s logring.Stream) string {
	switch s {
	case logring.Stderr:
		return "[stderr] "
	case logring.System:
		return "[brummer] "
	}
	return ""
}

// waitText says how the wait ended, in a sentence, then the tail.
func waitText(info waitedInfo, exitWait bool, headline string) string {
	var b strings.Builder
	if headline != "" {
		b.WriteString(headline)
		b.WriteByte('\n')
	}
	w := info.Wait
	after := strconv.FormatInt(w.ElapsedMs, 10) + " ms"
	switch w.Outcome {
	case string(procstate.Ready):
		fmt.Fprintf(&b, "%s is ready after %s", info.Name, after)
		switch {
		case w.MatchSeq != 0:
			fmt.Fprintf(&b, ": line %d matched: %s", w.MatchSeq, truncate(w.Match, 500))
		case len(w.Ports) > 0:
			fmt.Fprintf(&b, ": listening on port %s", joinInts(w.Ports))
		case w.HTTPStatus != 0:
			fmt.Fprintf(&b, ": HTTP %d", w.HTTPStatus)
		case info.ExitCode != nil:
			b.WriteString(": exit 0")
		}
	case string(procstate.Exited):
		fmt.Fprintf(&b, "%s ended (%s) after %s", info.Name, outcome(info.processInfo), after)
		if !exitWait {
			b.WriteString(", before it was ready")
		}
	case string(procstate.Timeout):
		fmt.Fprintf(&b, "%s: not ready after %s (timeout); it keeps running (status %s)", info.Name, after, info.Status)
	}
	b.WriteByte('\n')
	if len(w.Tail) > 0 {
		b.WriteString("last lines:\n")
		for _, l := range w.Tail {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	fmt.Fprintf(&b, "[next_since=%d status=%s]", w.NextSince, info.Status)
	return b.String()
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// progressSender returns a function that reports a wait's progress to the
// client, or nil when the request carries no progress token.
func progressSender(ctx context.Context, req mcp.CallToolRequest) func(procstate.WaitProgress) {
	if req.Params.Meta == nil || req.Params.Meta.ProgressToken == nil {
		return nil
	}
	srv := server.ServerFromContext(ctx)
	if srv == nil {
		return nil
	}
	token := req.Params.Meta.ProgressToken
	sent := sentFrom(ctx)
	return func(pr procstate.WaitProgress) {
		msg := fmt.Sprintf("waiting %.0f s, %d lines seen", pr.Elapsed.Seconds(), pr.Seen)
		if pr.Last != "" {
			msg += "; last: " + truncate(detect.StripANSI(pr.Last), progressTextBytes)
		}
		err := srv.SendNotificationToClient(ctx, "notifications/progress", map[string]any{
			"progressToken": token,
			"progress":      pr.Elapsed.Milliseconds(),
			"message":       msg,
		})
		if err == nil && sent != nil {
			sent.Store(time.Now().UnixNano())
		}
	}
}

// notifyGap is how long a call's result waits after its last
// notification: mcp-go may otherwise deliver the result first and drop the
// notification (MCP-NOTES.md).
const notifyGap = 20 * time.Millisecond

type sentKey struct{}

// sentFrom returns the call's last-notification clock, if any.
func sentFrom(ctx context.Context) *atomic.Int64 {
	v, _ := ctx.Value(sentKey{}).(*atomic.Int64)
	return v
}

// flushNotifications delays a tool's result until notifyGap after the
// last notification it sent, so that none is lost or overtaken.
func flushNotifications(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		sent := new(atomic.Int64)
		res, err := next(context.WithValue(ctx, sentKey{}, sent), req)
		if last := sent.Load(); last != 0 && res != nil {
			if d := time.Until(time.Unix(0, last).Add(notifyGap)); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
				}
			}
		}
		return res, err
	}
}
