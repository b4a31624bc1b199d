package dashboard_test

// End-to-end tests of the dashboard page in a headless Chromium, driven with
// chromedp. They skip when no Chromium is installed; CI installs one.
//
//	BRUMMER_SCREENSHOT=docs/dashboard.png go test ./dashboard -run TestBrowser/Screenshot
//
// rewrites the README's screenshot.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// findChromium returns the path of a Chromium or Chrome, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser runs the page in a headless Chromium against the real
// server: one browser for all, a tab and a server (in a project of its own)
// for each subtest.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser tests take about 15 s")
	}
	exe := findChromium()
	if exe == "" {
		t.Skip("no Chromium found (chromium, chromium-browser or google-chrome on PATH); CI installs it")
	}
	h := &harness{bin: buildServer(t)}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs the tests as root, in a container
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer acancel()
	var cancel context.CancelFunc
	h.browser, cancel = chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(h.browser); err != nil {
		t.Fatalf("start Chromium (%s): %v", exe, err)
	}
	for _, tt := range []struct {
		name string
		fn   func(*testing.T, *harness)
	}{
		{"TableLifecycle", testTableLifecycle},
		{"Logs", testLogs},
		{"Missed", testMissed},
		{"Reconnect", testReconnect},
		{"Stop", testStop},
		{"OutputStaysText", testOutputStaysText},
		{"Keyboard", testKeyboard},
		{"Layout", testLayout},
		{"Token", testToken},
		{"ReadOnly", testReadOnly},
		{"Screenshot", testScreenshot},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, h) })
	}
}

// harness is what the subtests share: the server binary and the browser.
type harness struct {
	bin     string
	browser context.Context
}

func (h *harness) server(t *testing.T, o serverOptions) *testServer {
	t.Helper()
	return newServer(t, h.bin, o)
}

// browserPage is one tab on the dashboard. It records what the page wrote to
// the console (CSP violations land there) and every JavaScript dialog.
type browserPage struct {
	t   *testing.T
	ctx context.Context

	mu      sync.Mutex
	console []string
	dialogs []string
}

// open opens a tab with a w x h viewport on url.
func (h *harness) open(t *testing.T, url string, w, ht int64) *browserPage {
	t.Helper()
	ctx, cancel := chromedp.NewContext(h.browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	p := &browserPage{t: t, ctx: ctx}
	console := chromedp.Console(ctx)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, fmt.Sprintf("%s: %s", m.Type, m.Text))
			p.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.dialogs = append(p.dialogs, ev.Message)
			p.mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	p.do(chromedp.EmulateViewport(w, ht), chromedp.Navigate(url))
	t.Cleanup(p.checkClean)
	return p
}

// checkClean fails the test on a JavaScript dialog (the XSS fixture would
// open one), an uncaught exception or a Content-Security-Policy violation.
func (p *browserPage) checkClean() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, d := range p.dialogs {
		p.t.Errorf("the page opened a JavaScript dialog: %q", d)
	}
	for _, m := range p.console {
		if strings.HasPrefix(m, "exception:") || strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Refused to") {
			p.t.Errorf("console: %s", m)
		}
	}
}

func (p *browserPage) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("browser: %v\n%s", err, p.dump())
	}
}

// eval evaluates a JavaScript expression and decodes its value into T.
func eval[T any](p *browserPage, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// wait polls a JavaScript expression until it is true. Polling from Go, not
// in the page: chromedp's in-page poll uses new Function, which the page's
// CSP (rightly) refuses.
func (p *browserPage) wait(what, expr string) {
	p.t.Helper()
	const d = 10 * time.Second
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("waited %v for %s (%s): err %v\n%s", d, what, expr, err, p.dump())
		}
		time.Sleep(40 * time.Millisecond)
	}
}

