package logring

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// splitAll runs SplitLines once and returns copies of what it emitted.
func splitAll(data []byte, atEOF bool) (pieces []textSplit, consumed int) {
	pieces = []textSplit{}
	consumed = SplitLines(data, atEOF, func(line []byte, split bool) {
		pieces = append(pieces, textSplit{string(line), split})
	})
	return pieces, consumed
}

// splitChunks feeds chunks to SplitLines the way ingest does, carrying the
// unconsumed rest over to the next call; only the last call may be atEOF.
// It returns the pieces and the length of the rest left at the end.
func splitChunks(chunks [][]byte, atEOF bool) (pieces []textSplit, rest int) {
	pieces = []textSplit{}
	var pending []byte
	for i, c := range chunks {
		pending = append(pending, c...)
		n := SplitLines(pending, atEOF && i == len(chunks)-1, func(line []byte, split bool) {
			pieces = append(pieces, textSplit{string(line), split})
		})
		pending = append([]byte(nil), pending[n:]...)
	}
	return pieces, len(pending)
}

// joinPieces undoes SplitLines: a newline after each line, none after a
// split piece.
func joinPieces(pieces []textSplit) string {
	var b strings.Builder
	for _, p := range pieces {
		b.WriteString(p.Text)
		if !p.Split {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func TestSplitLines(t *testing.T) {
	const max = MaxLineBytes
	x := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name         string
		data         string
		atEOF        bool
		want         []textSplit
		wantConsumed int
	}{
		{name: "empty", data: "", want: []textSplit{}, wantConsumed: 0},
		{name: "empty at eof", data: "", atEOF: true, want: []textSplit{}, wantConsumed: 0},
		{name: "unfinished", data: "abc", want: []textSplit{}, wantConsumed: 0},
		{name: "unfinished at eof", data: "abc", atEOF: true, want: []textSplit{{"abc", false}}, wantConsumed: 3},
		{name: "one line", data: "abc\n", want: []textSplit{{"abc", false}}, wantConsumed: 4},
		{name: "no empty line after final newline at eof", data: "abc\n", atEOF: true, want: []textSplit{{"abc", false}}, wantConsumed: 4},
		{name: "line and rest", data: "a\nbc", want: []textSplit{{"a", false}}, wantConsumed: 2},
		{name: "line and rest at eof", data: "a\nbc", atEOF: true, want: []textSplit{{"a", false}, {"bc", false}}, wantConsumed: 4},
		{name: "empty lines", data: "\n\n", want: []textSplit{{"", false}, {"", false}}, wantConsumed: 2},
		{name: "crlf", data: "a\r\nb\r\n", want: []textSplit{{"a", false}, {"b", false}}, wantConsumed: 6},
		{name: "cr alone is an empty line", data: "\r\n", want: []textSplit{{"", false}}, wantConsumed: 2},
		{name: "cr waits for its newline", data: "a\r", want: []textSplit{}, wantConsumed: 0},
		{name: "final cr trimmed at eof", data: "a\r", atEOF: true, want: []textSplit{{"a", false}}, wantConsumed: 2},
		{name: "inner cr kept", data: "a\rb\n", want: []textSplit{{"a\rb", false}}, wantConsumed: 4},
		{name: "only one cr trimmed", data: "a\r\r\n", want: []textSplit{{"a\r", false}}, wantConsumed: 4},
		{name: "lf cr", data: "a\n\rb\n", want: []textSplit{{"a", false}, {"\rb", false}}, wantConsumed: 5},
		{name: "nul kept", data: "\x00a\x00\n", want: []textSplit{{"\x00a\x00", false}}, wantConsumed: 4},
		{name: "utf8 kept", data: "h\u00e9llo \u4e16\u754c \U0001F600\n", want: []textSplit{{"h\u00e9llo \u4e16\u754c \U0001F600", false}}, wantConsumed: 19},
		{name: "invalid byte replaced", data: "a\xffb\n", want: []textSplit{{"a\uFFFDb", false}}, wantConsumed: 4},
		{name: "invalid run replaced once", data: "\xff\xfe\xfd\n", want: []textSplit{{"\uFFFD", false}}, wantConsumed: 4},
		{name: "truncated rune before newline", data: "\xe2\x82\n", want: []textSplit{{"\uFFFD", false}}, wantConsumed: 3},
		{name: "truncated rune at eof", data: "ok\xf0\x9f", atEOF: true, want: []textSplit{{"ok\uFFFD", false}}, wantConsumed: 4},
		{name: "just under max", data: x(max-1) + "\n", want: []textSplit{{x(max - 1), false}}, wantConsumed: max},
		{name: "exactly max", data: x(max) + "\n", want: []textSplit{{x(max), false}}, wantConsumed: max + 1},
		{name: "exactly max crlf", data: x(max-1) + "\r\n", want: []textSplit{{x(max - 1), false}}, wantConsumed: max + 1},
		{name: "exactly max waits for more", data: x(max), want: []textSplit{}, wantConsumed: 0},
		{name: "exactly max with cr waits for more", data: x(max-1) + "\r", want: []textSplit{}, wantConsumed: 0},
		{name: "exactly max at eof", data: x(max), atEOF: true, want: []textSplit{{x(max), false}}, wantConsumed: max},
		{name: "one over is cut", data: x(max + 1), want: []textSplit{{x(max), true}}, wantConsumed: max},
		{name: "one over at eof", data: x(max + 1), atEOF: true, want: []textSplit{{x(max), true}, {"x", false}}, wantConsumed: max + 1},
		{name: "one over with newline", data: x(max+1) + "\n", want: []textSplit{{x(max), true}, {"x", false}}, wantConsumed: max + 2},
		{name: "crlf just past max", data: x(max) + "\r\n", want: []textSplit{{x(max), true}, {"", false}}, wantConsumed: max + 2},
		{
			name: "several pieces", data: x(3*max) + "\n",
			want:         []textSplit{{x(max), true}, {x(max), true}, {x(max), false}},
			wantConsumed: 3*max + 1,
		},
		{name: "rune straddles cut", data: x(max-1) + "\u00e9z", want: []textSplit{{x(max - 1), true}}, wantConsumed: max - 1},
		{name: "3-byte rune straddles cut", data: x(max-2) + "\u20acz", want: []textSplit{{x(max - 2), true}}, wantConsumed: max - 2},
		{name: "4-byte rune straddles cut", data: x(max-1) + "\U0001F600z", want: []textSplit{{x(max - 1), true}}, wantConsumed: max - 1},
		{name: "4-byte rune ends at cut", data: x(max-4) + "\U0001F600z", want: []textSplit{{x(max-4) + "\U0001F600", true}}, wantConsumed: max},
		{name: "truncated rune at cut", data: x(max-2) + "\xe2\x82zz", want: []textSplit{{x(max - 2), true}}, wantConsumed: max - 2},
		{
			// The 0xff is kept in the first piece, whose repair is too long.
			name: "invalid byte at cut", data: x(max-1) + "\xffz",
			want:         []textSplit{{x(max - 1), true}, {"\uFFFD", true}},
			wantConsumed: max,
		},
		{
			// Each 0xff grows to three bytes: the repaired piece is cut again.
			name: "replacement growth cut again", data: strings.Repeat("a\xff", max/2) + "\n",
			want:         []textSplit{{strings.Repeat("a\uFFFD", max/4), true}, {strings.Repeat("a\uFFFD", max/4), false}},
			wantConsumed: max + 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, consumed := splitAll([]byte(tt.data), tt.atEOF)
			assert.Equal(t, describe(tt.want), describe(got))
			assert.Equal(t, tt.wantConsumed, consumed)
		})
	}
}

func TestRuneCut(t *testing.T) {
	tests := []struct {
		name string
		b    string
		want int
	}{
		{name: "ascii", b: "abc", want: 3},
		{name: "complete 2-byte rune at end", b: "a\u00e9", want: 3},
		{name: "complete 3-byte rune at end", b: "a\u20ac", want: 4},
		{name: "complete 4-byte rune at end", b: "a\U0001F600", want: 5},
		{name: "1 of 2 bytes", b: "ab\xc3", want: 2},
		{name: "1 of 3 bytes", b: "ab\xe2", want: 2},
		{name: "2 of 3 bytes", b: "ab\xe2\x82", want: 2},
		{name: "3 of 4 bytes", b: "ab\xf0\x9f\x98", want: 2},
		{name: "invalid byte at end kept", b: "ab\xff", want: 3},
		{name: "stray continuation bytes kept", b: "ab\x80\x80\x80", want: 5},
		{name: "incomplete rune alone is not cut to zero", b: "\xe2\x82", want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, runeCut([]byte(tt.b)))
		})
	}
}

