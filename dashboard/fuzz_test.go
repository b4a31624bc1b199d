package dashboard

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/brummer-mcp/brummer-mcp/logring"
	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// FuzzParseLogQuery: any query of /api/logs or /api/events is refused with
// a reason or gives a usable view; none panics.
func FuzzParseLogQuery(f *testing.F) {
	f.Add("web", "(?i)error", "stderr", "200", "c1:web=17")
	f.Add("", "(", "all", "", "")
	f.Add("a/b", "", "out", "-1", "c1:x=")
	f.Add("api:v2", `\x1b\[`, "system", "1000", "c1:")
	f.Fuzz(func(t *testing.T, name, grep, stream, tail, cursor string) {
		v := url.Values{}
		for k, s := range map[string]string{"name": name, "grep": grep, "stream": stream, "tail": tail, "cursor": cursor} {
			if s != "" {
				v.Set(k, s)
			}
		}
		q, err := parseLogQuery(v)
		if err != nil {
			assert.NotEmpty(t, err.Error())
			return
		}
		assert.True(t, q.name == "" || procstate.NamePattern.MatchString(q.name), "name %q", q.name)
		assert.True(t, q.tail >= 0 && q.tail <= maxLines, "tail %d", q.tail)
		if q.match != nil {
			q.match(&logring.Line{Seq: 1, Stream: logring.Stderr, Text: "\x1b[31merror\x1b[0m " + grep})
		}
	})
}
