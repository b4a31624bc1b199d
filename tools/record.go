package tools

import (
	"strconv"
	"strings"
	"time"

	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// processInfo is the process record as tools return it. Empty and default
// fields are omitted: agents pay for every byte.
type processInfo struct {
	Name      string      `json:"name"`
	Status    string      `json:"status"`
	Pid       int         `json:"pid,omitempty"`
	Command   string      `json:"command"`
	Cwd       string      `json:"cwd,omitempty"`
	StartedAt string      `json:"started_at,omitempty"`
	EndedAt   string      `json:"ended_at,omitempty"`
	ExitCode  *int        `json:"exit_code,omitempty"`
	Signal    string      `json:"signal,omitempty"`
	Error     string      `json:"error,omitempty"`
	UptimeMs  int64       `json:"uptime_ms"`
	Restarts  int         `json:"restarts,omitempty"`
	Log       *logCounter `json:"log,omitempty"` // absent: no output yet
}

// logCounter omits zero counters: a process that printed nothing has "log":{}.
type logCounter struct {
	Lines   uint64 `json:"lines,omitempty"`
	Bytes   uint64 `json:"bytes,omitempty"`
	Dropped uint64 `json:"dropped,omitempty"`
	LastSeq uint64 `json:"last_seq,omitempty"`
}

// timeFormat is RFC 3339 in UTC with milliseconds: exact enough, compact.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

// infoOf builds the tool view of a process from an atomic load of its
// record and its ring's counters.
func infoOf(p *procstate.Process, now time.Time) processInfo {
	return infoFrom(p.Record(), p.Log().Stats(), now)
}

// infoFrom builds the tool view of a record and log counters.
func infoFrom(r *procstate.Record, st procstate.LogStats, now time.Time) processInfo {
	info := processInfo{
		Name:      r.Name,
		Status:    string(r.Status),
		Pid:       r.Pid,
		Command:   commandLine(r),
		Cwd:       r.Cwd,
		StartedAt: formatTime(r.StartedAt),
		EndedAt:   formatTime(r.EndedAt),
		Signal:    r.Signal,
		Error:     r.Error,
		UptimeMs:  r.Uptime(now).Milliseconds(),
		Restarts:  r.Restarts,
	}
	if st.LastSeq > 0 {
		info.Log = &logCounter{Lines: st.Lines, Bytes: st.Bytes, Dropped: st.Dropped, LastSeq: st.LastSeq}
	}
	if r.Status == procstate.StatusExited && r.Signal == "" && r.ExitCode >= 0 {
		code := r.ExitCode
		info.ExitCode = &code
	}
	return info
}

// commandLine shows how the process was started: the shell command as
// given, or argv quoted the way a POSIX shell would need it.
func commandLine(r *procstate.Record) string {
	if r.Command != "" {
		return r.Command
	}
	parts := make([]string, len(r.Argv))
	for i, a := range r.Argv {
		parts[i] = shellQuote(a)
	}
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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

// durationText renders milliseconds briefly: 850ms, 12.3s, 4m05s, 2h03m.
func durationText(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	switch {
	case d < time.Second:
		return strconv.FormatInt(ms, 10) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m" + twoDigits(int(d%time.Minute/time.Second)) + "s"
	}
	return strconv.Itoa(int(d/time.Hour)) + "h" + twoDigits(int(d%time.Hour/time.Minute)) + "m"
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
