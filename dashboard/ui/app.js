// The brummer-mcp dashboard: a process table and a live log pane.
//
// Plain ES module, no dependencies, loaded under a Content-Security-Policy
// without inline scripts or styles. Everything a process printed is put into
// the page as text (textContent, createTextNode), never parsed as HTML; the
// only markup made from it is the spans of its ANSI colours.
//
// Data: GET /api/state and /api/logs for the first paint, then one
// server-sent-event stream (/api/events) read with fetch(), so that the
// Authorization header can be sent; it carries `state` and `lines` events and
// is reopened with backoff from the last cursor when it ends.

const $ = (id) => document.getElementById(id);

const TOKEN_KEY = 'brummer-mcp.token';
const TAIL = 200; // lines shown when a view opens
const MAX_LINES = 5000; // lines kept in the log pane
const LIVE = new Set(['starting', 'running', 'stopping', 'backoff']);
const TICKING = new Set(['starting', 'running', 'stopping']);

const el = {
  version: $('version'),
  cwd: $('cwd'),
  conn: $('conn'),
  stopAll: $('stop-all'),
  configErrors: $('config-errors'),
  body: $('proc-body'),
  noProcs: $('no-procs'),
  logAll: $('log-all'),
  logTarget: $('log-target'),
  filter: $('filter'),
  filterError: $('filter-error'),
  streams: $('streams'),
  log: $('log'),
  resume: $('resume'),
  toast: $('toast'),
  confirm: $('confirm-dialog'),
  confirmText: $('confirm-text'),
  confirmOk: $('confirm-ok'),
  confirmCancel: $('confirm-cancel'),
  tokenDialog: $('token-dialog'),
  tokenForm: $('token-form'),
  tokenInput: $('token-input'),
  tokenError: $('token-error'),
};

const ui = {
  snap: null, // the last state: {version, read_only, cwd, processes, config_errors}
  snapAt: 0, // performance.now() when it came
  readOnly: false,
  rows: new Map(), // name -> {tr, cells, keys}
  order: [], // names in table order
  selected: null, // a process name, or null for all merged
  grep: '', // the filter in force (the box may hold one the server refused)
  stream: 'all',
  follow: true, // the log pane sticks to the bottom
  unseen: 0, // lines added while paused
  lineCount: 0, // line elements in the pane
  lastScrollTop: 0,
  pending: new Set(), // "action:name" being sent
};

// ---------------------------------------------------------------- API

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

let tokenPrompt = null; // the promise of the open token form

// askToken shows the token form (once, however many requests got 401) and
// resolves when a token was entered. sent is the token the refused request
// carried: if another one was entered meanwhile, it resolves at once.
function askToken(sent) {
  if (storedToken() !== sent) return Promise.resolve();
  if (tokenPrompt) return tokenPrompt;
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: the form still works for this page */ }
  el.tokenError.hidden = !sent;
  el.tokenError.textContent = sent ? 'That token was not accepted.' : '';
  el.tokenInput.value = '';
  tokenPrompt = new Promise((resolve) => {
    const submit = (ev) => {
      ev.preventDefault();
      const t = el.tokenInput.value.trim();
      if (!t) return;
      try {
        sessionStorage.setItem(TOKEN_KEY, t);
      } catch {
        memoryToken = t;
      }
      el.tokenInput.value = '';
      el.tokenForm.removeEventListener('submit', submit);
      el.tokenDialog.close();
      tokenPrompt = null;
      resolve();
    };
    el.tokenForm.addEventListener('submit', submit);
  });
  if (!el.tokenDialog.open) el.tokenDialog.showModal();
  el.tokenInput.focus();
  return tokenPrompt;
}

let memoryToken = ''; // only when sessionStorage is unavailable

function currentToken() {
  return storedToken() || memoryToken;
}

// api fetches path with the bearer token (if one was given) and asks for a
// token when the server answers 401, then tries again.
async function api(path, opts = {}) {
  for (;;) {
    const headers = new Headers(opts.headers || {});
    const t = currentToken();
    if (t) headers.set('Authorization', 'Bearer ' + t);
    const res = await fetch(path, { ...opts, headers, cache: 'no-store', credentials: 'same-origin', redirect: 'error' });
    if (res.status !== 401) return res;
    try {
      await res.body?.cancel();
    } catch { /* nothing to drain */ }
    if (t && memoryToken === t) memoryToken = '';
    await askToken(t);
    if (opts.signal?.aborted) throw new DOMException('aborted', 'AbortError');
  }
}

