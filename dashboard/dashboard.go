package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/brummer-mcp/brummer-mcp/procstate"
	"github.com/brummer-mcp/brummer-mcp/project"
)

// Config configures a dashboard.
type Config struct {
	// Sup is the supervisor whose processes the dashboard shows. Required.
	Sup *procstate.Supervisor
	// Project, if set, adds the project's processes that have not run
	// (status idle) and its configuration errors, and lets the page start
	// them.
	Project *project.Project
	// Prepare turns a definition of the project into the step that starts
	// it (project.Launcher.Prepare): main passes tools.ScriptStep with the
	// server's policy, so that the start button starts what process_start
	// {"script"} starts and refuses what it refuses. nil starts a
	// definition as written and refuses one with a wait_for.
	Prepare func(*project.Def, procstate.Spec) (project.Step, error)
	// ReadOnly refuses every POST (403) and says so in /api/state.
	ReadOnly bool
	// Version is the server's version, shown by the page.
	Version string
	// Log receives what goes wrong serving the page.
	Log zerolog.Logger
}

// Limits of the API.
const (
	// maxLines bounds the lines of one answer or event; a reader further
	// behind skips ahead.
	maxLines = 1000
	// defaultTail is the lines a view starts with.
	defaultTail = 200
	// maxBodyBytes bounds a POST's body.
	maxBodyBytes = 1 << 20
	// maxGrepBytes bounds the grep parameter, as process_logs does.
	maxGrepBytes = 1024
	// maxCursorBytes bounds the cursor parameter.
	maxCursorBytes = 64 << 10
)

// Dashboard serves the page and its API. Make one with New; Close it
// before the supervisor.
type Dashboard struct {
	cfg     Config
	log     zerolog.Logger
	handler http.Handler
	assets  map[string]*asset
	// writeTimeout ends a stream whose page does not take an event within
	// it (tests lengthen it).
	writeTimeout time.Duration

	// done is closed by Close: event streams watch it.
	done chan struct{}
	// mu guards closed and ending, the requests in progress that Close
	// ends: each one's end function, called under mu so that it never
	// runs after its request has left.
	mu      sync.Mutex
	closed  bool
	ending  map[*int]func()
	running sync.WaitGroup
}

// endpoints are the API's paths and the method of each: the others are
// answered 405 there.
var endpoints = map[string]string{
	"/api/state": "GET, HEAD", "/api/logs": "GET, HEAD", "/api/events": "GET, HEAD",
	"/api/stop": "POST", "/api/restart": "POST", "/api/start": "POST",
}

// csp allows the page's own scripts, styles and connections and nothing
// else: no inline script or style, no frames, no forms.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// ui holds the page: index.html, app.js, app.css.
//
//go:embed ui/*
var ui embed.FS

// asset is an embedded file as served.
type asset struct {
	name, contentType, etag string
	data                    []byte
}

// New returns the dashboard of cfg.Sup.
func New(cfg Config) *Dashboard {
	d := &Dashboard{
		cfg:    cfg,
		log:    cfg.Log.With().Str("component", "dashboard").Logger(),
		assets: loadAssets(),
		done:   make(chan struct{}),
		ending: map[*int]func(){},

		writeTimeout: writeTimeout,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { d.serveAsset(w, r, "index.html") })
	mux.HandleFunc("GET /ui/{file...}", func(w http.ResponseWriter, r *http.Request) { d.serveAsset(w, r, r.PathValue("file")) })
	mux.HandleFunc("GET /api/state", d.serveState)
	mux.HandleFunc("GET /api/logs", d.serveLogs)
	mux.HandleFunc("GET /api/events", d.serveEvents)
	mux.Handle("POST /api/stop", d.action(d.stop))
	mux.Handle("POST /api/restart", d.action(d.restart))
	mux.Handle("POST /api/start", d.action(d.start))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if m := endpoints[r.URL.Path]; m != "" {
			w.Header().Set("Allow", m)
			writeError(w, http.StatusMethodNotAllowed, "%s takes %s, not %s", r.URL.Path, m, r.Method)
			return
		}
		writeError(w, http.StatusNotFound, "no API endpoint %s %s", r.Method, r.URL.Path)
	})
	d.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if strings.HasPrefix(r.URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
		}
		mux.ServeHTTP(w, r)
	})
	return d
}

// Handler serves the page at / and /ui/, and the API at /api/.
func (d *Dashboard) Handler() http.Handler { return d.handler }

// Close ends the event streams and the POSTs in progress, and returns once
// they have. Event streams and POSTs asked for after it are answered 503.
func (d *Dashboard) Close() {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		close(d.done)
		for _, end := range d.ending {
			end()
		}
	}
	d.mu.Unlock()
	d.running.Wait()
}

// enter registers a request that Close must end, with the function that
// ends it; false once the dashboard is closed. Call leave when the request
// is done: end is not called after leave returns.
func (d *Dashboard) enter(end func()) (leave func(), ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, false
	}
	key := new(int)
	d.ending[key] = end
	d.running.Add(1)
	return func() {
		d.mu.Lock()
		delete(d.ending, key)
		d.mu.Unlock()
		d.running.Done()
	}, true
}

// loadAssets reads the embedded page once: its files, their types and
// ETags.
func loadAssets() map[string]*asset {
	out := map[string]*asset{}
	err := fs.WalkDir(ui, "ui", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := ui.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		name := strings.TrimPrefix(p, "ui/")
		out[name] = &asset{name: name, contentType: contentType(name), etag: `"` + hex.EncodeToString(sum[:12]) + `"`, data: data}
		return nil
	})
	if err != nil {
		panic("dashboard: embedded ui: " + err.Error()) // the build embeds it; it cannot fail
	}
	return out
}

// contentType is the type of an asset by its extension: the page's own
// types are fixed here, not left to the system's MIME tables.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json":
		return "application/json"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func (d *Dashboard) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a := d.assets[name]
	if a == nil {
		http.Error(w, fmt.Sprintf("no file %q in the dashboard", name), http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.data))
}

// errorBody is the answer to a request that failed.
type errorBody struct {
	Error string `json:"error"`
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := encodeJSON(&buf, v); err != nil {
		http.Error(w, "encode answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeError answers {"error": message} with status.
func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, errorBody{Error: fmt.Sprintf(format, args...)})
}

// encodeJSON writes v to buf without a trailing newline and without
// escaping <, > and &: the text of a line goes out as the process printed
// it, and the page inserts it as text.
func encodeJSON(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
}
