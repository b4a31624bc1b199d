package detect

import (
	"net/url"
	"strings"
)

// URLs appends to dst the http and https URLs in line, one line of a
// process's output without its newline, in the order they appear, and
// returns the extended slice. Pass dst[:0] to reuse a slice.
//
// The URLs are made usable for an agent that will fetch them:
//   - escape sequences are stripped first, also inside a URL (Vite colours
//     the port: "http://localhost:\x1b[1m5173\x1b[22m/");
//   - a URL ends at a space, a control byte, a non-ASCII byte or one of
//     " ' < > ` { } | \ ^, and the punctuation that ends the sentence
//     rather than the URL is trimmed: . , ; : ! ? * and a ) or ] that
//     closes nothing in it ("(http://0.0.0.0:8000/)" gives
//     "http://localhost:8000/");
//   - the wildcard hosts a server listens on, 0.0.0.0 and [::], become
//     localhost, the name to connect to; other hosts, 127.0.0.1 and [::1]
//     among them, are kept as printed;
//   - a URL that net/url cannot parse, or without a host name, is left out.
//
// A URL is found by its scheme, which must be printed in one piece: a line
// without "http" is skipped before escapes are stripped, which keeps
// coloured lines cheap; escape sequences after the scheme are fine.
//
// The strings returned are new: they never share memory with line. A line
// without a URL allocates nothing.
func URLs(line string, dst []string) []string {
	if !strings.Contains(line, "http") {
		return dst
	}
	s, buf := stripped(line)
	dst = appendURLs(dst, s)
	release(buf)
	return dst
}

// appendURLs is URLs on a line without escape sequences. It copies what it
// appends, since s may live in a scratch buffer.
func appendURLs(dst []string, s string) []string {
	for off := 0; off < len(s); {
		i := strings.Index(s[off:], "http")
		if i < 0 {
			break
		}
		start := i + off
		auth := start + len("http") // the authority, once past "://"
		if strings.HasPrefix(s[auth:], "s") {
			auth++
		}
		if !strings.HasPrefix(s[auth:], "://") {
			off = auth
			continue
		}
		auth += len("://")
		end := auth
		for end < len(s) && !endsURL(s[end]) {
			end++
		}
		off = end
		u := trimURL(s[start:end])
		if len(u) <= auth-start {
			continue // nothing after the scheme
		}
		if parsed, err := url.Parse(u); err != nil || parsed.Hostname() == "" {
			continue
		}
		dst = append(dst, normalise(u, auth-start))
	}
	return dst
}

// endsURL reports whether c cannot be part of a URL in a log line.
func endsURL(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return true
	}
	return strings.IndexByte("\"'<>`{}|\\^", c) >= 0
}

// trimURL drops the punctuation at the end of u that belongs to the
// sentence around it.
func trimURL(u string) string {
	for u != "" {
		switch u[len(u)-1] {
		case '.', ',', ';', ':', '!', '?', '*':
		case ')':
			if strings.Count(u, "(") >= strings.Count(u, ")") {
				return u
			}
		case ']':
			if strings.Count(u, "[") >= strings.Count(u, "]") {
				return u
			}
		default:
			return u
		}
		u = u[:len(u)-1]
	}
	return u
}

// normalise returns a copy of u with a wildcard host replaced by
// localhost. The authority starts at u[auth].
func normalise(u string, auth int) string {
	hostport := u[auth:]
	if i := strings.IndexAny(hostport, "/?#"); i >= 0 {
		hostport = hostport[:i]
	}
	if i := strings.LastIndexByte(hostport, '@'); i >= 0 {
		auth += i + 1
		hostport = hostport[i+1:]
	}
	for _, wildcard := range [...]string{"0.0.0.0", "[::]"} {
		if rest, ok := strings.CutPrefix(hostport, wildcard); ok && (rest == "" || rest[0] == ':') {
			return u[:auth] + "localhost" + u[auth+len(wildcard):]
		}
	}
	return strings.Clone(u)
}
