package detect

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// errorLines are real-looking lines of the tools Error knows, as they print
// them (with colours where they colour when piped or forced), and lines
// that must not count; kind is "" for those.
var errorLines = []struct {
	name, line, kind string
}{
	// TypeScript
	{"tsc", "src/a.ts(12,7): error TS2322: Type 'string' is not assignable to type 'number'.", KindTypeScript},
	{"tsc pretty", "src/a.ts:12:7 - error TS2322: Type 'string' is not assignable to type 'number'.", KindTypeScript},
	{"tsc pretty coloured", "\x1b[96msrc/a.ts\x1b[0m:\x1b[93m12\x1b[0m:\x1b[93m7\x1b[0m - \x1b[91merror\x1b[0m\x1b[90m TS2322: \x1b[0mType 'string' is not assignable to type 'number'.", KindTypeScript},
	{"tsc without file", "error TS6053: File '/app/src/missing.ts' not found.", KindTypeScript},
	{"tsc under turbo", "web:typecheck: src/App.tsx(3,10): error TS2305: Module '\"./api\"' has no exported member 'fetchUser'.", KindTypeScript},
	{"tsc summary", "Found 0 errors. Watching for file changes.", ""},
	{"tsc summary with errors", "Found 2 errors in the same file, starting at: src/a.ts:12", ""},
	{"error.ts file", "src/error.ts compiled successfully", ""},
	{"error TS without code", "error TSX is not a code", ""},

	// esbuild and Vite
	{"esbuild", `✘ [ERROR] Could not resolve "x"`, KindEsbuild},
	{"esbuild coloured", "\x1b[31m✘ \x1b[41;31m[\x1b[41;97mERROR\x1b[41;31m]\x1b[0m \x1b[1mCould not resolve \"x\"\x1b[0m", KindEsbuild},
	{"esbuild without unicode", `X [ERROR] Expected ";" but found "}"`, KindEsbuild},
	{"esbuild under vite", `    ✘ [ERROR] No matching export in "src/api.ts" for import "fetchUser"`, KindEsbuild},
	{"esbuild warning", `▲ [WARNING] "import.meta" is not available in the configured target environment`, ""},
	{"log level ERROR", "2024-05-01 12:00:00 [ERROR] db: connection refused", ""},
	{"vite internal server error", "12:00:03 PM [vite] Internal server error: Failed to resolve import \"./Missing\" from \"src/App.tsx\". Does the file exist?", KindVite},
	{"vite coloured", "\x1b[2m12:00:03 PM\x1b[22m \x1b[31m\x1b[1m[vite]\x1b[22m\x1b[39m \x1b[31mInternal server error: Transform failed with 1 error:\x1b[39m", KindVite},
	{"vite hmr", "12:00:05 PM [vite] hmr update /src/ErrorBoundary.tsx", ""},
	{"http 500 response", "GET /api/users 500 Internal Server Error 12ms", ""},

	// Go
	{"go build", "./main.go:5:2: undefined: x", KindGoBuild},
	{"go build bare file", "main.go:12:3: syntax error: unexpected newline, expected comma or )", KindGoBuild},
	{"go build nested", "internal/api/server.go:88:14: cannot use s (variable of type string) as int value in argument to f", KindGoBuild},
	{"go vet", "vet: ./handler.go:41:2: fmt.Printf format %d has arg s of wrong type string", KindGoBuild},
	{"go log caller", "2024/05/01 12:00:00 main.go:42: listening on :8080", ""},
	{"zerolog caller", `{"level":"info","caller":"api/server.go:123","message":"request handled","status":200}`, ""},
	{"go stack frame", "\t/usr/local/go/src/runtime/panic.go:770 +0x132", ""},
	{"go test log", "    handler_test.go:27: got 3 users", ""},
	{"go panic", "panic: runtime error: invalid memory address or nil pointer dereference", KindGoPanic},
	{"go panic recovered", "panic: boom [recovered]", KindGoPanic},
	{"go panic in compose", "api-1  | panic: listen tcp :8080: bind: address already in use", KindGoPanic},
	{"panics counted", "recovered panics: 0", ""},
	{"panic in a word", "nopanic: false", ""},

	// Python
	{"python traceback", "Traceback (most recent call last):", KindPython},
	{"python exception group", "  + Exception Group Traceback (most recent call last):", KindPython},
	{"python exception line", `  File "/app/main.py", line 3, in <module>`, ""},

	// Node
	{"node uncaught", "Uncaught TypeError: Cannot read properties of undefined (reading 'map')", KindNode},
	{"browser uncaught in promise", "Uncaught (in promise) Error: Request failed with status code 500", KindNode},
	{"node repl uncaught", "Uncaught:", KindNode},
	{"node crash", "        triggerUncaughtException(err, true /* fromPromise */);", KindNode},
	{"node unhandled rejection", `[UnhandledPromiseRejection: This error originated either by throwing inside of an async function without a catch block, or by rejecting a promise which was not handled with .catch(). The promise rejected with the reason "boom".] {`, KindNode},
	{"node unhandled rejection warning", "(node:4242) UnhandledPromiseRejectionWarning: Error: connect ECONNREFUSED 127.0.0.1:5432", KindNode},
	{"uncaught in prose", "0 Uncaught errors in the last hour", ""},
	{"uncaught handler", "process.on('uncaughtException', handler) installed", ""},

	// npm
	{"npm err", "npm ERR! code ELIFECYCLE", KindNpm},
	{"npm err bare", "npm ERR! ", KindNpm},
	{"npm 10 error", `npm error Lifecycle script "dev" failed with error:`, KindNpm},
	{"npm 10 error alone", "npm error", KindNpm},
	{"npm under concurrently", "[0] npm ERR! missing script: start", KindNpm},
	{"npm run", "> npm run dev", ""},
	{"npm warn", "npm warn deprecated inflight@1.0.6: This module is not supported", ""},
	{"pnpm error word", "pnpm errors: 0", ""},

	// Rust
	{"rustc", "error[E0308]: mismatched types", KindRust},
	{"rustc coloured", "\x1b[0m\x1b[1m\x1b[38;5;9merror[E0425]\x1b[0m\x1b[0m\x1b[1m: cannot find value `x` in this scope\x1b[0m", KindRust},
	{"cargo", "error: could not compile `app` (bin \"app\") due to 2 previous errors", KindRust},
	{"rust panic", "thread 'main' panicked at src/main.rs:2:5:", KindRustPanic},
	{"rust panic old", "thread 'tokio-runtime-worker' panicked at 'called `Option::unwrap()` on a `None` value', src/lib.rs:10:9", KindRustPanic},
	{"rust warning", "warning: unused variable: `x`", ""},
	{"rust error code in prose", "see error[E0308] in the index", ""},

	// Tests
	{"go test fail", "--- FAIL: TestX (0.00s)", KindTestFail},
	{"go subtest fail", "    --- FAIL: TestX/empty_input (0.00s)", KindTestFail},
	{"go test package fail", "FAIL\tgithub.com/acme/app/api\t0.123s", KindTestFail},
	{"go test build fail", "FAIL\tgithub.com/acme/app/api [build failed]", KindTestFail},
	{"go test bare fail", "FAIL", KindTestFail},
	{"jest fail", " FAIL  src/a.test.ts", KindTestFail},
	{"jest fail coloured", "\x1b[1m\x1b[31m\x1b[7m FAIL \x1b[27m\x1b[39m\x1b[22m \x1b[2msrc/\x1b[22m\x1b[1ma.test.ts\x1b[22m", KindTestFail},
	{"vitest fail", " FAIL  src/math.test.ts > add > adds negatives", KindTestFail},
	{"pytest failed", "FAILED tests/test_api.py::test_login - assert 401 == 200", KindTestFail},
	{"cargo test failed", "test tests::parses_empty ... FAILED", KindTestFail},
	{"cargo test result", "test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out", KindTestFail},
	{"go test pass", "--- PASS: TestFailover (0.01s)", ""},
	{"go test run", "=== RUN   TestFailover", ""},
	{"go test ok", "ok  \tgithub.com/acme/app/api\t0.123s", ""},
	{"bare pass", "PASS", ""},
	{"vitest pass", " ✓ src/math.test.ts (3 tests) 5ms", ""},
	{"tests passed", "✓ 3 tests passed", ""},
	{"failed count", "FAILED=0", ""},
	{"fail count", "PASS 12 FAIL 0", ""},
	{"fail in a name", "ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL", ""},

	// Lines that say errors are absent, or mention them in passing
	{"zero errors", "0 errors", ""},
	{"no errors found", "no errors found", ""},
	{"errors zero", "errors: 0", ""},
	{"URL with error", "GET http://localhost:3000/api/error?code=500 200 3ms", ""},
	{"error page route", "○ /error  1.2 kB  88 kB", ""},
	{"access log", "2024-05-01T12:00:00.123Z INFO  server: GET /api/users?page=2 200 3.2ms", ""},
	{"empty", "", ""},
}