// dump describes the page for a failure message.
func (p *browserPage) dump() string {
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
		conn: document.getElementById('conn')?.textContent,
		rows: [...document.querySelectorAll('#proc-body tr')].map(tr => tr.innerText.replace(/\s+/g, ' ')),
		selected: document.querySelector('tr.selected')?.dataset.name,
		filter: document.getElementById('filter')?.value,
		active: document.activeElement?.id,
		filterError: document.getElementById('filter-error')?.textContent,
		toast: document.getElementById('toast')?.textContent,
		log: [...document.querySelectorAll('#log > *')].slice(-15).map(l => l.textContent),
	}, null, 1)`))
	if err != nil {
		s = "(page state unavailable: " + err.Error() + ")"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return s + "\nconsole:\n  " + strings.Join(p.console, "\n  ")
}

func (p *browserPage) click(sel string) {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.CSS(sel)))
}

// keys types k into the focused element.
func (p *browserPage) keys(k string) {
	p.t.Helper()
	p.do(chromedp.KeyEvent(k))
}

// press presses one printable key as a keyboard does: a keyDown that carries
// the text (so that preventDefault on keydown keeps it out of an input, as
// in a real browser; chromedp's KeyEvent sends the text as a separate char
// event), then a keyUp.
func (p *browserPage) press(key rune) {
	p.t.Helper()
	code := int64(unicode.ToUpper(key))
	if key == '/' {
		code = 191
	}
	down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: string(key), Text: string(key), UnmodifiedText: string(key), WindowsVirtualKeyCode: code}
	up := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: string(key), WindowsVirtualKeyCode: code}
	for _, ev := range []input.DispatchKeyEventParams{down, up} {
		if _, err := chromedp.Call(p.ctx, input.DispatchKeyEvent, ev); err != nil {
			p.t.Fatalf("key %q: %v", key, err)
		}
	}
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func row(name string) string { return `#proc-body tr[data-name=` + js(name) + `]` }

func cellText(name, col string) string {
	return `(document.querySelector(` + js(row(name)+" .c-"+col) + `)?.textContent ?? '')`
}

func statusIs(name, status string) string {
	return cellText(name, "status") + ` === ` + js(status)
}

// logLines are the log pane's lines.
const logLines = `[...document.querySelectorAll('#log .line')]`

// The project of most tests: brummer.json processes (no package manager
// needed), idle until started.
var testProject = map[string]string{
	"package.json": `{"name": "browser-fixture", "private": true, "scripts": {}}`,
	"brummer.json": `{"processes": {
  "svc":  {"command": "echo 'svc: listening on http://127.0.0.1:45999/'; while :; do sleep 1; done"},
  "task": {"command": "echo 'task: done'"}
}}`,
}

func testTableLifecycle(t *testing.T, h *harness) {
	s := h.server(t, serverOptions{project: testProject})
	p := h.open(t, s.URL, 1280, 800)

	// Project processes are listed idle, with a start button.
	p.wait("svc idle", statusIs("svc", "idle"))
	p.wait("svc start button", `document.querySelector(`+js(row("svc")+` button[data-action="start"]`)+`)`)
	p.click(row("svc") + ` button[data-action="start"]`)
	p.wait("svc running with a pid", statusIs("svc", "running")+` && /^\d+/.test(`+cellText("svc", "pid")+`)`)
	p.wait("svc's URL as a link", `document.querySelector(`+js(row("svc")+` .c-urls a[href="http://127.0.0.1:45999/"]`)+`)`)

	// A process started elsewhere (by an agent) shows up, exits with its
	// code and its error line.
	s.start(t, "crash", `echo 'crash: starting'; sleep 0.3; echo 'panic: the crash fixture failed' >&2; exit 3`)
	p.wait("crash listed", `document.querySelector(`+js(row("crash"))+`)`)
	p.wait("crash exited 3", statusIs("crash", "exited")+` && `+cellText("crash", "exit")+` === "3"`)
	p.wait("crash's error", cellText("crash", "errors")+`.includes("panic: the crash fixture failed")`)
	if got := eval[string](p, cellText("crash", "restarts")); got != "0" {
		t.Errorf("crash restarts = %q before a restart", got)
	}

	// Restart from the page: the same name's next run.
	p.click(row("crash") + ` button[data-action="restart"]`)
	p.wait("crash restarted once", cellText("crash", "restarts")+` === "1"`)
	p.wait("crash exited again", statusIs("crash", "exited"))
}

