package procstate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/logring"
)

// testTimeout bounds every wait of these tests; nothing should come near it.
const testTimeout = 20 * time.Second

// newSupervisor returns a supervisor that is closed when the test ends. A
// zero StopGrace becomes 2s so that a test that forgets a child does not
// hold the suite for the default 5s.
func newSupervisor(t *testing.T, cfg Config) *Supervisor {
	t.Helper()
	if cfg.StopGrace == 0 {
		cfg.StopGrace = 2 * time.Second
	}
	s, err := New(cfg, zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		assert.NoError(t, s.Close(ctx))
	})
	return s
}

// testContext returns a context that ends with the test or after testTimeout.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// waitDone follows p's records through Record.Changed until p is done and
// returns every record it saw, the first being the one current at the call.
func waitDone(t *testing.T, ctx context.Context, p *Process) []*Record {
	t.Helper()
	rec := p.Record()
	recs := []*Record{rec}
	for rec.Status.Live() {
		select {
		case <-rec.Changed():
			rec = p.Record()
			recs = append(recs, rec)
		case <-ctx.Done():
			require.FailNow(t, "process did not end", "%q: %s (last record %+v)", p.Name(), ctx.Err(), *rec)
		}
	}
	select {
	case <-p.Done():
	case <-ctx.Done():
		require.FailNow(t, "Done not closed after the exit was published", "%q: %s", p.Name(), ctx.Err())
	}
	return recs
}

// withName returns spec with its Name set.
func withName(name string, spec Spec) Spec {
	spec.Name = name
	return spec
}

// isDone reports whether p's Done channel is closed.
func isDone(p *Process) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}

// waitForLine waits until p's output has a line with text and returns the
// lines up to and including it, oldest first.
func waitForLine(t *testing.T, ctx context.Context, p *Process, text string) []logring.Line {
	t.Helper()
	var seen []logring.Line
	var since uint64
	for ended := false; ; {
		page, err := p.Log().Read(logring.Query{HasSince: true, Since: since, Match: isOutput})
		require.NoError(t, err)
		for _, ln := range page.Lines {
			seen = append(seen, ln)
			if ln.Text == text {
				return seen
			}
		}
		since = page.NextSince
		if ended {
			require.FailNow(t, "process ended without the line", "%q never printed %q; output: %v", p.Name(), text, texts(seen))
		}
		ch, done := p.Log().Wait(since)
		select {
		case <-ch:
		case <-p.Done():
			ended = true // read once more: the output is drained now
		case <-ctx.Done():
			done()
			require.FailNow(t, "no such line", "%q did not print %q: %s; output: %v", p.Name(), text, ctx.Err(), texts(seen))
		}
		done()
	}
}

// allLines returns every output line retained in p's ring (not the
// supervisor's notes: see notes).
func allLines(t *testing.T, p *Process) []logring.Line {
	t.Helper()
	page, err := p.Log().Read(logring.Query{HasSince: true, Match: isOutput})
	require.NoError(t, err)
	return page.Lines
}

// notes returns the texts of the supervisor's lines in p's ring.
func notes(t *testing.T, p *Process) []string {
	t.Helper()
	page, err := p.Log().Read(logring.Query{HasSince: true, Match: func(l *logring.Line) bool { return l.Stream == logring.System }})
	require.NoError(t, err)
	return texts(page.Lines)
}

func isOutput(l *logring.Line) bool { return l.Stream != logring.System }

func texts(lines []logring.Line) []string {
	out := make([]string, len(lines))
	for i, ln := range lines {
		out[i] = ln.Text
	}
	return out
}

// stdoutPids parses the pids a helper printed before its "ready" line.
func stdoutPids(t *testing.T, lines []logring.Line) []int {
	t.Helper()
	var pids []int
	for _, ln := range lines {
		if ln.Stream != logring.Stdout || ln.Text == "ready" {
			continue
		}
		pid, err := strconv.Atoi(ln.Text)
		require.NoError(t, err, "helper printed %q where a pid was expected", ln.Text)
		pids = append(pids, pid)
	}
	return pids
}

// assertGone checks that pid is no longer running as a member of group
// pgid: it does not exist, is a zombie waiting for init to reap it, or
// the pid was already reused outside the group.
func assertGone(t *testing.T, pid, pgid int) {
	t.Helper()
	state, pgrp, ok := procState(pid)
	assert.True(t, !ok || state == 'Z' || state == 'X' || pgrp != pgid,
		"pid %d is still running (state %q, process group %d)", pid, state, pgrp)
}

