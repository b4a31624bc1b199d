// Package dashboard serves the live web dashboard: a page (embedded from
// ui/, plain HTML, CSS and JavaScript) that shows a person the processes
// the agents run, follows their output and stops, restarts and starts
// them, and the JSON and server-sent-event API the page reads. It imports
// procstate, logring, project and detect, never the MCP tools: its buttons
// share the tools' semantics through procstate (stop, restart) and
// project.StartScript (start), and main passes it the tools' reading of a
// project's definitions (Config.Prepare).
//
// # The API
//
// All answers are JSON (application/json; charset=utf-8) except the page,
// its assets and the event stream. An error is an HTTP status and
// {"error": "what is wrong and what to do"}.
//
//	GET /                index.html
//	GET /ui/{file}       the page's assets (ETag; Cache-Control no-cache)
//	GET /api/state       {version, read_only, cwd, processes, config_errors}
//	GET /api/logs        ?name=&grep=&stream=&tail=&cursor= -> {lines, cursor, missed}
//	GET /api/events      ?name=&grep=&stream=&cursor=&tail= -> text/event-stream
//	POST /api/stop       {"name": N} or {"all": true}  -> {ok, message}
//	POST /api/restart    {"name": N}                   -> {ok, message}
//	POST /api/start      {"script": N}                 -> {ok, message}
//
// /api/state: version is the server's version; read_only says the POSTs
// are refused; cwd is the supervisor's default directory. processes are
// sorted by name, each {name, status, pid, command, uptime_ms, run,
// restarts, last_seq} and, when they apply, exit_code (an ended run not
// killed by a signal), signal, error, urls, ports, errors (error lines
// detected), last_error {seq, text} (the newest, ANSI escapes stripped),
// cpu_pct, rss_bytes (Linux, sampled while a page or a list looks), and for
// a process the project defines that has not run here, status "idle" and
// source (package.json or brummer.json). config_errors are the mistakes in
// the project's files, {file, line, column, message}; an empty list when
// there are none.
//
// /api/logs reads the log of process name, or with name empty all of them
// merged in the order the lines were read (procstate.ReadMerged). grep is
// an RE2 regular expression matched against each line without its ANSI
// escapes (at most 1024 bytes; a bad one is 400 saying what is wrong);
// stream is all (default), stdout, stderr or system (the server's notes).
// Without a cursor it returns the newest tail matching lines (default 200,
// 0..1000); with one, the lines after it. A line is {p (its process), seq,
// stream, text, ts (Unix milliseconds), partial, split}; text is as the
// process printed it, ANSI escapes included (the page renders colours and
// inserts the text as text, never as HTML). cursor is where to continue,
// in one form for one process and for all: "c1:api=17,web=5"
// (procstate.FormatCursor). A reader further behind than 1000 lines skips
// ahead to the newest 1000 and is told in missed how many lines it did not
// get (skipped, or evicted from the log before it read them; counted
// before grep and stream filter them). An answer holds at most 1000 lines.
// A name the project defines but that has not run has an empty log; a name
// nobody knows is 404.
//
// /api/events is a server-sent-event stream (the page reads it with
// fetch, so that it can send a token). It begins with a "state" event and
// the lines after cursor (without a cursor, the newest tail lines, as
// /api/logs), then sends "state" (the /api/state object) whenever anything
// the state shows changes, and "lines" ({lines, cursor, missed} as
// /api/logs) when the followed log grows; each at most once per 250 ms. A
// page that falls behind (its connection does not take what is sent) is
// never queued for: what it missed is skipped and counted as above. A
// comment line is sent after 15 s without an event. The stream ends when
// the request ends or the dashboard is closed.
//
// The POSTs act as the tools do: stop sends SIGTERM to the process group
// and SIGKILL after the supervisor's stop grace (all: every live process,
// at once); restart stops and starts the process's next run; start starts
// a project's process as process_start {"script": N} does, its dependencies
// first, each waited for with its wait_for, then waits for its own
// wait_for. They answer when done, {"ok": true, "message": "..."}. They run
// on after the page that asked goes away; Close ends them. Each needs the
// header X-Brummer-Action: 1 (403 without) and a JSON body
// (Content-Type: application/json, else 415; at most 1 MiB). A page on
// another site cannot send that header without a CORS preflight, which
// this server never grants, and the transport refuses foreign Origins:
// together they stop cross-site requests. With Config.ReadOnly every POST
// is 403.
//
// Every answer carries Content-Security-Policy "default-src 'self';
// script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src
// 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
// X-Content-Type-Options: nosniff and Referrer-Policy: no-referrer; those of
// /api also Cache-Control: no-store.
//
// Host, Origin, body-size and token checks are the transport's, in front
// of Handler (the page and its assets need no token, every /api request
// does).
//
// # Concurrency contract
//
// The dashboard holds no process state. Every read is lock-free: record
// and index loads from the supervisor, ring reads, the project's snapshot.
// An event stream runs on its request's goroutine and waits, without
// polling, on what changes: Supervisor.Changes for the state, Ring.Wait on
// each live log it follows (a merged view of more than 64 live processes
// reads every 250 ms instead while any of them is live), a timer for the
// 250 ms spacing and the heartbeat. It registers with the log only while
// it waits, so a flood costs a page that is behind nothing. A POST runs on
// its request's goroutine too, under a context that ends with Close, not
// with the request.
//
// The dashboard's own state is the set of requests in progress that Close
// must end (streams and POSTs), guarded by mu. Close marks the dashboard
// closed, cancels the POSTs, ends each stream (a stream blocked writing to
// a page that does not read is unblocked by a write deadline in the past)
// and waits for all of them to return.
package dashboard