func testLogs(t *testing.T, h *harness) {
	s := h.server(t, serverOptions{project: testProject})
	s.start(t, "talk", `seq 1 80 | sed 's/^/burst /'; i=0; while :; do i=$((i+1)); echo "tick $i"; echo "warn $i" >&2; sleep 0.1; done`)
	p := h.open(t, s.URL, 1280, 800)

	p.wait("talk listed", `document.querySelector(`+js(row("talk"))+`)`)
	p.click(row("talk") + ` .c-name`)
	p.wait("talk selected", `document.querySelector('tr.selected')?.dataset.name === "talk" && document.getElementById('log-target').textContent === "talk"`)

	// The pane follows: new lines arrive and it stays at the bottom.
	p.wait("ticks", logLines+`.some(l => l.textContent.includes("tick 3"))`)
	n := eval[int](p, logLines+`.length`)
	p.wait("more lines", logLines+`.length > `+fmt.Sprint(n+4))
	p.wait("at the bottom", `(() => { const l = document.getElementById('log'); return l.scrollHeight - l.scrollTop - l.clientHeight < 10 })()`)

	// Scrolling up pauses; the button resumes at the bottom.
	p.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('log').scrollTop = 0`))
	p.wait("paused", `!document.getElementById('resume').hidden`)
	p.wait("new lines counted while paused", `/\d+ new line/.test(document.getElementById('resume').textContent)`)
	if top := eval[float64](p, `document.getElementById('log').scrollTop`); top > 5 {
		t.Errorf("the paused pane scrolled to %v", top)
	}
	p.click("#resume")
	p.wait("following again", `document.getElementById('resume').hidden`)
	p.wait("at the bottom again", `(() => { const l = document.getElementById('log'); return l.scrollHeight - l.scrollTop - l.clientHeight < 10 })()`)

	// The filter: only matching lines, and they keep coming.
	p.do(chromedp.SendKeys(chromedp.ID("filter"), `^warn \d*7$`))
	p.wait("filtered", logLines+`.length > 0 && `+logLines+`.every(l => /^warn \d*7$/.test(l.querySelector('.lt').textContent))`)
	n = eval[int](p, logLines+`.length`)
	p.wait("filtered lines follow", logLines+`.length > `+fmt.Sprint(n))

	// A bad regular expression: the server's error inline, the old filter stays.
	p.do(chromedp.SendKeys(chromedp.ID("filter"), `(`))
	p.wait("error shown", `!document.getElementById('filter-error').hidden && document.getElementById('filter-error').textContent.length > 8`)
	p.wait("marked invalid", `document.getElementById('filter').getAttribute('aria-invalid') === 'true'`)
	if !eval[bool](p, logLines+`.every(l => /^warn \d*7$/.test(l.querySelector('.lt').textContent))`) {
		t.Errorf("a refused filter changed the pane:\n%s", p.dump())
	}
	// Fixing it clears the error.
	p.keys("\b")
	p.wait("error gone", `document.getElementById('filter-error').hidden`)

	// Streams: stderr only, with no filter.
	p.do(chromedp.Evaluate[chromedp.Void](`(() => { const f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('input')); })()`))
	p.wait("unfiltered", logLines+`.some(l => l.textContent.includes("tick"))`)
	p.click(`#streams input[value="stderr"] + span`)
	p.wait("stderr only", logLines+`.length > 0 && `+logLines+`.every(l => l.classList.contains('s-stderr'))`)
	p.click(`#streams input[value="system"] + span`)
	p.wait("system only", logLines+`.length > 0 && `+logLines+`.every(l => l.classList.contains('s-system'))`)
	p.click(`#streams input[value="all"] + span`)

	// All processes merged: lines carry their process's name.
	s.start(t, "other", `while :; do echo 'other: hello from the merged view'; sleep 0.3; done`)
	p.click("#log-all")
	p.wait("merged", `document.getElementById('log').classList.contains('merged') && `+logLines+`.some(l => l.querySelector('.lp')?.textContent === "other" && l.textContent.includes("hello from the merged view"))`)
	p.wait("talk in the merged view", logLines+`.some(l => l.querySelector('.lp')?.textContent === "talk")`)
}