class HTTPError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// errorOf reads an error answer: {error} as JSON, or the plain text of
// http.Error.
async function errorOf(res) {
  let text = '';
  try {
    text = await res.text();
  } catch { /* no body */ }
  let msg = text.trim();
  try {
    const j = JSON.parse(text);
    if (j && typeof j.error === 'string') msg = j.error;
  } catch { /* not JSON */ }
  return new HTTPError(res.status, msg || `${res.status} ${res.statusText}`);
}

async function getJSON(path, signal) {
  const res = await api(path, { signal, headers: { Accept: 'application/json' } });
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

async function post(path, body) {
  const res = await api(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Brummer-Action': '1', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await errorOf(res);
  const j = await res.json().catch(() => ({}));
  if (j && j.error) throw new HTTPError(res.status, j.error);
  return j || {};
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

// readSSE reads a text/event-stream body and calls onEvent(name, data) for
// each event; comments (heartbeats) only call onAlive.
async function readSSE(body, onEvent, onAlive) {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  let name = '';
  let data = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onAlive();
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        let line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line === '') {
          if (data.length) onEvent(name || 'message', data.join('\n'));
          name = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const c = line.indexOf(':');
        const field = c < 0 ? line : line.slice(0, c);
        let v = c < 0 ? '' : line.slice(c + 1);
        if (v.startsWith(' ')) v = v.slice(1);
        if (field === 'event') name = v;
        else if (field === 'data') data.push(v);
      }
    }
  } finally {
    reader.releaseLock?.();
  }
}

// ---------------------------------------------------------------- views

// A view is what the log pane follows: a process (or all), a filter and a
// stream. It owns one event stream, reopened from its cursor until the view
// is replaced.
let view = null;
let viewGen = 0;
let viewFetch = null;

function query(v, extra) {
  const q = new URLSearchParams();
  q.set('name', v.name || '');
  if (v.grep) q.set('grep', v.grep);
  q.set('stream', v.stream);
  for (const [k, val] of Object.entries(extra)) q.set(k, String(val));
  return q.toString();
}

// setView opens a view: it reads the tail first, which also checks the
// filter; a filter the server refuses is shown inline and the current view
// keeps going.
async function setView(next) {
  const gen = ++viewGen;
  viewFetch?.abort();
  const ctrl = new AbortController();
  viewFetch = ctrl;
  const v = { name: next.name, grep: next.grep, stream: next.stream, cursor: null, ctrl: new AbortController() };
  let data = null;
  try {
    data = await getJSON('/api/logs?' + query(v, { tail: TAIL }), ctrl.signal);
  } catch (e) {
    if (gen !== viewGen) return;
    if (e instanceof HTTPError && e.status === 400) {
      showFilterError(e.message);
      return;
    }
    if (e instanceof HTTPError && e.status === 404 && v.name != null) {
      gone(v.name, e.message);
      return;
    }
    toast(`logs: ${e.message}`, true);
  }
  if (gen !== viewGen) return;
  if (el.filter.value === v.grep) showFilterError('');
  view?.ctrl.abort();
  view = v;
  ui.grep = v.grep;
  ui.stream = v.stream;
  clearLog();
  if (data) {
    addLines(data.lines || [], data.missed || 0);
    v.cursor = data.cursor ?? null;
  }
  follow(v);
}

// gone: the selected process is no longer known (removed); show all.
function gone(name, why) {
  toast(why || `${name} is gone`, true);
  if (ui.selected === name) {
    ui.selected = null;
    markSelected();
  }
  setView(currentView());
}

function currentView() {
  return { name: ui.selected, grep: ui.grep, stream: ui.stream };
}

