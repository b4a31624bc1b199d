package detect

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzDetect checks, for any line: neither function panics; both are
// deterministic and see through escape sequences (the stripped line gives
// the same answers, for URLs once "http" is in the line); Error's ok agrees
// with its kind; every URL parses with net/url, has scheme http or https
// and a host name, and is valid UTF-8 without ESC.
func FuzzDetect(f *testing.F) {
	for _, tt := range errorLines {
		f.Add(tt.line)
	}
	for _, s := range []string{
		"\x1b[36mhttp://localhost:\x1b[1m5173\x1b[22m/\x1b[39m",
		"(http://0.0.0.0:8000/) ...",
		"http://[::]:3000 https://[::1]:443/a?b#c",
		"http://:80 http://x:abc http://%zz/ https://a@b@c/",
		"http://[fe80::1%en0]:8080/",
		"https://x/))]]..,,",
		"\x1b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		kind, ok := Error(line)
		assert.Equal(t, kind != "", ok, "kind %q with ok %v", kind, ok)
		kind2, ok2 := Error(line)
		assert.Equal(t, kind, kind2, "Error is not deterministic")
		assert.Equal(t, ok, ok2, "Error is not deterministic")

		urls := URLs(line, nil)
		assert.Equal(t, urls, URLs(line, nil), "URLs is not deterministic")
		for _, u := range urls {
			p, err := url.Parse(u)
			require.NoError(t, err, "URL %q", u)
			assert.Contains(t, []string{"http", "https"}, p.Scheme, "URL %q", u)
			assert.NotEmpty(t, p.Hostname(), "URL %q", u)
			assert.True(t, utf8.ValidString(u), "URL %q", u)
			assert.NotContains(t, u, "\x1b", "URL %q", u)
		}

		plain := string(appendStripped(nil, line))
		assert.Equal(t, plain, string(appendStripped(nil, plain)), "stripping twice changes the line")
		assert.LessOrEqual(t, len(plain), len(line))
		kind3, _ := Error(plain)
		assert.Equal(t, kind, kind3, "Error differs on the stripped line")
		if strings.Contains(line, "http") {
			assert.Equal(t, urls, URLs(plain, nil), "URLs differs on the stripped line")
		} else {
			assert.Empty(t, urls, "a URL without \"http\" in the line")
		}
		assert.False(t, strings.ContainsRune(plain, 0x1b), "ESC left in %q", plain)
	})
}