// testMissed: lines evicted before the page read them are marked.
func testMissed(t *testing.T, h *harness) {
	s := h.server(t, serverOptions{project: testProject, args: []string{"--log-lines", "300"}})
	s.start(t, "flood", `echo waiting; while [ ! -e go ]; do sleep 0.05; done; seq 1 20000 | sed 's/^/flood /'; echo 'flood: done'; while :; do sleep 1; done`)
	p := h.open(t, s.URL, 1280, 800)
	p.click(row("flood") + ` .c-name`)
	p.wait("following flood", `document.getElementById('log-target').textContent === "flood" && `+logLines+`.some(l => l.textContent.includes("waiting"))`)
	// Let it go: 20,000 lines at once through a 300-line log.
	s.start(t, "go", `touch go`)
	p.wait("the last line", logLines+`.some(l => l.textContent.includes("flood: done"))`)
	p.wait("a missed marker", `[...document.querySelectorAll('#log .missed')].some(m => /missed \d+ lines/.test(m.textContent))`)
	missed := eval[string](p, `document.querySelector('#log .missed').textContent`)
	lines := eval[int](p, logLines+`.length`)
	if lines > 1300 {
		t.Errorf("%d lines shown after the flood: the page should have skipped", lines)
	}
	t.Logf("%s; %d lines shown", missed, lines)
}

// testReconnect: when the event stream breaks, the page reconnects from
// where it stood: no line twice, none lost. A proxy between the page and
// the server breaks the connections.
func testReconnect(t *testing.T, h *harness) {
	s := h.server(t, serverOptions{project: testProject})
	target, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	var streams atomic.Int32
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/events" {
			streams.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)

	s.start(t, "count", `i=0; while :; do i=$((i+1)); echo "count $i"; sleep 0.02; done`)
	p := h.open(t, proxy.URL, 1280, 800)
	p.click(row("count") + ` .c-name`)
	p.wait("counting", logLines+`.some(l => l.querySelector('.lt').textContent === "count 10")`)
	p.wait("live", `document.getElementById('conn').dataset.state === 'live'`)
	before := streams.Load()
	for range 2 {
		proxy.CloseClientConnections()
		time.Sleep(300 * time.Millisecond)
	}
	for i := 0; streams.Load() <= before && i < 100; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if streams.Load() <= before {
		t.Fatalf("the page did not open a new event stream\n%s", p.dump())
	}
	p.wait("live again", `document.getElementById('conn').dataset.state === 'live'`)
	n := eval[int](p, `Math.max(...`+logLines+`.map(l => +l.dataset.seq))`)
	p.wait("more lines", `Math.max(...`+logLines+`.map(l => +l.dataset.seq)) > `+fmt.Sprint(n+20))
	// The pane holds every line once, in order.
	gaps := eval[[]int](p, `(() => {
		const seqs = `+logLines+`.map(l => +l.dataset.seq);
		const bad = [];
		for (let i = 1; i < seqs.length; i++) if (seqs[i] !== seqs[i-1] + 1) bad.push(seqs[i-1], seqs[i]);
		return bad;
	})()`)
	if len(gaps) > 0 {
		t.Errorf("lines missing or repeated around a reconnect (pairs of seqs): %v", gaps)
	}
	if n := eval[int](p, `document.querySelectorAll('#log .missed').length`); n != 0 {
		t.Errorf("%d missed markers after a reconnect", n)
	}
}

func testStop(t *testing.T, h *harness) {
	s := h.server(t, serverOptions{project: testProject})
	s.start(t, "one", `echo one; while :; do sleep 1; done`)
	s.start(t, "two", `echo two; while :; do sleep 1; done`)
	s.start(t, "three", `echo three; while :; do sleep 1; done`)
	p := h.open(t, s.URL, 1280, 800)

	p.wait("one running", statusIs("one", "running"))
	p.click(row("one") + ` button[data-action="stop"]`)
	p.wait("one stopped", statusIs("one", "exited"))
	p.wait("one offers a restart", `document.querySelector(`+js(row("one")+` button[data-action="restart"]`)+`)`)

	// Stop all asks first; Cancel stops nothing.
	p.click("#stop-all")
	p.wait("confirmation", `document.getElementById('confirm-dialog').open`)
	if txt := eval[string](p, `document.getElementById('confirm-text').textContent`); !strings.Contains(txt, "two") || !strings.Contains(txt, "three") || strings.Contains(txt, "one,") {
		t.Errorf("confirmation text %q should name the live processes two and three only", txt)
	}
	p.click("#confirm-cancel")
	p.wait("dialog closed", `!document.getElementById('confirm-dialog').open`)
	time.Sleep(300 * time.Millisecond)
	p.wait("two still running", statusIs("two", "running")+` && `+statusIs("three", "running"))

	p.click("#stop-all")
	p.wait("confirmation again", `document.getElementById('confirm-dialog').open`)
	p.click("#confirm-ok")
	p.wait("all stopped", statusIs("two", "exited")+` && `+statusIs("three", "exited"))
	p.wait("nothing left to stop", `document.getElementById('stop-all').disabled`)
}

