package dashboard

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/brummer-mcp/brummer-mcp/detect"
	"github.com/brummer-mcp/brummer-mcp/internal/rx"
	"github.com/brummer-mcp/brummer-mcp/logring"
	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// logQuery is what a view follows: a process (or all), a filter, and where
// to begin.
type logQuery struct {
	// name is the process; "" is all of them, merged.
	name  string
	match func(*logring.Line) bool
	tail  int
	// cursor, if set, is where the reader stands; nil reads the tail.
	cursor procstate.MergeCursor
}

// parseLogQuery reads the parameters of /api/logs and /api/events; its
// error says what is wrong, for a 400.
func parseLogQuery(v url.Values) (logQuery, error) {
	q := logQuery{name: v.Get("name"), tail: defaultTail}
	if q.name != "" && !procstate.NamePattern.MatchString(q.name) {
		return q, fmt.Errorf(`"name" %q is not a process name`, cut(q.name, 80))
	}
	if s := v.Get("tail"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > maxLines {
			return q, fmt.Errorf(`"tail" must be 0..%d, got %q`, maxLines, cut(s, 20))
		}
		q.tail = n
	}
	if s := v.Get("cursor"); s != "" {
		if len(s) > maxCursorBytes {
			return q, fmt.Errorf(`"cursor" is %d bytes; the limit is %d`, len(s), maxCursorBytes)
		}
		c, err := procstate.ParseCursor(s)
		if err != nil {
			return q, fmt.Errorf(`"cursor" %q: %v; pass a cursor this server gave, or none to read the newest lines`, cut(s, 40), err)
		}
		q.cursor = c
	}
	var stream logring.Stream
	switch s := v.Get("stream"); s {
	case "", "all":
	case "stdout":
		stream = logring.Stdout
	case "stderr":
		stream = logring.Stderr
	case "system":
		stream = logring.System
	default:
		return q, fmt.Errorf(`"stream" must be one of all, stdout, stderr, system, got %q`, cut(s, 40))
	}
	var re *regexp.Regexp
	if g := v.Get("grep"); g != "" {
		if len(g) > maxGrepBytes {
			return q, fmt.Errorf(`"grep" is %d bytes; the limit is %d`, len(g), maxGrepBytes)
		}
		var err error
		if re, err = rx.Compile("grep", g); err != nil {
			return q, err
		}
	}
	if stream != 0 || re != nil {
		q.match = func(l *logring.Line) bool {
			return (stream == 0 || l.Stream == stream) && (re == nil || re.MatchString(detect.StripANSI(l.Text)))
		}
	}
	return q, nil
}

// cut shortens s to at most n bytes, at a character boundary, marking the
// cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n-- // do not cut a character in two
	}
	return s[:n] + "..."
}

// line is a log line as the page gets it.
type line struct {
	P       string `json:"p"`
	Seq     uint64 `json:"seq"`
	Stream  string `json:"stream"`
	Text    string `json:"text"`
	TS      int64  `json:"ts"`
	Partial bool   `json:"partial,omitempty"`
	Split   bool   `json:"split,omitempty"`
}

// lines is what /api/logs answers and a "lines" event carries.
type lines struct {
	Lines  []line `json:"lines"`
	Cursor string `json:"cursor"`
	Missed uint64 `json:"missed"`
	// more: lines after cursor remain to be read (a stream reads on).
	more bool
}

// procsOf are the processes a view reads: all, or the named one (none
// while the name is only defined by the project).
func (d *Dashboard) procsOf(name string) []*procstate.Process {
	if name == "" {
		return d.cfg.Sup.Processes()
	}
	if p := d.cfg.Sup.Get(name); p != nil {
		return []*procstate.Process{p}
	}
	return nil
}

// known reports whether a view of name can be shown: the name runs, ran,
// or the project defines it.
func (d *Dashboard) known(name string) bool {
	if name == "" || d.cfg.Sup.Get(name) != nil {
		return true
	}
	snap := d.snapshot()
	return snap != nil && snap.Def(name) != nil
}

