package detect

import (
	"slices"
	"strings"
)

// The kinds [Error] returns. A kind names a family of tools by the shape of
// the line it recognises, not the single tool that printed it.
const (
	// KindTypeScript is tsc's diagnostic, in either of its formats:
	// "src/a.ts(12,7): error TS2322: ..." and "src/a.ts:12:7 - error TS2322: ...".
	KindTypeScript = "typescript"
	// KindEsbuild is esbuild's error, also printed by Vite and tsup:
	// "✘ [ERROR] Could not resolve ..." ("X [ERROR]" where Unicode is off).
	KindEsbuild = "esbuild"
	// KindVite is Vite's dev server failing a request:
	// "[vite] Internal server error: ...".
	KindVite = "vite"
	// KindGoBuild is a Go position with line and column, as go build, go
	// vet and linters print it: "./main.go:5:2: undefined: x".
	KindGoBuild = "go-build"
	// KindGoPanic is the first line of a Go panic: "panic: ...".
	KindGoPanic = "go-panic"
	// KindPython is the head of a Python traceback:
	// "Traceback (most recent call last):".
	KindPython = "python"
	// KindNode is an exception or rejection nobody caught in Node.js or a
	// browser: "Uncaught TypeError: ...", "[UnhandledPromiseRejection: ...",
	// and the "triggerUncaughtException(" line of Node's crash report.
	KindNode = "node"
	// KindNpm is npm's error report: "npm ERR! ..." (npm 9 and older) and
	// "npm error ..." (npm 10).
	KindNpm = "npm"
	// KindRust is rustc's or cargo's error: "error[E0308]: mismatched types"
	// and "error: could not compile `app`".
	KindRust = "rust"
	// KindRustPanic is the first line of a Rust panic:
	// "thread 'main' panicked at src/main.rs:2:5:".
	KindRustPanic = "rust-panic"
	// KindTestFail is a failed test or test run: go test's "--- FAIL: TestX"
	// and "FAIL\tpkg\t0.1s", Jest's and Vitest's " FAIL  src/a.test.ts",
	// pytest's "FAILED tests/a.py::test_x" and cargo test's "... FAILED".
	KindTestFail = "test-fail"
)

// Error reports whether line, one line of a process's output without its
// newline, reports an error, and the kind of error (one of the Kind
// constants). Escape sequences are stripped before matching.
//
// It recognises the lines that tell a developer something broke: compiler
// diagnostics, panics and tracebacks, uncaught exceptions, failed package
// scripts and failed tests. It does not read log levels: "[ERROR]" alone,
// "level=error" or "ERROR:" are the application's own reports, and tools
// tell what they mean. A line that counts the absence of errors ("0
// errors", "Found 0 errors") is not an error line.
//
// When several patterns match one line, the kind is chosen the same way
// every time: by the order of the anchor bytes in the table of rules, then
// by position in the line. In the steady state Error allocates nothing,
// also for a line with escape sequences.
func Error(line string) (kind string, ok bool) {
	s, buf := stripped(line)
	kind, ok = matchError(s)
	release(buf)
	return kind, ok
}

// A rule recognises one shape of error line: every such line contains key,
// and check (when set) confirms it by looking around the key.
type rule struct {
	kind string
	key  string
	// anchor is the byte of key that is searched for, the rarest in
	// ordinary log lines that key has (an uppercase letter, a 'k'; keys of
	// common lowercase letters only take a 'p' or a 'g'), so that a line
	// without errors costs one fast scan per distinct anchor, seven in all,
	// and few stops.
	anchor byte
	// at is the index of anchor in key, set by groupRules.
	at int
	// check is called with the line and the bounds of the key in it.
	check func(s string, start, end int) bool
}

// rules is the table of error lines; error_test.go has real lines of each
// and lines that must not match.
var rules = [...]rule{
	{kind: KindTypeScript, key: "error TS", anchor: 'S', check: tsCode},
	{kind: KindEsbuild, key: "[ERROR]", anchor: 'E', check: esbuildMark},
	{kind: KindRust, key: "error[E", anchor: 'E', check: rustCode},
	{kind: KindNpm, key: "npm ERR!", anchor: 'E', check: atWord},
	{kind: KindVite, key: "Internal server error:", anchor: 'I'},
	{kind: KindTestFail, key: "FAIL", anchor: 'I', check: testFail},
	{kind: KindGoBuild, key: ".go:", anchor: 'g', check: goPosition},
	{kind: KindGoPanic, key: "panic: ", anchor: 'p', check: atWord},
	{kind: KindNpm, key: "npm error", anchor: 'p', check: wholeWord},
	{kind: KindRust, key: "error: could not compile", anchor: 'p', check: atWord},
	{kind: KindPython, key: "Traceback (most recent call last):", anchor: 'k'},
	{kind: KindRustPanic, key: "' panicked at ", anchor: 'k'},
	{kind: KindNode, key: "Uncaught", anchor: 'U', check: nodeUncaught},
	{kind: KindNode, key: "UnhandledPromiseRejection", anchor: 'U'},
}

// A group is the rules that share an anchor byte, tried at each occurrence
// of it.
type group struct {
	anchor byte
	rules  []rule
}

// groups holds rules by anchor, in the order each anchor first appears.
var groups = groupRules(rules[:])

