package procstate

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/logring"
)

// Lines of real tools, as the findings tests print them.
const (
	tsError   = "src/components/UserList.tsx(12,7): error TS2322: Type 'string' is not assignable to type 'number'."
	goError   = "./internal/api/server.go:88:14: undefined: handler"
	npmError  = "npm ERR! Missing script: \"dev\""
	viteURL   = "  \x1b[32m➜\x1b[39m  \x1b[1mLocal\x1b[22m:   \x1b[36mhttp://localhost:\x1b[1m5173\x1b[22m/\x1b[39m"
	pythonURL = "Serving HTTP on 0.0.0.0 port 8000 (http://0.0.0.0:8000/) ..."
)

// awaitAnalyzed waits until p's findings are final and returns them.
func awaitAnalyzed(t *testing.T, ctx context.Context, p *Process) Findings {
	t.Helper()
	select {
	case <-p.Analyzed():
	case <-ctx.Done():
		require.FailNow(t, "findings not final", "%q: %s (record %+v)", p.Name(), ctx.Err(), *p.Record())
	}
	f := p.Findings()
	require.True(t, f.Final)
	return f
}

// awaitFindings follows Changes until p's findings satisfy ok, and
// returns them.
func awaitFindings(t *testing.T, ctx context.Context, s *Supervisor, p *Process, ok func(Findings) bool) Findings {
	t.Helper()
	for {
		gen := s.Generation()
		if f := p.Findings(); ok(f) {
			return f
		}
		ch, done := s.Changes(gen)
		select {
		case <-ch:
		case <-ctx.Done():
			done()
			require.FailNow(t, "findings never as expected", "%q: %s; last %+v", p.Name(), ctx.Err(), p.Findings())
		}
		done()
	}
}

// lineText is a findings line's text, or "" for none.
func lineText(l *logring.Line) string {
	if l == nil {
		return ""
	}
	return l.Text
}

// TestFindings: the final findings of runs that print errors of
// several tools and the addresses of dev servers.
func TestFindings(t *testing.T) {
	lines := func(ls ...string) string { return strconv.Quote(strings.Join(ls, "\n") + "\n") }
	long := strings.Repeat("x", MaxErrorText-len("panic: ")-1) + "é and more"
	var urls []string
	for i := range MaxURLs + 3 {
		urls = append(urls, fmt.Sprintf("see http://localhost:%d/ and http://localhost:3000/", 3000+i))
	}
	wantURLs := []string{"http://localhost:3000/"}
	for i := 1; len(wantURLs) < MaxURLs; i++ {
		wantURLs = append(wantURLs, fmt.Sprintf("http://localhost:%d/", 3000+i))
	}
	// exits lets the run end on its own; stopWhenSeen stops it once its
	// output is analyzed (a stop kills it before it can print more).
	exits := func(*testing.T, context.Context, *Supervisor, *Process) {}
	stopWhenSeen := func(t *testing.T, ctx context.Context, s *Supervisor, p *Process) {
		awaitFindings(t, ctx, s, p, func(f Findings) bool { return f.Errors > 0 && len(f.URLs) > 0 })
		_, err := s.Stop(ctx, p.Name(), syscall.SIGKILL, time.Second)
		require.NoError(t, err)
	}
	tests := []struct {
		name       string
		spec       Spec
		end        func(*testing.T, context.Context, *Supervisor, *Process)
		wantErrors int
		wantLast   string
		wantURLs   []string
	}{
		{"nothing", helperSpec("print", lines("hello", "all good: 0 errors")), exits, 0, "", nil},
		{"typescript, go and npm", helperSpec("print", lines("building", tsError, "  more detail", goError, npmError, "done")), exits, 3, npmError, nil},
		{"vite and python", helperSpec("print", lines(viteURL, pythonURL, pythonURL)), exits, 0, "", []string{"http://localhost:5173/", "http://localhost:8000/"}},
		{"errors and urls in one line", helperSpec("print", lines("✘ [ERROR] Could not resolve http://0.0.0.0:4000/x")), exits, 1, "✘ [ERROR] Could not resolve http://0.0.0.0:4000/x", []string{"http://localhost:4000/x"}},
		{"stderr counts", helperSpec("say", lines("http://[::]:9000/"), lines(goError)), stopWhenSeen, 1, goError, []string{"http://localhost:9000/"}},
		{"at most MaxURLs, first seen first", helperSpec("print", lines(urls...)), exits, 0, "", wantURLs},
		{"a long error is cut at a character", helperSpec("print", lines("panic: "+long)), exits, 1, "panic: " + strings.Repeat("x", MaxErrorText-len("panic: ")-1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			s := newSupervisor(t, Config{})
			p, err := s.Start(withName("p", tt.spec))
			require.NoError(t, err)
			tt.end(t, ctx, s, p)
			f := awaitAnalyzed(t, ctx, p)
			assert.Equal(t, tt.wantErrors, f.Errors)
			assert.Equal(t, tt.wantLast, lineText(f.LastError))
			assert.Equal(t, tt.wantURLs, f.URLs)
			assert.False(t, f.Incomplete)
			assert.LessOrEqual(t, len(lineText(f.LastError)), MaxErrorText)
		})
	}
}