func testOutputStaysText(t *testing.T, h *harness) {
	s := h.server(t, serverOptions{project: testProject})
	s.start(t, "xss", `printf '<img src=x onerror=alert(1)>\n'; `+
		`printf '\033[31mred\033[0m plain \033[1;92mbold bright green\033[22;39m back \033[38;5;208morange\033[0m\n'; `+
		`printf '\033]0;title\007<script>alert(2)</script>\033[2K\n'; `+
		`printf 'panic: <b onmouseover=alert(3)>bold?</b>\n' >&2; `+
		`sleep 0.1; printf 'Project name? '; while :; do sleep 1; done`)
	res, _ := s.get(t, "/", "")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("the page is served with Content-Security-Policy %q", csp)
	}
	p := h.open(t, s.URL, 1280, 800)

	p.wait("xss listed", `document.querySelector(`+js(row("xss"))+`)`)
	p.click(row("xss") + ` .c-name`)
	p.wait("the markup shown as text", logLines+`.some(l => l.textContent.includes("<img src=x onerror=alert(1)>"))`)
	p.wait("the script shown as text", logLines+`.some(l => l.textContent.endsWith("<script>alert(2)</script>"))`)
	p.wait("the stderr line", logLines+`.some(l => l.textContent.includes("<b onmouseover=alert(3)>bold?</b>"))`)
	p.wait("the last error shown as text", cellText("xss", "errors")+`.includes("<b onmouseover=alert(3)>")`)

	p.wait("a prompt without a newline, as a partial line", logLines+`.some(l => l.classList.contains('partial') && l.querySelector('.lt').textContent === "Project name? ")`)

	if n := eval[int](p, `document.querySelectorAll('img, script:not([src]), #log b, #log [onerror], #log [onmouseover]').length`); n != 0 {
		t.Errorf("process output became markup: %d elements\n%s", n, eval[string](p, `document.getElementById('log').innerHTML`))
	}
	// The colours are rendered: spans with classes, not escape codes.
	checks := map[string]string{
		"red":               `[...document.querySelectorAll('#log span.fg1')].some(s => s.textContent === "red")`,
		"bold bright green": `[...document.querySelectorAll('#log span.fg10.b')].some(s => s.textContent === "bold bright green")`,
		"back to plain":     logLines + `.some(l => [...l.querySelector('.lt').childNodes].some(n => n.nodeType === 3 && n.textContent === " back "))`,
		"256 colours":       `[...document.querySelectorAll('#log .lt span')].some(s => s.textContent === "orange" && s.style.color === "rgb(255, 135, 0)")`,
		"no escape left":    logLines + `.filter(l => !l.classList.contains('s-system')).every(l => !/\x1b|\[31m|\[0m/.test(l.textContent))`,
		"no OSC title":      logLines + `.filter(l => !l.classList.contains('s-system')).every(l => !l.textContent.includes("title"))`,
	}
	for what, expr := range checks {
		if !eval[bool](p, expr) {
			t.Errorf("%s: %s is false\n%s", what, expr, eval[string](p, `document.getElementById('log').innerHTML`))
		}
	}
	// Give a planted handler every chance to run.
	time.Sleep(300 * time.Millisecond)
}

