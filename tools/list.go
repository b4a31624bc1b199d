package tools

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/brummer-mcp/brummer-mcp/procstate"
	"github.com/brummer-mcp/brummer-mcp/project"
)

// List paging bounds: a full list of a thousand processes costs tens of
// milliseconds to encode and decode, so the default page is smaller.
const (
	defaultListLimit = 50
	maxListLimit     = 1000
)

type listArgs struct {
	Status string `json:"status"`
	Limit  *int   `json:"limit"`
	After  string `json:"after"`
}

var listStatuses = []string{"all", "running", "exited", "idle"}

func (a *listArgs) validate() error {
	switch a.Status {
	case "", "all", "running", "exited", "idle":
	default:
		return fmt.Errorf(`"status" must be one of %s, got %q`, oneOf(listStatuses), truncate(a.Status, 40))
	}
	if a.Limit != nil && (*a.Limit < 1 || *a.Limit > maxListLimit) {
		return fmt.Errorf(`"limit" must be 1..%d, got %d`, maxListLimit, *a.Limit)
	}
	if len(a.After) > 64 {
		return fmt.Errorf(`"after" must be a process name (at most 64 characters), got %q`, truncate(a.After, 80))
	}
	return nil
}

func (a *listArgs) limit() int {
	if a.Limit != nil {
		return *a.Limit
	}
	return defaultListLimit
}

// keepIdle reports whether the project's idle processes are selected.
func (a *listArgs) keepIdle() bool { return a.Status == "" || a.Status == "all" || a.Status == "idle" }

// idleInfo is the entry of a process the project defines that has not run.
func idleInfo(d *project.Def) processInfo {
	return processInfo{Name: d.Name, Status: statusIdle, Command: (&procstate.Record{Command: d.Command, Argv: d.Argv}).CommandLine(), Source: d.Source}
}

// statusIdle is the status of a process the project defines that has not
// run under this server.
const statusIdle = "idle"

// keep reports whether a process in state st is selected by the filter.
// "running" means live (starting, running, stopping); "exited" means ended
// (exited or failed).
func (a *listArgs) keep(st procstate.Status) bool {
	if a.Status == "idle" {
		return false
	}
	switch a.Status {
	case "running":
		return st.Live()
	case "exited":
		return !st.Live()
	}
	return true
}

type listResult struct {
	Processes []processInfo `json:"processes"`
	// Cwd is the server's default working directory: processes without a
	// cwd of their own run there.
	Cwd     string `json:"cwd"`
	Version uint64 `json:"version"`
	// Total counts the processes the status filter selects, on all pages.
	Total int `json:"total"`
	// NextAfter, set when more processes follow, is the after of the next page.
	NextAfter string `json:"next_after,omitempty"`
	// ConfigErrors are the mistakes in the project's files.
	ConfigErrors []project.ConfigError `json:"config_errors,omitempty"`
}

func listTool() mcp.Tool {
	return mcp.Tool{
		Name: "process_list",
		Description: "List processes: status, pid, exit code or signal, uptime, restarts, last_seq (newest log line), urls, errors and last_error, and on Linux ports, cpu_pct, rss_bytes. Exited ones stay, with their logs; " +
			"idle: the project's scripts (process_start script). Paged: pass next_after as after.",
		RawInputSchema: mustJSON(objectSchema(obj{
			"status": obj{"type": "string", "enum": listStatuses, "description": "Default all."},
			"limit":  obj{"type": "integer", "description": "Default 50, max 1000."},
			"after":  str("The last page's next_after."),
		})),
		RawOutputSchema: mustJSON(bare(objectSchema(obj{
			"processes":     obj{"type": "array", "items": processSchema()},
			"cwd":           str("The server's default working directory: where processes without their own cwd run."),
			"version":       intg("Snapshot version; it increases with every change."),
			"total":         intg("Processes matching the status filter, on all pages."),
			"next_after":    str("Present when more processes follow: pass it as after."),
			"config_errors": obj{"type": "array"},
		}, "processes", "cwd", "version", "total"))),
		Annotations: annotations(true, false, true, false),
	}
}

func listHandler(sup *procstate.Supervisor, proj *project.Project) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, bad := bindArgs[listArgs](req)
		if bad != nil {
			return bad, nil
		}
		res := listPage(sup, proj, args)
		return structured(res, listText(res, *args)), nil
	}
}