// readLines reads the lines of procs that q selects after cur, or without
// a cursor the newest q.tail, in the order they were read, at most
// maxLines. A reader further behind skips ahead to the newest maxLines
// lines: missed counts what it skipped, and what was evicted before it was
// read. It returns where the reader stands next.
func readLines(procs []*procstate.Process, q *logQuery, cur procstate.MergeCursor) (lines, procstate.MergeCursor) {
	var out lines
	var page procstate.MergedPage
	if cur == nil {
		page = procstate.ReadMerged(procs, nil, q.tail, 0, q.match)
	} else {
		var unread uint64
		for _, p := range procs {
			if last, c := p.Log().Stats().LastSeq, cur[p.Name()]; last > c {
				unread += last - c
			}
		}
		if unread > maxLines {
			cur, out.Missed = skipAhead(procs, cur)
		}
		page = procstate.ReadMerged(procs, cur, 0, maxLines, q.match)
		out.more = page.More
	}
	out.Missed += page.Missed
	out.Lines = make([]line, len(page.Lines))
	for i, l := range page.Lines {
		out.Lines[i] = line{
			P: procs[l.Proc].Name(), Seq: l.Seq, Stream: l.Stream.String(), Text: l.Text,
			TS: l.Time / 1e6, Partial: l.Partial, Split: l.Split,
		}
	}
	out.Cursor = procstate.FormatCursor(procs, page.Next)
	next := make(procstate.MergeCursor, len(procs))
	for i, p := range procs {
		next[p.Name()] = page.Next[i]
	}
	return out, next
}

// skipAhead moves cur to just before the newest maxLines lines of procs,
// in read order and before any filter, and counts the lines it passes.
func skipAhead(procs []*procstate.Process, cur procstate.MergeCursor) (procstate.MergeCursor, uint64) {
	if len(procs) == 1 { // no order to keep: no need to read
		p := procs[0]
		c, to := cur[p.Name()], p.Log().Stats().LastSeq
		to -= min(to, maxLines)
		if to <= c {
			return procstate.MergeCursor{p.Name(): c}, 0
		}
		return procstate.MergeCursor{p.Name(): to}, to - c
	}
	newest := procstate.ReadMerged(procs, nil, maxLines, 0, nil)
	first := make([]uint64, len(procs)) // the seq of each one's oldest line kept; 0: none
	for _, l := range newest.Lines {
		if first[l.Proc] == 0 {
			first[l.Proc] = l.Seq
		}
	}
	next := make(procstate.MergeCursor, len(procs))
	var skipped uint64
	for i, p := range procs {
		c, to := cur[p.Name()], newest.Next[i]
		if first[i] != 0 {
			to = first[i] - 1
		}
		if to > c {
			skipped += to - c
			c = to
		}
		next[p.Name()] = c
	}
	return next, skipped
}

func (d *Dashboard) serveLogs(w http.ResponseWriter, r *http.Request) {
	q, err := parseLogQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if !d.known(q.name) {
		writeError(w, http.StatusNotFound, "%s", d.unknown(q.name))
		return
	}
	out, _ := readLines(d.procsOf(q.name), &q, q.cursor)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(out.appendJSON(nil))
}

// unknown says that name is not a process, and which are.
func (d *Dashboard) unknown(name string) string {
	names := d.cfg.Sup.Names()
	if snap := d.snapshot(); snap != nil {
		for _, n := range snap.Names {
			if d.cfg.Sup.Get(n) == nil {
				names = append(names, n)
			}
		}
		slices.Sort(names)
	}
	switch {
	case len(names) == 0:
		return fmt.Sprintf("unknown process %q: there are none", name)
	case len(names) > 20:
		return fmt.Sprintf("unknown process %q (known: %s, and %d more)", name, strings.Join(names[:20], ", "), len(names)-20)
	}
	return fmt.Sprintf("unknown process %q (known: %s)", name, strings.Join(names, ", "))
}