// follow keeps the view's event stream open until the view is replaced.
async function follow(v) {
  const signal = v.ctrl.signal;
  let delay = 500;
  while (!signal.aborted) {
    let alive = false;
    const conn = new AbortController();
    const stop = () => conn.abort();
    signal.addEventListener('abort', stop, { once: true });
    // No byte for 40 s (the server sends a comment after 15 s without an
    // event): the connection is dead.
    let idle = null;
    const poke = () => {
      clearTimeout(idle);
      idle = setTimeout(stop, 40000);
    };
    try {
      if (v.cursor == null) {
        // The first read failed: read the tail again before following.
        const data = await getJSON('/api/logs?' + query(v, { tail: TAIL }), conn.signal);
        if (signal.aborted) return;
        addLines(data.lines || [], data.missed || 0);
        v.cursor = data.cursor ?? null;
      }
      const q = query(v, v.cursor == null ? {} : { cursor: v.cursor });
      const res = await api('/api/events?' + q, { signal: conn.signal, headers: { Accept: 'text/event-stream' } });
      if (!res.ok) throw await errorOf(res);
      setConn('live');
      poke();
      await readSSE(res.body, (name, data) => {
        if (signal.aborted) return;
        alive = true;
        onEvent(v, name, data);
      }, poke);
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof HTTPError && e.status === 400) {
        showFilterError(e.message);
      }
      if (e instanceof HTTPError && e.status === 404 && v.name != null) {
        gone(v.name, e.message);
        return;
      }
      if (e instanceof HTTPError) setConn('error', e.message);
    } finally {
      clearTimeout(idle);
      signal.removeEventListener('abort', stop);
    }
    if (signal.aborted) return;
    if (alive) delay = 500;
    if (el.conn.dataset.state !== 'error') setConn('reconnecting');
    await sleep(delay, signal);
    delay = Math.min(delay * 2, 10000);
  }
}

function onEvent(v, name, data) {
  let msg;
  try {
    msg = JSON.parse(data);
  } catch {
    return;
  }
  if (name === 'state') {
    renderState(msg);
  } else if (name === 'lines') {
    if (v !== view) return;
    addLines(msg.lines || [], msg.missed || 0);
    if (msg.cursor != null) v.cursor = msg.cursor;
  }
}

function setConn(state, detail = '') {
  el.conn.dataset.state = state;
  el.conn.textContent = state === 'error' ? 'error' : state;
  el.conn.title = detail || 'live updates: ' + state;
}

// ---------------------------------------------------------------- table

const COLUMNS = ['name', 'status', 'pid', 'uptime', 'restarts', 'exit', 'urls', 'errors', 'actions'];

function renderState(s) {
  if (!s || !Array.isArray(s.processes)) return;
  ui.snap = s;
  ui.snapAt = performance.now();
  if (ui.readOnly !== !!s.read_only || !document.body.dataset.ready) {
    ui.readOnly = !!s.read_only;
    document.body.classList.toggle('read-only', ui.readOnly);
    document.body.dataset.ready = '1';
  }
  el.version.textContent = s.version ? String(s.version).replace(/^(?=\d)/, 'v') : '';
  el.cwd.textContent = s.cwd || '';
  el.cwd.title = s.cwd ? 'working directory: ' + s.cwd : '';
  renderConfigErrors(s.config_errors || []);

  const names = [];
  const seen = new Set();
  for (const p of s.processes) {
    if (!p || typeof p.name !== 'string' || seen.has(p.name)) continue;
    seen.add(p.name);
    names.push(p.name);
    let row = ui.rows.get(p.name);
    if (!row) {
      row = makeRow(p.name);
      ui.rows.set(p.name, row);
    }
    row.proc = p;
    updateRow(row, p);
  }
  for (const [name, row] of ui.rows) {
    if (!seen.has(name)) {
      row.tr.remove();
      ui.rows.delete(name);
    }
  }
  names.forEach((name, i) => {
    const tr = ui.rows.get(name).tr;
    if (el.body.children[i] !== tr) el.body.insertBefore(tr, el.body.children[i] || null);
  });
  ui.order = names;
  el.noProcs.hidden = names.length > 0;

  const live = s.processes.filter((p) => LIVE.has(p.status));
  el.stopAll.hidden = ui.readOnly;
  el.stopAll.disabled = live.length === 0;
  const failed = s.processes.filter((p) => p.status === 'failed' || (p.status === 'exited' && isBadExit(p))).length;
  document.title = `${live.length} live${failed ? ` · ${failed} failed` : ''} · brummer-mcp`;
  markSelected();
}

function renderConfigErrors(errs) {
  const key = JSON.stringify(errs);
  if (el.configErrors.dataset.key === key) return;
  el.configErrors.dataset.key = key;
  el.configErrors.replaceChildren();
  el.configErrors.hidden = errs.length === 0;
  if (!errs.length) return;
  const h = document.createElement('strong');
  h.textContent = 'Project configuration errors';
  el.configErrors.append(h);
  const ul = document.createElement('ul');
  for (const e of errs) {
    const li = document.createElement('li');
    const loc = [e.file, e.line, e.column].filter((x) => x !== undefined && x !== null && x !== '' && x !== 0).join(':');
    li.textContent = (loc ? loc + ': ' : '') + (e.message || '');
    ul.append(li);
  }
  el.configErrors.append(ul);
}

