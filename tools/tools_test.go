package tools

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/internal/toolresult"
	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// TestToolDefinitions checks the rules every tool definition follows. The
// texts themselves are pinned by the golden files (golden_test.go).
func TestToolDefinitions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	list, err := h.client.ListTools(t.Context(), listToolsRequest())
	require.NoError(t, err)
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
		assert.Regexp(t, `^[a-z][a-z_]{0,63}$`, tool.Name, "tool names are short snake_case")
		assert.Empty(t, tool.Title, "%s: the name says it; a title costs every agent bytes", tool.Name)
		assert.NotEmpty(t, tool.Description, tool.Name)
		assert.Equal(t, "object", tool.InputSchema.Type, tool.Name)
		// Absent hints mean the spec's defaults: not read-only,
		// destructive, not idempotent, open world.
		a := tool.Annotations
		readOnly := tool.Name == "process_list" || tool.Name == "process_logs" || tool.Name == "process_wait"
		assert.Equal(t, readOnly, a.ReadOnlyHint != nil && *a.ReadOnlyHint, tool.Name)
		if readOnly {
			assert.False(t, *a.OpenWorldHint, tool.Name)
		}
		assert.Equal(t, "object", tool.OutputSchema.Type, tool.Name)
		assert.NotEmpty(t, tool.OutputSchema.Properties, tool.Name)
	}
	assert.ElementsMatch(t, []string{"process_start", "process_list", "process_stop", "process_restart", "process_input", "process_logs", "process_wait"}, names)
}