// requireRunningIn checks that pid runs as a member of group pgid.
func requireRunningIn(t *testing.T, pid, pgid int) {
	t.Helper()
	state, pgrp, ok := procState(pid)
	require.True(t, ok, "pid %d does not exist", pid)
	require.NotEqual(t, byte('Z'), state, "pid %d is a zombie", pid)
	require.Equal(t, pgid, pgrp, "pid %d is in the wrong process group", pid)
}

// assertVersionsIncrease checks that a sequence of records of one process
// has strictly increasing versions, all after before.
func assertVersionsIncrease(t *testing.T, before uint64, recs []*Record) {
	t.Helper()
	prev := before
	for _, r := range recs {
		assert.Greater(t, r.Version, prev, "record %+v", *r)
		prev = r.Version
	}
}

func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "not-executable")
	require.NoError(t, os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644))

	tests := []struct {
		name         string
		spec         Spec
		wantErr      error
		wantStatus   Status
		wantCode     int
		wantSignal   string
		wantPid      bool
		wantErrorMsg string // a part of Record.Error; "" matches anything
		wantNoError  bool   // Record.Error must be empty
	}{
		{name: "exit 0", spec: helperSpec("exit", "0"), wantStatus: StatusExited, wantCode: 0, wantPid: true, wantNoError: true},
		{name: "exit 3", spec: helperSpec("exit", "3"), wantStatus: StatusExited, wantCode: 3, wantPid: true, wantNoError: true},
		{name: "killed by SIGKILL", spec: helperSpec("selfkill", "KILL"), wantStatus: StatusExited, wantCode: -1, wantSignal: "SIGKILL", wantPid: true, wantNoError: true},
		{name: "killed by SIGTERM", spec: helperSpec("selfkill", "TERM"), wantStatus: StatusExited, wantCode: -1, wantSignal: "SIGTERM", wantPid: true, wantNoError: true},
		{name: "program path does not exist", spec: Spec{Argv: []string{"/nonexistent/brummer-no-such-program"}}, wantErr: ErrSpawn, wantStatus: StatusFailed, wantCode: -1, wantErrorMsg: "/nonexistent/brummer-no-such-program"},
		{name: "program not in PATH", spec: Spec{Argv: []string{"brummer-no-such-program"}}, wantErr: ErrSpawn, wantStatus: StatusFailed, wantCode: -1, wantErrorMsg: "not found in PATH"},
		{name: "program not executable", spec: Spec{Argv: []string{notExec}}, wantErr: ErrSpawn, wantStatus: StatusFailed, wantCode: -1, wantErrorMsg: "not executable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			s := newSupervisor(t, Config{Dir: dir})
			before := s.Version()

			p, err := s.Start(tc.spec)
			require.ErrorIs(t, err, tc.wantErr)
			require.NotNil(t, p)
			recs := waitDone(t, ctx, p)
			rec := recs[len(recs)-1]

			assert.Equal(t, tc.wantStatus, rec.Status)
			assert.Equal(t, tc.wantCode, rec.ExitCode)
			assert.Equal(t, tc.wantSignal, rec.Signal)
			assert.Equal(t, tc.wantPid, rec.Pid > 0, "pid %d", rec.Pid)
			assert.Contains(t, rec.Error, tc.wantErrorMsg)
			assert.Equal(t, tc.wantNoError, rec.Error == "", "error %q", rec.Error)
			assert.False(t, rec.StartedAt.IsZero(), "StartedAt")
			assert.False(t, rec.EndedAt.IsZero(), "EndedAt")
			assert.False(t, rec.EndedAt.Before(rec.StartedAt), "EndedAt before StartedAt")
			assert.Equal(t, dir, rec.Cwd)
			assert.Equal(t, tc.spec.Argv, rec.Argv)
			assert.Zero(t, rec.Restarts)
			assertVersionsIncrease(t, before, recs)
			assert.LessOrEqual(t, rec.Version, s.Version())
			assert.Same(t, p, s.Get(p.Name()), "the process stays listed")
			assert.Equal(t, []string{p.Name()}, s.Names())
		})
	}
}

