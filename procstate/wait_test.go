package procstate

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/brummer-mcp/brummer-mcp/internal/probe"
	"github.com/brummer-mcp/brummer-mcp/logring"
)

// is returns a log condition's Match for lines that are exactly text.
func is(text string) func(string) bool { return func(s string) bool { return s == text } }

// never is a Match no line satisfies.
func never(string) bool { return false }

// withStdin returns spec with a stdin pipe, for Process.Input.
func withStdin(spec Spec) Spec {
	spec.Stdin = true
	return spec
}

// waitAnswer is what a Wait returned.
type waitAnswer struct {
	res WaitResult
	err error
}

// goWait runs p.Wait in a goroutine and returns where its answer arrives.
func goWait(ctx context.Context, p *Process, c Condition, progress func(WaitProgress)) <-chan waitAnswer {
	ch := make(chan waitAnswer, 1) // its one answer: the goroutine never blocks
	go func() {
		res, err := p.Wait(ctx, c, progress)
		ch <- waitAnswer{res, err}
	}()
	return ch
}

// answer receives a wait's answer, failing the test if none comes before
// ctx ends.
func answer(t *testing.T, ctx context.Context, ch <-chan waitAnswer) waitAnswer {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-ctx.Done():
		require.FailNow(t, "the wait did not return", "%v", ctx.Err())
		return waitAnswer{}
	}
}

// input writes text to p's stdin.
func input(text string) func(*testing.T, *Process) {
	return func(t *testing.T, p *Process) {
		_, err := p.Input([]byte(text), false)
		require.NoError(t, err)
	}
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// printedPort waits for the "port N" line of a helper in listen mode and
// returns N.
func printedPort(t *testing.T, ctx context.Context, p *Process) int {
	t.Helper()
	res, err := p.Wait(ctx, Condition{Match: func(s string) bool { return strings.HasPrefix(s, "port ") }, Timeout: testTimeout}, nil)
	require.NoError(t, err)
	require.Equal(t, Ready, res.Outcome, "no port printed")
	port, err := strconv.Atoi(strings.TrimPrefix(res.Line.Text, "port "))
	require.NoError(t, err)
	return port
}

// probeServer is an HTTP server on 127.0.0.1 for HTTP waits: /ok answers
// 200, /missing 404, /broken 500, /moved a redirect to another host, and
// /hang never answers (until the client goes away). hung receives a value
// each time /hang is requested.
type probeServer struct {
	*httptest.Server
	hung chan struct{}
}

func newProbeServer(t *testing.T) *probeServer {
	ps := &probeServer{hung: make(chan struct{}, 64)} // more than any test requests /hang
	ps.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
		case "/broken":
			w.WriteHeader(http.StatusInternalServerError)
		case "/moved":
			http.Redirect(w, r, "http://example.com/", http.StatusFound)
		case "/hang":
			select {
			case ps.hung <- struct{}{}:
			default:
			}
			<-r.Context().Done()
		}
	}))
	t.Cleanup(func() {
		ps.CloseClientConnections()
		ps.Close()
	})
	return ps
}

// url returns the server's URL for path, as LoopbackURL accepts it.
func (ps *probeServer) url(t *testing.T, path string) *url.URL {
	t.Helper()
	u, err := probe.LoopbackURL(ps.URL + path)
	require.NoError(t, err)
	return u
}

// skipUnless returns a reason to skip a row where ok does not hold.
func skipUnless(ok bool, reason string) string {
	if ok {
		return ""
	}
	return reason
}

var (
	needsListen  = skipUnless(probe.ListenSupported, "listening sockets are only known on Linux")
	needsSignals = skipUnless(runtime.GOOS != "windows", "a process cannot die of a signal on Windows")
)