// groupRules sorts rules into groups by anchor and sets their at. It panics
// if an anchor is not in its key, a mistake in the table.
func groupRules(rs []rule) []group {
	var gs []group
	for _, r := range rs {
		r.at = strings.IndexByte(r.key, r.anchor)
		if r.at < 0 {
			panic("detect: anchor " + string(r.anchor) + " is not in key " + r.key)
		}
		i := slices.IndexFunc(gs, func(g group) bool { return g.anchor == r.anchor })
		if i < 0 {
			gs = append(gs, group{anchor: r.anchor})
			i = len(gs) - 1
		}
		gs[i].rules = append(gs[i].rules, r)
	}
	return gs
}

// matchError is Error on a line without escape sequences.
func matchError(s string) (string, bool) {
	for gi := range groups {
		g := &groups[gi]
		for off := 0; off < len(s); {
			i := strings.IndexByte(s[off:], g.anchor)
			if i < 0 {
				break
			}
			i += off
			for ri := range g.rules {
				r := &g.rules[ri]
				start := i - r.at
				end := start + len(r.key)
				// The first and last bytes reject most stops before the
				// comparison of the whole key, a call.
				if start >= 0 && end <= len(s) && s[start] == r.key[0] && s[end-1] == r.key[len(r.key)-1] &&
					s[start:end] == r.key &&
					(r.check == nil || r.check(s, start, end)) {
					return r.kind, true
				}
			}
			off = i + 1
		}
	}
	return "", false
}

// isWordByte reports whether c belongs to a word: an ASCII letter, digit
// or underscore.
func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// wordStart reports whether a word may start at s[i]: it is the line's
// first byte or follows a byte outside words.
func wordStart(s string, i int) bool {
	return i == 0 || !isWordByte(s[i-1])
}

// digitsEnd returns the index after the ASCII digits that start at s[i].
func digitsEnd(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// atWord: the key starts a word ("panic: " but not "dontpanic: ").
func atWord(s string, start, _ int) bool {
	return wordStart(s, start)
}

// wholeWord: the key is a word of its own ("npm error" but not
// "pnpm error" or "npm errors").
func wholeWord(s string, start, end int) bool {
	return wordStart(s, start) && (end == len(s) || !isWordByte(s[end]))
}

// tsCode: "error TS" + digits + ':'.
func tsCode(s string, start, end int) bool {
	j := digitsEnd(s, end)
	return wordStart(s, start) && j > end && j < len(s) && s[j] == ':'
}

// rustCode: "error[E" + digits + "]:".
func rustCode(s string, start, end int) bool {
	j := digitsEnd(s, end)
	return wordStart(s, start) && j > end && strings.HasPrefix(s[j:], "]:")
}

// esbuildMark: "[ERROR]" after esbuild's mark, "✘ " or, without Unicode,
// "X ". A bare "[ERROR]" is a log level, not esbuild.
func esbuildMark(s string, start, _ int) bool {
	before := s[:start]
	return strings.HasSuffix(before, "✘ ") ||
		strings.HasSuffix(before, "X ") && wordStart(s, start-2)
}

// goPosition: a file name, ".go:", a line, ':', a column, ": ". The column
// tells compiler and vet output from loggers' callers ("main.go:42:") and
// from stack frames ("panic.go:770 +0x132").
func goPosition(s string, start, end int) bool {
	if start == 0 || s[start-1] == ' ' || s[start-1] == '\t' {
		return false // no file name
	}
	line := digitsEnd(s, end)
	if line == end || line == len(s) || s[line] != ':' {
		return false
	}
	col := digitsEnd(s, line+1)
	return col > line+1 && strings.HasPrefix(s[col:], ": ")
}

// nodeUncaught: "Uncaught" as a word, followed by the end, ':', or a space
// and what was thrown ("Uncaught TypeError", "Uncaught (in promise)",
// "Uncaught 'text'"), but not prose ("0 Uncaught errors"); or Node's crash
// line "triggerUncaughtException(".
func nodeUncaught(s string, start, end int) bool {
	if strings.HasSuffix(s[:start], "trigger") && strings.HasPrefix(s[end:], "Exception(") {
		return true
	}
	if !wordStart(s, start) {
		return false
	}
	rest := s[end:]
	switch {
	case rest == "" || rest[0] == ':':
		return true
	case len(rest) < 2 || rest[0] != ' ':
		return false
	}
	c := rest[1]
	return 'A' <= c && c <= 'Z' || c == '(' || c == '\'' || c == '"'
}

// testFail: "FAIL" or "FAILED" as a word, followed by the end, a tab, ':'
// or '.', or by spaces and what failed ("FAIL  src/a.test.ts"), but not by
// a count ("PASS 12 FAIL 0") nor as a name ("FAILED=0", "FAILURES").
func testFail(s string, start, end int) bool {
	if !wordStart(s, start) {
		return false
	}
	rest := strings.TrimPrefix(s[end:], "ED")
	if rest == "" {
		return true
	}
	switch rest[0] {
	case '\t', ':', '.':
		return true
	case ' ':
		rest = strings.TrimLeft(rest, " ")
		return rest == "" || rest[0] < '0' || rest[0] > '9'
	}
	return false
}