// listPage is the page of the process list that args select.
func listPage(sup *procstate.Supervisor, proj *project.Project, args *listArgs) listResult {
	sup.WantUsage() // sampled while someone looks
	version := sup.Version()
	now := time.Now()
	dir := sup.Config().Dir
	procs := sup.Processes()
	var snap *project.Snapshot
	if proj != nil {
		snap = proj.Snapshot()
	}
	limit := args.limit()
	res := listResult{Processes: make([]processInfo, 0, min(limit, len(procs))), Cwd: dir, Version: version}
	add := func(name string, info func() processInfo) {
		res.Total++
		switch {
		case name <= args.After && args.After != "":
		case len(res.Processes) == limit:
			res.NextAfter = res.Processes[limit-1].Name
		default:
			res.Processes = append(res.Processes, info())
		}
	}
	// Processes and the project's idle ones, merged by name.
	var idle []string
	if snap != nil {
		res.ConfigErrors = snap.Errors
		if args.keepIdle() {
			idle = snap.Names
		}
	}
	for _, p := range procs {
		for len(idle) > 0 && idle[0] < p.Name() {
			def := snap.Def(idle[0])
			add(idle[0], func() processInfo { return idleInfo(def) })
			idle = idle[1:]
		}
		if len(idle) > 0 && idle[0] == p.Name() {
			idle = idle[1:] // it runs, or ran
		}
		rec := p.Record() // one load: the filter and the entry see the same record
		if !args.keep(rec.Status) {
			continue
		}
		add(p.Name(), func() processInfo { return infoFrom(p, rec, now, dir) })
	}
	for _, name := range idle {
		def := snap.Def(name)
		add(name, func() processInfo { return idleInfo(def) })
	}
	return res
}

// listText is one line per process:
// "web running pid=4242 up=12.3s log=318 npm run dev".
func listText(res listResult, args listArgs) string {
	var b strings.Builder
	switch {
	case len(res.Processes) > 0:
	case args.After != "":
		fmt.Fprintf(&b, "no processes after %q (%d in all)\n", args.After, res.Total)
	case args.Status == "" || args.Status == "all":
		b.WriteString("no processes; start one with process_start\n")
	default:
		b.WriteString("no " + args.Status + " processes\n")
	}
	b.Grow(80*len(res.Processes) + 80)
	var num [20]byte
	for _, info := range res.Processes {
		b.WriteString(info.Name)
		b.WriteByte(' ')
		b.WriteString(info.Status)
		if info.Status == string(procstate.StatusExited) || info.Status == string(procstate.StatusFailed) {
			b.WriteByte('(')
			b.WriteString(truncate(outcome(info), 60))
			b.WriteByte(')')
		}
		if info.Source != "" {
			b.WriteString(" (")
			b.WriteString(info.Source)
			b.WriteByte(')')
		}
		if info.Pid != 0 {
			b.WriteString(" pid=")
			b.Write(strconv.AppendInt(num[:0], int64(info.Pid), 10))
		}
		if info.Status != statusIdle {
			b.WriteString(" up=")
			b.WriteString(procstate.RunTime(time.Duration(info.UptimeMs) * time.Millisecond))
		}
		if info.LastSeq != 0 {
			b.WriteString(" log=")
			b.Write(strconv.AppendUint(num[:0], info.LastSeq, 10))
		}
		if info.Restarts > 0 {
			b.WriteString(" restarts=")
			b.Write(strconv.AppendInt(num[:0], int64(info.Restarts), 10))
		}
		if info.Errors > 0 {
			b.WriteString(" errors=")
			b.Write(strconv.AppendInt(num[:0], int64(info.Errors), 10))
		}
		for _, u := range info.URLs {
			b.WriteByte(' ')
			b.WriteString(u)
		}
		for _, port := range info.Ports {
			b.WriteString(" :")
			b.Write(strconv.AppendInt(num[:0], int64(port), 10))
		}
		b.WriteByte(' ')
		b.WriteString(truncate(info.Command, 60))
		b.WriteByte('\n')
	}
	if res.NextAfter != "" {
		fmt.Fprintf(&b, "[%d of %d shown; more: process_list after=%s]\n", len(res.Processes), res.Total, res.NextAfter)
	}
	for _, e := range res.ConfigErrors {
		b.WriteString("config error: ")
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	if len(res.Processes) == 0 {
		return strings.TrimSuffix(b.String(), "\n")
	}
	return b.String()
}