// TestBadInputs: every mistake a model can make is a tool error that names
// the argument and the rule, and leaves the server and the other processes
// as they were.
func TestBadInputs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	ok[processInfo](h, "process_start", `{"name":"keeper","argv":["sleep","60"]}`)
	ok[processInfo](h, "process_start", `{"name":"done","command":"echo hi"}`)
	h.waitDone("done")

	tests := []struct {
		name string
		tool string
		args string
		want string
	}{
		{"start: neither command nor argv", "process_start", `{}`, `pass "command"`},
		{"start: both", "process_start", `{"command":"ls","argv":["ls"]}`, `pass exactly one of "command" (a shell string), "argv" (an array of strings) or "script"`},
		{"start: blank command", "process_start", `{"command":"   "}`, `"command" is blank`},
		{"start: empty argv", "process_start", `{"argv":[]}`, `pass "command"`},
		{"start: empty program", "process_start", `{"argv":[""]}`, `"argv"[0], the program, is empty`},
		{"start: argv not strings", "process_start", `{"argv":[1,2]}`, `"argv" must be an array of strings`},
		{"start: command not string", "process_start", `{"command":42}`, `"command" must be a string, got number`},
		{"start: NUL in argv", "process_start", `{"argv":["ls","a\u0000b"]}`, `"argv"[1] contains a NUL byte`},
		{"start: NUL in command", "process_start", `{"command":"ls\u0000"}`, `"command" contains a NUL byte`},
		{"start: name with slash", "process_start", `{"name":"a/b","command":"true"}`, `"name" "a/b" must match`},
		{"start: name with dots", "process_start", `{"name":"..","command":"true"}`, `"name" ".." must match`},
		{"start: name with space", "process_start", `{"name":"my app","command":"true"}`, `"name" "my app" must match`},
		{"start: name too long", "process_start", `{"name":"` + strings.Repeat("a", 65) + `","command":"true"}`, `"name"`},
		{"start: name in use", "process_start", `{"name":"keeper","command":"true"}`, `name "keeper" is in use by a running process`},
		{"start: cwd missing", "process_start", `{"command":"true","cwd":"/nonexistent/dir"}`, `"cwd" "/nonexistent/dir" is not usable: "/nonexistent/dir" does not exist`},
		{"start: cwd is a file", "process_start", `{"command":"true","cwd":"/etc/hostname"}`, `is not a directory`},
		{"start: env key with =", "process_start", `{"command":"true","env":{"A=B":"c"}}`, `"env" key "A=B" is invalid`},
		{"start: env empty key", "process_start", `{"command":"true","env":{"":"c"}}`, `"env" key "" is invalid`},
		{"start: env value not string", "process_start", `{"command":"true","env":{"A":1}}`, `"env" must be an object of string values`},
		{"start: env NUL value", "process_start", `{"command":"true","env":{"A":"x\u0000"}}`, `"env" value of "A" contains a NUL byte`},
		{"start: bad restart", "process_start", `{"command":"true","restart":"sometimes"}`, `"restart" must be one of never, on-failure, always, got "sometimes"`},
		{"start: max_restarts 0", "process_start", `{"command":"true","restart":"always","max_restarts":0}`, `"max_restarts" must be 1..1000, got 0`},
		{"start: unknown argument", "process_start", `{"command":"true","shell":"bash"}`, `unknown argument "shell" (allowed: argv, command, cwd, env, max_restarts, name, restart, script, stdin, wait_for)`},
		{"start: program not found", "process_start", `{"name":"ghost","argv":["no-such-program-xyz"]}`, `cannot start "ghost": program "no-such-program-xyz" not found in PATH; it is listed with status failed`},
		{"start: huge command", "process_start", `{"command":"` + strings.Repeat("x", maxCommandBytes+1) + `"}`, `"command" is 65537 bytes; the limit is 65536`},
		{"list: bad status", "process_list", `{"status":"zombie"}`, `"status" must be one of all, running, exited, idle, got "zombie"`},
		{"list: status not string", "process_list", `{"status":1}`, `"status" must be a string`},
		{"stop: missing name", "process_stop", `{}`, `give "name", the process to stop (see process_list), or "all": true`},
		{"stop: unknown name", "process_stop", `{"name":"web"}`, `unknown process "web" (known: done, ghost, keeper)`},
		{"stop: bad signal", "process_stop", `{"name":"keeper","signal":"SIGFOO"}`, `"signal" must be one of TERM, INT, HUP, QUIT, KILL, USR1, USR2, got "SIGFOO"`},
		{"stop: negative timeout", "process_stop", `{"name":"keeper","timeout_ms":-1}`, `"timeout_ms" must be 0..60000, got -1`},
		{"stop: huge timeout", "process_stop", `{"name":"keeper","timeout_ms":60001}`, `"timeout_ms" must be 0..60000, got 60001`},
		{"stop: fractional timeout", "process_stop", `{"name":"keeper","timeout_ms":1.5}`, `"timeout_ms" must be an integer, got number 1.5`},
		{"stop: timeout overflow", "process_stop", `{"name":"keeper","timeout_ms":1e30}`, `"timeout_ms" must be an integer`},
		{"logs: since without name", "process_logs", `{"since":3}`, `"since" is the cursor of one process ("name"); for several, pass the next_cursor you got as "cursor"`},
		{"logs: name and names", "process_logs", `{"name":"a","names":["b"]}`, `pass "name" (one process) or "names" (several), not both`},
		{"logs: cursor with name", "process_logs", `{"name":"done","cursor":"c1:"}`, `"cursor" reads several processes; with "name", pass next_since as "since"`},
		{"logs: bad cursor", "process_logs", `{"cursor":"abc"}`, `"cursor" "abc": not a cursor of this server; pass a next_cursor from process_logs`},
		{"logs: damaged cursor", "process_logs", `{"cursor":"c1:!!"}`, `"cursor" "c1:!!": the cursor is damaged`},
		{"logs: bad last", "process_logs", `{"last":"2 minutes"}`, `"last" "2 minutes" is not a positive duration such as "90s", "2m" or "1h"`},
		{"logs: bad since_time", "process_logs", `{"since_time":"yesterday"}`, `"since_time" "yesterday" is not an RFC 3339 time`},
		{"logs: last and since_time", "process_logs", `{"last":"2m","since_time":"2026-12-06T10:00:00Z"}`, `pass "last"`},
		{"logs: context alone", "process_logs", `{"name":"done","context":2}`, `"context" shows lines around matches: pass "grep" or "errors": true with it`},
		{"logs: context range", "process_logs", `{"name":"done","grep":"x","context":21}`, `"context" must be 0..20, got 21`},
		{"logs: unknown of names", "process_logs", `{"names":["done","nope"]}`, `unknown process "nope"`},
		{"logs: unknown name", "process_logs", `{"name":"nope"}`, `unknown process "nope" (known:`},
		{"logs: invalid regex", "process_logs", `{"name":"done","grep":"(unclosed"}`, "\"grep\" \"(unclosed\" is not a valid RE2 regular expression: missing closing ): `(unclosed`"},
		{"logs: huge regex", "process_logs", `{"name":"done","grep":"` + strings.Repeat("a", maxGrepBytes+1) + `"}`, `"grep" is 1025 bytes; the limit is 1024`},
		{"logs: negative tail", "process_logs", `{"name":"done","tail":-1}`, `"tail" must be 0..5000, got -1`},
		{"logs: huge tail", "process_logs", `{"name":"done","tail":5001}`, `"tail" must be 0..5000, got 5001`},
		{"logs: zero limit", "process_logs", `{"name":"done","limit":0}`, `"limit" must be 1..5000, got 0`},
		{"logs: negative since", "process_logs", `{"name":"done","since":-5}`, `"since" must be a non-negative integer, got number -5`},
		{"logs: since and tail", "process_logs", `{"name":"done","since":0,"tail":5}`, `pass either a cursor ("since", "cursor": lines after it) or "tail"`},
		{"logs: bad stream", "process_logs", `{"name":"done","stream":"stdin"}`, `"stream" must be one of all, stdout, stderr, system, got "stdin"`},
		{"logs: cursor from the future", "process_logs", `{"name":"done","since":999}`, `"since" 999 is past the newest line of "done" (3)`},
		{"logs: since as string", "process_logs", `{"name":"done","since":"5"}`, `"since" must be a non-negative integer, got string`},
		{"start: 10 MB argument", "process_start", `{"command":"` + strings.Repeat("y", 10<<20) + `"}`, "bytes, more than the 1048576 allowed"},
		{"start: NUL in name", "process_start", `{"name":"a\u0000b","command":"true"}`, `"name" "a\x00b" must match`},
		{"start: NUL in env key", "process_start", `{"command":"true","env":{"A\u0000":"x"}}`, `"env" key "A\x00" is invalid`},
		{"start: NUL in cwd", "process_start", `{"command":"true","cwd":"/tmp\u0000x"}`, `"cwd" contains a NUL byte`},
		{"start: arguments not an object", "process_start", `["ls"]`, "arguments must be a JSON object"},
		{"start: env as array", "process_start", `{"command":"true","env":["A=1"]}`, `"env" must be an object of string values, got array`},
		{"list: unknown argument", "process_list", `{"name":"x"}`, `unknown argument "name" (allowed: after, limit, status)`},
		{"list: zero limit", "process_list", `{"limit":0}`, `"limit" must be 1..1000, got 0`},
		{"list: huge limit", "process_list", `{"limit":1001}`, `"limit" must be 1..1000, got 1001`},
		{"stop: signal as number", "process_stop", `{"name":"keeper","signal":9}`, `"signal" must be a string, got number`},
		{"stop: signal 0", "process_stop", `{"name":"keeper","signal":"0"}`, `"signal" must be one of TERM`},
		{"logs: limit huge", "process_logs", `{"name":"done","limit":1e12}`, `"limit" must be 1..5000, got 1000000000000`},
		{"logs: since overflow", "process_logs", `{"name":"done","since":1e30}`, `"since" must be a non-negative integer`},
		{"logs: regex repeat too big", "process_logs", `{"name":"done","grep":"a{1001}"}`, "invalid repeat count"},
		{"logs: unknown argument", "process_logs", `{"name":"done","follow":true}`, `unknown argument "follow" (allowed: context, cursor, errors, grep, last, limit, name, names, raw, since, since_time, stream, tail, timestamps)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.call(tt.tool, tt.args)
			assert.True(t, res.IsError, "want a tool error, got %s", toolresult.Text(res))
			assert.Contains(t, toolresult.Text(res), tt.want)
			// The server is unaffected: it serves, and the live process lives.
			list, _ := ok[listResult](h, "process_list", `{"status":"running"}`)
			require.Len(t, list.Processes, 1)
			assert.Equal(t, "keeper", list.Processes[0].Name)
		})
	}
}

func TestStartListLogsStop(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	info, txt := ok[processInfo](h, "process_start", `{"name":"web","command":"for i in $(seq 1 5); do echo line $i; done; echo warn >&2; exec sleep 60"}`)
	assert.Equal(t, "web", info.Name)
	assert.Equal(t, "running", info.Status)
	assert.Positive(t, info.Pid)
	assert.Contains(t, txt, fmt.Sprintf("started web (pid %d)", info.Pid))
	h.waitLines("web", 7) // the server's "started" note, then six lines

	list, txt := ok[listResult](h, "process_list", ``)
	require.Len(t, list.Processes, 1)
	assert.Equal(t, "running", list.Processes[0].Status)
	assert.Equal(t, uint64(7), list.Processes[0].LastSeq)
	assert.Empty(t, list.Processes[0].Cwd, "the default working directory is shown once, at the top")
	assert.Equal(t, h.sup.Config().Dir, list.Cwd)
	assert.Positive(t, list.Version)
	assert.Contains(t, txt, "web running pid=")

	// Lines of one stream keep their order; the two pipes are read
	// concurrently, so stderr may land anywhere between them.
	logs, txt := ok[logsResult](h, "process_logs", `{"name":"web","stream":"stdout"}`)
	assert.Equal(t, []string{"line 1", "line 2", "line 3", "line 4", "line 5"}, texts(logs.Lines))
	assert.Equal(t, logsResult{Name: "web", Status: "running", FirstSeq: logs.FirstSeq, logColumns: logColumns{Lines: logs.Lines, Seqs: logs.Seqs}, NextSince: 7}, logs,
		"stdout and no time: the defaults are not shown")
	assert.Equal(t, uint64(7), logs.NextSince)
	assert.Contains(t, txt, "line 1\nline 2\nline 3\nline 4\nline 5\n[next_since=")
	logs, txt = ok[logsResult](h, "process_logs", `{"name":"web","stream":"stderr"}`)
	require.Len(t, logs.Lines, 1)
	assert.Equal(t, []string{"warn"}, logs.Lines)
	assert.Equal(t, []int{0}, logs.Stderr)
	assert.Equal(t, "[stderr] warn\n[next_since=7 status=running]", txt)
	logs, txt = ok[logsResult](h, "process_logs", `{"name":"web","stream":"stderr","timestamps":true}`)
	require.Len(t, logs.Lines, 1)
	require.Len(t, logs.TS, 1)
	ts, err := time.Parse(time.RFC3339Nano, logs.TS[0])
	require.NoError(t, err, "ts %q", logs.TS[0])
	assert.WithinDuration(t, time.Now(), ts, time.Minute)
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, logs.TS[0])
	assert.Equal(t, logs.TS[0]+" [stderr] warn\n[next_since=7 status=running]", txt)
	logs, txt = ok[logsResult](h, "process_logs", `{"name":"web"}`)
	assert.Len(t, logs.Lines, 7)
	assert.Equal(t, []int{0}, logs.System, "the note of the start")
	assert.Regexp(t, `^\[brummer\] \[run 1\] started: for i in .* \(pid \d+\)\n`, txt)

	stopped, txt := ok[stopResult](h, "process_stop", `{"name":"web"}`)
	assert.Equal(t, "exited", stopped.Status)
	assert.Equal(t, "SIGTERM", stopped.Signal)
	assert.Nil(t, stopped.ExitCode)
	assert.False(t, stopped.Killed)
	assert.Regexp(t, `^stopped web \(ran [0-9.]+m?s\): killed by SIGTERM$`, txt)

	again, txt := ok[stopResult](h, "process_stop", `{"name":"web"}`)
	assert.True(t, again.AlreadyStopped)
	assert.Equal(t, "web was already stopped (killed by SIGTERM)", txt)

	// Exited processes stay listed with their logs.
	list, _ = ok[listResult](h, "process_list", `{"status":"exited"}`)
	require.Len(t, list.Processes, 1)
	logs, txt = ok[logsResult](h, "process_logs", `{"name":"web","grep":"^line [24]$"}`)
	assert.Equal(t, []string{"line 2", "line 4"}, texts(logs.Lines))
	assert.Equal(t, "exited", logs.Status)
	assert.Equal(t, "SIGTERM", logs.Signal, "the exit status, with the logs")
	assert.Contains(t, txt, "status=exited signal=SIGTERM]")
	logs, _ = ok[logsResult](h, "process_logs", `{"name":"web","stream":"system"}`)
	require.Len(t, logs.Lines, 2)
	assert.Regexp(t, `^\[run 1\] killed by SIGTERM after \S+$`, logs.Lines[1])
}

func TestLogsPaging(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	// Lines of two pipes are ordered by when the server reads them: the
	// stderr lines are written only once the 300 stdout lines are in.
	release := filepath.Join(t.TempDir(), "release")
	mkfifo(t, release)
	ok[processInfo](h, "process_start", fmt.Sprintf(`{"name":"gen","command":"seq 1 300; read x < %s; echo err1 >&2; echo err2 >&2"}`, release))
	require.Eventually(t, func() bool {
		page, _ := ok[logsResult](h, "process_logs", `{"name":"gen","tail":0}`)
		return page.NextSince == 301 // the start note, then 300 lines
	}, 10*time.Second, time.Millisecond)
	require.NoError(t, os.WriteFile(release, []byte("go\n"), 0))
	h.waitDone("gen")

	cursor, txt := ok[logsResult](h, "process_logs", `{"name":"gen","tail":0}`)
	assert.Empty(t, cursor.Lines)
	assert.Equal(t, uint64(304), cursor.NextSince, "the notes of the start and the exit, and 302 lines")
	assert.Equal(t, "[next_since=304 status=exited exit_code=0]", txt)

	// Page from the start with since=0 and limit=100: no gaps, no repeats.
	var seen []string
	since := uint64(0)
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10, "paging does not end")
		page, _ := ok[logsResult](h, "process_logs", fmt.Sprintf(`{"name":"gen","since":%d,"limit":100}`, since))
		seen = append(seen, texts(page.Lines)...)
		since = page.NextSince
		if !page.More {
			break
		}
	}
	require.Len(t, seen, 304)
	assert.Equal(t, "1", seen[1])
	assert.Equal(t, "300", seen[300])
	assert.Equal(t, uint64(304), since)

	tests := []struct {
		name string
		args string
		want []string
		more bool
	}{
		{"tail", `{"name":"gen","tail":4}`, []string{"300", "err1", "err2"}, false},
		{"tail with limit", `{"name":"gen","tail":4,"limit":2}`, []string{"300", "err1"}, true},
		{"stderr", `{"name":"gen","stream":"stderr"}`, []string{"err1", "err2"}, false},
		{"stdout tail", `{"name":"gen","stream":"stdout","tail":2}`, []string{"299", "300"}, false},
		{"grep", `{"name":"gen","grep":"^29[0-9]$","tail":3}`, []string{"297", "298", "299"}, false},
		{"grep since", `{"name":"gen","grep":"^1[0-9]$","since":13}`, []string{"13", "14", "15", "16", "17", "18", "19"}, false},
		{"since at end", `{"name":"gen","since":304}`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, _ := ok[logsResult](h, "process_logs", tt.args)
			assert.Equal(t, tt.want, output(page))
			assert.Equal(t, tt.more, page.More)
		})
	}
}

// output is a page's lines without the server's notes.
func output(page logsResult) []string {
	var out []string
	for i, l := range page.Lines {
		if !slices.Contains(page.System, i) {
			out = append(out, l)
		}
	}
	return out
}

func TestLogsMissed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{LogLines: 50})
	ok[processInfo](h, "process_start", `{"name":"gen","argv":["seq","1","120"]}`)
	h.waitDone("gen")
	// 122 lines: the start note, 1..120 as seqs 2..121, the exit note; the
	// last 50 are kept.
	page, txt := ok[logsResult](h, "process_logs", `{"name":"gen","since":10,"limit":5}`)
	assert.Equal(t, uint64(62), page.Missed)
	assert.Equal(t, []string{"72", "73", "74", "75", "76"}, texts(page.Lines))
	assert.Contains(t, txt, "[next_since=77 missed=62 more=true status=exited exit_code=0]")
	list, _ := ok[listResult](h, "process_list", ``)
	assert.Equal(t, uint64(122), list.Processes[0].LastSeq)
	assert.Equal(t, uint64(72), list.Processes[0].Evicted)
}

func TestStartRules(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{MaxProcs: 2})
	info, _ := ok[processInfo](h, "process_start", `{"argv":["sleep","60"]}`)
	assert.Equal(t, "sleep", info.Name)
	info, _ = ok[processInfo](h, "process_start", `{"command":"PORT=1 exec sleep 60"}`)
	assert.Equal(t, "sleep-2", info.Name)
	assert.Equal(t, "PORT=1 exec sleep 60", info.Command)

	res := h.call("process_start", `{"argv":["sleep","60"]}`)
	assert.True(t, res.IsError)
	assert.Contains(t, toolresult.Text(res), "process limit reached: 2 live processes (limit 2)")

	ok[stopResult](h, "process_stop", `{"name":"sleep","signal":"KILL"}`)
	// The name of an exited process can be reused; it counts as a restart.
	info, _ = ok[processInfo](h, "process_start", `{"name":"sleep","command":"echo $GREETING; pwd","env":{"GREETING":"hello"},"cwd":"."}`)
	assert.Equal(t, 1, info.Restarts)
	h.waitDone("sleep")
	logs, _ := ok[logsResult](h, "process_logs", `{"name":"sleep","stream":"stdout"}`)
	assert.Equal(t, []string{"hello", h.sup.Config().Dir}, texts(logs.Lines))
	logs, _ = ok[logsResult](h, "process_logs", `{"name":"sleep","stream":"system"}`)
	require.Len(t, logs.Lines, 4, "both runs' notes, in the one log of the name")
	assert.Regexp(t, `^\[run 2\] started: echo \$GREETING; pwd`, logs.Lines[2])

	// A program that does not exist stays listed as failed, with the reason.
	res = h.call("process_start", `{"name":"ghost","argv":["./missing-binary"]}`)
	assert.True(t, res.IsError)
	list, txt := ok[listResult](h, "process_list", `{"status":"exited"}`)
	names := map[string]processInfo{}
	for _, p := range list.Processes {
		names[p.Name] = p
	}
	assert.Equal(t, "failed", names["ghost"].Status)
	assert.Contains(t, names["ghost"].Error, `program "./missing-binary": no such file`)
	assert.Contains(t, txt, "ghost failed")
}

func TestStopEscalates(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	// The shell and its children ignore SIGTERM (an ignored signal is
	// inherited across exec), so only SIGKILL ends them.
	ok[processInfo](h, "process_start", `{"name":"stubborn","command":"trap '' TERM; echo ready; sleep 60; sleep 60"}`)
	h.waitLines("stubborn", 2)
	out, txt := ok[stopResult](h, "process_stop", `{"name":"stubborn","timeout_ms":200}`)
	assert.True(t, out.Killed)
	assert.Equal(t, "SIGKILL", out.Signal)
	assert.Contains(t, txt, "was killed")
}

// texts returns the lines of a page; nil when there are none, so that
// tests can compare with a nil want.
func texts(lines []string) []string {
	if len(lines) == 0 {
		return nil
	}
	return lines
}

func TestLogsANSI(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	ok[processInfo](h, "process_start", `{"name":"tty","command":"printf '\\033[31merror\\033[0m: boom\\nplain\\n'"}`)
	h.waitDone("tty")
	tests := []struct {
		name string
		args string
		want []string
	}{
		{"stripped by default", `{"name":"tty","stream":"stdout"}`, []string{"error: boom", "plain"}},
		{"raw", `{"name":"tty","stream":"stdout","raw":true}`, []string{"\x1b[31merror\x1b[0m: boom", "plain"}},
		{"grep sees the stripped text", `{"name":"tty","grep":"^error: "}`, []string{"error: boom"}},
		{"grep raw", `{"name":"tty","grep":"^error: ","raw":true}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, txt := ok[logsResult](h, "process_logs", tt.args)
			assert.Equal(t, tt.want, texts(page.Lines))
			for _, line := range tt.want {
				assert.Contains(t, txt, line)
			}
		})
	}
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	for _, name := range []string{"p3", "p1", "p5", "p2", "p4"} {
		ok[processInfo](h, "process_start", `{"name":"`+name+`","argv":["sleep","60"]}`)
	}
	tests := []struct {
		name      string
		args      string
		want      []string
		nextAfter string
		footer    string
	}{
		{"default shows all", `{}`, []string{"p1", "p2", "p3", "p4", "p5"}, "", ""},
		{"first page", `{"limit":2}`, []string{"p1", "p2"}, "p2", "[2 of 5 shown; more: process_list after=p2]"},
		{"middle page", `{"limit":2,"after":"p2"}`, []string{"p3", "p4"}, "p4", "[2 of 5 shown; more: process_list after=p4]"},
		{"last page", `{"limit":2,"after":"p4"}`, []string{"p5"}, "", ""},
		{"after the end", `{"after":"p5"}`, nil, "", `no processes after "p5" (5 in all)`},
		{"after a name that is not there", `{"after":"p25","limit":1}`, []string{"p3"}, "p3", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, txt := ok[listResult](h, "process_list", tt.args)
			var names []string
			for _, p := range res.Processes {
				names = append(names, p.Name)
			}
			assert.Equal(t, tt.want, names)
			assert.Equal(t, 5, res.Total)
			assert.Equal(t, tt.nextAfter, res.NextAfter)
			assert.Contains(t, txt, tt.footer)
		})
	}
}

