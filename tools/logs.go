package tools

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/brummer-mcp/brummer-mcp/detect"
	"github.com/brummer-mcp/brummer-mcp/internal/rx"
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
	Name string `json:"name"`
	// Names, or neither Name nor Names (all processes): a merged read.
	Names  []string `json:"names"`
	Since  *uint64  `json:"since"`
	Cursor string   `json:"cursor"`
	Tail   *int     `json:"tail"`
	Limit  *int     `json:"limit"`
	Stream string   `json:"stream"`
	Grep   string   `json:"grep"`
	// Errors keeps only the lines detected as errors.
	Errors bool `json:"errors"`
	// Last (a duration) or SinceTime (RFC 3339) keep the lines read since.
	Last      string `json:"last"`
	SinceTime string `json:"since_time"`
	// Context adds lines around each grep or errors match.
	Context int  `json:"context"`
	Raw     bool `json:"raw"`
	// Timestamps adds each line's read time.
	Timestamps bool `json:"timestamps"`

	re     *regexp.Regexp
	after  int64 // Unix ns: lines read before are left out; 0: none
	cursor procstate.MergeCursor
}

// Bounds of the newer log arguments.
const (
	maxNames   = 1000
	maxContext = 20
)

// merged reports whether the call reads several processes at once.
func (a *logsArgs) merged() bool { return a.Name == "" }

func (a *logsArgs) validate() error {
	switch {
	case a.Name != "" && a.Names != nil:
		return errors.New(`pass "name" (one process) or "names" (several), not both`)
	case len(a.Names) > maxNames:
		return fmt.Errorf(`"names" has %d items; the limit is %d`, len(a.Names), maxNames)
	case a.Since != nil && a.merged():
		return errors.New(`"since" is the cursor of one process ("name"); for several, pass the next_cursor you got as "cursor"`)
	case a.Cursor != "" && !a.merged():
		return errors.New(`"cursor" reads several processes; with "name", pass next_since as "since"`)
	case (a.Since != nil || a.Cursor != "") && a.Tail != nil:
		return errors.New(`pass either a cursor ("since", "cursor": lines after it) or "tail" (the last N lines), not both`)
	case a.Last != "" && a.SinceTime != "":
		return errors.New(`pass "last" (a duration, e.g. "2m") or "since_time" (RFC 3339), not both`)
	case a.Context < 0 || a.Context > maxContext:
		return fmt.Errorf(`"context" must be 0..%d, got %d`, maxContext, a.Context)
	case a.Context > 0 && a.Grep == "" && !a.Errors:
		return errors.New(`"context" shows lines around matches: pass "grep" or "errors": true with it`)
	case len(a.Cursor) > maxCursorBytes:
		return fmt.Errorf(`"cursor" is %d bytes; the limit is %d`, len(a.Cursor), maxCursorBytes)
	}
	for i, n := range a.Names {
		if !procstate.NamePattern.MatchString(n) {
			return fmt.Errorf(`"names"[%d] %q is not a process name`, i, truncate(n, 80))
		}
	}
	if a.Cursor != "" {
		c, err := procstate.ParseCursor(a.Cursor)
		if err != nil {
			return cursorError(a.Cursor, err)
		}
		a.cursor = c
	}
	if a.Last != "" {
		d, err := time.ParseDuration(a.Last)
		if err != nil || d <= 0 {
			return fmt.Errorf(`"last" %q is not a positive duration such as "90s", "2m" or "1h"`, truncate(a.Last, 40))
		}
		a.after = time.Now().Add(-d).UnixNano()
	}
	if a.SinceTime != "" {
		t, err := time.Parse(time.RFC3339Nano, a.SinceTime)
		if err != nil {
			return fmt.Errorf(`"since_time" %q is not an RFC 3339 time such as "2026-12-06T10:00:00Z"`, truncate(a.SinceTime, 60))
		}
		a.after = t.UnixNano()
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
		re, err := rx.Compile("grep", a.Grep)
		if err != nil {
			return err
		}
		a.re = re
	}
	return nil
}

// query turns the arguments into a ring query.
func (a *logsArgs) query() logring.Query {
	q := logring.Query{Tail: defaultTail, Limit: defaultLimit, Match: a.match()}
	if a.Since != nil {
		q.Since, q.HasSince = *a.Since, true
	}
	if a.Tail != nil {
		q.Tail = *a.Tail
	}
	if a.Limit != nil {
		q.Limit = *a.Limit
	}
	return q
}