func TestStartRejectsBadSpec(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file.txt")
	require.NoError(t, os.WriteFile(file, nil, 0o644))

	tests := []struct {
		name    string
		spec    Spec
		wantErr error
	}{
		{name: "cwd missing", spec: Spec{Argv: []string{"true"}, Cwd: "does-not-exist"}, wantErr: ErrBadCwd},
		{name: "absolute cwd missing", spec: Spec{Argv: []string{"true"}, Cwd: filepath.Join(dir, "nope")}, wantErr: ErrBadCwd},
		{name: "cwd is a file", spec: Spec{Argv: []string{"true"}, Cwd: "file.txt"}, wantErr: ErrBadCwd},
		{name: "argv and command", spec: Spec{Argv: []string{"true"}, Command: "true"}, wantErr: ErrBadSpec},
		{name: "neither argv nor command", spec: Spec{Name: "x"}, wantErr: ErrBadSpec},
		{name: "empty argv[0]", spec: Spec{Argv: []string{""}}, wantErr: ErrBadSpec},
		{name: "bad name", spec: Spec{Name: "-x", Command: "true"}, wantErr: ErrBadSpec},
		{name: "bad env key", spec: Spec{Command: "true", Env: map[string]string{"A=B": "c"}}, wantErr: ErrBadSpec},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSupervisor(t, Config{Dir: dir})
			before := s.Version()

			p, err := s.Start(tc.spec)
			require.ErrorIs(t, err, tc.wantErr)
			assert.Nil(t, p)
			assert.Empty(t, s.Processes(), "nothing is listed")
			assert.Equal(t, before, s.Version(), "nothing is published")
		})
	}
}

func TestShellCommand(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o755))
	realSub, err := filepath.EvalSymlinks(sub)
	require.NoError(t, err)
	env := []string{"PATH=" + os.Getenv("PATH"), "FOO=base", "KEEP=kept"}

	tests := []struct {
		name      string
		spec      Spec
		wantCode  int
		wantLines []string
		wantCwd   string
	}{
		{name: "exit code", spec: Spec{Command: "echo hi; exit 4"}, wantCode: 4, wantLines: []string{"hi"}, wantCwd: dir},
		{name: "base environment", spec: Spec{Command: `echo "$FOO $KEEP"`}, wantLines: []string{"base kept"}, wantCwd: dir},
		{name: "env override", spec: Spec{Command: `echo "$FOO $KEEP $NEW"`, Env: map[string]string{"FOO": "bar", "NEW": "new"}}, wantLines: []string{"bar kept new"}, wantCwd: dir},
		{name: "relative cwd", spec: Spec{Command: "pwd -P", Cwd: "sub"}, wantLines: []string{realSub}, wantCwd: sub},
		{name: "absolute cwd", spec: Spec{Command: "pwd -P", Cwd: sub}, wantLines: []string{realSub}, wantCwd: sub},
		{name: "argv without a shell", spec: Spec{Argv: []string{"sh", "-c", `echo "$0|$1"`, "a b", "c"}}, wantLines: []string{"a b|c"}, wantCwd: dir},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			s := newSupervisor(t, Config{Dir: dir, Env: env})

			p, err := s.Start(tc.spec)
			require.NoError(t, err)
			recs := waitDone(t, ctx, p)
			last := recs[len(recs)-1]

			assert.Equal(t, StatusExited, last.Status)
			assert.Equal(t, tc.wantCode, last.ExitCode)
			assert.Equal(t, tc.wantCwd, last.Cwd)
			assert.Equal(t, tc.spec.Command, last.Command)
			assert.Equal(t, tc.wantLines, texts(allLines(t, p)))
		})
	}
}

func TestOutputStreams(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	p, err := s.Start(helperSpec("stderr", "3"))
	require.NoError(t, err)
	waitDone(t, ctx, p)

	var out, errs []string
	for _, ln := range allLines(t, p) {
		text := ln.Stream.String() + ": " + ln.Text
		if ln.Stream == logring.Stdout {
			out = append(out, text)
		} else {
			errs = append(errs, text)
		}
	}
	assert.Equal(t, []string{"stdout: out 1", "stdout: out 2", "stdout: out 3"}, out)
	assert.Equal(t, []string{"stderr: err 1", "stderr: err 2", "stderr: err 3"}, errs)
	assert.Equal(t, uint64(8), p.Log().Stats().LastSeq, "six lines between the start and exit notes")
}