// TestWaitReady: each condition, met by a real child while the wait runs
// (or already met, or missed as the run ends), ends the wait with the
// outcome and the details it promises.
func TestWaitReady(t *testing.T) {
	t.Parallel()
	srv := newProbeServer(t)
	port := freePort(t)
	tests := []struct {
		name string
		skip string
		spec Spec
		cond Condition // a zero Timeout becomes testTimeout
		// act runs once the wait has begun; nil for nothing.
		act   func(t *testing.T, p *Process)
		want  Outcome
		check func(t *testing.T, ctx context.Context, p *Process, res WaitResult)
	}{
		{
			name: "log line printed while waiting",
			spec: withStdin(helperSpec("echo")),
			cond: Condition{Match: is("ready")},
			act:  input("starting\nready\nafter\n"),
			want: Ready,
			check: func(t *testing.T, _ context.Context, p *Process, res WaitResult) {
				require.NotNil(t, res.Line)
				assert.Equal(t, "ready", res.Line.Text)
				assert.Equal(t, logring.Stdout, res.Line.Stream)
				assert.Equal(t, p.LogFrom()+3, res.Line.Seq, "the start note, starting, ready")
				assert.GreaterOrEqual(t, res.Seen, uint64(3))
			},
		},
		{
			name: "log line on stderr",
			spec: helperSpec("stderr", "2"),
			cond: Condition{Match: is("err 2")},
			want: Ready,
			check: func(t *testing.T, _ context.Context, _ *Process, res WaitResult) {
				require.NotNil(t, res.Line)
				assert.Equal(t, logring.Stderr, res.Line.Stream)
			},
		},
		{
			name: "log line last before the exit",
			spec: helperSpec("lines", "3"),
			cond: Condition{Match: is("line 3")},
			want: Ready,
			check: func(t *testing.T, _ context.Context, _ *Process, res WaitResult) {
				require.NotNil(t, res.Line)
				assert.Equal(t, "line 3", res.Line.Text)
			},
		},
		{
			name: "log line never printed",
			spec: helperSpec("lines", "3"),
			cond: Condition{Match: is("line 4")},
			want: Exited,
			check: func(t *testing.T, _ context.Context, _ *Process, res WaitResult) {
				assert.Nil(t, res.Line)
				assert.Equal(t, 0, res.Record.ExitCode)
				assert.Equal(t, StatusExited, res.Record.Status)
			},
		},
		{
			name: "notes never match",
			spec: helperSpec("exit", "0"),
			cond: Condition{Match: func(string) bool { return true }},
			want: Exited,
			check: func(t *testing.T, _ context.Context, p *Process, res WaitResult) {
				assert.Nil(t, res.Line)
				assert.Len(t, notes(t, p), 2, "a start and an exit note, neither matched")
			},
		},
		{
			name: "port",
			spec: withStdin(helperSpec("listen", strconv.Itoa(port))),
			cond: Condition{Port: port},
			act:  input("go\n"),
			want: Ready,
			check: func(t *testing.T, _ context.Context, _ *Process, res WaitResult) {
				assert.Equal(t, []int{port}, res.Ports)
			},
		},
		{
			name: "listen",
			skip: needsListen,
			spec: withStdin(helperSpec("listen", "0")),
			cond: Condition{Listen: true},
			act:  input("go\n"),
			want: Ready,
			check: func(t *testing.T, ctx context.Context, p *Process, res WaitResult) {
				assert.Equal(t, []int{printedPort(t, ctx, p)}, res.Ports)
			},
		},
		{
			name: "listen by a grandchild",
			skip: needsListen,
			spec: helperSpec("grandchild-listen"),
			cond: Condition{Listen: true},
			want: Ready,
			check: func(t *testing.T, ctx context.Context, p *Process, res WaitResult) {
				assert.Equal(t, []int{printedPort(t, ctx, p)}, res.Ports)
			},
		},
		{
			name: "http 200",
			spec: helperSpec("sleep"),
			cond: Condition{HTTP: srv.url(t, "/ok")},
			want: Ready,
			check: func(t *testing.T, _ context.Context, _ *Process, res WaitResult) {
				assert.Equal(t, http.StatusOK, res.Status)
			},
		},
		{
			name: "http 404 is an answer",
			spec: helperSpec("sleep"),
			cond: Condition{HTTP: srv.url(t, "/missing")},
			want: Ready,
			check: func(t *testing.T, _ context.Context, _ *Process, res WaitResult) {
				assert.Equal(t, http.StatusNotFound, res.Status)
			},
		},
		{
			name: "http redirect is an answer",
			spec: helperSpec("sleep"),
			cond: Condition{HTTP: srv.url(t, "/moved")},
			want: Ready,
			check: func(t *testing.T, _ context.Context, _ *Process, res WaitResult) {
				assert.Equal(t, http.StatusFound, res.Status)
			},
		},
		{
			name: "http 500 is not ready",
			spec: helperSpec("sleep"),
			cond: Condition{HTTP: srv.url(t, "/broken"), Timeout: 300 * time.Millisecond},
			want: Timeout,
			check: func(t *testing.T, _ context.Context, _ *Process, res WaitResult) {
				assert.Zero(t, res.Status)
			},
		},
		{
			name: "http while the run ends",
			spec: helperSpec("exit", "1"),
			cond: Condition{HTTP: srv.url(t, "/broken")},
			want: Exited,
		},
		{
			name: "exit 0",
			spec: helperSpec("exit", "0"),
			cond: Condition{Exit: true},
			want: Ready,
			check: func(t *testing.T, _ context.Context, _ *Process, res WaitResult) {
				assert.Equal(t, 0, res.Record.ExitCode)
				assert.False(t, res.Record.Status.Live())
			},
		},
		{
			name: "exit 3",
			spec: helperSpec("exit", "3"),
			cond: Condition{Exit: true},
			want: Exited,
			check: func(t *testing.T, _ context.Context, _ *Process, res WaitResult) {
				assert.Equal(t, 3, res.Record.ExitCode)
			},
		},
		{
			name: "exit by a signal",
			skip: needsSignals,
			spec: helperSpec("selfkill", "KILL"),
			cond: Condition{Exit: true},
			want: Exited,
			check: func(t *testing.T, _ context.Context, _ *Process, res WaitResult) {
				assert.Equal(t, "SIGKILL", res.Record.Signal)
				assert.Equal(t, -1, res.Record.ExitCode)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			t.Parallel()
			ctx := testContext(t)
			s := newSupervisor(t, Config{})
			p, err := s.Start(tt.spec)
			require.NoError(t, err)
			c := tt.cond
			if c.Timeout == 0 {
				c.Timeout = testTimeout
			}
			ch := goWait(ctx, p, c, nil)
			if tt.act != nil {
				tt.act(t, p)
			}
			a := answer(t, ctx, ch)
			require.NoError(t, a.err)
			assert.Equal(t, tt.want, a.res.Outcome)
			assert.Same(t, p, a.res.Process)
			require.NotNil(t, a.res.Record)
			assert.Positive(t, a.res.Elapsed)
			if tt.check != nil {
				tt.check(t, ctx, p, a.res)
			}
		})
	}
}

