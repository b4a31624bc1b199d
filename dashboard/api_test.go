package dashboard

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/brummer-mcp/brummer-mcp/procstate"
	"github.com/brummer-mcp/brummer-mcp/project"
	"github.com/brummer-mcp/brummer-mcp/tools"
)

// These tests run in sequence (no t.Parallel): each checks that it leaves
// no goroutine behind, which other tests running beside it would spoil.

// rig is a real supervisor, its dashboard and an HTTP server for it.
type rig struct {
	t   *testing.T
	sup *procstate.Supervisor
	d   *Dashboard
	srv *httptest.Server
	dir string
}

type rigOptions struct {
	files    map[string]string // the project's files
	readOnly bool
	allow    []string // the --allow policy
	cfg      procstate.Config
}

func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, leaks) }) // runs last
	dir := t.TempDir()
	for name, text := range o.files {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	o.cfg.Dir = dir
	if o.cfg.StopGrace == 0 {
		o.cfg.StopGrace = 2 * time.Second
	}
	sup, err := procstate.New(o.cfg, zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, sup.Close(ctx))
	})
	d := New(Config{
		Sup:      sup,
		Project:  project.New(dir, zerolog.Nop()),
		Prepare:  tools.ScriptStep(tools.Policy{Allow: o.allow}),
		ReadOnly: o.readOnly,
		Version:  "v1.2.3-test",
		Log:      zerolog.Nop(),
	})
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(d.Close) // before the server's Close: cleanups run last first
	return &rig{t: t, sup: sup, d: d, srv: srv, dir: dir}
}

// start starts a shell command under name.
func (r *rig) start(name, command string) *procstate.Process {
	r.t.Helper()
	p, err := r.sup.Start(procstate.Spec{Name: name, Command: command})
	require.NoError(r.t, err)
	return p
}

// lines waits until p's log holds at least n lines.
func (r *rig) lines(p *procstate.Process, n uint64) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Log().WaitFor(ctx, n); err != nil {
		r.t.Fatalf("%s has %d lines, want %d", p.Name(), p.Log().Stats().LastSeq, n)
	}
}

// exited waits until p's run has ended and its findings are final.
func (r *rig) exited(p *procstate.Process) {
	r.t.Helper()
	select {
	case <-p.Analyzed():
	case <-time.After(20 * time.Second):
		r.t.Fatalf("%s did not end", p.Name())
	}
}

// get fetches path and returns the answer and its body.
func (r *rig) get(path string) (*http.Response, string) {
	r.t.Helper()
	res, err := http.Get(r.srv.URL + path)
	require.NoError(r.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(r.t, err)
	return res, string(body)
}

// getJSON fetches path, requires status, and decodes the answer.
func getJSON[T any](r *rig, path string, status int) T {
	r.t.Helper()
	res, body := r.get(path)
	require.Equal(r.t, status, res.StatusCode, body)
	require.Equal(r.t, "application/json; charset=utf-8", res.Header.Get("Content-Type"))
	var out T
	require.NoError(r.t, json.Unmarshal([]byte(body), &out), body)
	return out
}

// post sends a JSON body to path as the page does, with header changes.
func (r *rig) post(path, body string, header map[string]string) (int, string) {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.srv.URL+path, strings.NewReader(body))
	require.NoError(r.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(actionHeader, "1")
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(r.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(r.t, err)
	return res.StatusCode, string(b)
}

// wantDone decodes the answer of a POST that succeeded.
func wantDone(t *testing.T, status int, body string) string {
	t.Helper()
	require.Equal(t, http.StatusOK, status, body)
	var out done
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	assert.True(t, out.OK)
	return out.Message
}

// wantError decodes the answer of a POST that failed with status.
func wantError(t *testing.T, status int, body string, wantStatus int) string {
	t.Helper()
	require.Equal(t, wantStatus, status, body)
	var out errorBody
	require.NoError(t, json.Unmarshal([]byte(body), &out), body)
	return out.Error
}

func TestStatic(t *testing.T) {
	r := newRig(t, rigOptions{})
	index, err := ui.ReadFile("ui/index.html")
	require.NoError(t, err)
	tests := []struct {
		name, path, contentType string
		status                  int
	}{
		{"index", "/", "text/html; charset=utf-8", http.StatusOK},
		{"script", "/ui/app.js", "text/javascript; charset=utf-8", http.StatusOK},
		{"style", "/ui/app.css", "text/css; charset=utf-8", http.StatusOK},
		{"index by name", "/ui/index.html", "text/html; charset=utf-8", http.StatusOK},
		{"missing asset", "/ui/nope.js", "text/plain; charset=utf-8", http.StatusNotFound},
		{"other path", "/favicon.ico", "text/plain; charset=utf-8", http.StatusNotFound},
		{"unknown endpoint", "/api/nope", "application/json; charset=utf-8", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := r.get(tt.path)
			assert.Equal(t, tt.status, res.StatusCode)
			assert.Equal(t, tt.contentType, res.Header.Get("Content-Type"))
			assert.Equal(t, csp, res.Header.Get("Content-Security-Policy"))
			assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
			assert.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
		})
	}
	res, body := r.get("/")
	assert.Equal(t, string(index), body)
	assert.Equal(t, "no-cache", res.Header.Get("Cache-Control"), "assets are revalidated")
	etag := res.Header.Get("ETag")
	require.NotEmpty(t, etag)

	req, err := http.NewRequest(http.MethodGet, r.srv.URL+"/", nil)
	require.NoError(t, err)
	req.Header.Set("If-None-Match", etag)
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNotModified, res.StatusCode)

	for _, path := range []string{"/api/state", "/api/logs", "/api/nope"} {
		res, _ := r.get(path)
		assert.Equal(t, "no-store", res.Header.Get("Cache-Control"), path)
		assert.Equal(t, csp, res.Header.Get("Content-Security-Policy"), path)
	}
	assert.Equal(t, "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'", csp)
}