func TestError(t *testing.T) {
	t.Parallel()
	for _, tt := range errorLines {
		t.Run(tt.name, func(t *testing.T) {
			kind, ok := Error(tt.line)
			assert.Equal(t, tt.kind, kind)
			assert.Equal(t, tt.kind != "", ok)
		})
	}
}

// TestErrorRulesHaveLines checks that every rule is shown working on a line
// of errorLines, so a rule is never added without its fixture.
func TestErrorRulesHaveLines(t *testing.T) {
	t.Parallel()
	for _, r := range rules {
		found := false
		for _, tt := range errorLines {
			s := string(appendStripped(nil, tt.line))
			found = found || tt.kind == r.kind && strings.Contains(s, r.key)
		}
		assert.True(t, found, "no line of kind %q with key %q in errorLines", r.kind, r.key)
	}
}

func TestGroupRules(t *testing.T) {
	t.Parallel()
	gs := groupRules(rules[:])
	n := 0
	for _, g := range gs {
		for _, r := range g.rules {
			assert.Equal(t, g.anchor, r.key[r.at], "rule %q", r.key)
		}
		n += len(g.rules)
	}
	assert.Equal(t, len(rules), n)
	require.Panics(t, func() { groupRules([]rule{{kind: "x", key: "abc", anchor: 'z'}}) })
}

