package tools

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/internal/toolresult"
	"github.com/brummer-mcp/brummer-mcp/procstate"
	"github.com/brummer-mcp/brummer-mcp/project"
)

// newProjectHarness is a server whose default directory holds files.
func newProjectHarness(t *testing.T, files map[string]string) (*harness, string) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o755))
	}
	return newHarnessWith(t, procstate.Config{Dir: dir}, Policy{}, WithProject(project.New(dir, zerolog.Nop()))), dir
}

func TestStartScript(t *testing.T) {
	t.Parallel()
	h, dir := newProjectHarness(t, map[string]string{
		// npm is not needed: the lock file picks the manager, and a fake
		// one on PATH would be; brummer.json processes run as written.
		"package.json": `{"scripts": {"dev": "vite", "lint": "eslint ."}}`,
		"brummer.json": `{"processes": {
			"db":  {"command": "echo db up; exec sleep 60", "wait_for": {"log": "db up"}},
			"api": {"command": "echo \"api on $PORT in $(basename $PWD)\"; exec sleep 60", "cwd": "backend", "env": {"PORT": "8080"},
			        "depends_on": ["db"], "wait_for": {"log": "api on"}},
			"broken": {"command": "echo starting; exit 3", "wait_for": {"log": "never"}},
			"needs-broken": {"command": "true", "depends_on": ["broken"]}
		}}`,
		"backend/.keep": "",
	})

	info, txt := waitedOf(t, h, "process_start", `{"script":"api"}`)
	assert.Equal(t, "ready", info.Wait.Outcome, txt)
	assert.Equal(t, "api on 8080 in backend", info.Wait.Match)
	assert.Equal(t, filepath.Join(dir, "backend"), info.Cwd)
	assert.Regexp(t, `^started first, as it depends on them: db\nstarted api \(pid \d+\)`, txt)
	assert.Equal(t, procstate.StatusRunning, h.sup.Get("db").Record().Status)

	// A running dependency is not started again.
	ok[stopResult](h, "process_stop", `{"name":"api"}`)
	info, txt = waitedOf(t, h, "process_start", `{"script":"api","name":"api2","wait_for":{"exit":true,"timeout_ms":100}}`)
	assert.Equal(t, "api2", info.Name, "the call's name wins")
	assert.Equal(t, "timeout", info.Wait.Outcome, "the call's wait_for wins")
	assert.NotContains(t, txt, "depends on them")

	// A dependency that does not become ready stops the start.
	res := h.call("process_start", `{"script":"needs-broken"}`)
	require.True(t, res.IsError)
	assert.Contains(t, toolresult.Text(res), `"needs-broken" was not started: it depends on "broken", which did not become ready:`)
	assert.Contains(t, toolresult.Text(res), "broken ended (exit 3)")
	assert.Nil(t, h.sup.Get("needs-broken"))

	res = h.call("process_start", `{"script":"nope"}`)
	require.True(t, res.IsError)
	assert.Contains(t, toolresult.Text(res), `"script" "nope" is not defined in `+dir+`; known: api, broken, db, dev, lint, needs-broken`)
	res = h.call("process_start", `{"script":"dev","command":"x"}`)
	require.True(t, res.IsError)
	assert.Contains(t, toolresult.Text(res), `pass exactly one of "command"`)
}

// TestStartScriptPackageManager: a package.json script runs with the
// manager the lock file names, in the project directory.
func TestStartScriptPackageManager(t *testing.T) {
	t.Parallel()
	bin := t.TempDir()
	// A stand-in pnpm that says how it was called.
	require.NoError(t, os.WriteFile(filepath.Join(bin, "pnpm"), []byte("#!/bin/sh\necho \"pnpm $*\"\n"), 0o755))
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"scripts":{"build:prod":"vite build"}}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pnpm-lock.yaml"), nil, 0o644))
	h := newHarnessWith(t, procstate.Config{Dir: dir, Env: append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))}, Policy{}, WithProject(project.New(dir, zerolog.Nop())))
	info, txt := waitedOf(t, h, "process_start", `{"script":"build:prod","wait_for":{"exit":true}}`)
	assert.Equal(t, "ready", info.Wait.Outcome, txt)
	assert.Equal(t, "build:prod", info.Name)
	assert.Equal(t, "pnpm run build:prod", info.Command)
	logs, _ := ok[logsResult](h, "process_logs", `{"name":"build:prod","stream":"stdout"}`)
	assert.Equal(t, []string{"pnpm run build:prod"}, logs.Lines)
}