// visible keeps the bytes of s that SplitLines never drops or replaces:
// ASCII other than '\r'.
func visible(s string) string {
	var b strings.Builder
	for i := range len(s) {
		if s[i] < utf8.RuneSelf && s[i] != '\r' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// FuzzSplitLines checks the splitter's invariants. The input is pad bytes
// of 'x' followed by data, so that the fuzzer reaches the MaxLineBytes cut
// with small inputs; it is also fed in two calls, split back bytes before
// its end, to check that where reads fall does not change the lines.
func FuzzSplitLines(f *testing.F) {
	f.Add([]byte("hello\nworld\r\n"), uint16(0), uint16(3), false)
	f.Add([]byte("last line"), uint16(0), uint16(0), true)
	f.Add([]byte("\u20acz\n"), uint16(MaxLineBytes-2), uint16(2), false)
	f.Fuzz(func(t *testing.T, data []byte, pad uint16, back uint16, atEOF bool) {
		input := append(bytes.Repeat([]byte("x"), int(pad)), data...)

		got, consumed := splitAll(input, atEOF)

		require.GreaterOrEqual(t, consumed, 0)
		require.LessOrEqual(t, consumed, len(input))
		for i, p := range got {
			assert.True(t, utf8.ValidString(p.Text), "line %d not valid UTF-8", i)
			assert.LessOrEqual(t, len(p.Text), MaxLineBytes, "line %d too long", i)
			assert.False(t, p.Split && p.Text == "", "line %d: empty split piece", i)
		}
		rest := input[consumed:]
		if atEOF {
			assert.Equal(t, len(input), consumed, "at EOF everything is consumed")
			assert.False(t, len(got) > 0 && got[len(got)-1].Split, "at EOF the last line is not split")
		} else {
			assert.NotContains(t, string(rest), "\n", "only an unfinished line is left")
			assert.LessOrEqual(t, len(rest), MaxLineBytes, "a full-length rest is cut")
		}

		// Joining the lines gives back the consumed input, plus the newline
		// that an unfinished last line gets at EOF. Only '\r' before a line
		// end is dropped, and only invalid UTF-8 is replaced.
		want := string(input[:consumed])
		if atEOF && len(input) > 0 && input[len(input)-1] != '\n' {
			want += "\n"
		}
		joined := joinPieces(got)
		assert.Equal(t, visible(want), visible(joined), "ASCII bytes lost or added")
		if utf8.Valid(input) {
			assert.Equal(t, strings.ReplaceAll(want, "\r", ""), strings.ReplaceAll(joined, "\r", ""))
		}
		if utf8.Valid(input) && !bytes.Contains(input, []byte("\r")) {
			assert.Equal(t, want, joined)
		}

		// Feeding the input in two reads changes nothing.
		k := len(input) - int(back)%(len(input)+1)
		chunked, left := splitChunks([][]byte{input[:k], input[k:]}, atEOF)
		assert.Equal(t, describe(got), describe(chunked), "split after %d of %d bytes", k, len(input))
		assert.Equal(t, len(rest), left)
	})
}
