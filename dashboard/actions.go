package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/brummer-mcp/brummer-mcp/detect"
	"github.com/brummer-mcp/brummer-mcp/logring"
	"github.com/brummer-mcp/brummer-mcp/procstate"
	"github.com/brummer-mcp/brummer-mcp/project"
)

// actionHeader must be on every POST: a page on another site cannot send
// it without a CORS preflight, which this server never grants.
const actionHeader = "X-Brummer-Action"

// done is the answer to a POST that did what it was asked.
type done struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// httpError is a failed action: its status and what to say.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func fail(status int, format string, args ...any) *httpError {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// actionFunc does what a POST asks, with the body in hand, and says what
// it did.
type actionFunc func(ctx context.Context, body []byte) (string, *httpError)

// action checks what every POST must satisfy, reads its body, and runs fn
// under a context that ends with Close, not with the request: a stop or a
// start a person asked for goes on if the page goes away.
func (d *Dashboard) action(fn actionFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); {
		case d.cfg.ReadOnly:
			writeError(w, http.StatusForbidden, "this server is read-only (--read-only): it shows processes but does not start, stop or restart them")
			return
		case r.Header.Get(actionHeader) != "1":
			writeError(w, http.StatusForbidden, "missing header %s: 1; actions come from the dashboard's page", actionHeader)
			return
		case mt != "application/json":
			writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json, got %q", cut(r.Header.Get("Content-Type"), 60))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if tooLarge := new(http.MaxBytesError); errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, "the body is larger than %d bytes", maxBodyBytes)
			return
		} else if err != nil {
			writeError(w, http.StatusBadRequest, "read the body: %v", err)
			return
		}
		ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
		defer cancel()
		leave, ok := d.enter(cancel)
		if !ok {
			writeError(w, http.StatusServiceUnavailable, "the dashboard is closing")
			return
		}
		defer leave()
		msg, herr := fn(ctx, body)
		if herr != nil {
			writeError(w, herr.status, "%s", herr.msg)
			return
		}
		writeJSON(w, http.StatusOK, done{OK: true, Message: msg})
	})
}

// decodeBody decodes a POST's JSON object strictly into dst.
func decodeBody(body []byte, dst any) *httpError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fail(http.StatusBadRequest, "the body must be a JSON object such as {\"name\": \"web\"}: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return fail(http.StatusBadRequest, "the body must be one JSON object")
	}
	return nil
}

// grace is the stop grace of the dashboard's stops: the supervisor's, as
// at shutdown.
func (d *Dashboard) grace() time.Duration { return d.cfg.Sup.Config().StopGrace }

// stop stops one process, or with all every live one at once, as
// process_stop does: SIGTERM to the group, SIGKILL after the grace.
func (d *Dashboard) stop(ctx context.Context, body []byte) (string, *httpError) {
	var req struct {
		Name string `json:"name"`
		All  bool   `json:"all"`
	}
	if err := decodeBody(body, &req); err != nil {
		return "", err
	}
	switch {
	case req.All && req.Name != "":
		return "", fail(http.StatusBadRequest, `give "name" or "all": true, not both`)
	case req.All:
		return d.stopAll(ctx)
	case req.Name == "":
		return "", fail(http.StatusBadRequest, `give "name", the process to stop, or "all": true`)
	}
	res, err := d.cfg.Sup.Stop(ctx, req.Name, syscall.SIGTERM, d.grace())
	switch {
	case errors.Is(err, procstate.ErrUnknown):
		return "", fail(http.StatusNotFound, "%s", d.unknown(req.Name))
	case err != nil:
		return "", fail(http.StatusServiceUnavailable, "the stop of %q goes on without this request: %v", req.Name, err)
	}
	return stopText(res), nil
}

