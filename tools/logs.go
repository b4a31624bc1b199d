package tools

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/brummer-mcp/brummer-mcp/logring"
	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// Log reading bounds.
const (
	defaultTail  = 100
	maxTail      = 5000
	defaultLimit = 200
	maxLimit     = 5000
	maxGrepBytes = 1024
)

var logStreams = []string{"all", "stdout", "stderr", "system"}

type logsArgs struct {
	Name   string  `json:"name"`
	Since  *uint64 `json:"since"`
	Tail   *int    `json:"tail"`
	Limit  *int    `json:"limit"`
	Stream string  `json:"stream"`
	Grep   string  `json:"grep"`
	Raw    bool    `json:"raw"`
	// Timestamps adds each line's read time.
	Timestamps bool `json:"timestamps"`

	re *regexp.Regexp
}

func (a *logsArgs) validate() error {
	if a.Name == "" {
		return errors.New(`"name" is required: the process whose output to read (see process_list)`)
	}
	if a.Since != nil && a.Tail != nil {
		return errors.New(`pass either "since" (a cursor: lines after it) or "tail" (the last N lines), not both`)
	}
	if a.Tail != nil && (*a.Tail < 0 || *a.Tail > maxTail) {
		return fmt.Errorf(`"tail" must be 0..%d, got %d`, maxTail, *a.Tail)
	}
	if a.Limit != nil && (*a.Limit < 1 || *a.Limit > maxLimit) {
		return fmt.Errorf(`"limit" must be 1..%d, got %d`, maxLimit, *a.Limit)
	}
	switch a.Stream {
	case "", "all", "stdout", "stderr", "system":
	default:
		return fmt.Errorf(`"stream" must be one of %s, got %q`, oneOf(logStreams), truncate(a.Stream, 40))
	}
	if len(a.Grep) > maxGrepBytes {
		return fmt.Errorf(`"grep" is %d bytes; the limit is %d`, len(a.Grep), maxGrepBytes)
	}
	if a.Grep != "" {
		re, err := regexp.Compile(a.Grep)
		if err != nil {
			return fmt.Errorf(`"grep" %q is not a valid RE2 regular expression: %v`, a.Grep, regexpReason(err))
		}
		a.re = re
	}
	return nil
}

// regexpReason is the parse error without the regexp package's prefix.
func regexpReason(err error) string {
	var syn *syntax.Error
	if errors.As(err, &syn) {
		return syn.Code.String() + ": `" + syn.Expr + "`"
	}
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

// query turns the arguments into a ring query.
func (a *logsArgs) query() logring.Query {
	q := logring.Query{Tail: defaultTail, Limit: defaultLimit}
	if a.Since != nil {
		q.Since, q.HasSince = *a.Since, true
	}
	if a.Tail != nil {
		q.Tail = *a.Tail
	}
	if a.Limit != nil {
		q.Limit = *a.Limit
	}
	var stream logring.Stream
	switch a.Stream {
	case "stdout":
		stream = logring.Stdout
	case "stderr":
		stream = logring.Stderr
	case "system":
		stream = logring.System
	}
	re := a.re
	text := a.text
	switch {
	case stream != 0 && re != nil:
		q.Match = func(l *logring.Line) bool { return l.Stream == stream && re.MatchString(text(l.Text)) }
	case stream != 0:
		q.Match = func(l *logring.Line) bool { return l.Stream == stream }
	case re != nil:
		q.Match = func(l *logring.Line) bool { return re.MatchString(text(l.Text)) }
	}
	return q
}

// text is a line as the agent sees it: without terminal escape sequences
// unless raw output was asked for.
func (a *logsArgs) text(s string) string {
	if a.Raw {
		return s
	}
	return stripANSI(s)
}

// logsResult is a page of lines in columns: the texts, and beside them
// only what is not the default. Clients decode an array of strings several
// times faster than an array of objects, and a page can hold thousands.
type logsResult struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	// FirstSeq is the seq of Lines[0]; the others follow one by one,
	// unless Seqs is present (a filter or an eviction left gaps).
	FirstSeq uint64   `json:"first_seq,omitempty"`
	Lines    []string `json:"lines"`
	Seqs     []uint64 `json:"seqs,omitempty"`
	// Stderr, System and Split are indexes into Lines: the lines read
	// from stderr and the server's notes about runs (the rest are stdout),
	// and those cut at 64 KiB whose rest follows.
	Stderr []int `json:"stderr,omitempty"`
	System []int `json:"system,omitempty"`
	Split  []int `json:"split,omitempty"`
	// Partial are the lines shown before their newline came (a prompt).
	Partial []int `json:"partial,omitempty"`
	// TS, with timestamps, is each line's read time.
	TS        []string `json:"ts,omitempty"`
	NextSince uint64   `json:"next_since"`
	Missed    uint64   `json:"missed,omitempty"`
	More      bool     `json:"more,omitempty"`
	// ExitCode or Signal, once the process has exited.
	ExitCode *int   `json:"exit_code,omitempty"`
	Signal   string `json:"signal,omitempty"`
}

