package dashboard

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// TestActionRules: what every POST must satisfy.
func TestActionRules(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.start("web", "exec sleep 60")
	tests := []struct {
		name, path, body string
		header           map[string]string
		status           int
		err              string
	}{
		{"no action header", "/api/stop", `{"name":"web"}`, map[string]string{actionHeader: ""}, http.StatusForbidden, "missing header X-Brummer-Action: 1; actions come from the dashboard's page"},
		{"wrong action header", "/api/stop", `{"name":"web"}`, map[string]string{actionHeader: "yes"}, http.StatusForbidden, "missing header X-Brummer-Action: 1; actions come from the dashboard's page"},
		{"form", "/api/stop", `name=web`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType, `Content-Type must be application/json, got "application/x-www-form-urlencoded"`},
		{"text", "/api/restart", `{"name":"web"}`, map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType, `Content-Type must be application/json, got "text/plain"`},
		{"no type", "/api/start", `{"script":"x"}`, map[string]string{"Content-Type": ""}, http.StatusUnsupportedMediaType, `Content-Type must be application/json, got ""`},
		{"not JSON", "/api/stop", `{name}`, nil, http.StatusBadRequest, `the body must be a JSON object such as {"name": "web"}: invalid character 'n' looking for beginning of object key string`},
		{"unknown field", "/api/stop", `{"nmae":"web"}`, nil, http.StatusBadRequest, `the body must be a JSON object such as {"name": "web"}: unknown field "nmae"`},
		{"two objects", "/api/stop", `{"name":"web"} {}`, nil, http.StatusBadRequest, `the body must be one JSON object`},
		{"too large", "/api/stop", `{"name":"` + strings.Repeat("x", maxBodyBytes) + `"}`, nil, http.StatusRequestEntityTooLarge, "the body is larger than 1048576 bytes"},
		{"name and all", "/api/stop", `{"name":"web","all":true}`, nil, http.StatusBadRequest, `give "name" or "all": true, not both`},
		{"no name", "/api/stop", `{}`, nil, http.StatusBadRequest, `give "name", the process to stop, or "all": true`},
		{"unknown stop", "/api/stop", `{"name":"nope"}`, nil, http.StatusNotFound, `unknown process "nope" (known: web)`},
		{"unknown restart", "/api/restart", `{"name":"nope"}`, nil, http.StatusNotFound, `unknown process "nope" (known: web)`},
		{"no project", "/api/start", `{"script":"dev"}`, nil, http.StatusNotFound, `"dev": ` + r.dir + ` has no package.json scripts and no brummer.json processes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := r.post(tt.path, tt.body, tt.header)
			assert.Equal(t, tt.err, wantError(t, status, body, tt.status))
		})
	}
	assert.Equal(t, procstate.StatusRunning, r.sup.Get("web").Record().Status, "nothing was stopped")

	res, body := r.get("/api/stop")
	assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode, body)
	assert.Equal(t, csp, res.Header.Get("Content-Security-Policy"))
}

func TestReadOnly(t *testing.T) {
	r := newRig(t, rigOptions{readOnly: true, files: map[string]string{"package.json": `{"scripts":{"dev":"vite"}}`}})
	r.start("web", "exec sleep 60")
	assert.True(t, getJSON[state](r, "/api/state", http.StatusOK).ReadOnly)
	for path, body := range map[string]string{"/api/stop": `{"name":"web"}`, "/api/restart": `{"name":"web"}`, "/api/start": `{"script":"dev"}`} {
		status, answer := r.post(path, body, nil)
		assert.Equal(t, "this server is read-only (--read-only): it shows processes but does not start, stop or restart them", wantError(t, status, answer, http.StatusForbidden), path)
	}
	assert.Equal(t, procstate.StatusRunning, r.sup.Get("web").Record().Status)
	assert.Nil(t, r.sup.Get("dev"))
}

func TestStopRestart(t *testing.T) {
	r := newRig(t, rigOptions{})
	web := r.start("web", "exec sleep 60")
	stubborn := r.start("stubborn", `trap '' TERM; echo ready; while :; do sleep 1; done`)
	r.lines(stubborn, 2)
	r.start("done", "true")
	r.exited(r.sup.Get("done"))

	status, body := r.post("/api/restart", `{"name":"web"}`, nil)
	msg := wantDone(t, status, body)
	run2 := r.sup.Get("web")
	assert.Equal(t, "restarted web: run 2, pid "+strconv.Itoa(run2.Record().Pid)+" (the previous run was killed by SIGTERM)", msg)
	assert.NotEqual(t, web, run2)
	status, body = r.post("/api/restart", `{"name":"done"}`, nil)
	assert.Regexp(t, `^restarted done: run 2, pid \d+ \(it had already ended\)$`, wantDone(t, status, body))

	status, body = r.post("/api/stop", `{"name":"web"}`, nil)
	assert.Equal(t, "stopped web (killed by SIGTERM)", wantDone(t, status, body))
	status, body = r.post("/api/stop", `{"name":"web"}`, nil)
	assert.Equal(t, "web was already stopped (killed by SIGTERM)", wantDone(t, status, body))

	r.start("api", "exec sleep 60")
	start := time.Now()
	status, body = r.post("/api/stop", `{"all":true}`, nil)
	msg = wantDone(t, status, body)
	assert.Equal(t, "stopped api (killed by SIGTERM)\nstopped stubborn (killed by SIGKILL); it did not exit within the grace period and was killed", msg, "only the live ones, by name")
	assert.Less(t, time.Since(start), 2*r.sup.Config().StopGrace, "in parallel, with the supervisor's grace")
	for _, p := range r.sup.Processes() {
		assert.False(t, p.Record().Status.Live(), p.Name())
	}
	status, body = r.post("/api/stop", `{"all":true}`, nil)
	assert.Equal(t, "no process was running", wantDone(t, status, body))
}

// TestStart: the start button starts what process_start {"script"} starts:
// dependencies first, each waited for, then the script and its wait.
func TestStart(t *testing.T) {
	r := newRig(t, rigOptions{files: map[string]string{
		"package.json": `{"scripts": {"lint": "eslint ."}}`,
		"brummer.json": `{"processes": {
			"db":  {"command": "echo db up; exec sleep 60", "wait_for": {"log": "db up"}},
			"api": {"command": "echo \"api on $PORT\"; exec sleep 60", "env": {"PORT": "8080"}, "depends_on": ["db"], "wait_for": {"log": "api on"}},
			"broken": {"command": "echo starting; exit 3", "wait_for": {"log": "never"}},
			"needs-broken": {"command": "true", "depends_on": ["broken"]},
			"bad-wait": {"command": "true", "wait_for": {"log": "("}},
			"crash": {"command": "exit 5", "wait_for": {"log": "never"}},
			"nowait": {"command": "exec sleep 60"}
		}}`,
	}})
	status, body := r.post("/api/start", `{"script":"api"}`, nil)
	assert.Regexp(t, `^started db first, as it depends on them; started api \(pid \d+\); ready after \d+ms$`, wantDone(t, status, body))
	assert.Equal(t, procstate.StatusRunning, r.sup.Get("db").Record().Status)
	assert.Equal(t, procstate.StatusRunning, r.sup.Get("api").Record().Status)

	status, body = r.post("/api/start", `{"script":"nowait"}`, nil)
	assert.Regexp(t, `^started nowait \(pid \d+\)$`, wantDone(t, status, body))
	status, body = r.post("/api/start", `{"script":"crash"}`, nil)
	assert.Regexp(t, `^started crash \(pid \d+\); it ended \(exit 5\) before it was ready$`, wantDone(t, status, body))

	tests := []struct {
		name, body string
		status     int
		err        string
	}{
		{"running", `{"script":"api"}`, http.StatusConflict, `name "api" is in use by a running process (pid ` + strconv.Itoa(r.sup.Get("api").Record().Pid) + `); stop it first`},
		{"dependency not ready", `{"script":"needs-broken"}`, http.StatusConflict, `"needs-broken" was not started: it depends on "broken", which did not become ready (it ended with exit code 3); its last lines:` + "\nstarting"},
		{"bad definition", `{"script":"bad-wait"}`, http.StatusUnprocessableEntity, `brummer.json process "bad-wait": "wait_for.log" "(" is not a valid RE2 regular expression: missing closing ): ` + "`(`"},
		{"unknown", `{"script":"nope"}`, http.StatusNotFound, `"nope" is not defined in ` + r.dir + `; known: api, bad-wait, broken, crash, db, lint, needs-broken, nowait`},
		{"none", `{}`, http.StatusBadRequest, `give "script", a process of package.json or brummer.json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := r.post("/api/start", tt.body, nil)
			assert.Equal(t, tt.err, wantError(t, status, body, tt.status))
		})
	}
	assert.Nil(t, r.sup.Get("needs-broken"))
}

