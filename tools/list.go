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

var listStatuses = []string{"all", "running", "exited"}

func (a *listArgs) validate() error {
	switch a.Status {
	case "", "all", "running", "exited":
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

// keep reports whether a process in state st is selected by the filter.
// "running" means live (starting, running, stopping); "exited" means ended
// (exited or failed).
func (a *listArgs) keep(st procstate.Status) bool {
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
}

func listTool() mcp.Tool {
	return mcp.Tool{
		Name: "process_list",
		Description: "List processes by name: status, pid, exit code or signal, uptime, restarts, last_seq (newest log line). " +
			"Exited ones stay listed with their logs. Pages of `limit`: pass `next_after` as `after` for the next.",
		RawInputSchema: mustJSON(objectSchema(obj{
			"status": obj{"type": "string", "enum": listStatuses, "description": "Default all."},
			"limit":  obj{"type": "integer", "minimum": 1, "maximum": maxListLimit, "description": "Default 50."},
			"after":  str("The last page's next_after."),
		})),
		RawOutputSchema: mustJSON(bare(objectSchema(obj{
			"processes":  obj{"type": "array", "items": processSchema()},
			"cwd":        str("The server's default working directory: where processes without their own cwd run."),
			"version":    intg("Snapshot version; it increases with every change."),
			"total":      intg("Processes matching the status filter, on all pages."),
			"next_after": str("Present when more processes follow: pass it as after."),
		}, "processes", "cwd", "version", "total"))),
		Annotations: annotations(true, false, true, false),
	}
}

func listHandler(sup *procstate.Supervisor) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, bad := bindArgs[listArgs](req)
		if bad != nil {
			return bad, nil
		}
		version := sup.Version()
		now := time.Now()
		dir := sup.Config().Dir
		procs := sup.Processes()
		limit := args.limit()
		res := listResult{Processes: make([]processInfo, 0, min(limit, len(procs))), Cwd: dir, Version: version}
		for _, p := range procs {
			rec := p.Record() // one load: the filter and the entry see the same record
			if !args.keep(rec.Status) {
				continue
			}
			res.Total++
			if p.Name() <= args.After && args.After != "" {
				continue
			}
			if len(res.Processes) == limit {
				res.NextAfter = res.Processes[limit-1].Name
				continue
			}
			res.Processes = append(res.Processes, infoFrom(rec, p.Log().Stats(), now, dir))
		}
		return structured(res, listText(res, *args)), nil
	}
}

// listText is one line per process:
// "web running pid=4242 up=12.3s log=318 npm run dev".
func listText(res listResult, args listArgs) string {
	if len(res.Processes) == 0 {
		if args.After != "" {
			return fmt.Sprintf("no processes after %q (%d in all)", args.After, res.Total)
		}
		if args.Status == "" || args.Status == "all" {
			return "no processes; start one with process_start"
		}
		return "no " + args.Status + " processes"
	}
	var b strings.Builder
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
		if info.Pid != 0 {
			b.WriteString(" pid=")
			b.Write(strconv.AppendInt(num[:0], int64(info.Pid), 10))
		}
		b.WriteString(" up=")
		b.WriteString(procstate.RunTime(time.Duration(info.UptimeMs) * time.Millisecond))
		if info.LastSeq != 0 {
			b.WriteString(" log=")
			b.Write(strconv.AppendUint(num[:0], info.LastSeq, 10))
		}
		if info.Restarts > 0 {
			b.WriteString(" restarts=")
			b.Write(strconv.AppendInt(num[:0], int64(info.Restarts), 10))
		}
		b.WriteByte(' ')
		b.WriteString(truncate(info.Command, 60))
		b.WriteByte('\n')
	}
	if res.NextAfter != "" {
		fmt.Fprintf(&b, "[%d of %d shown; more: process_list after=%s]\n", len(res.Processes), res.Total, res.NextAfter)
	}
	return b.String()
}