// TestWaitAfterExit: a wait that begins once the run is over answers at
// once, from the run's whole output.
func TestWaitAfterExit(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	p, err := s.Start(helperSpec("lines", "3"))
	require.NoError(t, err)
	waitDone(t, ctx, p)
	tests := []struct {
		name string
		cond Condition
		want Outcome
	}{
		{"first line", Condition{Match: is("line 1")}, Ready},
		{"last line", Condition{Match: is("line 3")}, Ready},
		{"no such line", Condition{Match: is("line 4")}, Exited},
		{"exit 0", Condition{Exit: true}, Ready},
		{"port", Condition{Port: freePort(t)}, Exited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cond
			c.Timeout = testTimeout
			res, err := p.Wait(ctx, c, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.want, res.Outcome)
			assert.Less(t, res.Elapsed, testTimeout/2)
		})
	}
}

// stillRunning checks that a wait left p alone.
func stillRunning(t *testing.T, p *Process) {
	t.Helper()
	assert.Equal(t, StatusRunning, p.Record().Status)
	assert.False(t, isDone(p), "the process ended")
}

// waitCondition is a row of waitConditions.
type waitCondition struct {
	name  string
	skip  string
	cond  Condition
	hangs bool // it probes /hang of the probeServer
}

// waitConditions are the conditions of the timeout and cancellation
// tests, none of which a child in sleep mode meets.
func waitConditions(t *testing.T, srv *probeServer) []waitCondition {
	return []waitCondition{
		{name: "log", cond: Condition{Match: never}},
		{name: "port", cond: Condition{Port: freePort(t)}},
		{name: "listen", skip: needsListen, cond: Condition{Listen: true}},
		{name: "http 500", cond: Condition{HTTP: srv.url(t, "/broken")}},
		{name: "http without an answer", cond: Condition{HTTP: srv.url(t, "/hang")}, hangs: true},
		{name: "exit", cond: Condition{Exit: true}},
	}
}