func TestNames(t *testing.T) {
	t.Run("explicit name", func(t *testing.T) {
		s := newSupervisor(t, Config{})
		spec := withName("web", helperSpec("sleep"))
		p, err := s.Start(spec)
		require.NoError(t, err)
		assert.Equal(t, "web", p.Name())
		assert.Equal(t, "web", p.Record().Name)
		assert.Same(t, p, s.Get("web"))
		assert.Nil(t, s.Get("other"))
	})

	t.Run("duplicate live name", func(t *testing.T) {
		s := newSupervisor(t, Config{})
		spec := withName("web", helperSpec("sleep"))
		first, err := s.Start(spec)
		require.NoError(t, err)

		second, err := s.Start(spec)
		require.ErrorIs(t, err, ErrNameInUse)
		assert.ErrorContains(t, err, `"web"`)
		assert.Nil(t, second)
		assert.Same(t, first, s.Get("web"))
		assert.Len(t, s.Processes(), 1)
		assert.True(t, first.Record().Status.Live())
	})

	t.Run("restart of an exited name", func(t *testing.T) {
		ctx := testContext(t)
		s := newSupervisor(t, Config{})
		spec := withName("job", helperSpec("exit", "0"))
		var prev *Process
		for restarts := range 3 {
			p, err := s.Start(spec)
			require.NoError(t, err)
			assert.NotSame(t, prev, p)
			assert.Same(t, p, s.Get("job"))
			assert.Equal(t, restarts, p.Record().Restarts)
			assert.Len(t, s.Processes(), 1, "the new process replaces the old one")
			waitDone(t, ctx, p)
			assert.Equal(t, restarts, p.Record().Restarts, "the exit keeps the count")
			prev = p
		}
		assert.Equal(t, StatusExited, prev.Record().Status, "a replaced process stays readable")
	})

	t.Run("failed spawn can be started again", func(t *testing.T) {
		s := newSupervisor(t, Config{})
		spec := Spec{Name: "bad", Argv: []string{"/nonexistent/prog"}}
		_, err := s.Start(spec)
		require.ErrorIs(t, err, ErrSpawn)
		p, err := s.Start(spec)
		require.ErrorIs(t, err, ErrSpawn)
		assert.Equal(t, 1, p.Record().Restarts)
		assert.Len(t, s.Processes(), 1)
	})

	t.Run("default names", func(t *testing.T) {
		s := newSupervisor(t, Config{})
		base := filepath.Base(os.Args[0])
		require.Regexp(t, NamePattern, base)
		var names []string
		for range 3 {
			p, err := s.Start(helperSpec("sleep"))
			require.NoError(t, err)
			names = append(names, p.Name())
		}
		p, err := s.Start(Spec{Command: "PORT=3000 sleep 60"})
		require.NoError(t, err)
		names = append(names, p.Name())

		assert.Equal(t, []string{base, base + "-2", base + "-3", "sleep"}, names)
	})
}

func TestLimits(t *testing.T) {
	t.Run("MaxProcs", func(t *testing.T) {
		ctx := testContext(t)
		s := newSupervisor(t, Config{MaxProcs: 2})
		for range 2 {
			_, err := s.Start(helperSpec("sleep"))
			require.NoError(t, err)
		}
		p, err := s.Start(helperSpec("sleep"))
		require.ErrorIs(t, err, ErrLimit)
		assert.Nil(t, p)
		assert.Len(t, s.Processes(), 2)

		first := s.Processes()[0]
		_, err = s.Stop(ctx, first.Name(), syscall.SIGTERM, 5*time.Second)
		require.NoError(t, err)
		_, err = s.Start(helperSpec("sleep"))
		assert.NoError(t, err, "a stopped process frees its slot")
	})

	t.Run("MaxExited", func(t *testing.T) {
		ctx := testContext(t)
		s := newSupervisor(t, Config{MaxExited: 2})
		running, err := s.Start(withName("running", helperSpec("sleep")))
		require.NoError(t, err)
		procs := map[string]*Process{}
		for _, name := range []string{"a", "b", "c"} {
			p, err := s.Start(withName(name, helperSpec("exit", "0")))
			require.NoError(t, err)
			waitDone(t, ctx, p)
			procs[name] = p
		}
		assert.Equal(t, []string{"b", "c", "running"}, s.Names(), "the oldest exited process is evicted")
		assert.Equal(t, StatusExited, procs["a"].Record().Status, "an evicted process stays readable")
		assert.True(t, running.Record().Status.Live())
	})
}

