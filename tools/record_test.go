package tools

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/brummer-mcp/brummer-mcp/procstate"
)

func TestCommandLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rec  procstate.Record
		want string
	}{
		{"shell command as given", procstate.Record{Command: "npm run dev | tee x", Argv: []string{"/bin/sh", "-c", "npm run dev | tee x"}}, "npm run dev | tee x"},
		{"one plain word", procstate.Record{Argv: []string{"sleep"}}, "sleep"},
		{"plain words", procstate.Record{Argv: []string{"go", "test", "./...", "-run=X", "a@b:c%d+e,f"}}, "go test ./... -run=X a@b:c%d+e,f"},
		{"space", procstate.Record{Argv: []string{"echo", "a b"}}, "echo 'a b'"},
		{"single quote", procstate.Record{Argv: []string{"echo", "it's"}}, `echo 'it'\''s'`},
		{"empty argument", procstate.Record{Argv: []string{"printf", ""}}, "printf ''"},
		{"shell characters", procstate.Record{Argv: []string{"echo", "$HOME", "*", "a;b"}}, "echo '$HOME' '*' 'a;b'"},
		{"non-ASCII", procstate.Record{Argv: []string{"echo", "grüß"}}, "echo 'grüß'"},
		{"quoted program", procstate.Record{Argv: []string{"/opt/my app/run"}}, "'/opt/my app/run'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, commandLine(&tt.rec))
		})
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"abcdef", 3, "abc..."},
		{"aé", 2, "a..."},  // "é" is two bytes: not cut in half
		{"日本語", 4, "日..."}, // three bytes each
		{"日本語", 2, "..."},
	}
	for _, tt := range tests {
		got := truncate(tt.in, tt.n)
		assert.Equal(t, tt.want, got, "truncate(%q, %d)", tt.in, tt.n)
		assert.True(t, utf8.ValidString(got))
	}
}

func TestDurationText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ms   int64
		want string
	}{
		{0, "0ms"},
		{850, "850ms"},
		{1000, "1.0s"},
		{12345, "12.3s"},
		{59949, "59.9s"},
		{60000, "1m00s"},
		{245000, "4m05s"},
		{3600000, "1h00m"},
		{7380000, "2h03m"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, durationText(tt.ms), "%d ms", tt.ms)
	}
}

func TestAppendTime(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 29, 5, 19, 47, 123456789, time.FixedZone("x", 3600))
	assert.Equal(t, "2026-11-29T04:19:47.123Z", string(appendTime(nil, at.UnixNano())), "UTC, milliseconds truncated")
	assert.Equal(t, at.UTC().Format("2006-01-02T15:04:05.000Z07:00"), formatTime(at))
	assert.Empty(t, formatTime(time.Time{}))
}