// TestWaitTimeout: a wait that times out says so, on time (a probe in
// flight does not hold it up), and leaves the process running.
func TestWaitTimeout(t *testing.T) {
	t.Parallel()
	srv := newProbeServer(t)
	const timeout = 300 * time.Millisecond
	for _, tt := range waitConditions(t, srv) {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			t.Parallel()
			ctx := testContext(t)
			s := newSupervisor(t, Config{})
			p, err := s.Start(helperSpec("sleep"))
			require.NoError(t, err)
			c := tt.cond
			c.Timeout = timeout
			res, err := p.Wait(ctx, c, nil)
			require.NoError(t, err)
			assert.Equal(t, Timeout, res.Outcome)
			assert.Same(t, p, res.Process)
			assert.GreaterOrEqual(t, res.Elapsed, timeout)
			assert.Less(t, res.Elapsed, timeout+time.Second, "the timeout was overrun")
			assert.Nil(t, res.Line)
			assert.Empty(t, res.Ports)
			stillRunning(t, p)
		})
	}
}

// TestWaitCancel: a cancelled wait returns the context's error at once,
// whatever it was doing (a probe without an answer included), and leaves
// the process running.
func TestWaitCancel(t *testing.T) {
	t.Parallel()
	srv := newProbeServer(t)
	for _, tt := range waitConditions(t, srv) {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			t.Parallel()
			s := newSupervisor(t, Config{})
			p, err := s.Start(helperSpec("sleep"))
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(testContext(t))
			c := tt.cond
			c.Timeout = testTimeout
			ch := goWait(ctx, p, c, nil)
			if tt.hangs {
				<-srv.hung // cancel while the probe waits for an answer
			}
			cancel()
			select {
			case a := <-ch:
				assert.ErrorIs(t, a.err, context.Canceled)
				assert.Equal(t, WaitResult{}, a.res)
			case <-time.After(time.Second):
				require.FailNow(t, "the cancelled wait did not return within a second")
			}
			stillRunning(t, p)
		})
	}
}

