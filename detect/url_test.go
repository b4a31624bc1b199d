package detect

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

func TestURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, line string
		want       []string
	}{
		{"vite", "  ➜  Local:   http://localhost:5173/", []string{"http://localhost:5173/"}},
		{"vite coloured", "  \x1b[32m➜\x1b[39m  \x1b[1mLocal\x1b[22m:   \x1b[36mhttp://localhost:\x1b[1m5173\x1b[22m/\x1b[39m", []string{"http://localhost:5173/"}},
		{"vite network", "  ➜  Network: http://192.168.1.23:5173/", []string{"http://192.168.1.23:5173/"}},
		{"next", "   - Local:        http://localhost:3000", []string{"http://localhost:3000"}},
		{"next network", "   - Network:      http://0.0.0.0:3000", []string{"http://localhost:3000"}},
		{"webpack-dev-server", "<i> [webpack-dev-server] Loopback: http://localhost:8080/, http://[::1]:8080/", []string{"http://localhost:8080/", "http://[::1]:8080/"}},
		{"webpack-dev-server network", "<i> [webpack-dev-server] On Your Network (IPv4): http://192.168.1.23:8080/", []string{"http://192.168.1.23:8080/"}},
		{"go", "2024/05/01 12:00:00 listening on http://127.0.0.1:8080", []string{"http://127.0.0.1:8080"}},
		{"python http.server", "Serving HTTP on 0.0.0.0 port 8000 (http://0.0.0.0:8000/) ...", []string{"http://localhost:8000/"}},
		{"django", "Starting development server at http://127.0.0.1:8000/", []string{"http://127.0.0.1:8000/"}},
		{"puma", "* Listening on http://[::]:3000", []string{"http://localhost:3000"}},
		{"puma loopback v6", "* Listening on http://[::1]:3000", []string{"http://[::1]:3000"}},
		{"uvicorn", "INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)", []string{"http://localhost:8000"}},
		{"flask", " * Running on http://127.0.0.1:5000", []string{"http://127.0.0.1:5000"}},
		{"https", "Server ready at https://localhost:8443/graphql.", []string{"https://localhost:8443/graphql"}},
		{"wildcard without port", "open http://0.0.0.0/ in a browser", []string{"http://localhost/"}},
		{"wildcard with user", "proxy http://admin@0.0.0.0:9000/", []string{"http://admin@localhost:9000/"}},
		{"wildcard-like host kept", "see http://0.0.0.0.nip.io:8080/", []string{"http://0.0.0.0.nip.io:8080/"}},
		{"query and fragment", "docs at http://localhost:6060/pkg/?m=all#Index;", []string{"http://localhost:6060/pkg/?m=all#Index"}},
		{"balanced parens kept", "see https://en.wikipedia.org/wiki/Go_(programming_language).", []string{"https://en.wikipedia.org/wiki/Go_(programming_language)"}},
		{"markdown link", "[docs](http://localhost:4000/docs)", []string{"http://localhost:4000/docs"}},
		{"angle brackets", "<http://localhost:4000>", []string{"http://localhost:4000"}},
		{"quoted", `url="http://localhost:4000/a" next`, []string{"http://localhost:4000/a"}},
		{"trailing colon", "listening on http://localhost:", []string{"http://localhost"}},
		{"error in path", "GET http://localhost:3000/api/error 404", []string{"http://localhost:3000/api/error"}},
		{"two in a row", "http://a.test/http://b.test/", []string{"http://a.test/http://b.test/"}},
		{"no url", "2024-05-01T12:00:00.123Z INFO  server: GET /api/users 200", nil},
		{"no host", "see https:// for details", nil},
		{"empty host", "http://:8080/", nil},
		{"bad port", "http://localhost:abc/", nil},
		{"other scheme", "ftp://files.example.com/ and ws://localhost:3000/ws", nil},
		{"uppercase word HTTP", "Serving HTTP on 0.0.0.0 port 8000", nil},
		{"scheme split by escapes", "ht\x1b[1mtp://localhost:3000/", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, URLs(tt.line, nil))
		})
	}
}

func TestURLsAppends(t *testing.T) {
	t.Parallel()
	dst := []string{"http://a.test/"}
	got := URLs("and http://b.test/", dst)
	assert.Equal(t, []string{"http://a.test/", "http://b.test/"}, got)
}

// TestURLsOwnMemory checks that the URLs stay valid when the line's bytes,
// and the scratch buffer an escaped line was stripped into, are reused.
func TestURLsOwnMemory(t *testing.T) {
	t.Parallel()
	for _, line := range []string{"at http://127.0.0.1:8080/x", "at \x1b[36mhttp://0.0.0.0:8080/x\x1b[0m"} {
		b := []byte(line)
		got := URLs(unsafe.String(unsafe.SliceData(b), len(b)), nil) // a line aliasing a buffer
		for i := range b {
			b[i] = 'z'
		}
		_ = URLs("\x1b[1m"+strings.Repeat("z", 100)+" http://x", nil) // reuses the scratch buffer
		assert.Len(t, got, 1)
		assert.Contains(t, []string{"http://127.0.0.1:8080/x", "http://localhost:8080/x"}, got[0])
	}
}

func TestURLsNoAllocs(t *testing.T) {
	dst := make([]string, 0, 4)
	assertNoAllocs(t, func(line string) { dst = URLs(line, dst[:0]) }, []string{
		"2024-05-01T12:00:00.123Z INFO  server: GET /api/users?page=2 200 3.2ms",
		`{"level":"info","time":"2024-05-01T12:00:00Z","message":"request handled","status":200}`,
		"see https:// for details, or ftp://x",
	})
}

func TestURLsNoAllocsStripped(t *testing.T) {
	skipUnderRace(t)
	dst := make([]string, 0, 4)
	assertNoAllocs(t, func(line string) { dst = URLs(line, dst[:0]) }, []string{
		"\x1b[2m12:00:05 PM\x1b[22m \x1b[36m\x1b[1m[vite]\x1b[22m\x1b[39m \x1b[32mhmr update \x1b[39m\x1b[2m/src/App.tsx\x1b[22m",
		"\x1b[1mhttp\x1b[0m server ready on \x1b[36m:8080\x1b[0m",
	})
}
