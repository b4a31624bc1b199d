#!/usr/bin/env bash
# End-to-end check of brummer-mcp with the official TypeScript SDK client
# (npm @modelcontextprotocol/sdk, the newest 1.x), driving the project in
# testdata/fixture-project as a user's agent would: once over stdio (the
# SDK starts the server) and once over streamable HTTP (--no-stdio --http
# 127.0.0.1:0). scripts/e2e-ts/e2e.mjs holds the checks and prints a PASS or
# FAIL line for each; this script exits non-zero if any run failed.
#
# Builds the server into a temp folder, installs the SDK into a cache outside
# the repo (reused between runs, keyed by the SDK version), copies the
# fixture to a temp folder per run, and leaves nothing behind but the cache:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/brummer-e2e-ts/sdk-<version>/
# Needs Node 18 or newer and npm (with the npm registry, or an SDK in the
# cache: offline, the newest cached version is used).
# Environment:
#   BRUMMER_E2E_SDK_VERSION  an SDK version instead of the newest 1.x
#   BRUMMER_E2E_TS_CACHE     another cache folder
#   BRUMMER_E2E_TS_TIMEOUT   seconds one run may take (default 90)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

export PATH="/usr/local/go/bin:$PATH"
export CI="${CI:-true}" # no npm progress bars, prompts or update checks

sdk_pkg="@modelcontextprotocol/sdk"
run_timeout="${BRUMMER_E2E_TS_TIMEOUT:-90}"
cache_root="${BRUMMER_E2E_TS_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/brummer-e2e-ts}"

log() { echo "e2e-ts.sh: $*" >&2; }
# shellcheck source=lib/npm-cache.sh
. "$repo/scripts/lib/npm-cache.sh"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/brummer-e2e-ts.XXXXXX")"
staging=""
client_pid=""

# stop_servers stops a server a run left (its client was killed, say): the
# runs record their server's pid in <run>/server.pid.
stop_servers() {
	local f pid
	for f in "$tmp"/*/server.pid; do
		[[ -f "$f" ]] || continue
		pid="$(cat "$f")"
		[[ "$pid" =~ ^[0-9]+$ ]] || continue
		[[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$tmp/brummer-mcp" ]] || continue
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 100); do # up to ~10 s
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n "$client_pid" ]] && kill -0 "$client_pid" 2>/dev/null; then
		kill -TERM "$client_pid" 2>/dev/null || true
		wait "$client_pid" 2>/dev/null || true
	fi
	stop_servers
	rm -rf "$tmp"
	[[ -z "$staging" ]] || rm -rf "$staging"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' 2>/dev/null; then
	log "needs Node 18 or newer on PATH (found: $(node --version 2>/dev/null || echo none))"
	exit 1
fi

# ---- the SDK: the newest 1.x, installed once per version ----
version="${BRUMMER_E2E_SDK_VERSION:-}"
if [[ -z "$version" ]]; then
	# One retry after 2 s: npm's defaults wait over a minute when offline.
	if versions="$(npm view "$sdk_pkg@^1" version --json --fetch-retries=1 \
		--fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=2000 --fetch-timeout=20000 </dev/null 2>/dev/null)"; then
		version="$(node -e '
			let v = JSON.parse(process.argv[1]);
			v = (Array.isArray(v) ? v : [v]).filter((s) => /^1\.\d+\.\d+$/.test(s));
			const n = (s) => s.split(".").map(Number);
			v.sort((a, b) => { const x = n(a), y = n(b); return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; });
			console.log(v.at(-1) ?? "");
		' "$versions")"
	fi
	if [[ -z "$version" ]]; then
		version="$(for d in "$cache_root"/sdk-1.*/; do
			[[ -f "$d.complete" ]] && basename "$d" | sed 's/^sdk-//'
		done 2>/dev/null | sort -V | tail -n 1)"
		if [[ -z "$version" ]]; then
			log "cannot ask the npm registry for $sdk_pkg's versions, and none is cached in $cache_root"
			exit 1
		fi
		log "npm registry unreachable: using the cached $sdk_pkg $version"
	fi
fi
sdkdir="$cache_root/sdk-$version"
if [[ ! -f "$sdkdir/.complete" ]]; then
	log "installing $sdk_pkg $version into $sdkdir"
	npm_cached "$sdkdir" brummer-e2e-ts-client "    \"$sdk_pkg\": \"$version\""
fi

# ---- build; the client beside the SDK (ESM resolves packages from the
# importing file's folder, so the script is copied, not run in place) ----
log "building brummer-mcp"
go build -o "$tmp/brummer-mcp" ./cmd/brummer-mcp
mkdir "$tmp/client"
cp scripts/e2e-ts/e2e.mjs "$tmp/client/"
ln -s "$sdkdir/node_modules" "$tmp/client/node_modules"

# ---- one run per transport, each with its own copy of the fixture ----
start=$SECONDS
failed=()
for transport in stdio http; do
	mkdir "$tmp/$transport"
	cp -R testdata/fixture-project "$tmp/$transport/project"
	log "run over $transport ($sdk_pkg $version, node $(node --version))"
	set +e
	# In the background, so that a signal reaches the trap at once.
	timeout --kill-after=10 $((run_timeout + 15)) \
		node "$tmp/client/e2e.mjs" --transport "$transport" --server "$tmp/brummer-mcp" \
		--project "$tmp/$transport/project" --workdir "$tmp/$transport" --timeout "$run_timeout" </dev/null &
	client_pid=$!
	wait "$client_pid"
	rc=$?
	client_pid=""
	set -e
	stop_servers
	if [[ "$rc" != 0 ]]; then
		failed+=("$transport (exit $rc)")
	fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
	log "FAILED: ${failed[*]} after $((SECONDS - start)) s ($sdk_pkg $version)"
	exit 1
fi
log "stdio and streamable HTTP passed in $((SECONDS - start)) s ($sdk_pkg $version)"