// TestLogsColumns: line i has seq first_seq+i unless seqs lists them (gaps
// from a filter); stderr lists the indexes of stderr lines.
func TestLogsColumns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	ok[processInfo](h, "process_start", `{"name":"gen","argv":["seq","1","20"]}`)
	ok[processInfo](h, "process_start", `{"name":"err","command":"echo a >&2; echo b >&2"}`)
	h.waitDone("gen")
	h.waitDone("err")

	tests := []struct {
		name, args string
		want       logsResult
	}{
		// gen's log: the start note (seq 1), 1..20 (seqs 2..21), the exit
		// note (22); err's: the start note, a and b, the exit note.
		{"tail: consecutive, no seqs", `{"name":"gen","stream":"stdout","tail":3}`,
			logsResult{Name: "gen", Status: "exited", FirstSeq: 19, logColumns: logColumns{Lines: []string{"18", "19", "20"}}, NextSince: 22, ExitCode: ptr(0)}},
		{"grep: gaps, seqs listed", `{"name":"gen","grep":"^1"}`,
			logsResult{Name: "gen", Status: "exited", FirstSeq: 2, logColumns: logColumns{Lines: []string{"1", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19"},
				Seqs: []uint64{2, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}}, NextSince: 22, ExitCode: ptr(0)}},
		{"stderr indexes", `{"name":"err","stream":"stderr"}`,
			logsResult{Name: "err", Status: "exited", FirstSeq: 2, logColumns: logColumns{Lines: []string{"a", "b"}, Stderr: []int{0, 1}}, NextSince: 4, ExitCode: ptr(0)}},
		{"no lines: no first_seq", `{"name":"gen","tail":0}`,
			logsResult{Name: "gen", Status: "exited", logColumns: logColumns{Lines: []string{}}, NextSince: 22, ExitCode: ptr(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := ok[logsResult](h, "process_logs", tt.args)
			assert.Equal(t, tt.want, got)
		})
	}
	t.Run("system indexes", func(t *testing.T) {
		got, txt := ok[logsResult](h, "process_logs", `{"name":"err","grep":"^(b|\\[run 1\\] exited .*)$"}`)
		require.Len(t, got.Lines, 2)
		assert.Equal(t, "b", got.Lines[0])
		assert.Regexp(t, `^\[run 1\] exited with code 0 after \d+ms$`, got.Lines[1])
		assert.Equal(t, []int{0}, got.Stderr)
		assert.Equal(t, []int{1}, got.System)
		assert.Regexp(t, `^\[stderr\] b\n\[brummer\] \[run 1\] exited with code 0 after \d+ms\n\[next_since=4 status=exited exit_code=0\]$`, txt)
	})
}

func ptr[T any](v T) *T { return &v }

// TestCursorAcrossRuns: a cursor kept from before a name is started again
// reads exactly the new run's lines, with the server's notes between; none
// is lost and none is mistaken for another (the stale-cursor bug).
func TestCursorAcrossRuns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	ok[processInfo](h, "process_start", `{"name":"t","command":"for i in 1 2 3 4 5; do echo old-$i; done"}`)
	h.waitDone("t")
	first, _ := ok[logsResult](h, "process_logs", `{"name":"t","stream":"stdout","tail":5}`)
	require.Equal(t, []string{"old-1", "old-2", "old-3", "old-4", "old-5"}, first.Lines)
	cursor := first.NextSince

	ok[processInfo](h, "process_start", `{"name":"t","command":"for i in 1 2 3 4 5 6 7 8; do echo NEW-$i; done"}`)
	h.waitDone("t")
	page, txt := ok[logsResult](h, "process_logs", fmt.Sprintf(`{"name":"t","since":%d}`, cursor))
	assert.Zero(t, page.Missed)
	assert.Equal(t, []string{"NEW-1", "NEW-2", "NEW-3", "NEW-4", "NEW-5", "NEW-6", "NEW-7", "NEW-8"}, output(page))
	assert.Regexp(t, `\[brummer\] \[run 2\] started: for i in`, txt)
	assert.Contains(t, txt, "[brummer] [run 2] exited with code 0 after ")
	assert.Equal(t, cursor+1, page.FirstSeq, "the seq goes on from the cursor")
}

