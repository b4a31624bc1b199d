package tools

import (
	"math"
	"strconv"
	"time"

	"github.com/brummer-mcp/brummer-mcp/detect"
	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// processInfo is the process record as tools return it. Empty and default
// fields are omitted: agents pay for every byte.
// The start time is not shown: uptime_ms says the same in a form a model
// uses directly. The working directory is shown only when it is not the
// server's default one.
type processInfo struct {
	Name     string `json:"name"`
	Status   string `json:"status"`
	Pid      int    `json:"pid,omitempty"`
	Command  string `json:"command"`
	Cwd      string `json:"cwd,omitempty"`
	EndedAt  string `json:"ended_at,omitempty"`
	ExitCode *int   `json:"exit_code,omitempty"`
	Signal   string `json:"signal,omitempty"`
	Error    string `json:"error,omitempty"`
	UptimeMs int64  `json:"uptime_ms"`
	// Run numbers the runs of the name (1, 2, ...); Restarts counts the
	// earlier ones.
	Run      int `json:"run,omitempty"`
	Restarts int `json:"restarts,omitempty"`
	// NextRestartAt is when the next run starts, in status backoff.
	NextRestartAt string `json:"next_restart_at,omitempty"`
	// LastSeq is the seq of the newest output line (absent: no output);
	// Evicted counts the oldest lines no longer kept in memory.
	LastSeq uint64 `json:"last_seq,omitempty"`
	Evicted uint64 `json:"evicted,omitempty"`
	// Source, for an idle process, is the file that defines it.
	Source string `json:"source,omitempty"`
	// What the run printed: the URLs, and the lines detected as errors.
	URLs      []string   `json:"urls,omitempty"`
	Errors    int        `json:"errors,omitempty"`
	LastError *errorLine `json:"last_error,omitempty"`
	// What its process group uses (Linux, while asked): listening TCP
	// ports, CPU percent of one core, resident memory.
	Ports    []int    `json:"ports,omitempty"`
	CPUPct   *float64 `json:"cpu_pct,omitempty"`
	RSSBytes uint64   `json:"rss_bytes,omitempty"`
}

// errorLine is a detected error line: its seq, for process_logs, and text.
type errorLine struct {
	Seq  uint64 `json:"seq"`
	Text string `json:"text"`
}

// formatTime renders t as RFC 3339 in UTC with milliseconds, exact enough
// and compact: 2026-11-29T05:19:47.123Z. The zero time is "".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	var buf [24]byte
	return string(appendTime(buf[:0], t.UnixNano()))
}

// appendTime appends Unix nanoseconds ns as formatTime does, without
// time.Format's layout parsing: it runs once per log line.
func appendTime(b []byte, ns int64) []byte {
	t := time.Unix(0, ns).UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, ms, 3)
	return append(b, 'Z')
}

// appendDigits appends n, 0 <= n < 10^width, zero-padded to width digits.
func appendDigits(b []byte, n, width int) []byte {
	var d [4]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, d[:width]...)
}

// infoOf builds the tool view of a process from an atomic load of its
// record and its ring's counters. dir is the server's default working
// directory.
func infoOf(p *procstate.Process, now time.Time, dir string) processInfo {
	return infoFrom(p, p.Record(), now, dir)
}

// infoFrom builds the tool view of run p with record r (one load, which
// the caller may have filtered on), its log counters, findings and usage.
func infoFrom(p *procstate.Process, r *procstate.Record, now time.Time, dir string) processInfo {
	st := p.Log().Stats()
	info := processInfo{
		Name:          r.Name,
		Status:        string(r.Status),
		Pid:           r.Pid,
		Command:       r.CommandLine(),
		EndedAt:       formatTime(r.EndedAt),
		Signal:        r.Signal,
		Error:         r.Error,
		UptimeMs:      r.Uptime(now).Milliseconds(),
		Run:           r.Run,
		Restarts:      r.Restarts,
		NextRestartAt: formatTime(r.NextRestartAt),
		LastSeq:       st.LastSeq,
		Evicted:       st.Evicted,
	}
	if r.Cwd != dir {
		info.Cwd = r.Cwd
	}
	if code, ok := r.ExitStatus(); ok {
		info.ExitCode = &code
	}
	if f := p.Findings(); f.Errors > 0 || len(f.URLs) > 0 {
		info.URLs, info.Errors = f.URLs, f.Errors
		if f.LastError != nil {
			info.LastError = &errorLine{Seq: f.LastError.Seq, Text: detect.StripANSI(f.LastError.Text)}
		}
	}
	if u, ok := p.Usage(); ok {
		pct := math.Round(u.CPUPct*10) / 10
		info.Ports, info.CPUPct, info.RSSBytes = u.Ports, &pct, u.RSSBytes
	}
	return info
}

// outcome says in a few words how a process ended, or that it runs.
func outcome(info processInfo) string {
	switch {
	case info.Signal != "":
		return "killed by " + info.Signal
	case info.ExitCode != nil:
		return "exit " + strconv.Itoa(*info.ExitCode)
	case info.Error != "":
		return info.Error
	}
	return info.Status
}