function makeRow(name) {
  const tr = document.createElement('tr');
  tr.dataset.name = name;
  const cells = {};
  for (const c of COLUMNS) {
    const td = document.createElement('td');
    td.className = 'c-' + c;
    td.dataset.label = c === 'urls' ? 'URLs' : c;
    tr.append(td);
    cells[c] = td;
  }
  return { tr, cells, keys: {}, proc: null };
}

// set rebuilds a cell only when what it shows changed, so that a state
// update does not replace a button under the pointer.
function set(row, col, key, build) {
  if (row.keys[col] === key) return;
  row.keys[col] = key;
  row.cells[col].replaceChildren(...build());
}

function text(tag, cls, s, title) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  e.textContent = s;
  if (title) e.title = title;
  return e;
}

function isBadExit(p) {
  return (p.exit_code != null && p.exit_code !== 0) || !!p.signal || !!p.error;
}

function updateRow(row, p) {
  const status = String(p.status || '');
  row.tr.dataset.status = status;
  set(row, 'name', JSON.stringify([p.name, p.command, p.source]), () => {
    const name = text('div', 'pname', p.name);
    if (p.source) name.append(text('span', 'src', String(p.source), 'defined in ' + p.source));
    const out = [name];
    if (p.command) out.push(text('div', 'cmd', p.command, p.command));
    return out;
  });
  set(row, 'status', JSON.stringify([status, p.exit_code, p.signal, p.error]), () => {
    let cls = 'badge st-' + status.replace(/[^a-z]/g, '');
    if (status === 'exited' && isBadExit(p)) cls += ' st-bad';
    return [text('span', cls, status || '?', p.error || '')];
  });
  set(row, 'pid', JSON.stringify([p.pid, LIVE.has(status) ? p.cpu_pct : null, LIVE.has(status) ? p.rss_bytes : null]), () => {
    const out = [];
    if (p.pid) out.push(text('span', 'num', String(p.pid)));
    const usage = [];
    if (LIVE.has(status) && typeof p.cpu_pct === 'number') usage.push(`${p.cpu_pct.toFixed(p.cpu_pct < 10 ? 1 : 0)}%`);
    if (LIVE.has(status) && typeof p.rss_bytes === 'number') usage.push(bytes(p.rss_bytes));
    if (usage.length) out.push(text('div', 'usage', usage.join(' · '), 'CPU of one core · resident memory'));
    return out;
  });
  updateUptime(row);
  set(row, 'restarts', JSON.stringify([p.restarts, p.run, status === 'idle']), () => {
    const r = p.restarts || 0;
    if (status === 'idle' && !r) return [];
    return [text('span', 'num' + (r ? '' : ' dim'), String(r), p.run ? `run ${p.run}` : '')];
  });
  set(row, 'exit', JSON.stringify([p.exit_code, p.signal, p.error, status]), () => {
    if (p.signal) return [text('span', 'exit bad', String(p.signal))];
    if (p.exit_code != null && !LIVE.has(status) && status !== 'idle') {
      return [text('span', 'exit' + (p.exit_code === 0 ? ' ok' : ' bad'), String(p.exit_code))];
    }
    if (p.error) return [text('span', 'exit bad', 'error', p.error)];
    return [];
  });
  set(row, 'urls', JSON.stringify([p.urls, p.ports]), () => links(p));
  set(row, 'errors', JSON.stringify([p.errors, p.last_error]), () => {
    const out = [];
    if (p.errors) out.push(text('span', 'errcount', String(p.errors), `${p.errors} error line${p.errors === 1 ? '' : 's'} detected`));
    if (p.last_error && p.last_error.text) {
      const t = stripANSI(String(p.last_error.text));
      out.push(text('span', 'lasterr', t, t));
    }
    return out;
  });
  const acts = actionsFor(p);
  set(row, 'actions', JSON.stringify([ui.readOnly, acts, acts.map((a) => ui.pending.has(a + ':' + p.name))]), () => {
    if (ui.readOnly) return [];
    return acts.map((a) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'act act-' + a + (a === 'stop' ? ' danger' : '');
      b.dataset.action = a;
      b.dataset.name = p.name;
      b.textContent = a;
      b.title = `${a} ${p.name}`;
      b.disabled = ui.pending.has(a + ':' + p.name) || (a === 'stop' && status === 'stopping');
      return b;
    });
  });
}