// TestWaitSince: a log wait sees the lines of the run it waits on, or with
// HasSince those after Since, whichever run they belong to; a cursor past
// the newest line is an error.
func TestWaitSince(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	first, err := s.Start(withName("web", helperSpec("print", strconv.Quote("ready\n"))))
	require.NoError(t, err)
	waitDone(t, ctx, first)
	old := allLines(t, first)
	require.Len(t, old, 1)
	second, err := s.Start(withName("web", withStdin(helperSpec("echo"))))
	require.NoError(t, err)
	require.Same(t, first.Log(), second.Log())
	input("later\n")(t, second)
	waitForLine(t, ctx, second, "later")
	newest := second.Log().Stats().LastSeq

	tests := []struct {
		name     string
		since    uint64
		hasSince bool
		match    func(string) bool
		want     Outcome
		wantSeq  uint64 // of the line matched
	}{
		{name: "an old run's line is not this run's", match: is("ready"), want: Timeout},
		{name: "this run's line", match: is("later"), want: Ready, wantSeq: newest},
		{name: "since 0 is the whole log", hasSince: true, match: is("ready"), want: Ready, wantSeq: old[0].Seq},
		{name: "since before the old line", since: old[0].Seq - 1, hasSince: true, match: is("ready"), want: Ready, wantSeq: old[0].Seq},
		{name: "since the old line", since: old[0].Seq, hasSince: true, match: is("ready"), want: Timeout},
		{name: "since the newest line", since: newest, hasSince: true, match: is("later"), want: Timeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Condition{Match: tt.match, Since: tt.since, HasSince: tt.hasSince, Timeout: 200 * time.Millisecond}
			res, err := second.Wait(ctx, c, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.want, res.Outcome)
			var seq uint64
			if res.Line != nil {
				seq = res.Line.Seq
			}
			assert.Equal(t, tt.wantSeq, seq)
		})
	}

	_, err = second.Wait(ctx, Condition{Match: never, Since: newest + 5, HasSince: true, Timeout: time.Second}, nil)
	var ahead *logring.CursorAheadError
	require.ErrorAs(t, err, &ahead)
	assert.Equal(t, newest+5, ahead.Since)
	assert.Equal(t, newest, ahead.Newest)
	assert.ErrorIs(t, err, logring.ErrCursorAhead)
	stillRunning(t, second)
}

// TestWaitBadCondition: a condition that cannot be waited for is an error,
// before anything is waited for.
func TestWaitBadCondition(t *testing.T) {
	t.Parallel()
	u, err := url.Parse("http://localhost/")
	require.NoError(t, err)
	tests := []struct {
		name string
		cond Condition
		want string
	}{
		{"none", Condition{Timeout: time.Second}, "got 0"},
		{"two", Condition{Match: never, Exit: true, Timeout: time.Second}, "got 2"},
		{"all", Condition{Match: never, Port: 1, Listen: true, HTTP: u, Exit: true, Timeout: time.Second}, "got 5"},
		{"port too large", Condition{Port: 65536, Timeout: time.Second}, "port 65536"},
		{"port negative", Condition{Port: -1, Timeout: time.Second}, "port -1"},
		{"no timeout", Condition{Exit: true}, "positive timeout"},
		{"negative timeout", Condition{Exit: true, Timeout: -time.Second}, "positive timeout"},
	}
	ctx := testContext(t)
	s := newSupervisor(t, Config{Clock: newFakeClock()})
	p, err := s.Start(helperSpec("sleep"))
	require.NoError(t, err)
	failing := withName("backoff", helperSpec("exit", "1"))
	failing.Restart = RestartAlways
	inBackoff(t, s, failing)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Wait(ctx, tt.cond, nil)
			assert.ErrorContains(t, err, tt.want)
			_, err = s.Wait(ctx, p.Name(), tt.cond, nil)
			assert.ErrorContains(t, err, tt.want)
			_, err = s.Wait(ctx, "backoff", tt.cond, nil)
			assert.ErrorContains(t, err, tt.want, "in backoff too")
		})
	}
	stillRunning(t, p)
}

func TestWaitListenUnsupported(t *testing.T) {
	if probe.ListenSupported {
		t.Skip("listening sockets are known here")
	}
	t.Parallel()
	s := newSupervisor(t, Config{})
	p, err := s.Start(helperSpec("sleep"))
	require.NoError(t, err)
	_, err = p.Wait(testContext(t), Condition{Listen: true, Timeout: time.Second}, nil)
	assert.ErrorIs(t, err, ErrListenUnsupported)
}

