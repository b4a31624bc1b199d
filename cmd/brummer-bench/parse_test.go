package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStatusMem(t *testing.T) {
	status := "Name:\tbrummer-mcp\nVmPeak:\t 1000 kB\nVmHWM:\t   22000 kB\nVmRSS:\t   12000 kB\nThreads:\t7\n"
	m, err := parseStatusMem([]byte(status))
	require.NoError(t, err)
	assert.Equal(t, memInfo{RSS: 12000 << 10, HWM: 22000 << 10, Threads: 7}, m)

	_, err = parseStatusMem([]byte("Name:\tx\nVmRSS:\t1 kB\n"))
	assert.Error(t, err, "VmHWM missing")
}

func TestParseLogLine(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		wantOK bool
		want   logEntry
	}{
		{"tool call", `{"level":"debug","component":"tools","tool":"process_list","took":2.534,"is_error":false,"time":"x","message":"call"}`, true, logEntry{Tool: "process_list", Took: ptr(2.534)}},
		{"http address (the bench hands the server its socket)", `{"level":"info","component":"http","addr":"127.0.0.1:40123","token":false,"message":"serving"}`, false, logEntry{}},
		{"other line", `{"level":"info","message":"serving MCP on stdio"}`, false, logEntry{}},
		{"not JSON", `panic: "took" everything`, false, logEntry{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseLogLine([]byte(tt.line))
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestServerLogCollectsTook(t *testing.T) {
	l := newServerLog(nopFile(t))
	lines := `{"tool":"process_list","took":1.5}
{"addr":"127.0.0.1:1234"}
{"tool":"process_list","took":2.5}
{"tool":"ping"}
`
	l.consume(io.NopCloser(strings.NewReader(lines)))
	assert.Equal(t, []float64{1.5, 2.5}, l.takeTook("process_list"))
	assert.Empty(t, l.takeTook("process_list"), "takeTook forgets")
}

func TestDefaultFields(t *testing.T) {
	tests := []struct {
		name string
		sc   string
		want map[string]int
	}{
		{"compact", `{"processes":[{"name":"a","status":"exited","exit_code":0,"log":{"lines":3,"last_seq":3}}],"version":7}`, map[string]int{}},
		{"defaults", `{"processes":[{"name":"a","pid":0,"log":{"lines":0,"bytes":0}},{"name":"b","error":"","log":{"lines":0}}],"more":false,"x":null,"y":[],"z":{}}`,
			map[string]int{"processes[].pid": 1, "processes[].log.lines": 2, "processes[].log.bytes": 1, "processes[].error": 1, "more": 1, "x": 1, "y": 1, "z": 1}},
		{"cursor zero is meaningful", `{"name":"a","lines":[],"next_since":0}`, map[string]int{"lines": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := defaultFields([]byte(tt.sc))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestPercentile(t *testing.T) {
	d := make([]time.Duration, 100)
	for i := range d {
		d[i] = time.Duration(i+1) * time.Microsecond
	}
	assert.Equal(t, 50*time.Microsecond, percentile(d, 0.50))
	assert.Equal(t, 99*time.Microsecond, percentile(d, 0.99))
	assert.Equal(t, 100*time.Microsecond, percentile(d, 1))
	assert.Equal(t, time.Microsecond, percentile(d[:1], 0.99))
	l := summarize([]time.Duration{3 * time.Microsecond, time.Microsecond, 2 * time.Microsecond})
	assert.Equal(t, Latency{N: 3, P50us: 2, P90us: 3, P99us: 3, MaxUs: 3, MeanUs: 2}, l)
}

func TestHasEnvEntry(t *testing.T) {
	env := []byte("PATH=/bin\x00BRUMMER_BENCH_RUN=1-2\x00HOME=/root\x00")
	assert.True(t, hasEnvEntry(env, []byte("BRUMMER_BENCH_RUN=1-2")))
	assert.False(t, hasEnvEntry(env, []byte("BRUMMER_BENCH_RUN=1")), "a prefix is not the entry")
}

func TestFloodBlock(t *testing.T) {
	b := floodBlock()
	require.Zero(t, len(b)%floodLine)
	for i, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) > 0 {
			require.Len(t, line, floodLine, "line %d", i)
		}
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-quick"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, o.floodFor)
	assert.Equal(t, allTransports, o.transports)

	o, err = parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, o.floodFor)
	assert.Equal(t, "bench-results.json", o.jsonPath)

	_, err = parseFlags([]string{"-transports", "stdio,sse"}, io.Discard)
	assert.ErrorContains(t, err, `unknown "sse"`)

	o, err = parseFlags([]string{"-scenarios", "scale, floor"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []string{"scale", "floor"}, o.scenarios)
	_, err = parseFlags([]string{"-scenarios", "procstate"}, io.Discard)
	assert.ErrorContains(t, err, `unknown "procstate" (choose from floor, isolation, ingest, scale, wait, lifecycle)`)
}

// nopFile is a file to copy a log into that the test does not read.
func nopFile(t *testing.T) *os.File {
	f, err := os.Create(t.TempDir() + "/server.log")
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

func TestWindow(t *testing.T) {
	var n uint64
	sample := func() (uint64, time.Time, error) {
		n += 500
		return n, time.UnixMilli(int64(n)), nil
	}
	r, err := window(t.Context(), time.Millisecond, sample)
	require.NoError(t, err)
	assert.Equal(t, rate{Lines: 500, Seconds: 0.5, LinesPerSec: 1000, MBPerSec: 0.1}, r)
}

func TestAlternating(t *testing.T) {
	var order []string
	rec := func(name string) step {
		return step{name, func(context.Context) (time.Duration, error) {
			order = append(order, name)
			return time.Millisecond, nil
		}}
	}
	res, err := alternating(t.Context(), 10, time.Minute, [][]step{{rec("a1"), rec("a2")}, {rec("b1"), rec("b2")}})
	require.NoError(t, err)
	assert.Equal(t, []string{"a1", "a2", "b1", "b2", "b1", "b2", "a1", "a2"}, order[:8], "the groups take turns at going first")
	assert.Len(t, order, 40)
	assert.Equal(t, 10, res["b2"].N)
}
