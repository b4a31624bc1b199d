package tools

import "strings"

// stripANSI removes terminal escape sequences (colours, cursor movement,
// window titles) from s, so that models see the text a person would read.
// Text without an ESC byte is returned as is, without allocating.
//
// Removed: CSI sequences (ESC [ params final, final byte 0x40-0x7E), OSC
// and other string sequences (ESC ] P X ^ _ ... terminated by BEL or ESC \),
// and the short escapes (ESC, intermediate bytes, a final byte: "ESC ( B").
// An unfinished sequence at the end of the line is removed too.
func stripANSI(s string) string {
	i := strings.IndexByte(s, 0x1b)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		s = s[i+1:] // after ESC
		s = s[escapeLen(s):]
		i = strings.IndexByte(s, 0x1b)
	}
	b.WriteString(s)
	return b.String()
}

// escapeLen is the length of the escape sequence whose ESC was just cut off
// the front of s.
func escapeLen(s string) int {
	if s == "" {
		return 0
	}
	switch s[0] {
	case '[': // CSI: parameter and intermediate bytes, then a final byte
		for j := 1; j < len(s); j++ {
			if c := s[j]; c >= 0x40 && c <= 0x7e {
				return j + 1
			} else if c < 0x20 || c > 0x7e {
				return j // malformed: drop what we saw, keep the rest
			}
		}
		return len(s)
	case ']', 'P', 'X', '^', '_': // string sequences: up to BEL or ST (ESC \)
		for j := 1; j < len(s); j++ {
			switch s[j] {
			case 0x07:
				return j + 1
			case 0x1b:
				if j+1 < len(s) && s[j+1] == '\\' {
					return j + 2
				}
				return j
			}
		}
		return len(s)
	}
	// Other escapes: intermediate bytes 0x20-0x2F, then a final byte
	// 0x30-0x7E ("ESC ( B", "ESC =").
	j := 0
	for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f {
		j++
	}
	if j < len(s) && s[j] >= 0x30 && s[j] <= 0x7e {
		return j + 1
	}
	return j
}
