package tools

import (
	"os"
	"path/filepath"
	"testing"

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
	return newHarnessWith(t, procstate.Config{Dir: dir}, Policy{}, WithProject(project.New(dir))), dir
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
	h := newHarnessWith(t, procstate.Config{Dir: dir, Env: append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))}, Policy{}, WithProject(project.New(dir)))
	info, txt := waitedOf(t, h, "process_start", `{"script":"build:prod","wait_for":{"exit":true}}`)
	assert.Equal(t, "ready", info.Wait.Outcome, txt)
	assert.Equal(t, "build:prod", info.Name)
	assert.Equal(t, "pnpm run build:prod", info.Command)
	logs, _ := ok[logsResult](h, "process_logs", `{"name":"build:prod","stream":"stdout"}`)
	assert.Equal(t, []string{"pnpm run build:prod"}, logs.Lines)
}