function actionsFor(p) {
  switch (p.status) {
    case 'idle':
      return ['start'];
    case 'starting':
    case 'running':
    case 'backoff':
    case 'stopping':
      return ['stop', 'restart'];
    case 'exited':
    case 'failed':
      return ['restart'];
    default:
      return [];
  }
}

function links(p) {
  const out = [];
  for (const u of Array.isArray(p.urls) ? p.urls : []) {
    out.push(link(String(u), String(u)));
  }
  for (const port of Array.isArray(p.ports) ? p.ports : []) {
    const n = Number(port);
    if (!Number.isInteger(n) || n <= 0 || n > 65535) continue;
    out.push(link(`http://${location.hostname}:${n}/`, ':' + n, 'port'));
  }
  return out;
}

// link makes an <a> for http(s) URLs only; anything else stays text.
function link(href, label, cls = '') {
  let ok = false;
  try {
    const u = new URL(href);
    ok = u.protocol === 'http:' || u.protocol === 'https:';
  } catch { /* not a URL */ }
  if (!ok) return text('span', 'url ' + cls, label);
  const a = document.createElement('a');
  a.className = ('url ' + cls).trim();
  a.href = href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  a.textContent = label;
  a.title = href;
  return a;
}

function updateUptime(row) {
  const p = row.proc;
  if (!p) return;
  let ms = typeof p.uptime_ms === 'number' ? p.uptime_ms : null;
  if (ms != null && TICKING.has(p.status)) ms += performance.now() - ui.snapAt;
  const s = ms == null || (ms === 0 && p.status === 'idle') ? '' : duration(ms);
  if (row.keys.uptime === s) return;
  row.keys.uptime = s;
  row.cells.uptime.textContent = s;
}

function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return s + 's';
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

function bytes(n) {
  if (n < 1024) return n + ' B';
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

function markSelected() {
  for (const [name, row] of ui.rows) {
    const on = name === ui.selected;
    row.tr.classList.toggle('selected', on);
    row.tr.setAttribute('aria-selected', on ? 'true' : 'false');
  }
  el.logAll.classList.toggle('active', ui.selected == null);
  el.logAll.setAttribute('aria-pressed', ui.selected == null ? 'true' : 'false');
  el.logTarget.textContent = ui.selected == null ? 'all processes, merged' : ui.selected;
  el.log.classList.toggle('merged', ui.selected == null);
}

function select(name, { scroll = false, debounce = 0 } = {}) {
  if (name === ui.selected) return;
  ui.selected = name;
  markSelected();
  if (scroll && name != null) ui.rows.get(name)?.tr.scrollIntoView({ block: 'nearest' });
  schedule(debounce);
}

let scheduled = null;

// schedule opens the current view after ms (0: now); a newer call wins.
function schedule(ms, next = null) {
  clearTimeout(scheduled);
  const go = () => setView(next || currentView());
  if (ms > 0) scheduled = setTimeout(go, ms);
  else go();
}

// ---------------------------------------------------------------- actions

async function act(action, name) {
  const key = action + ':' + name;
  if (ui.pending.has(key)) return;
  ui.pending.add(key);
  rerenderRow(name);
  try {
    const body = action === 'start' ? { script: name } : { name };
    const r = await post('/api/' + action, body);
    toast(r.message || `${action} ${name}: ok`);
  } catch (e) {
    toast(`${action} ${name}: ${e.message}`, true);
  } finally {
    ui.pending.delete(key);
    rerenderRow(name);
  }
}

function rerenderRow(name) {
  const row = ui.rows.get(name);
  if (row && row.proc) updateRow(row, row.proc);
}

function confirmStopAll() {
  const live = (ui.snap?.processes || []).filter((p) => LIVE.has(p.status)).map((p) => p.name);
  if (!live.length) return;
  el.confirmText.textContent = `Stop all ${live.length} live process${live.length === 1 ? '' : 'es'} (${live.join(', ')})?`;
  el.confirm.showModal();
  el.confirmCancel.focus();
}

async function stopAll() {
  el.stopAll.disabled = true;
  try {
    const r = await post('/api/stop', { all: true });
    toast(r.message || 'stopped all');
  } catch (e) {
    toast(`stop all: ${e.message}`, true);
  } finally {
    el.stopAll.disabled = !(ui.snap?.processes || []).some((p) => LIVE.has(p.status));
  }
}

let toastTimer = null;

function toast(msg, bad = false) {
  el.toast.textContent = msg;
  el.toast.classList.toggle('bad', bad);
  el.toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.toast.hidden = true;
  }, bad ? 8000 : 4000);
}

