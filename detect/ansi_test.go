package detect

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// stripTests are shared by StripANSI and stripped.
var stripTests = []struct {
	name, in, want string
}{
	{"plain", "hello world", "hello world"},
	{"empty", "", ""},
	{"colour", "\x1b[31merror\x1b[0m: boom", "error: boom"},
	{"bold and 256 colours", "\x1b[1;38;5;208mwarn\x1b[m", "warn"},
	{"cursor movement", "\x1b[2K\x1b[1Gprogress 50%", "progress 50%"},
	{"window title with BEL", "\x1b]0;my title\x07text", "text"},
	{"hyperlink with ST", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"},
	{"two-byte escape", "\x1b(Bascii \x1b=keypad", "ascii keypad"},
	{"unfinished at end", "text\x1b[31", "text"},
	{"lone ESC at end", "text\x1b", "text"},
	{"utf-8 around", "ü\x1b[32mö\x1b[0mß", "üöß"},
	{"only escapes", "\x1b[0m\x1b[K", ""},
	{"NUL kept", "a\x00b", "a\x00b"},
}

func TestStripped(t *testing.T) {
	t.Parallel()
	for _, tt := range stripTests {
		t.Run(tt.name, func(t *testing.T) {
			s, buf := stripped(tt.in)
			assert.Equal(t, tt.want, strings.Clone(s))
			release(buf)
			assert.Equal(t, tt.want, StripANSI(tt.in))
		})
	}
}

func TestStripANSINoAllocWithoutEscapes(t *testing.T) {
	s := strings.Repeat("plain log line ", 10)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = StripANSI(s) }))
}

func FuzzStripANSI(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[31mred\x1b[0m", "\x1b]0;t\x07x", "\x1b", "\x1b[", "ü\x1b[1mö"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := StripANSI(s)
		assert.LessOrEqual(t, len(out), len(s))
		assert.Equal(t, out, StripANSI(out), "stripping twice changes the text")
		if utf8.ValidString(s) {
			assert.True(t, utf8.ValidString(out), "valid UTF-8 in, invalid out")
		}
	})
}
