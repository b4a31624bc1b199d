package detect

import "testing"

// benchLines are the lines the benchmarks measure, one per kind of line a
// flood is made of.
var benchLines = []struct{ name, line string }{
	{"access", "2024-05-01T12:00:00.123Z INFO  server: GET /api/users?page=2 200 3.2ms remote=10.0.0.7 ua=curl/8.5.0"},
	{"json", `{"level":"info","time":"2024-05-01T12:00:00Z","caller":"api/server.go:123","message":"request handled","status":200,"path":"/api/users"}`},
	{"vite-coloured", "\x1b[2m12:00:05 PM\x1b[22m \x1b[36m\x1b[1m[vite]\x1b[22m\x1b[39m \x1b[32mhmr update \x1b[39m\x1b[2m/src/App.tsx, /src/index.css\x1b[22m"},
	{"tsc-error", "src/components/UserList.tsx(12,7): error TS2322: Type 'string' is not assignable to type 'number'."},
	{"go-error", "./internal/api/server.go:88:14: cannot use s (variable of type string) as int value in argument to f"},
	{"jest-fail-coloured", "\x1b[1m\x1b[31m\x1b[7m FAIL \x1b[27m\x1b[39m\x1b[22m \x1b[2msrc/\x1b[22m\x1b[1ma.test.ts\x1b[22m"},
	{"vite-url-coloured", "  \x1b[32m➜\x1b[39m  \x1b[1mLocal\x1b[22m:   \x1b[36mhttp://localhost:\x1b[1m5173\x1b[22m/\x1b[39m"},
	{"python-url", "Serving HTTP on 0.0.0.0 port 8000 (http://0.0.0.0:8000/) ..."},
	{"json-long", `{"level":"debug","time":"2024-05-01T12:00:00Z","caller":"api/server.go:123","message":"request handled","request":{"method":"POST","path":"/api/orders","query":"page=2&sort=created_at","headers":{"accept":"application/json","content-type":"application/json","user-agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36","x-request-id":"7f9c2d1e-4b6a-4e8f-9a3c-2d1e4b6a4e8f"},"body_bytes":512},"response":{"status":201,"bytes":2048,"duration_ms":12.5},"db":{"queries":4,"rows":17,"duration_ms":3.2,"statement":"insert into orders (user_id, total, currency, created_at) values ($1, $2, $3, now()) returning id"},"cache":{"hits":12,"misses":1},"user":{"id":4242,"role":"customer","plan":"pro"},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}`},
}

var (
	sinkKind string
	sinkOK   bool
	sinkURLs []string
)

// BenchmarkError measures Error per line (ns/op is ns/line).
func BenchmarkError(b *testing.B) {
	for _, bl := range benchLines {
		b.Run(bl.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bl.line)))
			for b.Loop() {
				sinkKind, sinkOK = Error(bl.line)
			}
		})
	}
}

// BenchmarkURLs measures URLs per line (ns/op is ns/line), reusing dst as
// a caller would.
func BenchmarkURLs(b *testing.B) {
	for _, bl := range benchLines {
		b.Run(bl.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bl.line)))
			dst := make([]string, 0, 4)
			for b.Loop() {
				dst = URLs(bl.line, dst[:0])
			}
			sinkURLs = dst
		})
	}
}

// BenchmarkBoth measures what a caller that asks both questions pays per
// line.
func BenchmarkBoth(b *testing.B) {
	for _, bl := range benchLines {
		b.Run(bl.name, func(b *testing.B) {
			b.ReportAllocs()
			dst := make([]string, 0, 4)
			for b.Loop() {
				sinkKind, sinkOK = Error(bl.line)
				dst = URLs(bl.line, dst[:0])
			}
			sinkURLs = dst
		})
	}
}