func TestStopAll(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	ok[processInfo](h, "process_start", `{"name":"b","argv":["sleep","60"]}`)
	ok[processInfo](h, "process_start", `{"name":"a","argv":["sleep","60"]}`)
	ok[processInfo](h, "process_start", `{"name":"done","argv":["true"]}`)
	h.waitDone("done")

	out, txt := ok[stopAllResult](h, "process_stop", `{"all":true,"timeout_ms":2000}`)
	require.Len(t, out.Stopped, 2, "the live ones, not the exited one")
	for i, name := range []string{"a", "b"} {
		assert.Equal(t, name, out.Stopped[i].Name)
		assert.Equal(t, "exited", out.Stopped[i].Status)
		assert.Equal(t, "SIGTERM", out.Stopped[i].Signal)
	}
	assert.Regexp(t, `^stopped a \(ran \S+\): killed by SIGTERM\nstopped b \(ran \S+\): killed by SIGTERM$`, txt)

	out, txt = ok[stopAllResult](h, "process_stop", `{"all":true}`)
	assert.Empty(t, out.Stopped)
	assert.Equal(t, "no process was running", txt)

	res := h.call("process_stop", `{"all":true,"name":"a"}`)
	assert.True(t, res.IsError)
	assert.Contains(t, toolresult.Text(res), `give "name" "a" or "all": true, not both`)
	res = h.call("process_stop", `{}`)
	assert.True(t, res.IsError)
	assert.Contains(t, toolresult.Text(res), `give "name", the process to stop (see process_list), or "all": true`)
}

