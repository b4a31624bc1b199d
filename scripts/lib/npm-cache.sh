# Sourced by scripts that need npm packages outside the repository.
#
# npm_cached DIR NAME DEPS_JSON installs the packages of DEPS_JSON (the
# body of a package.json "dependencies" object) into DIR once: it installs
# into a staging folder beside DIR and renames it into place, so that a
# broken or concurrent install never leaves a half-filled DIR. A DIR with
# .complete is taken as it is. The caller's cleanup removes "$staging" if
# the script ends during an install. Needs log() from the caller.
npm_cached() {
	local dir="$1" name="$2" deps="$3"
	[[ -f "$dir/.complete" ]] && return 0
	mkdir -p "$(dirname "$dir")"
	staging="$(mktemp -d "$(dirname "$dir")/.staging.XXXXXX")"
	printf '{\n  "name": "%s",\n  "private": true,\n  "dependencies": {\n%s\n  }\n}\n' "$name" "$deps" >"$staging/package.json"
	# Older Node warns about some packages' engines field (EBADENGINE),
	# which --loglevel=error hides.
	if ! (cd "$staging" && npm install --no-audit --no-fund --loglevel=error </dev/null); then
		log "npm install failed"
		exit 1
	fi
	touch "$staging/.complete"
	# A broken install (no .complete) is replaced; if another run finished
	# first, keep whichever is in place.
	[[ -f "$dir/.complete" ]] || rm -rf "$dir"
	if ! mv -T "$staging" "$dir" 2>/dev/null; then
		rm -rf "$staging"
	fi
	staging=""
}
