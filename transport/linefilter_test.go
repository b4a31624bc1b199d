package transport

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chunkedReader returns at most n bytes per Read, so that lines cross read
// boundaries wherever a test wants.
type chunkedReader struct {
	data []byte
	n    int
}

func (r *chunkedReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// filterAll runs input through a lineFilter, reading with a small buffer as
// bufio would with a long line, and returns what it handed on and what it
// wrote to out. It checks the memory bound after every Read.
func filterAll(t testing.TB, input []byte, chunk int, limit int64) (passed, replies []byte) {
	var out bytes.Buffer
	f := newLineFilter(&chunkedReader{data: input, n: chunk}, &out, limit, zerolog.Nop())
	p := make([]byte, 7)
	for {
		n, err := f.Read(p)
		passed = append(passed, p[:n]...)
		require.LessOrEqual(t, int64(len(f.line)), limit+1, "the filter holds more than a line within the limit")
		require.LessOrEqual(t, len(f.head), idHeadBytes)
		if err == io.EOF {
			return passed, out.Bytes()
		}
		require.NoError(t, err)
	}
}

type reply struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func decodeReplies(t testing.TB, out []byte) []reply {
	var replies []reply
	for line := range bytes.Lines(out) {
		var r reply
		require.NoError(t, json.Unmarshal(line, &r), "reply %q", line)
		require.Equal(t, "2.0", r.JSONRPC)
		replies = append(replies, r)
	}
	return replies
}

func TestLineFilter(t *testing.T) {
	const limit = 40
	at := `{"jsonrpc":"2.0","id":1,"method":"ping"` + strings.Repeat(" ", limit-40) + `}` // exactly limit bytes
	over := `{"jsonrpc":"2.0","id":2,"method":"ping"` + strings.Repeat(" ", limit-39) + `}`
	require.Len(t, at, limit)
	require.Len(t, over, limit+1)
	tests := []struct {
		name    string
		input   string
		chunk   int      // bytes per read of the input
		passed  string   // what reaches mcp-go
		replies []string // ids of the errors written, in order
	}{
		{"at the limit", at + "\n", 1 << 10, at + "\n", nil},
		{"one byte over", over + "\n" + at + "\n", 1 << 10, at + "\n", []string{"2"}},
		{"at the limit, byte by byte", at + "\n" + at + "\n", 1, at + "\n" + at + "\n", nil},
		{"over the limit, byte by byte", over + "\n" + at + "\n", 1, at + "\n", []string{"2"}},
		{"limit crossed inside a read", at + "\n" + over + "\n" + at + "\n", 13, at + "\n" + at + "\n", []string{"2"}},
		{"newline just past a full read", at + "\n", limit, at + "\n", nil},
		{"no newline at EOF, within", at, 1 << 10, at + "\n", nil},
		{"no newline at EOF, over", at + "\n" + over, 5, at + "\n", []string{"2"}},
		{"empty lines pass", "\n\n" + at + "\n", 3, "\n\n" + at + "\n", nil},
		{"two long lines in a row", over + "\n" + over + "\n", 1 << 10, "", []string{"2", "2"}},
		{"CRLF counts the CR", at + "\r\n", 1 << 10, "", []string{"1"}},
		{"empty input", "", 1 << 10, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			passed, out := filterAll(t, []byte(tt.input), tt.chunk, limit)
			assert.Equal(t, tt.passed, string(passed))
			var ids []string
			for _, r := range decodeReplies(t, out) {
				ids = append(ids, string(r.ID))
				assert.Equal(t, -32600, r.Error.Code)
				assert.Contains(t, r.Error.Message, "the limit is 40 bytes")
			}
			assert.Equal(t, tt.replies, ids)
		})
	}
}

func TestRequestID(t *testing.T) {
	tests := []struct {
		name string
		head string
		want string // "" for none (null)
	}{
		{"number", `{"jsonrpc":"2.0","id":12,"method":"x","params":{"a":"aaaa`, "12"},
		{"string", `{"id":"abc","jsonrpc":"2.0"`, `"abc"`},
		{"after params that fit", `{"method":"x","params":{"a":[1,2]},"id":-3.5,`, "-3.5"},
		{"after params cut short", `{"method":"x","params":{"a":"aaaa`, ""},
		{"number cut at the end", `{"jsonrpc":"2.0","id":12`, ""},
		{"string cut", `{"jsonrpc":"2.0","id":"ab`, ""},
		{"null", `{"id":null,"method":"x"`, ""},
		{"object", `{"id":{"a":1},"method":"x"`, ""},
		{"bool", `{"id":true,"method":"x"`, ""},
		{"no id", `{"jsonrpc":"2.0","method":"x"}`, ""},
		{"not an object", `["id",1]`, ""},
		{"garbage", "\xff\xfe", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, string(requestID([]byte(tt.head))))
		})
	}
}

// FuzzStdioLines: whatever the input, the chunking and the limit, every line
// within the limit reaches mcp-go byte for byte (a last one without a newline
// gets one), every longer line is replaced by exactly one JSON-RPC error, and
// the filter never holds more than the limit.
func FuzzStdioLines(f *testing.F) {
	f.Add([]byte("{\"id\":1}\n"), uint8(8), uint8(3))
	f.Add([]byte("short\nmuch too long a line\n\nx"), uint8(5), uint8(1))
	f.Add([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), uint8(4), uint8(15))
	f.Add([]byte("{\"id\":7,\"x\":\"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\"}\r\n\n\n"), uint8(10), uint8(2))
	f.Fuzz(func(t *testing.T, input []byte, limit, chunk uint8) {
		max := int64(limit%32) + 1
		var want []byte
		wantErrors := 0
		lines := bytes.Split(input, []byte("\n"))
		if len(lines[len(lines)-1]) == 0 {
			lines = lines[:len(lines)-1] // input ends with a newline, or is empty
		}
		for _, line := range lines {
			if int64(len(line)) > max {
				wantErrors++
				continue
			}
			want = append(append(want, line...), '\n')
		}
		passed, out := filterAll(t, input, int(chunk%16)+1, max)
		require.Equal(t, string(want), string(passed))
		replies := decodeReplies(t, out)
		require.Len(t, replies, wantErrors)
		for _, r := range replies {
			require.Equal(t, -32600, r.Error.Code)
		}
	})
}

// BenchmarkLineFilterLongLine: the cost of skipping a 20 MB line at the
// default limit, then handing on a short one.
func BenchmarkLineFilterLongLine(b *testing.B) {
	input := []byte(`{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"process_list","arguments":{"status":"` + strings.Repeat("a", 20<<20) + "\"}}}\n" + `{"jsonrpc":"2.0","id":13,"method":"ping"}` + "\n")
	p := make([]byte, 4096)
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		f := newLineFilter(bytes.NewReader(input), io.Discard, DefaultMaxBodyBytes, zerolog.Nop())
		for {
			if _, err := f.Read(p); err != nil {
				break
			}
		}
	}
}