// TestFindingsWhileRunning: findings come while the run prints, without
// waiting for its end, and become final after it.
func TestFindingsWhileRunning(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	p, err := s.Start(helperSpec("say", strconv.Quote(tsError+"\n"+pythonURL+"\n")))
	require.NoError(t, err)
	f := awaitFindings(t, ctx, s, p, func(f Findings) bool { return f.Errors == 1 && len(f.URLs) == 1 })
	assert.False(t, f.Final, "the run goes on")
	assert.Equal(t, tsError, lineText(f.LastError))
	assert.Greater(t, f.LastError.Seq, p.LogFrom())
	assert.Equal(t, logring.Stdout, f.LastError.Stream)
	select {
	case <-p.Analyzed():
		assert.Fail(t, "Analyzed closed while the run goes on")
	default:
	}

	_, err = s.Stop(ctx, p.Name(), syscall.SIGTERM, time.Second)
	require.NoError(t, err)
	final := awaitAnalyzed(t, ctx, p)
	f.Final = true
	assert.Equal(t, f, final)
}

// TestFindingsLastLinesOfACrash: the final pass, right after the exit is
// published, holds the error the run printed just before it crashed, also
// when a restart follows; the next run starts with no findings.
func TestFindingsLastLinesOfACrash(t *testing.T) {
	script := strconv.Quote(strings.Repeat("working\n", 500) + goError + "\npanic: boom\n")
	tests := []struct {
		name       string
		spec       Spec
		wantStatus Status
	}{
		{"exits", helperSpec("print", script, "2"), StatusExited},
		{"backoff", withRestart(helperSpec("print", script, "2")), StatusBackoff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			s := newSupervisor(t, Config{Clock: newFakeClock()})
			p, err := s.Start(withName("p", tt.spec))
			require.NoError(t, err)
			f := awaitAnalyzed(t, ctx, p)
			assert.Equal(t, tt.wantStatus, p.Record().Status)
			assert.Equal(t, 2, f.Errors)
			assert.Equal(t, "panic: boom", lineText(f.LastError))
			assert.Equal(t, p.Log().Stats().LastSeq-1, f.LastError.Seq, "the line before the exit note")
		})
	}
}

// TestFindingsPerRun: a restart starts the findings afresh while the log,
// shared by the runs, holds both runs' lines; the old run keeps its own.
func TestFindingsPerRun(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	first, err := s.Start(withName("web", helperSpec("say", strconv.Quote(npmError+"\n"+viteURL+"\n"))))
	require.NoError(t, err)
	awaitFindings(t, ctx, s, first, func(f Findings) bool { return f.Errors == 1 && len(f.URLs) == 1 })

	second, _, err := s.Restart(ctx, "web", syscall.SIGTERM, time.Second)
	require.NoError(t, err)
	old := awaitAnalyzed(t, ctx, first)
	assert.Equal(t, 1, old.Errors)
	assert.Less(t, old.LastError.Seq, second.LogFrom())

	f := awaitFindings(t, ctx, s, second, func(f Findings) bool { return f.Errors > 0 && len(f.URLs) > 0 })
	assert.Equal(t, 1, f.Errors, "only the second run's line")
	assert.Greater(t, f.LastError.Seq, second.LogFrom())
	assert.Equal(t, []string{"http://localhost:5173/"}, f.URLs)
	page, err := second.Log().Read(logring.Query{HasSince: true, Match: func(l *logring.Line) bool { return l.Text == npmError }})
	require.NoError(t, err)
	assert.Len(t, page.Lines, 2, "the log holds both runs' lines")
}

