package tools

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

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

func TestAppendTime(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 29, 5, 19, 47, 123456789, time.FixedZone("x", 3600))
	assert.Equal(t, "2026-11-29T04:19:47.123Z", string(appendTime(nil, at.UnixNano())), "UTC, milliseconds truncated")
	assert.Equal(t, at.UTC().Format("2006-01-02T15:04:05.000Z07:00"), formatTime(at))
	assert.Empty(t, formatTime(time.Time{}))
}
