package procstate

import (
	"strconv"
	"strings"
	"time"
)

// Status is the lifecycle state of a process.
type Status string

// The lifecycle of a process: starting -> running -> (stopping ->) exited,
// or starting -> failed when it could not be spawned. With a restart
// policy, an exit can lead to backoff (waiting to start the next run) or,
// in a crash loop, to failed.
const (
	StatusStarting Status = "starting"
	StatusRunning  Status = "running"
	StatusStopping Status = "stopping"
	StatusExited   Status = "exited"
	StatusFailed   Status = "failed"
	StatusBackoff  Status = "backoff"
)

// Live reports whether a process in this state may still be running, or
// is about to run again (backoff): its name is taken.
func (s Status) Live() bool {
	return s == StatusStarting || s == StatusRunning || s == StatusStopping || s == StatusBackoff
}

// Record is an immutable snapshot of one process. Records are published
// through an atomic pointer and never modified after publication; a change
// produces a new Record with a higher Version.
//
// Log counters are not part of the Record: they change with every output
// line and are read live, lock-free, from the process's log ring ([Process.Log]).
type Record struct {
	// Name is the process's unique handle.
	Name string
	// Argv is the program and its arguments when started without a shell.
	Argv []string
	// Command is the shell command line when started through the shell
	// (/bin/sh -c; cmd.exe on Windows).
	Command string
	// Cwd is the absolute working directory.
	Cwd string
	// Pid is the process id (also its process group id; on Windows the
	// process leads a job object instead); 0 if never spawned.
	Pid int
	// Status is the lifecycle state.
	Status Status
	// StartedAt is when the process was spawned (or the spawn was tried).
	StartedAt time.Time
	// EndedAt is when the exit (or spawn failure) was recorded; zero while live.
	EndedAt time.Time
	// ExitCode is the exit status; -1 while live, when killed by a signal, or
	// when the spawn failed.
	ExitCode int
	// Signal names the signal that killed the process ("SIGKILL"), if any.
	// On Windows it is "SIGKILL" when a stop terminated the job, else empty.
	Signal string
	// Error explains a spawn failure, or a wait error.
	Error string
	// Restarts counts earlier processes started under the same name.
	Restarts int
	// Run numbers the processes started under the same name, from 1; they
	// share one log, whose seq keeps counting across them.
	Run int
	// NextRestartAt is when the next run starts, in status backoff.
	NextRestartAt time.Time
	// Stopped is set on the record that publishes a run's end when the
	// exit followed a stop ([Supervisor.Stop], [Supervisor.Restart],
	// [Supervisor.Close]): the process did not end on its own, whatever its
	// exit code. Unset, an ended run exited by itself: it finished, crashed
	// or was killed by someone else. A stop that only cancels a pending
	// restart (status backoff) leaves it unset: that run had already ended
	// on its own.
	Stopped bool
	// Version increases with every change, across all processes; a later
	// record always has a greater version than an earlier one.
	Version uint64

	// changed is closed when this record is superseded.
	changed chan struct{}
}

// Changed returns a channel that is closed when a newer record replaces this
// one. Combine it with a context to wait for a state change without polling.
func (r *Record) Changed() <-chan struct{} { return r.changed }

// Ended reports whether the run has ended with an exit status to show: it
// exited, or it ran and then gave up as a crash loop (not: it never
// started, it waits in backoff).
func (r *Record) Ended() bool {
	return r.Status == StatusExited || (r.Status == StatusFailed && r.Pid != 0 && !r.EndedAt.IsZero())
}

// ExitStatus is the exit code of a run that ended with one, not killed by
// a signal; ok is false otherwise.
func (r *Record) ExitStatus() (code int, ok bool) {
	if r.Ended() && r.Signal == "" && r.ExitCode >= 0 {
		return r.ExitCode, true
	}
	return 0, false
}

// Uptime is how long the process ran (until now, while it is live).
func (r *Record) Uptime(now time.Time) time.Duration {
	if r.StartedAt.IsZero() || r.Pid == 0 {
		return 0
	}
	if r.EndedAt.IsZero() {
		return now.Sub(r.StartedAt)
	}
	return r.EndedAt.Sub(r.StartedAt)
}

// CommandLine shows how the process was started: the shell command as
// given, or argv quoted the way a POSIX shell would need it.
func (r *Record) CommandLine() string {
	if r.Command != "" {
		return r.Command
	}
	if len(r.Argv) == 1 && !needsQuote(r.Argv[0]) {
		return r.Argv[0]
	}
	n := 0
	for _, a := range r.Argv {
		n += len(a) + 3
	}
	var b strings.Builder
	b.Grow(n)
	for i, a := range r.Argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if !needsQuote(a) {
			b.WriteString(a)
			continue
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(a, "'", `'\''`))
		b.WriteByte('\'')
	}
	return b.String()
}

// shellSafe marks the bytes a shell word may hold unquoted.
var shellSafe = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_./:=@%+,", byte(c)) >= 0
	}
	return t
}()

// needsQuote reports whether s must be quoted to stay one shell word.
func needsQuote(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); i++ {
		if !shellSafe[s[i]] {
			return true
		}
	}
	return false
}

// RunTime renders a duration briefly, as the log notes and the tools say
// it: 850ms, 12.3s, 4m05s, 2h03m.
func RunTime(d time.Duration) string {
	ms := d.Milliseconds()
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