// match is the line filter of the arguments, nil for none.
func (a *logsArgs) match() func(*logring.Line) bool {
	var stream logring.Stream
	switch a.Stream {
	case "stdout":
		stream = logring.Stdout
	case "stderr":
		stream = logring.Stderr
	case "system":
		stream = logring.System
	}
	re, errs, after, text := a.re, a.Errors, a.after, a.text
	if stream == 0 && re == nil && !errs && after == 0 {
		return nil
	}
	return func(l *logring.Line) bool {
		switch {
		case stream != 0 && l.Stream != stream,
			after != 0 && l.Time < after,
			errs && (l.Stream == logring.System || !isError(l.Text)),
			re != nil && !re.MatchString(text(l.Text)):
			return false
		}
		return true
	}
}

// contextMatch is the filter of context lines: the stream and time only.
func (a *logsArgs) contextMatch() func(*logring.Line) bool {
	b := *a
	b.re, b.Errors = nil, false
	return b.match()
}

// text is a line as the agent sees it: without terminal escape sequences
// unless raw output was asked for.
func (a *logsArgs) text(s string) string {
	if a.Raw {
		return s
	}
	return detect.StripANSI(s)
}

// logColumns are lines in columns: the texts, and beside them only what
// is not the default. Clients decode an array of strings several times
// faster than an array of objects, and a page can hold thousands.
type logColumns struct {
	Lines []string `json:"lines"`
	// Seqs is present when the seqs are not consecutive.
	Seqs []uint64 `json:"seqs,omitempty"`
	// Stderr, System and Split are indexes into Lines: the lines read
	// from stderr and the server's notes about runs (the rest are stdout),
	// and those cut at 64 KiB whose rest follows.
	Stderr []int `json:"stderr,omitempty"`
	System []int `json:"system,omitempty"`
	Split  []int `json:"split,omitempty"`
	// Partial are the lines shown before their newline came (a prompt).
	Partial []int `json:"partial,omitempty"`
	// Context are the lines shown around a match, not matching themselves.
	Context []int `json:"context,omitempty"`
	// TS, with timestamps, is each line's read time.
	TS []string `json:"ts,omitempty"`
}

// fill sets the columns from lines; isContext marks context lines.
func (c *logColumns) fill(lines []logring.Line, isContext []bool, a *logsArgs, seqs bool) {
	c.Lines = make([]string, len(lines))
	if seqs {
		c.Seqs = make([]uint64, len(lines))
	}
	if a.Timestamps {
		c.TS = make([]string, len(lines))
	}
	var stamp [24]byte
	for i := range lines {
		l := &lines[i]
		c.Lines[i] = a.text(l.Text)
		if c.Seqs != nil {
			c.Seqs[i] = l.Seq
		}
		switch l.Stream {
		case logring.Stderr:
			c.Stderr = append(c.Stderr, i)
		case logring.System:
			c.System = append(c.System, i)
		}
		if l.Split {
			c.Split = append(c.Split, i)
		}
		if l.Partial {
			c.Partial = append(c.Partial, i)
		}
		if isContext != nil && isContext[i] {
			c.Context = append(c.Context, i)
		}
		if c.TS != nil {
			c.TS[i] = string(appendTime(stamp[:0], l.Time))
		}
	}
}

