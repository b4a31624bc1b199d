package tools

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzArgs feeds arbitrary bytes, as a client could send them, through the
// argument decoding and validation of every tool. Nothing may panic, and
// every rejection must be a readable message.
func FuzzArgs(f *testing.F) {
	for _, seed := range []string{
		`{}`, `null`, `[]`, `"x"`, `{"command":"npm run dev"}`, `{"argv":["ls","-l"],"name":"ls"}`,
		`{"argv":[1]}`, `{"name":"a/b","command":"x"}`, `{"env":{"A=B":"1"},"command":"x"}`,
		`{"name":"web","since":5,"limit":10,"grep":"(?i)err"}`, `{"name":"web","tail":-1}`,
		`{"name":"web","grep":"("}`, `{"name":"web","signal":"KILL","timeout_ms":0}`,
		`{"name":"web","timeout_ms":1e99}`, `{"status":"running"}`, `{"a":1}{"b":2}`, "{\"name\":\"\xff\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(decodeErr, validateErr func() error) {
			if err := decodeErr(); err != nil {
				assertReadable(t, err)
				return
			}
			if err := validateErr(); err != nil {
				assertReadable(t, err)
			}
		}
		var s startArgs
		check(func() error { return decodeArgs(data, &s) }, s.validate)
		var l listArgs
		check(func() error { return decodeArgs(data, &l) }, l.validate)
		var st stopArgs
		check(func() error { return decodeArgs(data, &st) }, st.validate)
		var lg logsArgs
		check(func() error { return decodeArgs(data, &lg) }, func() error {
			if err := lg.validate(); err != nil {
				return err
			}
			q := lg.query()
			require.Positive(t, q.Limit)
			return nil
		})
	})
}

func assertReadable(t *testing.T, err error) {
	msg := err.Error()
	assert.NotEmpty(t, msg)
	assert.True(t, utf8.ValidString(msg) || len(msg) > 0)
	assert.NotContains(t, msg, "&{", "a Go struct dump")
	assert.NotContains(t, msg, "json: ", "an encoding/json message leaked through")
}
