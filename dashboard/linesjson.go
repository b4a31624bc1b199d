package dashboard

import (
	"strconv"
	"unicode/utf8"
)

// appendJSON appends l as encoding/json would encode it, with HTML left
// unescaped (as encodeJSON), at a fraction of the cost: a page that
// follows a flood gets up to 4,000 lines a second, and the JSON of the
// lines is most of what serving it costs.
func (l *lines) appendJSON(b []byte) []byte {
	b = append(b, `{"lines":[`...)
	for i := range l.Lines {
		if i > 0 {
			b = append(b, ',')
		}
		b = l.Lines[i].appendJSON(b)
	}
	b = append(b, `],"cursor":`...)
	b = appendString(b, l.Cursor)
	b = append(b, `,"missed":`...)
	b = strconv.AppendUint(b, l.Missed, 10)
	return append(b, '}')
}

func (ln *line) appendJSON(b []byte) []byte {
	b = append(b, `{"p":`...)
	b = appendString(b, ln.P)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, ln.Seq, 10)
	b = append(b, `,"stream":`...)
	b = appendString(b, ln.Stream)
	b = append(b, `,"text":`...)
	b = appendString(b, ln.Text)
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, ln.TS, 10)
	if ln.Partial {
		b = append(b, `,"partial":true`...)
	}
	if ln.Split {
		b = append(b, `,"split":true`...)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string: quotes, backslashes and control
// characters escaped, as encoding/json does them, and U+2028 and U+2029
// too; <, > and & as they are. Invalid UTF-8 (which the logs never hold)
// becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
