// Package detect reads one line of a process's output and tells what an
// agent should notice in it: whether it reports an error ([Error]), and
// which URLs it prints ([URLs]), such as the address a dev server listens
// on.
//
// It runs on every line of every process, floods included, so a line that
// holds nothing of interest costs a few byte scans and allocates nothing.
// Error is hand-written matching, not regular expressions: each pattern is a
// literal key, found through one of its rarer bytes with
// [strings.IndexByte] (several patterns share a byte and one scan), and
// confirmed by a small check of the bytes around it; the patterns are listed
// in error.go, each with real-looking lines in error_test.go.
//
// Lines are taken as the process wrote them, without the newline: both
// functions strip terminal escape sequences (colours, cursor movement,
// window titles) before matching, since tools colour words in the middle
// of what is matched (tsc's "error TS2322", the port in Vite's URL). A line
// without an ESC byte is matched in place; one with escapes is stripped into
// a scratch buffer from a [sync.Pool], so it allocates nothing either.
//
// # Concurrency contract
//
// The functions are pure and safe for concurrent use. The only shared state
// is the pool of scratch buffers, and no result refers to one: kinds are
// constants and URLs are fresh strings, which never share memory with the
// line, so a caller may pass a line that aliases a buffer it reuses.
package detect