func testKeyboard(t *testing.T, h *harness) {
	s := h.server(t, serverOptions{project: testProject})
	s.start(t, "k1", `echo k1; while :; do sleep 1; done`)
	p := h.open(t, s.URL, 1280, 800)
	p.wait("rows", `document.querySelectorAll('#proc-body tr').length >= 3`)
	names := eval[[]string](p, `[...document.querySelectorAll('#proc-body tr')].map(tr => tr.dataset.name)`)

	selected := `document.querySelector('tr.selected')?.dataset.name`
	p.press('j')
	p.wait("j selects the first row", selected+` === `+js(names[0]))
	p.press('j')
	p.wait("j moves down", selected+` === `+js(names[1]))
	p.press('j')
	p.wait("j moves down again", selected+` === `+js(names[2]))
	p.press('k')
	p.wait("k moves up", selected+` === `+js(names[1]))
	p.wait("the log follows the selection", `document.getElementById('log-target').textContent === `+js(names[1]))

	p.press('/')
	p.wait("/ focuses the filter", `document.activeElement === document.getElementById('filter')`)
	// Typing in the filter is not a command.
	p.press('j')
	p.press('k')
	p.wait("typed", `document.getElementById('filter').value === "jk"`)
	if got := eval[string](p, selected); got != names[1] {
		t.Errorf("typing j and k in the filter moved the selection to %q", got)
	}
}

func testLayout(t *testing.T, h *harness) {
	s := h.server(t, serverOptions{project: testProject})
	s.start(t, "a-process-with-a-rather-long-name-for-a-phone", `echo 'ready on http://localhost:51234/some/very/long/path/that/does/not/wrap/easily/at/all'; `+
		`echo 'panic: a very long error line without spaces: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' >&2; `+
		`printf 'wide: %0300d\n' 0; while :; do sleep 1; done`)
	for _, vp := range []struct{ w, h int64 }{{1280, 800}, {800, 600}, {390, 844}} {
		t.Run(fmt.Sprintf("%dx%d", vp.w, vp.h), func(t *testing.T) {
			p := h.open(t, s.URL, vp.w, vp.h)
			p.wait("rows", `document.querySelectorAll('#proc-body tr').length >= 3`)
			p.wait("the long line", logLines+`.some(l => l.textContent.includes("wide: 000"))`)
			p.wait("the error", cellText("a-process-with-a-rather-long-name-for-a-phone", "errors")+`.includes("panic: a very long")`)
			over := eval[[]string](p, `[...document.querySelectorAll('body *')].filter(e => {
				const r = e.getBoundingClientRect();
				return r.width > 0 && (r.right > window.innerWidth + 1 || r.left < -1) && !e.closest('.sr-only, thead, dialog:not([open])');
			}).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`)
			if len(over) > 0 {
				t.Errorf("elements beyond the %d px viewport: %v", vp.w, over)
			}
			if sw := eval[int](p, `document.documentElement.scrollWidth`); sw > int(vp.w) {
				t.Errorf("page is %d px wide in a %d px viewport", sw, vp.w)
			}
			logH := eval[float64](p, `document.getElementById('log').getBoundingClientRect().height`)
			if logH < 250 {
				t.Errorf("the log pane is %v px high", logH)
			}
			if dir := os.Getenv("BRUMMER_BROWSER_SHOTS"); dir != "" {
				buf, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
				if err == nil {
					err = os.WriteFile(filepath.Join(dir, fmt.Sprintf("layout-%dx%d.png", vp.w, vp.h)), buf, 0o644)
				}
				if err != nil {
					t.Error(err)
				}
			}
			// Buttons are big enough to hit.
			if h := eval[float64](p, `document.querySelector('#proc-body button')?.getBoundingClientRect().height ?? 99`); h < 20 {
				t.Errorf("buttons are %v px high", h)
			}
		})
	}
}