func TestState(t *testing.T) {
	r := newRig(t, rigOptions{files: map[string]string{
		"package.json": `{"scripts": {"dev": "vite", "build": "vite build"}}`,
		"brummer.json": "{\"processes\": {\n  \"api\": {\"argv\": [\"sleep\", \"60\"]},\n  \"bad\": {\"cmd\": \"x\"}\n}}",
	}})
	s := getJSON[state](r, "/api/state", http.StatusOK)
	assert.Equal(t, "v1.2.3-test", s.Version)
	assert.False(t, s.ReadOnly)
	assert.Equal(t, r.dir, s.Cwd)
	assert.Equal(t, []procInfo{
		{Name: "api", Status: "idle", Command: "sleep 60", Source: "brummer.json"},
		{Name: "build", Status: "idle", Command: "npm run build", Source: "package.json"},
		{Name: "dev", Status: "idle", Command: "npm run dev", Source: "package.json"},
	}, s.Processes)
	assert.Equal(t, []project.ConfigError{{File: "brummer.json", Line: 3, Column: 11, Message: `process "bad": unknown field "cmd"`}}, s.ConfigErrors)

	crash := r.start("crash", `printf '\033[31merror: could not compile \033[0m\nhttp://localhost:5173/\n'; exit 3`)
	killed := r.start("killed", "kill -9 $$")
	api := r.start("api", "exec sleep 60")
	r.exited(crash)
	r.exited(killed)
	r.lines(api, 1)
	s = getJSON[state](r, "/api/state", http.StatusOK)
	require.Len(t, s.Processes, 5)
	byName := map[string]procInfo{}
	for _, p := range s.Processes {
		byName[p.Name] = p
	}
	assert.Equal(t, []string{"api", "build", "crash", "dev", "killed"}, names(s.Processes), "sorted, idle ones among them")

	a := byName["api"]
	assert.Equal(t, "running", a.Status)
	assert.Equal(t, api.Record().Pid, a.Pid)
	assert.Equal(t, "exec sleep 60", a.Command)
	assert.Equal(t, 1, a.Run)
	assert.Empty(t, a.Source, "a process that runs is not idle")
	assert.Nil(t, a.ExitCode)

	c := byName["crash"]
	assert.Equal(t, "exited", c.Status)
	require.NotNil(t, c.ExitCode)
	assert.Equal(t, 3, *c.ExitCode)
	assert.Equal(t, 1, c.Errors)
	require.NotNil(t, c.LastErr)
	assert.Equal(t, "error: could not compile ", c.LastErr.Text, "escapes stripped")
	assert.Equal(t, []string{"http://localhost:5173/"}, c.URLs)
	assert.Equal(t, crash.Log().Stats().LastSeq, c.LastSeq)

	k := byName["killed"]
	assert.Equal(t, "SIGKILL", k.Signal)
	assert.Nil(t, k.ExitCode, "no exit code for a run killed by a signal")

	// The wire form: fields that apply, always the required ones.
	_, body := r.get("/api/state")
	var raw struct {
		Processes    []map[string]any `json:"processes"`
		ConfigErrors []any            `json:"config_errors"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &raw))
	for _, key := range []string{"name", "status", "pid", "command", "uptime_ms", "run", "restarts", "last_seq"} {
		assert.Contains(t, raw.Processes[0], key)
	}
	assert.NotContains(t, raw.Processes[0], "exit_code")
	assert.Equal(t, "idle", raw.Processes[1]["status"])
	assert.Equal(t, "package.json", raw.Processes[1]["source"])
}

func names(ps []procInfo) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

// xss is what a hostile or careless process may print: HTML and terminal
// escapes. The API returns it as printed; the page inserts it as text.
const xss = "\x1b[1;31m<img src=x onerror=alert(1)>\x1b[0m & \"quotes\" </script>"

func TestLogs(t *testing.T) {
	r := newRig(t, rigOptions{files: map[string]string{"package.json": `{"scripts": {"dev": "vite"}}`}})
	web := r.start("web", `printf 'first\nsecond\nGET /x 200\n'; exec sleep 60`)
	errs := r.start("errs", `echo oops >&2; exec sleep 60`)
	// The command reads the hostile line from the environment: no quoting
	// to get wrong in the test itself.
	p, err := r.sup.Start(procstate.Spec{Name: "api", Command: `printf '%s\n' "$XSS"; echo done; exec sleep 60`, Env: map[string]string{"XSS": xss}})
	require.NoError(t, err)
	r.lines(web, 4) // the start note and 3 lines
	r.lines(errs, 2)
	r.lines(p, 3)

	one := getJSON[lines](r, "/api/logs?name=api", http.StatusOK)
	require.Len(t, one.Lines, 3)
	assert.Equal(t, "system", one.Lines[0].Stream)
	assert.Equal(t, line{P: "api", Seq: 2, Stream: "stdout", Text: xss, TS: one.Lines[1].TS}, one.Lines[1], "raw text, escapes and markup as printed")
	assert.InDelta(t, time.Now().UnixMilli(), one.Lines[1].TS, 60_000, "ts is in Unix milliseconds")
	assert.Equal(t, "c1:api=3", one.Cursor)
	assert.Zero(t, one.Missed)

	// On the wire the text is JSON-escaped only: no HTML entities.
	_, body := r.get("/api/logs?name=api")
	assert.Contains(t, body, `"text":"\u001b[1;31m<img src=x onerror=alert(1)>\u001b[0m & \"quotes\" </script>"`)
	assert.NotContains(t, body, "&lt;")
	assert.NotContains(t, body, `\u003c`)

	// Filters: grep sees the text without escapes; stream.
	f := getJSON[lines](r, "/api/logs?name=api&grep="+url.QueryEscape(`^<img src=x`), http.StatusOK)
	require.Len(t, f.Lines, 1)
	assert.Equal(t, xss, f.Lines[0].Text)
	f = getJSON[lines](r, "/api/logs?stream=stderr", http.StatusOK)
	require.Len(t, f.Lines, 1)
	assert.Equal(t, line{P: "errs", Seq: 2, Stream: "stderr", Text: "oops", TS: f.Lines[0].TS}, f.Lines[0])
	assert.Equal(t, "c1:api=3,errs=2,web=4", f.Cursor)
	f = getJSON[lines](r, "/api/logs?name=web&stream=system", http.StatusOK)
	require.Len(t, f.Lines, 1)
	assert.Contains(t, f.Lines[0].Text, "[run 1] started: ")

	// A cursor reads on from where it stands.
	f = getJSON[lines](r, "/api/logs?name=web&tail=2", http.StatusOK)
	assert.Equal(t, []uint64{3, 4}, seqs(f.Lines))
	f = getJSON[lines](r, "/api/logs?name=web&cursor="+url.QueryEscape("c1:web=1"), http.StatusOK)
	assert.Equal(t, []uint64{2, 3, 4}, seqs(f.Lines))
	assert.Equal(t, []string{"first", "second", "GET /x 200"}, texts(f.Lines))
	f = getJSON[lines](r, "/api/logs?name=web&cursor="+url.QueryEscape(f.Cursor), http.StatusOK)
	assert.Empty(t, f.Lines)
	assert.NotNil(t, f.Lines, "an empty list, not null")
	assert.Equal(t, "c1:web=4", f.Cursor)

	// All processes, merged in read order, in one cursor form.
	all := getJSON[lines](r, "/api/logs?name=", http.StatusOK)
	assert.Len(t, all.Lines, 9)
	assert.Equal(t, "c1:api=3,errs=2,web=4", all.Cursor)
	procs := map[string]int{}
	for i, l := range all.Lines {
		procs[l.P]++
		if i > 0 {
			assert.LessOrEqual(t, all.Lines[i-1].TS, l.TS, "read order")
		}
	}
	assert.Equal(t, map[string]int{"api": 3, "errs": 2, "web": 4}, procs)
	all = getJSON[lines](r, "/api/logs?cursor="+url.QueryEscape("c1:api=2,errs=2"), http.StatusOK)
	assert.Len(t, all.Lines, 5, "a process the cursor does not name is read from its start")

	// A project's process that has not run has an empty log.
	idle := getJSON[lines](r, "/api/logs?name=dev", http.StatusOK)
	assert.Empty(t, idle.Lines)
	assert.Equal(t, "c1:", idle.Cursor)

	tests := []struct {
		name, query, err string
		status           int
	}{
		{"bad regexp", "name=web&grep=" + url.QueryEscape("(oops"), `"grep" "(oops" is not a valid RE2 regular expression: missing closing ): ` + "`(oops`", http.StatusBadRequest},
		{"not RE2", "grep=" + url.QueryEscape(`(?=x)`), `"grep" "(?=x)" is not a valid RE2 regular expression: invalid or unsupported Perl syntax: ` + "`(?=`", http.StatusBadRequest},
		{"long grep", "grep=" + strings.Repeat("a", 1025), `"grep" is 1025 bytes; the limit is 1024`, http.StatusBadRequest},
		{"bad stream", "stream=out", `"stream" must be one of all, stdout, stderr, system, got "out"`, http.StatusBadRequest},
		{"bad tail", "tail=5000", `"tail" must be 0..1000, got "5000"`, http.StatusBadRequest},
		{"bad cursor", "cursor=17", `"cursor" "17": not a cursor of this server; pass a cursor this server gave, or none to read the newest lines`, http.StatusBadRequest},
		{"bad name", "name=a/b", `"name" "a/b" is not a process name`, http.StatusBadRequest},
		{"unknown name", "name=nope", `unknown process "nope" (known: api, dev, errs, web)`, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := getJSON[errorBody](r, "/api/logs?"+tt.query, tt.status)
			assert.Equal(t, tt.err, e.Error)
		})
	}
}

func texts(ls []line) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Text
	}
	return out
}

func seqs(ls []line) []uint64 {
	out := make([]uint64, len(ls))
	for i, l := range ls {
		out[i] = l.Seq
	}
	return out
}

// TestLogsBehind: a reader further behind than 1000 lines skips ahead to
// the newest 1000 and is told how many it missed.
func TestLogsBehind(t *testing.T) {
	r := newRig(t, rigOptions{})
	p := r.start("gen", "seq 1 3000; exec sleep 60")
	r.lines(p, 3001)
	f := getJSON[lines](r, "/api/logs?name=gen&cursor="+url.QueryEscape("c1:gen=1"), http.StatusOK)
	require.Len(t, f.Lines, maxLines)
	assert.Equal(t, uint64(2000), f.Missed, "lines 2..2001 skipped")
	assert.Equal(t, "2001", f.Lines[0].Text)
	assert.Equal(t, "3000", f.Lines[maxLines-1].Text)
	assert.Equal(t, "c1:gen=3001", f.Cursor)

	// The same for a merged view, and a filter does not change the count.
	f = getJSON[lines](r, "/api/logs?grep=0%24&cursor="+url.QueryEscape("c1:gen=1"), http.StatusOK)
	assert.Equal(t, uint64(2000), f.Missed)
	assert.Len(t, f.Lines, 100, "2010, 2020, ... 3000")

	// The tail is at most 1000 lines.
	f = getJSON[lines](r, "/api/logs?name=gen&tail=1000", http.StatusOK)
	assert.Len(t, f.Lines, 1000)
}

// readEvents reads server-sent events from body into a channel, closed at
// the end of the body; the caller closes body to stop it.
func readEvents(body io.Reader) <-chan event {
	out := make(chan event, 1000)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" || ev.comment {
					ev.at = time.Now()
					out <- ev
				}
				ev = event{}
			case strings.HasPrefix(line, ":"):
				ev.comment = true
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return out
}

type event struct {
	name, data string
	comment    bool
	at         time.Time
}
