package dashboard

import (
	"math"
	"net/http"
	"time"

	"github.com/brummer-mcp/brummer-mcp/detect"
	"github.com/brummer-mcp/brummer-mcp/procstate"
	"github.com/brummer-mcp/brummer-mcp/project"
)

// state is what /api/state and the "state" event carry.
type state struct {
	Version      string                `json:"version"`
	ReadOnly     bool                  `json:"read_only"`
	Cwd          string                `json:"cwd"`
	Processes    []procInfo            `json:"processes"`
	ConfigErrors []project.ConfigError `json:"config_errors"`
}

// procInfo is a process as the page shows it: the record, the log's
// newest seq, findings and usage. Fields that do not apply are left out.
type procInfo struct {
	Name     string     `json:"name"`
	Status   string     `json:"status"`
	Pid      int        `json:"pid"`
	Command  string     `json:"command"`
	UptimeMs int64      `json:"uptime_ms"`
	Run      int        `json:"run"`
	Restarts int        `json:"restarts"`
	ExitCode *int       `json:"exit_code,omitempty"`
	Signal   string     `json:"signal,omitempty"`
	Error    string     `json:"error,omitempty"`
	URLs     []string   `json:"urls,omitempty"`
	Ports    []int      `json:"ports,omitempty"`
	Errors   int        `json:"errors,omitempty"`
	LastErr  *errorLine `json:"last_error,omitempty"`
	CPUPct   *float64   `json:"cpu_pct,omitempty"`
	RSSBytes uint64     `json:"rss_bytes,omitempty"`
	LastSeq  uint64     `json:"last_seq"`
	// Source is the file that defines an idle process.
	Source string `json:"source,omitempty"`
}

// errorLine is a detected error line, its escapes stripped.
type errorLine struct {
	Seq  uint64 `json:"seq"`
	Text string `json:"text"`
}

// statusIdle is the status of a process the project defines that has not
// run under this server.
const statusIdle = "idle"

func (d *Dashboard) serveState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, d.state())
}

// snapshot is the project's snapshot, nil without a project.
func (d *Dashboard) snapshot() *project.Snapshot {
	if d.cfg.Project == nil {
		return nil
	}
	return d.cfg.Project.Snapshot()
}

// state reads the state: atomic loads of the index, the records, the
// logs' counters, findings and usage, and the project's snapshot.
func (d *Dashboard) state() state {
	sup := d.cfg.Sup
	sup.WantUsage() // sampled while a page looks
	now := time.Now()
	procs := sup.Processes()
	snap := d.snapshot()
	var idle []string
	st := state{Version: d.cfg.Version, ReadOnly: d.cfg.ReadOnly, Cwd: sup.Config().Dir, ConfigErrors: []project.ConfigError{}}
	if snap != nil {
		idle = snap.Names
		st.ConfigErrors = append(st.ConfigErrors, snap.Errors...)
	}
	st.Processes = make([]procInfo, 0, len(procs)+len(idle))
	// Processes and the project's idle ones, merged by name.
	for _, p := range procs {
		for len(idle) > 0 && idle[0] < p.Name() {
			st.Processes = append(st.Processes, idleInfo(snap.Def(idle[0])))
			idle = idle[1:]
		}
		if len(idle) > 0 && idle[0] == p.Name() {
			idle = idle[1:] // it runs, or ran
		}
		st.Processes = append(st.Processes, infoOf(p, now))
	}
	for _, name := range idle {
		st.Processes = append(st.Processes, idleInfo(snap.Def(name)))
	}
	return st
}

func idleInfo(d *project.Def) procInfo {
	return procInfo{Name: d.Name, Status: statusIdle, Command: (&procstate.Record{Command: d.Command, Argv: d.Argv}).CommandLine(), Source: d.Source}
}

// infoOf is the page's view of p: one load of its record.
func infoOf(p *procstate.Process, now time.Time) procInfo {
	r := p.Record()
	info := procInfo{
		Name:     r.Name,
		Status:   string(r.Status),
		Pid:      r.Pid,
		Command:  r.CommandLine(),
		UptimeMs: r.Uptime(now).Milliseconds(),
		Run:      r.Run,
		Restarts: r.Restarts,
		Signal:   r.Signal,
		Error:    r.Error,
		LastSeq:  p.Log().Stats().LastSeq,
	}
	if code, ok := r.ExitStatus(); ok {
		info.ExitCode = &code
	}
	if f := p.Findings(); f.Errors > 0 || len(f.URLs) > 0 {
		info.URLs, info.Errors = f.URLs, f.Errors
		if f.LastError != nil {
			info.LastErr = &errorLine{Seq: f.LastError.Seq, Text: detect.StripANSI(f.LastError.Text)}
		}
	}
	if u, ok := p.Usage(); ok {
		pct := math.Round(u.CPUPct*10) / 10
		info.Ports, info.CPUPct, info.RSSBytes = u.Ports, &pct, u.RSSBytes
	}
	return info
}