func testToken(t *testing.T, h *harness) {
	const token = "browser-test-token-0123456789"
	s := h.server(t, serverOptions{project: testProject, token: token})
	p := h.open(t, s.URL, 1280, 800)

	p.wait("asked for the token", `document.getElementById('token-dialog').open`)
	p.do(chromedp.SendKeys(chromedp.ID("token-input"), "wrong-token"), chromedp.Click(chromedp.ID("token-ok")))
	p.wait("refused, asked again", `document.getElementById('token-dialog').open && !document.getElementById('token-error').hidden`)
	p.do(chromedp.SendKeys(chromedp.ID("token-input"), token), chromedp.Click(chromedp.ID("token-ok")))
	p.wait("table loaded", statusIs("svc", "idle"))
	p.wait("live", `document.getElementById('conn').dataset.state === 'live'`)
	if eval[bool](p, `document.getElementById('token-dialog').open`) {
		t.Error("the token form is still open")
	}
	if got := eval[string](p, `sessionStorage.getItem('brummer-mcp.token')`); got != token {
		t.Errorf("sessionStorage holds %q", got)
	}
	if u := eval[string](p, `location.href`); strings.Contains(u, token) {
		t.Errorf("the token is in the URL %s", u)
	}
	// Actions carry it too.
	p.click(row("task") + ` button[data-action="start"]`)
	p.wait("task ran", statusIs("task", "exited"))

	// A reload in the same tab does not ask again.
	p.do(chromedp.Reload())
	p.wait("reloaded", statusIs("svc", "idle"))
	if eval[bool](p, `document.getElementById('token-dialog').open`) {
		t.Error("asked for the token again after a reload")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.console {
		if strings.Contains(m, token) {
			t.Errorf("the token was logged: %s", m)
		}
	}
}

func testReadOnly(t *testing.T, h *harness) {
	s := h.server(t, serverOptions{project: testProject, readOnly: true})
	p := h.open(t, s.URL, 1280, 800)
	p.wait("svc idle", statusIs("svc", "idle"))
	p.wait("task idle", statusIs("task", "idle"))
	if n := eval[int](p, `[...document.querySelectorAll('button')].filter(b => b.offsetParent !== null).length`); n != 1 {
		t.Errorf("%d visible buttons in read-only mode (want only 'all')\n%s", n, p.dump())
	}
	if n := eval[int](p, `document.querySelectorAll('#proc-body button').length`); n != 0 {
		t.Errorf("%d action buttons in read-only mode", n)
	}
	if !eval[bool](p, `document.getElementById('stop-all').hidden`) {
		t.Error("stop all is shown in read-only mode")
	}
}

// testScreenshot writes the README's screenshot when
// BRUMMER_SCREENSHOT names a file.
func testScreenshot(t *testing.T, h *harness) {
	out := os.Getenv("BRUMMER_SCREENSHOT")
	if out == "" {
		t.Skip("set BRUMMER_SCREENSHOT=docs/dashboard.png to write the screenshot")
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join("..", out) // relative to the repository
	}
	// A project directory with a plain name: the page shows it.
	dir := filepath.Join(os.TempDir(), "brummer-demo", "my-app")
	if err := os.RemoveAll(filepath.Dir(dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Dir(dir)) })
	s := h.server(t, serverOptions{fixture: filepath.Join("..", "testdata", "fixture-project"), dir: dir})
	s.startScript(t, "web") // starts db and api first
	typecheck := "printf '\\033[1mtsc\\033[0m --noEmit\\n'; sleep 0.2\n" +
		"printf '\\033[96msrc/App.tsx\\033[0m:\\033[93m12\\033[0m:\\033[93m7\\033[0m - \\033[91merror\\033[0m\\033[90m TS2322: \\033[0mType \\047string\\047 is not assignable to type \\047number\\047.\\n' >&2; sleep 0.05\n" +
		"printf '\\nFound 1 error in src/App.tsx\\033[90m:12\\033[0m\\n'\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "typecheck.sh"), []byte(typecheck), 0o755); err != nil {
		t.Fatal(err)
	}
	s.start(t, "typecheck", "sh typecheck.sh")
	p := h.open(t, s.URL, 1280, 800)
	if _, err := chromedp.Call(p.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
	}); err != nil {
		t.Fatal(err)
	}
	p.wait("web running", statusIs("web", "running"))
	p.wait("typecheck failed", statusIs("typecheck", "exited")+` && `+cellText("typecheck", "errors")+`.includes("TS2322")`)
	s.input(t, "api", "GET /health")
	p.wait("api answered", logLines+`.some(l => l.textContent.includes("api: got GET /health"))`)
	time.Sleep(2500 * time.Millisecond) // uptimes above 0s, usage sampled
	buf, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", out, len(buf))
}
