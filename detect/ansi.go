package detect

import (
	"strings"
	"sync"
	"unsafe"
)

const esc = 0x1b

// maxScratch is the largest scratch buffer kept for reuse; a longer line
// (longer than the log ring's 64 KiB lines, so split output rejoined by
// someone) gets a buffer that is left to the garbage collector.
const maxScratch = 128 << 10

// scratch holds the buffers that lines with escape sequences are stripped
// into, so that stripping allocates nothing in the steady state.
var scratch = sync.Pool{New: func() any {
	b := make([]byte, 0, 512)
	return &b
}}

// stripped returns line without escape sequences. Without an ESC byte it is
// line itself and buf is nil. Otherwise the text lives in buf, which the
// caller hands back with release once nothing refers to the text.
func stripped(line string) (text string, buf *[]byte) {
	if strings.IndexByte(line, esc) < 0 {
		return line, nil
	}
	buf = scratch.Get().(*[]byte)
	*buf = appendStripped((*buf)[:0], line)
	return unsafe.String(unsafe.SliceData(*buf), len(*buf)), buf
}

// release returns a buffer from stripped to the pool; nil is ignored.
func release(buf *[]byte) {
	if buf != nil && cap(*buf) <= maxScratch {
		scratch.Put(buf)
	}
}

// StripANSI removes terminal escape sequences (colours, cursor movement,
// window titles) from s, so that a model sees the text a person would
// read. Text without an ESC byte is returned as is, without allocating.
//
// Removed: CSI sequences (ESC [ params final, final byte 0x40-0x7E), OSC
// and other string sequences (ESC ] P X ^ _ ... terminated by BEL or ESC \),
// and the short escapes (ESC, intermediate bytes, a final byte: "ESC ( B").
// An unfinished sequence at the end of the line is removed too.
func StripANSI(s string) string {
	if strings.IndexByte(s, esc) < 0 {
		return s
	}
	return string(appendStripped(make([]byte, 0, len(s)), s))
}

// appendStripped appends s without its terminal escape sequences to dst,
// as StripANSI does.
func appendStripped(dst []byte, s string) []byte {
	for {
		i := strings.IndexByte(s, esc)
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		s = s[i+1:] // after ESC
		s = s[escapeLen(s):]
	}
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
			case esc:
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
