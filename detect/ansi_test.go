package detect

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStripped(t *testing.T) {
	t.Parallel()
	tests := []struct {
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, buf := stripped(tt.in)
			assert.Equal(t, tt.want, strings.Clone(s))
			release(buf)
		})
	}
}