func TestRestartTool(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	first, _ := ok[processInfo](h, "process_start", `{"name":"w","command":"echo up $N; exec sleep 60","env":{"N":"7"}}`)
	h.waitLines("w", 2)

	info, txt := ok[processInfo](h, "process_restart", `{"name":"w","timeout_ms":2000}`)
	assert.Equal(t, "w", info.Name)
	assert.Equal(t, "running", info.Status)
	assert.Equal(t, 1, info.Restarts)
	assert.NotEqual(t, first.Pid, info.Pid)
	assert.Regexp(t, `^restarted w: run 2, pid \d+ \(the previous run was killed by SIGTERM\)$`, txt)
	h.waitLines("w", 5) // run 1: start, output, exit; run 2: start, output
	logs, _ := ok[logsResult](h, "process_logs", `{"name":"w","stream":"stdout"}`)
	assert.Equal(t, []string{"up 7", "up 7"}, logs.Lines, "the same command and environment")

	ok[stopResult](h, "process_stop", `{"name":"w"}`)
	_, txt = ok[processInfo](h, "process_restart", `{"name":"w"}`)
	assert.Regexp(t, `^restarted w: run 3, pid \d+ \(it had already exited\)$`, txt)

	res := h.call("process_restart", `{"name":"nope"}`)
	assert.True(t, res.IsError)
	assert.Contains(t, toolresult.Text(res), `unknown process "nope"`)
	res = h.call("process_restart", `{"name":"w","timeout_ms":-5}`)
	assert.True(t, res.IsError)
	assert.Contains(t, toolresult.Text(res), `"timeout_ms" must be 0..60000, got -5`)
}