// TestFindingsIncomplete: lines evicted before the analyzer read them are
// owned up to.
func TestFindingsIncomplete(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{LogLines: 5})
	// One write of 100 lines: the ring keeps 5 of them when it publishes.
	p, err := s.Start(helperSpec("print", strconv.Quote(goError+"\n"+strings.Repeat("ok\n", 99))))
	require.NoError(t, err)
	f := awaitAnalyzed(t, ctx, p)
	assert.True(t, f.Incomplete)
	assert.Zero(t, f.Errors, "the error line was evicted unseen")
}

// TestFindingsFailedStart: a run that could not start has final, empty
// findings at once.
func TestFindingsFailedStart(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	p, err := s.Start(Spec{Name: "x", Argv: []string{"./no-such-program"}})
	require.Error(t, err)
	require.NotNil(t, p)
	assert.Equal(t, Findings{Final: true}, awaitAnalyzed(t, ctx, p))
}

// TestFindingsAfterClose: Close returns after the final findings of every
// run are published; a run that ends after the analyzer stopped is
// finished by its waiter.
func TestFindingsAfterClose(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	p, err := s.Start(helperSpec("say", strconv.Quote(goError+"\n")))
	require.NoError(t, err)
	waitForLine(t, ctx, p, goError)
	require.NoError(t, s.Close(ctx))
	assert.True(t, isClosed(p.Analyzed()))
	assert.Equal(t, 1, p.Findings().Errors)

	s2 := newSupervisor(t, Config{})
	s2.stopBackground()
	q, err := s2.Start(helperSpec("print", strconv.Quote(npmError+"\n")))
	require.NoError(t, err)
	f := awaitAnalyzed(t, ctx, q)
	assert.Equal(t, npmError, lineText(f.LastError))
}

// TestCut: a cut never splits a character.
func TestCut(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short", "abc", 5, "abc"},
		{"exact", "abcde", 5, "abcde"},
		{"ascii", "abcdef", 5, "abcde"},
		{"before a two-byte character", "abcdé", 5, "abcd"},
		{"after a two-byte character", "abcé!", 5, "abcé"},
		{"inside a four-byte character", "ab😀cd", 4, "ab"},
		{"zero", "abc", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, cut(tt.in, tt.n))
		})
	}
}

// TestObservationAllocs: reading findings and usage, wanting usage and
// watching for changes allocate nothing: they are atomic loads and stores.
func TestObservationAllocs(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	p, err := s.Start(helperSpec("say", strconv.Quote(goError+"\n")))
	require.NoError(t, err)
	awaitFindings(t, ctx, s, p, func(f Findings) bool { return f.Errors == 1 })
	var f Findings
	var u Usage
	tests := []struct {
		name string
		read func()
	}{
		{"Findings", func() { f = p.Findings() }},
		{"Usage", func() { u, _ = p.Usage() }},
		{"WantUsage", s.WantUsage},
		{"Generation+Changes", func() { _, done := s.Changes(s.Generation()); done() }},
	}
	allocs := make([]float64, len(tests))
	for i, tt := range tests {
		allocs[i] = testing.AllocsPerRun(1000, tt.read)
	}
	assert.Equal(t, goError, lineText(f.LastError))
	_ = u
	if raceEnabled {
		t.Skipf("allocation counts are not meaningful under -race (got %v)", allocs)
	}
	for i, tt := range tests {
		assert.Zero(t, allocs[i], tt.name)
	}
}