func TestErrorNoAllocs(t *testing.T) {
	assertNoAllocs(t, func(line string) { _, _ = Error(line) }, []string{
		"2024-05-01T12:00:00.123Z INFO  server: GET /api/users?page=2 200 3.2ms",
		`{"level":"info","caller":"api/server.go:123","message":"request handled","status":200}`,
		"src/a.ts(12,7): error TS2322: Type 'string' is not assignable to type 'number'.",
	})
}

func TestErrorNoAllocsStripped(t *testing.T) {
	skipUnderRace(t)
	assertNoAllocs(t, func(line string) { _, _ = Error(line) }, []string{
		"\x1b[2m12:00:05 PM\x1b[22m \x1b[36m\x1b[1m[vite]\x1b[22m\x1b[39m \x1b[32mhmr update \x1b[39m\x1b[2m/src/App.tsx\x1b[22m",
		"\x1b[31m✘ \x1b[41;31m[\x1b[41;97mERROR\x1b[41;31m]\x1b[0m \x1b[1mCould not resolve \"x\"\x1b[0m",
		strings.Repeat("\x1b[1mbold\x1b[0m text ", 1000),
	})
}

// assertNoAllocs checks that f allocates nothing on each of lines. Its
// callers do not run in parallel: AllocsPerRun refuses to.
func assertNoAllocs(t *testing.T, f func(line string), lines []string) {
	t.Helper()
	for _, line := range lines {
		assert.Zero(t, testing.AllocsPerRun(100, func() { f(line) }), "line %.40q", line)
	}
}

// skipUnderRace skips a test that counts allocations of lines stripped into
// pooled buffers: the race detector drops pooled buffers at random.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("the race detector drops pooled buffers at random")
	}
}