// writeLines writes the lines as text, one a line: the read time with
// timestamps, prefix(i) (the process, in a merged page), "> " or "  " with
// context (a match, or a line around one), and the stream's mark.
func (c *logColumns) writeLines(b *strings.Builder, prefix func(i int) string) {
	stderr, system, context := c.Stderr, c.System, c.Context
	for i, text := range c.Lines {
		if c.TS != nil {
			b.WriteString(c.TS[i])
			b.WriteByte(' ')
		}
		if prefix != nil {
			b.WriteString(prefix(i))
		}
		if c.Context != nil { // grep -C style
			if len(context) > 0 && context[0] == i {
				b.WriteString("  ")
				context = context[1:]
			} else {
				b.WriteString("> ")
			}
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
}

// logsResult is a page of one process's lines.
type logsResult struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	// FirstSeq is the seq of Lines[0]; the others follow one by one,
	// unless Seqs is present (a filter or an eviction left gaps).
	FirstSeq uint64 `json:"first_seq,omitempty"`
	logColumns
	NextSince uint64 `json:"next_since"`
	Missed    uint64 `json:"missed,omitempty"`
	More      bool   `json:"more,omitempty"`
	// ExitCode or Signal, once the process has exited.
	ExitCode *int   `json:"exit_code,omitempty"`
	Signal   string `json:"signal,omitempty"`
}

// mergedResult is a page of many processes' lines, in the order they were
// read: line i is of process names[proc[i]], with seq seqs[i].
type mergedResult struct {
	Names []string `json:"names"`
	Proc  []int    `json:"proc"`
	logColumns
	NextCursor string `json:"next_cursor"`
	Missed     uint64 `json:"missed,omitempty"`
	More       bool   `json:"more,omitempty"`
}

func logsTool() mcp.Tool {
	return mcp.Tool{
		Name: "process_logs",
		Description: "Read output; all runs of a name share one log, with the server's start and exit notes (stream system). " +
			"Without a cursor: the last `tail` lines; pass next_since back as `since` for new lines only (more: lines remain; missed: evicted unread). " +
			"Line i has seq first_seq+i, or seqs[i]; stderr, system, split (cut at 64 KiB), partial (no newline yet) and context list indexes. " +
			"No `name`: all processes (or `names`) merged by time, line i of names[proc[i]]; cursor=next_cursor.",
		RawInputSchema: mustJSON(objectSchema(obj{
			"name":       nameArg(),
			"names":      obj{"type": "array", "items": obj{"type": "string"}},
			"since":      obj{"type": "integer", "description": "A next_since."},
			"cursor":     obj{"type": "string"},
			"tail":       obj{"type": "integer", "description": "Default 100; 0: only the cursor."},
			"limit":      obj{"type": "integer", "description": "Default 200, max 5000."},
			"stream":     obj{"type": "string", "enum": logStreams},
			"grep":       str("RE2 filter, e.g. (?i)error|warn."),
			"errors":     obj{"type": "boolean", "description": "Only detected error lines."},
			"context":    obj{"type": "integer", "description": "Lines around each match, 0..20."},
			"last":       str("Only lines of this last duration, e.g. 2m."),
			"since_time": str("Only lines since this RFC 3339 time."),
			"raw":        obj{"type": "boolean", "description": "Keep ANSI escapes."},
			"timestamps": obj{"type": "boolean"},
		})),
		RawOutputSchema: mustJSON(bare(objectSchema(obj{
			"name":        str("The process."),
			"status":      obj{"type": "string"},
			"first_seq":   intg("Seq of lines[0]; the next lines follow one by one unless seqs is present. Absent when there are no lines."),
			"lines":       obj{"type": "array", "items": obj{"type": "string"}},
			"seqs":        obj{"type": "array", "items": obj{"type": "integer"}},
			"stderr":      obj{"type": "array", "items": obj{"type": "integer"}},
			"system":      obj{"type": "array", "items": obj{"type": "integer"}},
			"split":       obj{"type": "array", "items": obj{"type": "integer"}},
			"partial":     obj{"type": "array", "items": obj{"type": "integer"}},
			"context":     obj{"type": "array", "items": obj{"type": "integer"}},
			"ts":          obj{"type": "array", "items": obj{"type": "string"}},
			"names":       obj{"type": "array", "items": obj{"type": "string"}},
			"proc":        obj{"type": "array", "items": obj{"type": "integer"}},
			"next_since":  intg("Cursor to pass as since to continue after these lines."),
			"next_cursor": obj{"type": "string"},
			"missed":      intg("Lines after the cursor evicted from memory before they were read."),
			"more":        obj{"type": "boolean"},
			"exit_code":   intg("The exit code, once exited (not when killed by a signal)."),
			"signal":      str("The signal that killed it, once exited."),
		}, "lines"))),
		Annotations: annotations(true, false, true, false),
	}
}

func logsHandler(sup *procstate.Supervisor) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, bad := bindArgs[logsArgs](req)
		if bad != nil {
			return bad, nil
		}
		if args.merged() {
			return mergedLogs(sup, args), nil
		}
		p := sup.Get(args.Name)
		if p == nil {
			return unknownProcess(sup, args.Name), nil
		}
		res, err := oneLog(p, args)
		var ahead *logring.CursorAheadError
		if errors.As(err, &ahead) {
			return toolError(`"since" %d is past the newest line of %q (%d): pass since=%d to read what comes next, or omit since to read the tail`,
				ahead.Since, args.Name, ahead.Newest, ahead.Newest), nil
		}
		return structured(res, logsText(res)), nil
	}
}

// oneLog reads a page of one process's log.
func oneLog(p *procstate.Process, args *logsArgs) (logsResult, error) {
	// The record first: once it says exited, the log holds everything.
	rec := p.Record()
	page, err := p.Log().Read(args.query())
	if err != nil {
		return logsResult{}, err
	}
	res := logsResult{
		Name:      p.Name(),
		Status:    string(rec.Status),
		NextSince: page.NextSince,
		Missed:    page.Missed,
		More:      page.More,
	}
	if rec.Ended() {
		res.Signal = rec.Signal
		if code, ok := rec.ExitStatus(); ok {
			res.ExitCode = &code
		}
	}
	lines, isContext := page.Lines, []bool(nil)
	if args.Context > 0 {
		lines, isContext = withContext(p.Log(), lines, args.Context, args.contextMatch())
	}
	gaps := false
	if len(lines) > 0 {
		res.FirstSeq = lines[0].Seq
		gaps = lines[len(lines)-1].Seq-res.FirstSeq != uint64(len(lines)-1)
	}
	res.fill(lines, isContext, args, gaps)
	return res, nil
}