// TestNothingLost checks that every line printed before a fast exit is in
// the ring when Done is closed.
func TestNothingLost(t *testing.T) {
	const lines = 5000
	want := make([]string, lines)
	wantSeqs := make([]uint64, lines)
	wantBytes := uint64(0)
	for i := range want {
		want[i] = fmt.Sprintf("line %d", i+1)
		wantSeqs[i] = uint64(i + 2) // after the supervisor's "started" note
		wantBytes += uint64(len(want[i]))
	}
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	for run := range 20 {
		p, err := s.Start(helperSpec("lines", strconv.Itoa(lines)))
		require.NoError(t, err)
		select {
		case <-p.Done():
		case <-ctx.Done():
			require.FailNow(t, "child did not end", "run %d", run)
		}
		got := allLines(t, p)
		seqs := make([]uint64, len(got))
		for i, ln := range got {
			seqs[i] = ln.Seq
		}
		require.Equal(t, 0, p.Record().ExitCode, "run %d", run)
		require.Len(t, got, lines, "run %d", run)
		assert.Equal(t, wantSeqs, seqs, "run %d", run)
		assert.Equal(t, want, texts(got), "run %d", run)
		// Each run has its own name, so its own log: the output between
		// the notes that it started and exited.
		noted := notes(t, p)
		require.Len(t, noted, 2, "run %d", run)
		assert.Regexp(t, `^\[run 1\] started: .* \(pid \d+\)$`, noted[0])
		assert.Regexp(t, `^\[run 1\] exited with code 0 after \S+$`, noted[1])
		noteBytes := uint64(len(noted[0]) + len(noted[1]))
		assert.Equal(t, logring.Stats{Lines: lines + 2, Bytes: wantBytes + noteBytes, LastSeq: lines + 2}, p.Log().Stats(), "run %d", run)
	}
}

