package dashboard

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLinesJSON: the hand-written encoding is encoding/json's, byte for
// byte, with HTML unescaped.
func TestLinesJSON(t *testing.T) {
	l := lines{
		Lines: []line{
			{P: "web", Seq: 1, Stream: "stdout", Text: xss, TS: 1733480000123},
			{P: "api:v2", Seq: 18446744073709551615, Stream: "stderr", Text: "tab\there \"q\" back\\slash \x00\x01\x1f\x7f \u2028\u2029 ünï 😀", TS: -1, Partial: true},
			{P: "x", Seq: 3, Stream: "system", Text: "", Split: true, Partial: true},
		},
		Cursor: "c1:api:v2=3,web=1",
		Missed: 42,
	}
	var want bytes.Buffer
	require.NoError(t, encodeJSON(&want, l))
	assert.Equal(t, want.String(), string(l.appendJSON(nil)))
	empty := lines{Lines: []line{}, Cursor: "c1:"}
	want.Reset()
	require.NoError(t, encodeJSON(&want, empty))
	assert.Equal(t, want.String(), string(empty.appendJSON(nil)))
}

// FuzzAppendString: any text, valid UTF-8 or not, is encoded as
// encoding/json encodes it, and valid text comes back unchanged.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", xss, "\xff\xfe", "a\u2028b", "\x1b[0m\n\r\t", strings.Repeat("é", 10)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		require.NoError(t, encodeJSON(&want, s))
		got := appendString(nil, s)
		assert.Equal(t, want.String(), string(got))
		var back string
		require.NoError(t, json.Unmarshal(got, &back))
		if utf8.ValidString(s) {
			assert.Equal(t, s, back, "valid text comes back as it was")
		}
	})
}