// stopAll stops the live processes in parallel, each on a goroutine of its
// own that it waits for.
func (d *Dashboard) stopAll(ctx context.Context) (string, *httpError) {
	var live []*procstate.Process
	for _, p := range d.cfg.Sup.Processes() {
		if p.Record().Status.Live() {
			live = append(live, p)
		}
	}
	if len(live) == 0 {
		return "no process was running", nil
	}
	texts := make([]string, len(live))
	errs := make([]error, len(live))
	var wg sync.WaitGroup
	for i, p := range live {
		wg.Go(func() {
			res, err := d.cfg.Sup.Stop(ctx, p.Name(), syscall.SIGTERM, d.grace())
			switch {
			case errors.Is(err, procstate.ErrUnknown): // removed meanwhile
				texts[i] = p.Name() + " is gone"
			case err != nil:
				errs[i] = err
			default:
				texts[i] = stopText(res)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return "", fail(http.StatusServiceUnavailable, "the stops go on without this request: %v", err)
		}
	}
	return strings.Join(texts, "\n"), nil
}

// stopText says how a stop went.
func stopText(res procstate.StopResult) string {
	r := res.Record
	if res.AlreadyStopped {
		return fmt.Sprintf("%s was already stopped (%s)", r.Name, outcome(r))
	}
	text := fmt.Sprintf("stopped %s (%s)", r.Name, outcome(r))
	if res.Killed {
		text += "; it did not exit within the grace period and was killed"
	}
	return text
}

// outcome says in a few words how a run ended, or that it runs.
func outcome(r *procstate.Record) string {
	switch {
	case r.Signal != "":
		return "killed by " + r.Signal
	case r.Ended() && r.ExitCode >= 0:
		return fmt.Sprintf("exit %d", r.ExitCode)
	case r.Error != "":
		return r.Error
	}
	return string(r.Status)
}

// restart stops a process and starts its next run, as process_restart
// does.
func (d *Dashboard) restart(ctx context.Context, body []byte) (string, *httpError) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeBody(body, &req); err != nil {
		return "", err
	}
	if req.Name == "" {
		return "", fail(http.StatusBadRequest, `give "name", the process to restart`)
	}
	p, stopped, err := d.cfg.Sup.Restart(ctx, req.Name, syscall.SIGTERM, d.grace())
	var inUse *procstate.NameInUseError
	switch {
	case errors.Is(err, procstate.ErrUnknown):
		return "", fail(http.StatusNotFound, "%s", d.unknown(req.Name))
	case errors.As(err, &inUse):
		// Another restart came first: that run is the answer.
		r := inUse.Record
		return fmt.Sprintf("%s was restarted by someone else meanwhile: run %d, pid %d", r.Name, r.Run, r.Pid), nil
	case err != nil && p == nil && stopped.Record != nil && stopped.Record.Status.Live():
		return "", fail(http.StatusServiceUnavailable, "restart of %q: the stop goes on without this request: %v", req.Name, err)
	case err != nil:
		return "", startFailure(req.Name, err)
	}
	r := p.Record()
	before := "it had already ended"
	if !stopped.AlreadyStopped {
		before = "the previous run was " + outcome(stopped.Record)
	}
	return fmt.Sprintf("restarted %s: run %d, pid %d (%s)", r.Name, r.Run, r.Pid, before), nil
}

// start starts a process the project defines as process_start {"script"}
// does: what it depends on first, each waited for until it is ready; then
// it waits for the script's own wait_for.
func (d *Dashboard) start(ctx context.Context, body []byte) (string, *httpError) {
	var req struct {
		Script string `json:"script"`
	}
	if err := decodeBody(body, &req); err != nil {
		return "", err
	}
	snap := d.snapshot()
	switch {
	case req.Script == "":
		return "", fail(http.StatusBadRequest, `give "script", a process of package.json or brummer.json`)
	case snap == nil:
		return "", fail(http.StatusNotFound, "this server has no project directory: there is nothing to start")
	case snap.Def(req.Script) == nil && len(snap.Names) == 0:
		return "", fail(http.StatusNotFound, "%q: %s has no package.json scripts and no brummer.json processes", cut(req.Script, 80), snap.Dir)
	case snap.Def(req.Script) == nil:
		return "", fail(http.StatusNotFound, "%q is not defined in %s; known: %s", cut(req.Script, 80), snap.Dir, strings.Join(snap.Names, ", "))
	}
	out, err := project.StartScript(ctx, d.cfg.Sup, snap, req.Script, project.Launcher{Prepare: d.cfg.Prepare})
	var dep *project.DependencyError
	switch {
	case errors.As(err, &dep) && dep.Err != nil:
		herr := startFailure(dep.Dep, dep.Err)
		herr.msg = fmt.Sprintf("%q was not started: it depends on %q: %s", req.Script, dep.Dep, herr.msg)
		return "", herr
	case errors.As(err, &dep):
		return "", fail(http.StatusConflict, "%s%s", dep.Error(), tailText(dep.Wait, dep.Step.Tail))
	case err != nil && ctx.Err() != nil:
		return "", fail(http.StatusServiceUnavailable, "the start of %q was cut short: the dashboard is closing; what started runs on", req.Script)
	case err != nil:
		var herr *httpError
		if herr = startFailure(req.Script, err); herr.status == http.StatusInternalServerError {
			herr.status = http.StatusUnprocessableEntity // a mistake in a definition, or refused by the policy
		}
		return "", herr
	}
	r := out.Process.Record()
	text := fmt.Sprintf("started %s (pid %d)", r.Name, r.Pid)
	if len(out.Deps) > 0 {
		text = "started " + strings.Join(out.Deps, ", ") + " first, as it depends on them; " + text
	}
	if out.Step.Ready == nil {
		return text, nil
	}
	res, err := out.Process.Wait(ctx, *out.Step.Ready, nil)
	if err != nil {
		return text + "; the wait for it to be ready was cut short (the dashboard is closing)", nil
	}
	switch res.Outcome {
	case procstate.Ready:
		text += fmt.Sprintf("; ready after %s", procstate.RunTime(res.Elapsed))
	case procstate.Exited:
		text += fmt.Sprintf("; it ended (%s) before it was ready", outcome(res.Record))
	case procstate.Timeout:
		text += fmt.Sprintf("; not ready after %s, it runs on", procstate.RunTime(res.Elapsed))
	}
	return text, nil
}

// startFailure is the answer to a start that failed: a start of the
// supervisor's, or a definition the caller refused.
func startFailure(name string, err error) *httpError {
	var (
		inUse    *procstate.NameInUseError
		badCwd   *procstate.CwdError
		notSpawn *procstate.SpawnError
	)
	switch {
	case errors.As(err, &inUse):
		return fail(http.StatusConflict, "name %q is in use by a %s process (pid %d); stop it first", name, inUse.Record.Status, inUse.Record.Pid)
	case errors.Is(err, procstate.ErrLimit):
		return fail(http.StatusConflict, "%v; stop processes you no longer need", err)
	case errors.As(err, &badCwd):
		return fail(http.StatusUnprocessableEntity, "the working directory of %q is not usable: %s", name, badCwd.Detail())
	case errors.As(err, &notSpawn):
		return fail(http.StatusUnprocessableEntity, "cannot start %q: %v; it is listed with status failed", name, notSpawn.Err)
	case errors.Is(err, procstate.ErrClosed):
		return fail(http.StatusServiceUnavailable, "the server is shutting down")
	}
	return fail(http.StatusInternalServerError, "%v", err)
}

// tailText is the last output lines (at most n, and 5) of a run that did
// not become ready, escapes stripped, after a semicolon; "" for none.
func tailText(res procstate.WaitResult, n int) string {
	if n = min(n, 5); n <= 0 || res.Process == nil {
		return ""
	}
	from := res.Process.LogFrom()
	page, _ := res.Process.Log().Read(logring.Query{Tail: n, Match: func(l *logring.Line) bool {
		return l.Seq > from && l.Stream != logring.System
	}})
	if len(page.Lines) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("; its last lines:")
	for _, l := range page.Lines {
		b.WriteString("\n")
		b.WriteString(detect.StripANSI(l.Text))
	}
	return b.String()
}