func TestStop(t *testing.T) {
	t.Run("SIGTERM", func(t *testing.T) {
		ctx := testContext(t)
		s := newSupervisor(t, Config{})
		p, err := s.Start(helperSpec("sleep"))
		require.NoError(t, err)
		require.Equal(t, StatusRunning, p.Record().Status)

		res, err := s.Stop(ctx, p.Name(), syscall.SIGTERM, 10*time.Second)
		require.NoError(t, err)
		assert.False(t, res.AlreadyStopped)
		assert.False(t, res.Killed)
		assert.Equal(t, StatusExited, res.Record.Status)
		assert.Equal(t, "SIGTERM", res.Record.Signal)
		assert.Equal(t, -1, res.Record.ExitCode)
		assert.False(t, res.Record.EndedAt.IsZero())
		assert.Same(t, p.Record(), res.Record)
		assert.True(t, isDone(p), "Stop returns after Done")
	})

	t.Run("already exited", func(t *testing.T) {
		ctx := testContext(t)
		s := newSupervisor(t, Config{})
		p, err := s.Start(helperSpec("exit", "0"))
		require.NoError(t, err)
		waitDone(t, ctx, p)
		rec := p.Record()

		res, err := s.Stop(ctx, p.Name(), syscall.SIGTERM, time.Second)
		require.NoError(t, err)
		assert.True(t, res.AlreadyStopped)
		assert.False(t, res.Killed)
		assert.Same(t, rec, res.Record, "the record does not change")
	})

	t.Run("unknown name", func(t *testing.T) {
		s := newSupervisor(t, Config{})
		_, err := s.Stop(testContext(t), "nope", syscall.SIGTERM, time.Second)
		assert.ErrorIs(t, err, ErrUnknown)
	})

	t.Run("SIGKILL after grace", func(t *testing.T) {
		ctx := testContext(t)
		s := newSupervisor(t, Config{})
		p, err := s.Start(helperSpec("ignoreterm"))
		require.NoError(t, err)
		waitForLine(t, ctx, p, "ready")

		const grace = 300 * time.Millisecond
		start := time.Now()
		res, err := s.Stop(ctx, p.Name(), syscall.SIGTERM, grace)
		elapsed := time.Since(start)
		require.NoError(t, err)
		assert.True(t, res.Killed)
		assert.Equal(t, "SIGKILL", res.Record.Signal)
		assert.Equal(t, StatusExited, res.Record.Status)
		assert.GreaterOrEqual(t, elapsed, grace)
		assert.Less(t, elapsed, grace+time.Second)
	})

	t.Run("SIGKILL at once", func(t *testing.T) {
		ctx := testContext(t)
		s := newSupervisor(t, Config{})
		p, err := s.Start(helperSpec("ignoreterm"))
		require.NoError(t, err)
		waitForLine(t, ctx, p, "ready")

		res, err := s.Stop(ctx, p.Name(), syscall.SIGKILL, time.Minute)
		require.NoError(t, err)
		assert.False(t, res.Killed, "Killed is for a SIGKILL after the grace")
		assert.Equal(t, "SIGKILL", res.Record.Signal)
	})

	t.Run("group reaches grandchildren", func(t *testing.T) {
		ctx := testContext(t)
		s := newSupervisor(t, Config{})
		p, err := s.Start(helperSpec("grandchildren", "3"))
		require.NoError(t, err)
		pids := stdoutPids(t, waitForLine(t, ctx, p, "ready"))
		require.Len(t, pids, 3)
		leader := p.Record().Pid
		for _, pid := range pids {
			requireRunningIn(t, pid, leader)
		}

		res, err := s.Stop(ctx, p.Name(), syscall.SIGTERM, 10*time.Second)
		require.NoError(t, err)
		assert.False(t, res.Killed, "everyone obeys SIGTERM")
		assert.Equal(t, "SIGTERM", res.Record.Signal)
		for _, pid := range pids {
			assertGone(t, pid, leader)
		}
	})

	t.Run("grandchild ignoring SIGTERM", func(t *testing.T) {
		ctx := testContext(t)
		s := newSupervisor(t, Config{WaitDelay: 100 * time.Millisecond})
		p, err := s.Start(helperSpec("grandchild-ignoreterm"))
		require.NoError(t, err)
		pids := stdoutPids(t, waitForLine(t, ctx, p, "ready"))
		require.Len(t, pids, 1)
		leader := p.Record().Pid
		requireRunningIn(t, pids[0], leader)

		const grace = 500 * time.Millisecond
		start := time.Now()
		res, err := s.Stop(ctx, p.Name(), syscall.SIGTERM, grace)
		elapsed := time.Since(start)
		require.NoError(t, err)
		assert.True(t, res.Killed, "the grandchild needed SIGKILL")
		assert.Equal(t, "SIGTERM", res.Record.Signal, "the leader obeyed SIGTERM")
		assert.GreaterOrEqual(t, elapsed, grace)
		assert.Less(t, elapsed, grace+time.Second)
		assertGone(t, pids[0], leader)
	})

	t.Run("concurrent stops share one sequence", func(t *testing.T) {
		ctx := testContext(t)
		s := newSupervisor(t, Config{})
		p, err := s.Start(helperSpec("ignoreterm"))
		require.NoError(t, err)
		waitForLine(t, ctx, p, "ready")

		var wg sync.WaitGroup
		results := make([]StopResult, 4)
		errs := make([]error, len(results))
		for i := range results {
			wg.Go(func() { results[i], errs[i] = s.Stop(ctx, p.Name(), syscall.SIGTERM, 200*time.Millisecond) })
		}
		wg.Wait()
		for i := range results {
			assert.NoError(t, errs[i])
			assert.Same(t, p.Record(), results[i].Record)
			assert.Equal(t, "SIGKILL", results[i].Record.Signal)
		}
	})

	t.Run("context ends first", func(t *testing.T) {
		ctx := testContext(t)
		s := newSupervisor(t, Config{})
		p, err := s.Start(helperSpec("ignoreterm"))
		require.NoError(t, err)
		waitForLine(t, ctx, p, "ready")

		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err = s.Stop(short, p.Name(), syscall.SIGTERM, 300*time.Millisecond)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		recs := waitDone(t, ctx, p)
		assert.Equal(t, "SIGKILL", recs[len(recs)-1].Signal, "the stop went on without the caller")
	})
}