// TestListIdle: a project's first process_list says what can run there,
// and what is wrong in its files.
func TestListIdle(t *testing.T) {
	t.Parallel()
	h, _ := newProjectHarness(t, map[string]string{
		"package.json": `{"scripts": {"dev": "vite", "build": "vite build"}}`,
		"brummer.json": "{\"processes\": {\n  \"api\": {\"command\": \"exec sleep 60\"},\n  \"bad\": {\"cmd\": \"x\"}\n}}",
	})
	list, txt := ok[listResult](h, "process_list", ``)
	var names, statuses, sources []string
	for _, p := range list.Processes {
		names, statuses, sources = append(names, p.Name), append(statuses, p.Status), append(sources, p.Source)
	}
	assert.Equal(t, []string{"api", "build", "dev"}, names)
	assert.Equal(t, []string{"idle", "idle", "idle"}, statuses)
	assert.Equal(t, []string{"brummer.json", "package.json", "package.json"}, sources)
	assert.Equal(t, []project.ConfigError{{File: "brummer.json", Line: 3, Column: 11, Message: `process "bad": unknown field "cmd"`}}, list.ConfigErrors)
	assert.Contains(t, txt, "dev idle (package.json) npm run dev\n")
	assert.Contains(t, txt, `config error: brummer.json:3:11: process "bad": unknown field "cmd"`)

	ok[processInfo](h, "process_start", `{"script":"api"}`)
	list, _ = ok[listResult](h, "process_list", `{"limit":2}`)
	require.Len(t, list.Processes, 2)
	assert.Equal(t, "running", list.Processes[0].Status, "a started one is listed once, as it runs")
	assert.Empty(t, list.Processes[0].Source)
	assert.Equal(t, 3, list.Total)
	assert.Equal(t, "build", list.NextAfter)
	list, _ = ok[listResult](h, "process_list", `{"after":"build"}`)
	require.Len(t, list.Processes, 1)
	assert.Equal(t, "dev", list.Processes[0].Name)
	list, _ = ok[listResult](h, "process_list", `{"status":"idle"}`)
	assert.Len(t, list.Processes, 2)
	list, _ = ok[listResult](h, "process_list", `{"status":"running"}`)
	assert.Len(t, list.Processes, 1)
	assert.Len(t, list.ConfigErrors, 1, "whatever the filter")
}

// TestScriptStep: what other starters of a project's processes (the
// dashboard) get: the tool's reading of wait_for, its checks and its policy.
func TestScriptStep(t *testing.T) {
	t.Parallel()
	snap := &project.Snapshot{Dir: "/proj"}
	def := func(cmd, wait string) *project.Def {
		d := &project.Def{Name: "api", Source: project.BrummerJSON, Command: cmd}
		if wait != "" {
			d.WaitFor = []byte(wait)
		}
		return d
	}
	prepare := ScriptStep(Policy{Allow: []string{"npm"}})
	tests := []struct {
		name, cmd, wait, err string
		ready                bool
	}{
		{name: "allowed", cmd: "npm run api", wait: `{"log":"listening","tail":3}`, ready: true},
		{name: "no wait", cmd: "npm run api"},
		{name: "policy", cmd: "rm -rf /", err: `refused by the --allow policy: program "rm" is not one of the allowed programs (npm)`},
		{name: "bad wait", cmd: "npm run api", wait: `{"log":"("}`, err: `brummer.json process "api": "wait_for.log" "(" is not a valid RE2 regular expression: missing closing ): ` + "`(`"},
		{name: "unknown field", cmd: "npm run api", wait: `{"lag":"x"}`, err: `brummer.json process "api": "wait_for": unknown field "wait_for.lag" (allowed: exit, http, listen, log, port, tail, timeout_ms)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := def(tt.cmd, tt.wait)
			st, err := prepare(d, snap.Spec(d))
			assert.Equal(t, tt.err, errText(err))
			assert.Equal(t, tt.ready, st.Ready != nil)
			assert.Equal(t, tt.err == "", st.Spec.Name == "api", "a step only without an error")
		})
	}
}

// errText is err's text, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