// TestWaitProgress: progress is reported about every ProgressEvery, with
// the time waited so far, the lines seen and the newest of them.
func TestWaitProgress(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	p, err := s.Start(withStdin(helperSpec("echo")))
	require.NoError(t, err)
	input("hello\n")(t, p)
	waitForLine(t, ctx, p, "hello")
	var got []WaitProgress // written by the wait's goroutine, read after it returned
	res, err := p.Wait(ctx, Condition{Match: never, Timeout: 2*ProgressEvery + ProgressEvery/4}, func(pr WaitProgress) {
		got = append(got, pr)
	})
	require.NoError(t, err)
	assert.Equal(t, Timeout, res.Outcome)
	require.Len(t, got, 2)
	assert.GreaterOrEqual(t, got[0].Elapsed, ProgressEvery)
	assert.Greater(t, got[1].Elapsed, got[0].Elapsed)
	for _, pr := range got {
		assert.Equal(t, uint64(2), pr.Seen, "the start note and hello")
		assert.Equal(t, "hello", pr.Last)
	}
}

// failOnce returns a spec of a process named name that fails its first run
// and prints "second run" in the next, restarted on failure.
func failOnce(t *testing.T, name string) Spec {
	spec := withName(name, helperSpec("failonce", filepath.Join(t.TempDir(), "failed")))
	spec.Restart = RestartOnFailure
	return spec
}

// inBackoff starts spec and waits until its first run has failed.
func inBackoff(t *testing.T, s *Supervisor, spec Spec) *Process {
	t.Helper()
	p, err := s.Start(spec)
	require.NoError(t, err)
	<-p.Done()
	require.Equal(t, StatusBackoff, p.Record().Status)
	return p
}