// TestStopWhileStarting stops a process while Start is still spawning it:
// the stop must still end it, and Start must not leave it running.
func TestStopWhileStarting(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	for i := range 30 {
		name := fmt.Sprintf("p%d", i)
		var wg sync.WaitGroup
		var stopErr error
		wg.Go(func() {
			for s.Get(name) == nil {
				// Spin: the stop is to land between registration and spawn.
			}
			stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			_, stopErr = s.Stop(stopCtx, name, syscall.SIGTERM, 2*time.Second)
		})
		p, err := s.Start(withName(name, helperSpec("sleep")))
		wg.Wait()
		require.NotNil(t, p, "start %q: %v", name, err)
		require.NoError(t, stopErr, "stop %q during start (start: %v, record %+v)", name, err, *p.Record())
		recs := waitDone(t, ctx, p)
		assert.False(t, recs[len(recs)-1].Status.Live())
	}
}

func TestClose(t *testing.T) {
	t.Run("stops every child", func(t *testing.T) {
		ctx := testContext(t)
		s := newSupervisor(t, Config{StopGrace: 300 * time.Millisecond})
		var procs []*Process
		for range 3 {
			p, err := s.Start(helperSpec("sleep"))
			require.NoError(t, err)
			procs = append(procs, p)
		}
		stubborn, err := s.Start(helperSpec("ignoreterm"))
		require.NoError(t, err)
		waitForLine(t, ctx, stubborn, "ready")
		done, err := s.Start(helperSpec("exit", "0"))
		require.NoError(t, err)
		waitDone(t, ctx, done)

		require.NoError(t, s.Close(ctx))
		for _, p := range procs {
			assert.True(t, isDone(p), "%s done", p.Name())
			assert.Equal(t, "SIGTERM", p.Record().Signal, "%s", p.Name())
		}
		assert.True(t, isDone(stubborn))
		assert.Equal(t, "SIGKILL", stubborn.Record().Signal)
		assert.Equal(t, 0, done.Record().ExitCode)

		p, err := s.Start(helperSpec("exit", "0"))
		assert.ErrorIs(t, err, ErrClosed)
		assert.Nil(t, p)
		assert.Len(t, s.Processes(), 5, "processes stay readable after Close")
		assert.NoError(t, s.Close(ctx), "a second Close is harmless")
	})

	t.Run("context ended", func(t *testing.T) {
		ctx := testContext(t)
		s := newSupervisor(t, Config{StopGrace: time.Minute})
		p, err := s.Start(helperSpec("ignoreterm"))
		require.NoError(t, err)
		waitForLine(t, ctx, p, "ready")

		ended, cancel := context.WithCancel(ctx)
		cancel()
		start := time.Now()
		err = s.Close(ended)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Less(t, time.Since(start), 5*time.Second, "no grace once the context ended")
		assert.True(t, isDone(p))
		assert.Equal(t, "SIGKILL", p.Record().Signal)
	})
}

// TestConcurrentReaders churns processes while readers call every
// read-side method in a loop. Readers must never see a record of one
// process go back in version or lifecycle, nor an inconsistent record.
func TestConcurrentReaders(t *testing.T) {
	const readers = 4
	iterations := 40
	if testing.Short() {
		iterations = 8
	}
	ctx := testContext(t)
	s := newSupervisor(t, Config{MaxExited: 8, LogLines: 500, StopGrace: time.Second})
	flood, err := s.Start(withName("flood", helperSpec("flood")))
	require.NoError(t, err)

	stopReaders := make(chan struct{})
	var violations atomic.Int64
	var firstViolation atomic.Pointer[string]
	report := func(format string, args ...any) {
		violations.Add(1)
		msg := fmt.Sprintf(format, args...)
		firstViolation.CompareAndSwap(nil, &msg)
	}
	var reads atomic.Int64
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			seen := map[*Process]*Record{}
			for {
				select {
				case <-stopReaders:
					return
				default:
				}
				for _, p := range s.Processes() {
					checkRecord(p, seen, report)
					if got := s.Get(p.Name()); got != nil {
						checkRecord(got, seen, report)
					}
					checkLog(p, report)
				}
				if p := s.Get("flood"); p != nil {
					checkLog(p, report)
				}
				reads.Add(1)
			}
		})
	}

	for i := range iterations {
		short, err := s.Start(Spec{Command: "echo one; echo two"})
		require.NoError(t, err)
		spec := withName(fmt.Sprintf("long-%d", i%4), helperSpec("sleep"))
		_, err = s.Stop(ctx, spec.Name, syscall.SIGTERM, time.Second)
		require.True(t, err == nil || errors.Is(err, ErrUnknown), "stop %s: %v", spec.Name, err)
		_, err = s.Start(spec)
		require.NoError(t, err)
		_, err = s.Start(Spec{Argv: []string{"/nonexistent/prog"}})
		require.ErrorIs(t, err, ErrSpawn)
		waitDone(t, ctx, short)
	}
	_, err = s.Stop(ctx, "flood", syscall.SIGTERM, time.Second)
	require.NoError(t, err)
	close(stopReaders)
	wg.Wait()

	assert.Zero(t, violations.Load(), "first violation: %v", firstViolation.Load())
	assert.Positive(t, reads.Load())
	assert.Positive(t, flood.Log().Stats().Evicted, "the flood overran the ring while readers read")
	t.Logf("%d reader passes, %d flood lines", reads.Load(), flood.Log().Stats().LastSeq)
}