function showFilterError(msg) {
  el.filterError.textContent = msg ? 'filter: ' + msg : '';
  el.filterError.hidden = !msg;
  el.filter.classList.toggle('invalid', !!msg);
  el.filter.setAttribute('aria-invalid', msg ? 'true' : 'false');
}

// ---------------------------------------------------------------- log pane

function clearLog() {
  el.log.replaceChildren();
  ui.lineCount = 0;
  ui.follow = true;
  ui.unseen = 0;
  ui.lastScrollTop = 0;
  updateResume();
}

function addLines(lines, missed) {
  if (!lines.length && !missed) return;
  const frag = document.createDocumentFragment();
  if (missed > 0) frag.append(text('div', 'missed', `… missed ${missed} line${missed === 1 ? '' : 's'} (dropped from the log before this page read them) …`));
  for (const l of lines) frag.append(renderLine(l));
  el.log.append(frag);
  ui.lineCount += lines.length + (missed > 0 ? 1 : 0);
  while (ui.lineCount > MAX_LINES && el.log.firstChild) {
    el.log.firstChild.remove();
    ui.lineCount--;
  }
  if (ui.follow) {
    scrollToBottom();
  } else {
    ui.unseen += lines.length;
    updateResume();
  }
}

function renderLine(l) {
  const stream = ['stdout', 'stderr', 'system'].includes(l.stream) ? l.stream : 'stdout';
  const div = document.createElement('div');
  div.className = 'line s-' + stream + (l.partial ? ' partial' : '') + (l.split ? ' split' : '');
  if (l.seq != null) div.dataset.seq = String(l.seq);
  if (l.partial) div.title = 'no newline yet: the process may wait for input';
  else if (l.split) div.title = 'a long line, cut: it goes on in the next line';
  if (typeof l.ts === 'number') {
    const d = new Date(l.ts);
    div.append(text('span', 'ts', clock(d), d.toISOString()));
  }
  if (l.p != null) div.append(text('span', 'lp pc' + (hash(String(l.p)) % 8), String(l.p)));
  const body = document.createElement('span');
  body.className = 'lt';
  renderANSI(String(l.text ?? ''), body);
  div.append(body);
  return div;
}