// TestSupervisorWait: the supervisor's wait finds the process by name,
// and follows one in backoff to its next run.
func TestSupervisorWait(t *testing.T) {
	t.Parallel()
	t.Run("unknown", func(t *testing.T) {
		t.Parallel()
		s := newSupervisor(t, Config{})
		_, err := s.Wait(testContext(t), "nope", Condition{Exit: true, Timeout: time.Second}, nil)
		assert.ErrorIs(t, err, ErrUnknown)
		assert.ErrorContains(t, err, `"nope"`)
	})
	t.Run("running", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		s := newSupervisor(t, Config{})
		p, err := s.Start(withName("echo", withStdin(helperSpec("echo"))))
		require.NoError(t, err)
		input("up\n")(t, p)
		res, err := s.Wait(ctx, "echo", Condition{Match: is("up"), Timeout: testTimeout}, nil)
		require.NoError(t, err)
		assert.Equal(t, Ready, res.Outcome)
		assert.Same(t, p, res.Process)
	})
	t.Run("backoff until the timeout", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		s := newSupervisor(t, Config{Clock: newFakeClock()})
		p := inBackoff(t, s, failOnce(t, "flaky"))
		const timeout = 200 * time.Millisecond
		res, err := s.Wait(ctx, "flaky", Condition{Match: is("second run"), Timeout: timeout}, nil)
		require.NoError(t, err)
		assert.Equal(t, Timeout, res.Outcome)
		assert.Same(t, p, res.Process)
		assert.Equal(t, StatusBackoff, res.Record.Status)
		assert.GreaterOrEqual(t, res.Elapsed, timeout)
	})
	t.Run("backoff cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(testContext(t))
		s := newSupervisor(t, Config{Clock: newFakeClock()})
		p := inBackoff(t, s, failOnce(t, "flaky"))
		cancel()
		_, err := s.Wait(ctx, "flaky", Condition{Match: is("second run"), Timeout: testTimeout}, nil)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, StatusBackoff, p.Record().Status)
	})
	t.Run("backoff stopped", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		s := newSupervisor(t, Config{Clock: newFakeClock()})
		p := inBackoff(t, s, failOnce(t, "flaky"))
		ch := make(chan waitAnswer, 1) // its one answer
		go func() {
			res, err := s.Wait(ctx, "flaky", Condition{Match: is("second run"), Timeout: testTimeout}, nil)
			ch <- waitAnswer{res, err}
		}()
		_, err := s.Stop(ctx, "flaky", syscall.SIGTERM, time.Second)
		require.NoError(t, err)
		a := answer(t, ctx, ch)
		require.NoError(t, a.err)
		assert.Equal(t, Exited, a.res.Outcome)
		assert.Same(t, p, a.res.Process)
		assert.Equal(t, StatusExited, a.res.Record.Status)
	})
	t.Run("backoff to the next run", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		clock := newFakeClock()
		s := newSupervisor(t, Config{Clock: clock})
		first := inBackoff(t, s, failOnce(t, "flaky"))
		failedAt := first.Log().Stats().LastSeq // the failure's note
		tests := []struct {
			name string
			cond Condition
		}{
			{"log", Condition{Match: is("second run")}},
			{"log since the failure", Condition{Match: is("second run"), Since: failedAt, HasSince: true}},
		}
		answers := make([]chan waitAnswer, len(tests))
		for i, tt := range tests {
			answers[i] = make(chan waitAnswer, 1) // its one answer
			c := tt.cond
			c.Timeout = testTimeout
			go func() {
				res, err := s.Wait(ctx, "flaky", c, nil)
				answers[i] <- waitAnswer{res, err}
			}()
		}
		clock.Advance(firstBackoff)
		for i, tt := range tests {
			a := answer(t, ctx, answers[i])
			require.NoError(t, a.err, tt.name)
			assert.Equal(t, Ready, a.res.Outcome, tt.name)
			assert.NotSame(t, first, a.res.Process, tt.name)
			assert.Same(t, s.Get("flaky"), a.res.Process, tt.name)
			assert.Equal(t, 2, a.res.Record.Run, tt.name)
			require.NotNil(t, a.res.Line, tt.name)
			assert.Greater(t, a.res.Line.Seq, failedAt, tt.name)
		}
	})
}

// TestSupervisorWaitNextRunRace: a wait blocked on a process in backoff
// wakes as the next run registers, in the middle of it: the old run's
// record turns exited before the next run is published. The wait must
// still find the next run, not end with the old one as exited. The
// interleaving is likely, not certain, in each round.
func TestSupervisorWaitNextRunRace(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	clock := newFakeClock()
	s := newSupervisor(t, Config{Clock: clock})
	for i := range 30 {
		name := "flaky-" + strconv.Itoa(i)
		first := inBackoff(t, s, failOnce(t, name))
		ch := make(chan waitAnswer, 1) // its one answer
		go func() {
			res, err := s.Wait(ctx, name, Condition{Match: is("second run"), Timeout: testTimeout}, nil)
			ch <- waitAnswer{res, err}
		}()
		for range 50 {
			runtime.Gosched() // let the wait block first, most of the time
		}
		clock.Advance(firstBackoff) // the earlier rounds' timers are spent
		a := answer(t, ctx, ch)
		require.NoError(t, a.err)
		require.Equal(t, Ready, a.res.Outcome, "round %d: run %d %+v notes %q", i, a.res.Record.Run, *a.res.Record, notes(t, a.res.Process))
		require.NotSame(t, first, a.res.Process, "round %d", i)
		_, err := s.Stop(ctx, name, syscall.SIGKILL, 0)
		require.NoError(t, err)
	}
}