func TestInputTool(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	ok[processInfo](h, "process_start", `{"name":"ask","command":"printf 'Enter value: \\n'; read x; echo \"got $x\"; read y; echo \"then $y\"; cat; echo eof","stdin":true}`)
	h.waitLines("ask", 2)

	out, txt := ok[inputResult](h, "process_input", `{"name":"ask","text":"42"}`)
	assert.Equal(t, inputResult{Name: "ask", Written: 3}, out)
	assert.Equal(t, "wrote 3 bytes to ask", txt)
	ok[inputResult](h, "process_input", `{"name":"ask","text":"no","newline":false}`)
	out, txt = ok[inputResult](h, "process_input", `{"name":"ask","text":" newline","close":true}`)
	assert.True(t, out.Closed)
	assert.Equal(t, "wrote 9 bytes to ask; its stdin is closed", txt)
	h.waitDone("ask")
	logs, _ := ok[logsResult](h, "process_logs", `{"name":"ask","stream":"stdout"}`)
	assert.Equal(t, []string{"Enter value: ", "got 42", "then no newline", "eof"}, logs.Lines)

	tests := []struct{ name, args, want string }{
		{"closed", `{"name":"ask","text":"late"}`, `the stdin of "ask" is closed`},
		{"unknown", `{"name":"nope","text":"x"}`, `unknown process "nope"`},
		{"no name", `{"text":"x"}`, `"name" is required`},
	}
	ok[processInfo](h, "process_start", `{"name":"plain","argv":["sleep","60"]}`)
	tests = append(tests, struct{ name, args, want string }{"no stdin", `{"name":"plain","text":"x"}`, `"plain" has no stdin pipe: start it with stdin: true`})
	for _, tt := range tests {
		res := h.call("process_input", tt.args)
		assert.True(t, res.IsError, tt.name)
		assert.Contains(t, toolresult.Text(res), tt.want, tt.name)
	}
}

