package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEvaluate(t *testing.T) {
	list := func(text, structured, procs int, defaults map[string]int) callSize {
		return callSize{TextBytes: text, StructuredBytes: structured, Procs: procs, DefaultFields: defaults}
	}
	r := &Results{Transports: map[string]*TransportResults{
		"stdio": {
			Floor: &FloorResult{
				Procs10:   map[string]Latency{"ping": {P50us: 100}, "list": {P50us: 140}, "logs100": {P50us: 210}},
				List10:    list(650, 1230, 10, nil),
				ToolsList: toolsListSize{Tools: 7, WithOutputSchema: 11697, WithoutOutputSchema: 5829},
			},
			Ingest: &IngestResult{Server: rate{LinesPerSec: 6e6}, ScannerLinesPerSec: 5e6, PeakRSS: 40 * mib, IdleRSS: 12 * mib},
			Wait:   &WaitResult{LineToAnswer: Latency{P50us: 1200, P99us: 6000}},
		},
		"http": {
			Floor: &FloorResult{
				Procs10:   map[string]Latency{"ping": {P50us: 100}, "list": {P50us: 160}, "logs100": {P50us: 150}},
				List10:    list(1100, 1230, 10, map[string]int{"processes[].pid": 2}),
				ToolsList: toolsListSize{Tools: 7, WithOutputSchema: 11697, WithoutOutputSchema: 6001},
			},
			Ingest: &IngestResult{Server: rate{LinesPerSec: 3e6}, ScannerLinesPerSec: 5e6, PeakRSS: 20 * mib, IdleRSS: 12 * mib},
		},
	}}
	got := map[string]Target{}
	for _, tg := range evaluate(r) {
		got[tg.Name+"/"+tg.Transport] = tg
	}
	tests := []struct {
		name, verdict, ratio string
	}{
		{"process_list of 10 processes: p50 vs ping p50/stdio", "PASS", "1.4x"},
		{"process_list of 10 processes: p50 vs ping p50/http", "MISS", "1.6x"},
		{"process_logs of 100 lines: p50 vs ping p50/stdio", "MISS", "2.1x"},
		{"log ingest lines/s vs a bare bufio.Scanner on the same flood/stdio", "PASS", "120%"},
		{"log ingest lines/s vs a bare bufio.Scanner on the same flood/http", "MISS", "60%"},
		{"peak server RSS while flooding (default limits)/stdio", "MISS", "1.05x"},
		{"peak server RSS while flooding (default limits)/http", "PASS", "0.526x"},
		{"process_list text bytes per process/", "MISS", "1.1x"},
		{"structuredContent empty or default fields (list 10, list 1,000, logs 100)/", "MISS", "-"},
		{"process_list p99 during flood + churn vs idle p99/", "NO DATA", "-"},
		{"log wait: p50 from the matching line's read time (ts) to the answer/stdio", "PASS", "0.24x"},
		{"tools/list bytes (compact) with outputSchema/", "PASS", "0.975x"},
		{"tools/list bytes (compact) without outputSchema/", "MISS", "1x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, ok := got[tt.name]
			require.True(t, ok, "no row %q", tt.name)
			assert.Equal(t, tt.verdict, tg.Verdict)
			assert.Equal(t, tt.ratio, tg.ratioText)
		})
	}
	assert.Equal(t, "processes[].pid x2", got["structuredContent empty or default fields (list 10, list 1,000, logs 100)/"].Note)
	assert.Len(t, evaluate(r), 17, "4 targets run on 2 transports, 1 on one, 4 not run, 4 merged")
}

func TestFigures(t *testing.T) {
	r := &Results{Transports: map[string]*TransportResults{
		"stdio": {Scale: &ScaleResult{ThreadsIdle: 8, ThreadsAfterStart: 11}},
		"http":  {},
	}}
	fs := figuresOf(r)
	require.NotEmpty(t, fs)
	for _, f := range fs {
		assert.Equal(t, "scale", f.Scenario, f.Name)
		assert.NotContains(t, f.Values, "http")
	}
	assert.Contains(t, fs, Figure{Scenario: "scale", Name: "server OS threads: idle, with 1,000", Values: map[string]string{"stdio": "8, 11"}})
}