// TestStartPolicy: the server's --allow policy holds for the page too.
func TestStartPolicy(t *testing.T) {
	r := newRig(t, rigOptions{allow: []string{"npm"}, files: map[string]string{
		"brummer.json": `{"processes": {"rm": {"command": "rm -rf /tmp/nothing-here"}}}`,
	}})
	status, body := r.post("/api/start", `{"script":"rm"}`, nil)
	assert.Equal(t, `refused by the --allow policy: program "rm" is not one of the allowed programs (npm)`, wantError(t, status, body, http.StatusUnprocessableEntity))
	assert.Nil(t, r.sup.Get("rm"))
}

// TestCloseEndsActions: a start waiting for a dependency ends with Close,
// not with the page that asked.
func TestCloseEndsActions(t *testing.T) {
	r := newRig(t, rigOptions{files: map[string]string{"brummer.json": `{"processes": {
		"slow": {"command": "exec sleep 60", "wait_for": {"log": "never", "timeout_ms": 600000}},
		"app":  {"command": "exec sleep 60", "depends_on": ["slow"]}
	}}`}})
	type answer struct {
		status int
		body   string
	}
	answered := make(chan answer, 1)
	gen := r.sup.Generation()
	go func() {
		status, body := r.post("/api/start", `{"script":"app"}`, nil)
		answered <- answer{status, body}
	}()
	for r.sup.Get("slow") == nil { // the dependency started: its wait is on
		ch, done := r.sup.Changes(gen)
		gen = r.sup.Generation()
		select {
		case <-ch:
		case <-time.After(20 * time.Second):
			t.Fatal("the dependency did not start")
		}
		done()
	}
	r.d.Close()
	a := <-answered
	assert.Equal(t, `the start of "app" was cut short: the dashboard is closing; what started runs on`, wantError(t, a.status, a.body, http.StatusServiceUnavailable))
	assert.True(t, r.sup.Get("slow").Record().Status.Live())
	assert.Nil(t, r.sup.Get("app"))
	status, body := r.post("/api/stop", `{"all":true}`, nil)
	assert.Equal(t, "the dashboard is closing", wantError(t, status, body, http.StatusServiceUnavailable))
}