// TestAnswerPrompt: a prompt without a newline shows up as a partial line;
// the answer goes in through process_input.
func TestAnswerPrompt(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	ok[processInfo](h, "process_start", `{"name":"ask","command":"printf 'Enter value: '; read x; echo \"got $x\"","stdin":true}`)
	h.waitLines("ask", 2)
	logs, _ := ok[logsResult](h, "process_logs", `{"name":"ask","stream":"stdout"}`)
	assert.Equal(t, []string{"Enter value: "}, logs.Lines)
	assert.Equal(t, []int{0}, logs.Partial)
	ok[inputResult](h, "process_input", `{"name":"ask","text":"42"}`)
	h.waitDone("ask")
	logs, _ = ok[logsResult](h, "process_logs", `{"name":"ask","stream":"stdout"}`)
	assert.Equal(t, []string{"Enter value: ", "got 42"}, logs.Lines)
}

// TestRestartPolicyTool: a crashing process with restart on-failure is
// listed in backoff with its next start, and a stop cancels it.
func TestRestartPolicyTool(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	ok[processInfo](h, "process_start", `{"name":"crash","command":"exit 3","restart":"on-failure","max_restarts":2}`)
	require.Eventually(t, func() bool {
		list, _ := ok[listResult](h, "process_list", ``)
		return list.Processes[0].Status == "backoff"
	}, 10*time.Second, time.Millisecond)
	list, txt := ok[listResult](h, "process_list", ``)
	assert.NotEmpty(t, list.Processes[0].NextRestartAt)
	assert.Contains(t, txt, "crash backoff")
	stopped, txt := ok[stopResult](h, "process_stop", `{"name":"crash"}`)
	assert.True(t, stopped.AlreadyStopped)
	assert.Equal(t, "exited", stopped.Status)
	assert.Empty(t, stopped.NextRestartAt)
	assert.Equal(t, "crash was already stopped (exit 3)", txt)
}

// TestCrashLoopTool: a process that gives up shows the last exit status.
func TestCrashLoopTool(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	ok[processInfo](h, "process_start", `{"name":"crash","command":"exit 4","restart":"always","max_restarts":1}`)
	require.Eventually(t, func() bool {
		list, _ := ok[listResult](h, "process_list", ``)
		return list.Processes[0].Status == "failed"
	}, 10*time.Second, time.Millisecond)
	logs, txt := ok[logsResult](h, "process_logs", `{"name":"crash","stream":"system"}`)
	require.NotNil(t, logs.ExitCode)
	assert.Equal(t, 4, *logs.ExitCode)
	assert.Contains(t, txt, "status=failed exit_code=4]")
	assert.Regexp(t, `giving up: crash loop: exited with code 4 2 times in \S+$`, logs.Lines[len(logs.Lines)-1])
}