func logsTool() mcp.Tool {
	return mcp.Tool{
		Name: "process_logs",
		Description: "Read a process's output; all runs of a name share one log, with the server's start and exit notes (stream system). " +
			"Without `since`: the last `tail` lines. With `since`: the lines after that cursor; pass next_since back to read only new output (more: lines remain; missed: evicted unread). " +
			"Line i has seq first_seq+i, or seqs[i]; stderr, system, split (cut at 64 KiB) and partial (no newline yet) list line indexes.",
		RawInputSchema: mustJSON(objectSchema(obj{
			"name":       nameArg(),
			"since":      obj{"type": "integer", "minimum": 0, "description": "A next_since."},
			"tail":       obj{"type": "integer", "minimum": 0, "maximum": maxTail, "description": "Default 100; 0: only the cursor."},
			"limit":      obj{"type": "integer", "minimum": 1, "maximum": maxLimit, "description": "Default 200."},
			"stream":     obj{"type": "string", "enum": logStreams, "description": "Default all."},
			"grep":       str("RE2 filter, e.g. (?i)error|warn."),
			"raw":        obj{"type": "boolean", "description": "Keep ANSI escapes."},
			"timestamps": obj{"type": "boolean", "description": "Add ts: read times."},
		}, "name")),
		RawOutputSchema: mustJSON(bare(objectSchema(obj{
			"name":       str("The process."),
			"status":     obj{"type": "string", "enum": []string{"starting", "running", "stopping", "backoff", "exited", "failed"}},
			"first_seq":  intg("Seq of lines[0]; the next lines follow one by one unless seqs is present. Absent when there are no lines."),
			"lines":      obj{"type": "array", "items": obj{"type": "string"}, "description": "The lines' texts, oldest first, without newlines; valid UTF-8."},
			"seqs":       obj{"type": "array", "items": obj{"type": "integer"}, "description": "Present when the seqs have gaps (grep, stream filter, eviction): the seq of each line."},
			"stderr":     obj{"type": "array", "items": obj{"type": "integer"}, "description": "Indexes into lines of the lines read from stderr; the others are stdout or system."},
			"system":     obj{"type": "array", "items": obj{"type": "integer"}, "description": "Indexes into lines of the server's notes about runs (started, exited)."},
			"split":      obj{"type": "array", "items": obj{"type": "integer"}, "description": "Indexes into lines of lines cut at 64 KiB; the rest follows in the next line."},
			"partial":    obj{"type": "array", "items": obj{"type": "integer"}},
			"ts":         obj{"type": "array", "items": obj{"type": "string"}, "description": "With timestamps: each line's read time, RFC 3339 UTC with milliseconds."},
			"next_since": intg("Cursor to pass as since to continue after these lines."),
			"missed":     intg("Lines after the cursor evicted from memory before they were read."),
			"more":       obj{"type": "boolean", "description": "Lines remain after next_since; call again with since=next_since."},
			"exit_code":  intg("The exit code, once exited (not when killed by a signal)."),
			"signal":     str("The signal that killed it, once exited."),
		}, "name", "status", "lines", "next_since"))),
		Annotations: annotations(true, false, true, false),
	}
}

