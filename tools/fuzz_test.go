package tools

import (
	"bytes"
	"cmp"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/internal/probe"
	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// FuzzArgs feeds arbitrary bytes, as a client could send them, through the
// argument decoding and validation of every tool. Nothing may panic; every
// rejection is a readable message that names what was wrong; every
// accepted argument set obeys the tool's bounds and survives a round trip
// through JSON unchanged.
func FuzzArgs(f *testing.F) {
	for _, seed := range []string{
		`{}`, `null`, `[]`, `"x"`, `{"command":"npm run dev"}`, `{"argv":["ls","-l"],"name":"ls"}`,
		`{"argv":[1]}`, `{"name":"a/b","command":"x"}`, `{"env":{"A=B":"1"},"command":"x"}`,
		`{"name":"web","since":5,"limit":10,"grep":"(?i)err"}`, `{"name":"web","tail":-1}`,
		`{"name":"web","grep":"("}`, `{"name":"web","signal":"KILL","timeout_ms":0}`,
		`{"name":"web","timeout_ms":1e99}`, `{"status":"running"}`, `{"a":1}{"b":2}`, "{\"name\":\"\xff\"}",
		`{"command":"a && b <x >y","env":{"K":"v\u2028"},"cwd":"sub/dir","name":"web-2"}`,
		`{"status":"exited","limit":1000,"after":"web"}`, `{"name":"web","stream":"stderr","raw":true,"timestamps":true,"tail":0}`,
		`{"all":true,"signal":"INT"}`, `{"all":true,"name":"web"}`, `{"name":"web","stream":"system"}`,
		`{"name":"web","text":"y","newline":false,"close":true}`, `{"command":"x","stdin":true}`,
		`{"command":"x","restart":"on-failure","max_restarts":3}`, `{"command":"x","restart":"sometimes"}`,
		`{"name":"web","wait_for":{"log":"Local:.*http","timeout_ms":20000}}`, `{"names":["a","b"],"cursor":"c1:YT0z","last":"2m"}`,
		`{"errors":true,"context":3,"since_time":"2026-12-06T10:00:00Z"}`, `{"cursor":"c1:!"}`, `{"name":"web","since":0,"wait_for":{"log":"x","tail":0}}`,
		`{"name":"web","wait_for":{"port":3000,"exit":true}}`, `{"name":"web","wait_for":{"http":"http://[::1]:8080/health"}}`,
		`{"name":"web","wait_for":{"http":"http://example.com"}}`, `{"name":"web","wait_for":"ready"}`,
		`{"command":"x","wait_for":{"listen":true,"x":1}}`, `{"name":"web","wait_for":{"exit":true,"timeout_ms":0}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkArgs(t, data, func(t *testing.T, a *startArgs) {
			assert.NotEqual(t, a.Command != "", a.Argv != nil, "exactly one of command and argv")
			assert.LessOrEqual(t, len(a.Command), maxCommandBytes)
			assert.NotContains(t, a.Command, "\x00")
			if a.Argv != nil {
				assert.NotEmpty(t, a.Argv[0], "the program")
			}
			if a.Name != "" {
				assert.Regexp(t, procstate.NamePattern, a.Name)
			}
			for k := range a.Env {
				assert.NotEmpty(t, k)
				assert.NotContains(t, k, "=")
			}
		})
		checkArgs(t, data, func(t *testing.T, a *listArgs) {
			assert.Contains(t, []string{"", "all", "running", "exited"}, a.Status)
			assert.True(t, a.limit() >= 1 && a.limit() <= maxListLimit, "limit %d", a.limit())
		})
		checkArgs(t, data, func(t *testing.T, a *stopArgs) {
			assert.True(t, (a.Name != "") != a.All, "exactly one of name %q and all", a.Name)
			sig, ok := procstate.SignalByName(cmp.Or(a.Signal, "TERM"))
			require.True(t, ok, "signal %q", a.Signal)
			assert.Equal(t, sig, a.sig)
			assert.True(t, a.grace >= 0 && a.grace.Milliseconds() <= maxStopTimeoutMs, "grace %s", a.grace)
		})
		checkArgs(t, data, func(t *testing.T, a *waitArgs) {
			assert.NotEmpty(t, a.Name)
			checkWaitFor(t, a.WaitFor)
			assert.Equal(t, a.Since != nil, a.WaitFor.cond.HasSince)
		})
		checkArgs(t, data, func(t *testing.T, a *restartArgs) {
			assert.NotEmpty(t, a.Name)
			if a.WaitFor != nil {
				checkWaitFor(t, a.WaitFor)
			}
		})
		checkArgs(t, data, func(t *testing.T, a *inputArgs) {
			assert.NotEmpty(t, a.Name)
			assert.LessOrEqual(t, len(a.Text), maxInputBytes)
		})
		checkArgs(t, data, func(t *testing.T, a *logsArgs) {
			assert.False(t, a.Name != "" && a.Names != nil, "name and names")
			assert.False(t, a.Since != nil && a.Name == "", "since without name")
			assert.False(t, a.Cursor != "" && a.Name != "", "cursor with name")
			assert.Equal(t, a.Cursor != "", a.cursor != nil, "cursor decoded")
			assert.True(t, a.Context >= 0 && a.Context <= maxContext, "context %d", a.Context)
			assert.False(t, (a.Since != nil || a.Cursor != "") && a.Tail != nil, "cursor and tail")
			assert.Equal(t, a.Grep != "", a.re != nil, "grep compiled")
			q := a.query()
			assert.True(t, q.Limit >= 1 && q.Limit <= maxLimit, "limit %d", q.Limit)
			assert.True(t, q.Tail >= 0 && q.Tail <= maxTail, "tail %d", q.Tail)
			assert.Equal(t, a.Since != nil, q.HasSince)
		})
	})
}

// checkWaitFor checks an accepted wait_for: one condition, in bounds.
func checkWaitFor(t *testing.T, w *waitFor) {
	t.Helper()
	c := w.cond
	n := 0
	for _, set := range []bool{c.Match != nil, c.Port != 0, c.Listen, c.HTTP != nil, c.Exit} {
		if set {
			n++
		}
	}
	assert.Equal(t, 1, n, "exactly one condition")
	assert.True(t, c.Port >= 0 && c.Port <= 65535, "port %d", c.Port)
	assert.True(t, c.Timeout > 0 && c.Timeout <= maxWaitMs*time.Millisecond, "timeout %s", c.Timeout)
	assert.True(t, w.tail >= 0 && w.tail <= maxWaitTail, "tail %d", w.tail)
	if c.HTTP != nil {
		assert.True(t, probe.Loopback(c.HTTP.Hostname()), "host %q", c.HTTP.Hostname())
	}
}

// checkArgs decodes and validates data as the arguments of one tool, as
// bindArgs does. A rejection must be a readable message naming what was
// wrong; an accepted set must satisfy valid and round-trip through JSON:
// encoded and bound again, it is accepted and encodes the same.
func checkArgs[T any, PT interface {
	*T
	validator
}](t *testing.T, data []byte, valid func(t *testing.T, a *T)) {
	t.Helper()
	a := PT(new(T))
	if err := decodeArgs(data, a); err != nil {
		assertArgError(t, err, a)
		return
	}
	if err := a.validate(); err != nil {
		assertArgError(t, err, a)
		return
	}
	valid(t, a)

	enc := encodeArgs(t, a)
	b := PT(new(T))
	require.NoError(t, decodeArgs(enc, b), "accepted arguments, encoded again, do not decode: %s", enc)
	require.NoError(t, b.validate(), "accepted arguments, encoded again, are refused: %s", enc)
	assert.Equal(t, string(enc), string(encodeArgs(t, b)), "arguments change in a round trip")
}

func encodeArgs(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return b.Bytes()
}

// assertArgError checks a rejection of arguments bound into dst: a
// non-empty, valid UTF-8 message that names the offending argument in
// quotes (or says what is wrong with the arguments as a whole), without Go
// internals.
func assertArgError(t *testing.T, err error, dst any) {
	t.Helper()
	msg := err.Error()
	require.NotEmpty(t, msg)
	assert.True(t, utf8.ValidString(msg), "message is not valid UTF-8: %q", msg)
	named := strings.HasPrefix(msg, "arguments") || strings.HasPrefix(msg, "unknown argument ")
	for _, name := range argNames(dst) {
		named = named || strings.Contains(msg, `"`+name+`"`) || strings.Contains(msg, `"`+name+`.`)
	}
	assert.True(t, named, "message names no argument of %v: %q", argNames(dst), msg)
	// The client's own values, quoted, may hold anything.
	ours := quoted.ReplaceAllString(msg, `"..."`)
	assert.NotContains(t, ours, "&{", "a Go struct dump: %q", msg)
	assert.NotContains(t, ours, "json: ", "an encoding/json message leaked through: %q", msg)
	assert.NotContains(t, ours, "tools.", "a Go type name leaked through: %q", msg)
}

// quoted matches a value quoted with %q, or a regular expression quoted in
// backquotes.
var quoted = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`")