function clock(d) {
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function hash(s) {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h;
}

function scrollToBottom() {
  el.log.scrollTop = el.log.scrollHeight;
  ui.lastScrollTop = el.log.scrollTop;
}

function atBottom() {
  return el.log.scrollHeight - el.log.scrollTop - el.log.clientHeight < 8;
}

// Scrolling up pauses the pane; scrolling back to the bottom resumes it.
function onLogScroll() {
  const top = el.log.scrollTop;
  const up = top < ui.lastScrollTop;
  ui.lastScrollTop = top;
  if (atBottom()) {
    if (!ui.follow) {
      ui.follow = true;
      ui.unseen = 0;
      updateResume();
    }
  } else if (up && ui.follow) {
    ui.follow = false;
    updateResume();
  }
}

function updateResume() {
  el.resume.hidden = ui.follow;
  el.log.classList.toggle('paused', !ui.follow);
  el.resume.textContent = ui.unseen ? `paused: ${ui.unseen} new line${ui.unseen === 1 ? '' : 's'} ↓` : 'paused ↓';
}

// ---------------------------------------------------------------- ANSI

// renderANSI appends s to parent as text, with SGR colours and attributes as
// spans with classes (256 and 24-bit colours through the CSSOM); every other
// escape sequence and control character is dropped.
function renderANSI(s, parent) {
  const st = newSGR();
  let run = '';
  const flush = () => {
    if (!run) return;
    const cls = sgrClasses(st);
    if (!cls.classes.length && !cls.color && !cls.background) {
      parent.append(document.createTextNode(run));
    } else {
      const span = document.createElement('span');
      if (cls.classes.length) span.className = cls.classes.join(' ');
      if (cls.color) span.style.color = cls.color;
      if (cls.background) span.style.backgroundColor = cls.background;
      span.textContent = run;
      parent.append(span);
    }
    run = '';
  };
  let i = 0;
  const ctl = /[\x00-\x08\x0a-\x1f\x7f]/g;
  while (i < s.length) {
    ctl.lastIndex = i;
    const m = ctl.exec(s);
    const j = m ? m.index : s.length;
    run += s.slice(i, j);
    if (!m) break;
    i = j + 1;
    if (s.charCodeAt(j) !== 0x1b) continue; // another control character: dropped
    const { len, sgr } = escapeAt(s, i);
    i += len;
    if (sgr != null) {
      flush();
      applySGR(st, sgr);
    }
  }
  flush();
}

// escapeAt measures the escape sequence whose ESC precedes s[i] (as
// detect.StripANSI does on the server) and returns the parameters of an SGR
// sequence (CSI ... m).
function escapeAt(s, i) {
  if (i >= s.length) return { len: 0, sgr: null };
  const c0 = s[i];
  if (c0 === '[') {
    for (let j = i + 1; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (c >= 0x40 && c <= 0x7e) {
        const params = s.slice(i + 1, j);
        const sgr = s[j] === 'm' && /^[0-9;:]*$/.test(params) ? params : null;
        return { len: j + 1 - i, sgr };
      }
      if (c < 0x20 || c > 0x7e) return { len: j - i, sgr: null };
    }
    return { len: s.length - i, sgr: null };
  }
  if (c0 === ']' || c0 === 'P' || c0 === 'X' || c0 === '^' || c0 === '_') {
    for (let j = i + 1; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (c === 0x07) return { len: j + 1 - i, sgr: null };
      if (c === 0x1b) return { len: (s[j + 1] === '\\' ? j + 2 : j) - i, sgr: null };
    }
    return { len: s.length - i, sgr: null };
  }
  let j = i;
  while (j < s.length && s.charCodeAt(j) >= 0x20 && s.charCodeAt(j) <= 0x2f) j++;
  if (j < s.length && s.charCodeAt(j) >= 0x30 && s.charCodeAt(j) <= 0x7e) j++;
  return { len: j - i, sgr: null };
}

function newSGR() {
  return { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false, strike: false, hidden: false };
}

function applySGR(st, params) {
  const codes = params === '' ? [0] : params.split(/[;:]/).map((x) => (x === '' ? 0 : parseInt(x, 10)));
  for (let k = 0; k < codes.length; k++) {
    const n = codes[k];
    if (n === 0) Object.assign(st, newSGR());
    else if (n === 1) st.bold = true;
    else if (n === 2) st.dim = true;
    else if (n === 3) st.italic = true;
    else if (n === 4 || n === 21) st.underline = true;
    else if (n === 7) st.inverse = true;
    else if (n === 8) st.hidden = true;
    else if (n === 9) st.strike = true;
    else if (n === 22) st.bold = st.dim = false;
    else if (n === 23) st.italic = false;
    else if (n === 24) st.underline = false;
    else if (n === 27) st.inverse = false;
    else if (n === 28) st.hidden = false;
    else if (n === 29) st.strike = false;
    else if (n >= 30 && n <= 37) st.fg = n - 30;
    else if (n === 39) st.fg = null;
    else if (n >= 40 && n <= 47) st.bg = n - 40;
    else if (n === 49) st.bg = null;
    else if (n >= 90 && n <= 97) st.fg = n - 90 + 8;
    else if (n >= 100 && n <= 107) st.bg = n - 100 + 8;
    else if (n === 38 || n === 48) {
      let c = null;
      if (codes[k + 1] === 5 && k + 2 < codes.length) {
        c = clamp255(codes[k + 2]);
        k += 2;
      } else if (codes[k + 1] === 2 && k + 4 < codes.length) {
        c = `rgb(${clamp255(codes[k + 2])}, ${clamp255(codes[k + 3])}, ${clamp255(codes[k + 4])})`;
        k += 4;
      } else {
        break; // malformed: ignore the rest
      }
      if (n === 38) st.fg = c;
      else st.bg = c;
    }
  }
}

function clamp255(n) {
  return Math.max(0, Math.min(255, Number.isFinite(n) ? n : 0));
}

// sgrClasses turns an SGR state into classes (the 16 colours, attributes)
// and CSS colours (the other 240 and 24-bit ones).
function sgrClasses(st) {
  const classes = [];
  let color = null;
  let background = null;
  let fg = st.fg;
  let bg = st.bg;
  if (st.inverse) {
    [fg, bg] = [bg, fg];
    if (fg == null) classes.push('fg-inv');
    if (bg == null) classes.push('bg-inv');
  }
  if (typeof fg === 'number' && fg < 16) classes.push('fg' + fg);
  else if (fg != null) color = typeof fg === 'number' ? xterm(fg) : fg;
  if (typeof bg === 'number' && bg < 16) classes.push('bg' + bg);
  else if (bg != null) background = typeof bg === 'number' ? xterm(bg) : bg;
  if (st.bold) classes.push('b');
  if (st.dim) classes.push('d');
  if (st.italic) classes.push('i');
  if (st.underline) classes.push('u');
  if (st.strike) classes.push('x');
  if (st.hidden) classes.push('h');
  return { classes, color, background };
}

function xterm(n) {
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v}, ${v}, ${v})`;
  }
  const i = n - 16;
  const lv = [0, 95, 135, 175, 215, 255];
  return `rgb(${lv[Math.floor(i / 36)]}, ${lv[Math.floor(i / 6) % 6]}, ${lv[i % 6]})`;
}

function stripANSI(s) {
  const span = document.createElement('span');
  renderANSI(s, span);
  return span.textContent;
}

// ---------------------------------------------------------------- events

function onKey(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  if (el.confirm.open || el.tokenDialog.open) return;
  const t = e.target;
  const typing = (t instanceof HTMLInputElement && t.type !== 'radio' && t.type !== 'checkbox') ||
    t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || (t instanceof HTMLElement && t.isContentEditable);
  if (typing) {
    if (e.key === 'Escape' && t === el.filter) el.filter.blur();
    return;
  }
  if (e.key === '/') {
    e.preventDefault();
    el.filter.focus();
    el.filter.select();
  } else if (e.key === 'j' || e.key === 'k') {
    e.preventDefault();
    move(e.key === 'j' ? 1 : -1);
  } else if (e.key === 'Escape') {
    select(null);
  }
}

// move steps the selection through the table; above the first row is "all".
function move(d) {
  const names = ui.order;
  if (!names.length) return;
  const i = ui.selected == null ? -1 : names.indexOf(ui.selected);
  const next = Math.max(-1, Math.min(names.length - 1, i + d));
  select(next < 0 ? null : names[next], { scroll: true, debounce: 120 });
}

function wire() {
  el.body.addEventListener('click', (e) => {
    const btn = e.target.closest('button[data-action]');
    if (btn) {
      act(btn.dataset.action, btn.dataset.name);
      return;
    }
    if (e.target.closest('a')) return;
    const tr = e.target.closest('tr[data-name]');
    if (tr) select(tr.dataset.name);
  });
  el.logAll.addEventListener('click', () => select(null));
  el.stopAll.addEventListener('click', confirmStopAll);
  el.confirmCancel.addEventListener('click', () => el.confirm.close());
  el.confirmOk.addEventListener('click', () => {
    el.confirm.close();
    stopAll();
  });
  el.tokenDialog.addEventListener('cancel', (e) => e.preventDefault()); // Escape: the page needs a token
  let filterTimer = null;
  const applyFilter = () => {
    clearTimeout(filterTimer);
    const grep = el.filter.value;
    if (grep === ui.grep && view) {
      showFilterError('');
      return;
    }
    schedule(0, { name: ui.selected, grep, stream: ui.stream });
  };
  el.filter.addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(applyFilter, 300);
  });
  el.filter.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') applyFilter();
  });
  el.streams.addEventListener('change', (e) => {
    if (e.target.name !== 'stream') return;
    ui.stream = e.target.value;
    schedule(0);
  });
  el.log.addEventListener('scroll', onLogScroll, { passive: true });
  el.resume.addEventListener('click', () => {
    ui.follow = true;
    ui.unseen = 0;
    scrollToBottom();
    updateResume();
  });
  document.addEventListener('keydown', onKey);
  setInterval(() => {
    for (const row of ui.rows.values()) updateUptime(row);
  }, 1000);
}

async function main() {
  wire();
  markSelected();
  setConn('connecting');
  // The first paint: the state and the tail of the merged log, at once.
  getJSON('/api/state').then(renderState, (e) => {
    setConn('error', e.message);
    toast(`state: ${e.message}`, true);
  });
  setView(currentView());
}

main();