// TestSupervisorWaitProgressAcrossBackoff: progress goes on while the
// process waits for its next run, and the time waited keeps growing into
// that run.
func TestSupervisorWaitProgressAcrossBackoff(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	clock := newFakeClock()
	s := newSupervisor(t, Config{Clock: clock})
	first := inBackoff(t, s, failOnce(t, "flaky"))
	var got []WaitProgress // written by the wait's goroutine only
	var statuses []Status
	res, err := s.Wait(ctx, "flaky", Condition{Match: never, Timeout: 2*ProgressEvery + ProgressEvery/2}, func(pr WaitProgress) {
		got = append(got, pr)
		statuses = append(statuses, s.Get("flaky").Record().Status)
		if len(got) == 1 {
			clock.Advance(firstBackoff) // the next run starts
		}
	})
	require.NoError(t, err)
	assert.Equal(t, Timeout, res.Outcome)
	assert.NotSame(t, first, res.Process)
	assert.Equal(t, 2, res.Record.Run)
	require.GreaterOrEqual(t, len(got), 2)
	assert.Equal(t, StatusBackoff, statuses[0], "the first report came in backoff")
	for i := 1; i < len(got); i++ {
		assert.Greater(t, got[i].Elapsed, got[i-1].Elapsed, "report %d", i)
	}
	assert.GreaterOrEqual(t, got[1].Elapsed, 2*ProgressEvery-ProgressEvery/4)
	assert.GreaterOrEqual(t, res.Elapsed, got[len(got)-1].Elapsed)
}

// TestWaitManyWaiters: a hundred waits on one process all wake on the one
// line that matches.
func TestWaitManyWaiters(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	p, err := s.Start(withStdin(helperSpec("echo")))
	require.NoError(t, err)
	const n = 100
	var armed sync.WaitGroup
	armed.Add(n)
	answers := make([]<-chan waitAnswer, n)
	for i := range answers {
		var once sync.Once
		answers[i] = goWait(ctx, p, Condition{Timeout: testTimeout, Match: func(s string) bool {
			if s == "arm" {
				once.Do(armed.Done) // this wait has read past arm: it waits for go
			}
			return s == "go"
		}}, nil)
	}
	input("arm\n")(t, p)
	armed.Wait()
	input("go\n")(t, p)
	var seq uint64
	for _, ch := range answers {
		a := answer(t, ctx, ch)
		require.NoError(t, a.err)
		require.Equal(t, Ready, a.res.Outcome)
		require.NotNil(t, a.res.Line)
		assert.Equal(t, "go", a.res.Line.Text)
		if seq == 0 {
			seq = a.res.Line.Seq
		}
		assert.Equal(t, seq, a.res.Line.Seq, "one line for all")
	}
	stillRunning(t, p)
}

// TestWaitLeavesNoGoroutines: waits that end every way leave no goroutine
// behind. It runs alone: goroutines of parallel tests would count.
func TestWaitLeavesNoGoroutines(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) }) // last: after the servers close
	ctx := testContext(t)
	srv := newProbeServer(t)
	s := newSupervisor(t, Config{})
	p, err := s.Start(withStdin(helperSpec("echo")))
	require.NoError(t, err)
	input("up\n")(t, p)
	short := 100 * time.Millisecond
	for _, c := range []Condition{
		{Match: is("up"), Timeout: testTimeout},
		{Match: never, Timeout: short},
		{Port: freePort(t), Timeout: short},
		{Listen: probe.ListenSupported, Exit: !probe.ListenSupported, Timeout: short},
		{HTTP: srv.url(t, "/ok"), Timeout: testTimeout},
		{HTTP: srv.url(t, "/hang"), Timeout: short},
		{Exit: true, Timeout: short},
	} {
		_, err := p.Wait(ctx, c, func(WaitProgress) {})
		require.NoError(t, err)
		_, err = s.Wait(ctx, p.Name(), c, func(WaitProgress) {})
		require.NoError(t, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	ch := goWait(cancelled, p, Condition{HTTP: srv.url(t, "/hang"), Timeout: testTimeout}, nil)
	<-srv.hung
	cancel()
	assert.True(t, errors.Is(answer(t, ctx, ch).err, context.Canceled))
}