func logsHandler(sup *procstate.Supervisor) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, bad := bindArgs[logsArgs](req)
		if bad != nil {
			return bad, nil
		}
		p := sup.Get(args.Name)
		if p == nil {
			return unknownProcess(sup, args.Name), nil
		}
		// The record first: once it says exited, the log holds everything.
		rec := p.Record()
		page, err := p.Log().Read(args.query())
		var ahead *logring.CursorAheadError
		if errors.As(err, &ahead) {
			return toolError(`"since" %d is past the newest line of %q (%d): pass since=%d to read what comes next, or omit since to read the tail`,
				ahead.Since, args.Name, ahead.Newest, ahead.Newest), nil
		}
		res := logsResult{
			Name:      args.Name,
			Status:    string(rec.Status),
			Lines:     make([]string, len(page.Lines)),
			NextSince: page.NextSince,
			Missed:    page.Missed,
			More:      page.More,
		}
		if ended(rec) {
			if rec.Signal != "" {
				res.Signal = rec.Signal
			} else {
				code := rec.ExitCode
				res.ExitCode = &code
			}
		}
		if len(page.Lines) > 0 {
			res.FirstSeq = page.Lines[0].Seq
			if last := page.Lines[len(page.Lines)-1].Seq; last-res.FirstSeq != uint64(len(page.Lines)-1) {
				res.Seqs = make([]uint64, len(page.Lines))
			}
		}
		if args.Timestamps {
			res.TS = make([]string, len(page.Lines))
		}
		var stamp [24]byte
		for i, l := range page.Lines {
			res.Lines[i] = args.text(l.Text)
			if res.Seqs != nil {
				res.Seqs[i] = l.Seq
			}
			switch l.Stream {
			case logring.Stderr:
				res.Stderr = append(res.Stderr, i)
			case logring.System:
				res.System = append(res.System, i)
			}
			if l.Split {
				res.Split = append(res.Split, i)
			}
			if l.Partial {
				res.Partial = append(res.Partial, i)
			}
			if res.TS != nil {
				res.TS[i] = string(appendTime(stamp[:0], l.Time))
			}
		}
		return structured(res, logsText(res)), nil
	}
}

// logsText is the lines themselves, stderr marked, then a one-line footer
// with the cursor.
func logsText(res logsResult) string {
	var b strings.Builder
	stderr, system := res.Stderr, res.System
	for i, text := range res.Lines {
		if res.TS != nil {
			b.WriteString(res.TS[i])
			b.WriteByte(' ')
		}
		switch {
		case len(stderr) > 0 && stderr[0] == i:
			b.WriteString("[stderr] ")
			stderr = stderr[1:]
		case len(system) > 0 && system[0] == i:
			b.WriteString("[brummer] ")
			system = system[1:]
		}
		b.WriteString(text)
		b.WriteByte('\n')
	}
	b.WriteString("[next_since=")
	b.WriteString(strconv.FormatUint(res.NextSince, 10))
	if res.Missed > 0 {
		b.WriteString(" missed=")
		b.WriteString(strconv.FormatUint(res.Missed, 10))
	}
	if res.More {
		b.WriteString(" more=true")
	}
	b.WriteString(" status=")
	b.WriteString(res.Status)
	if res.ExitCode != nil {
		b.WriteString(" exit_code=")
		b.WriteString(strconv.Itoa(*res.ExitCode))
	}
	if res.Signal != "" {
		b.WriteString(" signal=")
		b.WriteString(res.Signal)
	}
	b.WriteString("]")
	return b.String()
}