var statusRank = map[Status]int{StatusStarting: 0, StatusRunning: 1, StatusStopping: 2, StatusExited: 3, StatusFailed: 3}

// checkRecord checks p's current record against itself and against the
// last record this reader saw of p.
func checkRecord(p *Process, seen map[*Process]*Record, report func(string, ...any)) {
	r := p.Record()
	if prev := seen[p]; prev != nil {
		if r.Version < prev.Version {
			report("%s: version went back from %d to %d", p.Name(), prev.Version, r.Version)
		}
		if statusRank[r.Status] < statusRank[prev.Status] {
			report("%s: status went back from %s to %s", p.Name(), prev.Status, r.Status)
		}
	}
	seen[p] = r
	switch {
	case r.Name != p.Name():
		report("%s: record named %q", p.Name(), r.Name)
	case r.Version == 0:
		report("%s: version 0", p.Name())
	case r.StartedAt.IsZero():
		report("%s: no StartedAt", p.Name())
	case r.Status.Live() != r.EndedAt.IsZero():
		report("%s: status %s with EndedAt %v", p.Name(), r.Status, r.EndedAt)
	case r.Status.Live() && r.ExitCode != -1:
		report("%s: live with exit code %d", p.Name(), r.ExitCode)
	case (r.Status == StatusRunning || r.Status == StatusExited) && r.Pid <= 0:
		report("%s: %s without a pid", p.Name(), r.Status)
	case r.Status == StatusFailed && (r.Error == "" || r.Pid != 0):
		report("%s: failed with error %q and pid %d", p.Name(), r.Error, r.Pid)
	case r.Signal != "" && r.ExitCode != -1:
		report("%s: signal %s with exit code %d", p.Name(), r.Signal, r.ExitCode)
	}
	select {
	case <-r.Changed():
		if p.Record() == r {
			report("%s: Changed closed but the record is current", p.Name())
		}
	default:
	}
}

// checkLog reads p's ring the ways a client does and checks the answers.
func checkLog(p *Process, report func(string, ...any)) {
	st := p.Log().Stats()
	if st.Lines > st.LastSeq {
		report("%s: stats %+v", p.Name(), st)
	}
	page, err := p.Log().Read(logring.Query{Tail: 20})
	if err != nil {
		report("%s: tail read: %v", p.Name(), err)
	}
	prev := uint64(0)
	for _, ln := range page.Lines {
		if ln.Seq <= prev || ln.Seq > page.NextSince {
			report("%s: line %d out of order (previous %d, next since %d)", p.Name(), ln.Seq, prev, page.NextSince)
		}
		prev = ln.Seq
	}
	if len(page.Lines) > 20 {
		report("%s: tail 20 returned %d lines", p.Name(), len(page.Lines))
	}
	since := st.LastSeq - min(st.LastSeq, 50)
	page, err = p.Log().Read(logring.Query{HasSince: true, Since: since, Limit: 10})
	if err != nil {
		report("%s: read since %d: %v", p.Name(), since, err)
	}
	if len(page.Lines) > 10 {
		report("%s: limit 10 returned %d lines", p.Name(), len(page.Lines))
	}
	for _, ln := range page.Lines {
		if ln.Seq <= since {
			report("%s: line %d not after cursor %d", p.Name(), ln.Seq, since)
		}
	}
}