// withContext adds up to n lines before and after each line of matches
// (which are in seq order), read again from ring and kept by keep.
func withContext(ring *logring.Ring, matches []logring.Line, n int, keep func(*logring.Line) bool) ([]logring.Line, []bool) {
	var out []logring.Line
	var isContext []bool
	var last uint64 // the seq of the last line in out
	for _, m := range matches {
		from := max(m.Seq-min(m.Seq-1, uint64(n)), last+1)
		if from < m.Seq {
			page, _ := ring.Read(logring.Query{Since: from - 1, HasSince: true, Limit: int(m.Seq - from)})
			for _, l := range page.Lines {
				if l.Seq < m.Seq && (keep == nil || keep(&l)) {
					out, isContext = append(out, l), append(isContext, true)
				}
			}
		}
		if m.Seq > last {
			out, isContext = append(out, m), append(isContext, false)
		} else {
			isContext[len(isContext)-1-int(last-m.Seq)] = false // shown already as context: it matches
			continue
		}
		page, _ := ring.Read(logring.Query{Since: m.Seq, HasSince: true, Limit: n})
		last = m.Seq
		for _, l := range page.Lines {
			if keep == nil || keep(&l) {
				out, isContext = append(out, l), append(isContext, true)
			}
			last = l.Seq
		}
	}
	return out, isContext
}

// mergedLogs reads the named processes, or all, as one stream.
func mergedLogs(sup *procstate.Supervisor, args *logsArgs) *mcp.CallToolResult {
	var procs []*procstate.Process
	if args.Names == nil {
		procs = sup.Processes()
	} else {
		seen := make(map[string]bool, len(args.Names))
		for _, n := range args.Names {
			p := sup.Get(n)
			if p == nil {
				return unknownProcess(sup, n)
			}
			if !seen[n] {
				seen[n] = true
				procs = append(procs, p)
			}
		}
	}
	q := args.query()
	page := procstate.ReadMerged(procs, args.cursor, q.Tail, q.Limit, q.Match)
	merged, isContext := page.Lines, []bool(nil)
	if args.Context > 0 {
		merged, isContext = mergedContext(procs, merged, args)
	}
	// The names table holds the processes of this page, in order of
	// appearance; the cursor names every process read.
	res := mergedResult{Names: []string{}, Proc: make([]int, len(merged)), Missed: page.Missed, More: page.More}
	index := make([]int, len(procs))
	lines := make([]logring.Line, len(merged))
	for i, l := range merged {
		if index[l.Proc] == 0 {
			res.Names = append(res.Names, procs[l.Proc].Name())
			index[l.Proc] = len(res.Names)
		}
		lines[i], res.Proc[i] = l.Line, index[l.Proc]-1
	}
	res.fill(lines, isContext, args, true)
	res.NextCursor = procstate.FormatCursor(procs, page.Next)
	return structured(res, mergedText(res))
}

// mergedContext adds the context lines of each process's matches and
// orders all by read time again.
func mergedContext(procs []*procstate.Process, matches []procstate.MergedLine, args *logsArgs) ([]procstate.MergedLine, []bool) {
	byProc := make([][]logring.Line, len(procs))
	for _, l := range matches {
		byProc[l.Proc] = append(byProc[l.Proc], l.Line)
	}
	type entry struct {
		procstate.MergedLine
		context bool
	}
	var all []entry
	for i, ls := range byProc {
		if len(ls) == 0 {
			continue
		}
		withCtx, isContext := withContext(procs[i].Log(), ls, args.Context, args.contextMatch())
		for j, l := range withCtx {
			all = append(all, entry{procstate.MergedLine{Line: l, Proc: i}, isContext[j]})
		}
	}
	slices.SortStableFunc(all, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.Proc, b.Proc), cmp.Compare(a.Seq, b.Seq))
	})
	out, flags := make([]procstate.MergedLine, len(all)), make([]bool, len(all))
	for i, e := range all {
		out[i], flags[i] = e.MergedLine, e.context
	}
	return out, flags
}

// mergedText is the lines, each after its process's name, then a footer.
func mergedText(res mergedResult) string {
	var b strings.Builder
	res.writeLines(&b, func(i int) string { return res.Names[res.Proc[i]] + " | " })
	b.WriteString("[next_cursor=")
	b.WriteString(res.NextCursor)
	if res.Missed > 0 {
		b.WriteString(" missed=")
		b.WriteString(strconv.FormatUint(res.Missed, 10))
	}
	if res.More {
		b.WriteString(" more=true")
	}
	b.WriteString("]")
	return b.String()
}

// isError reports whether an output line is an error line.
func isError(text string) bool {
	_, ok := detect.Error(text)
	return ok
}

// logsText is the lines themselves, stderr marked, then a one-line footer
// with the cursor.
func logsText(res logsResult) string {
	var b strings.Builder
	res.writeLines(&b, nil)
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
