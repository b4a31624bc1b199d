package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// FloorResult is the floor scenario on one transport: ping with 1 and 8
// callers, then process_list of 10 and 100 processes and process_logs of
// 100 lines, each interleaved with pings.
type FloorResult struct {
	Ping1        Throughput `json:"ping_1_caller"`
	Ping8        Throughput `json:"ping_8_callers"`
	Ping8Clients string     `json:"ping_8_clients"` // one shared stdio client, or 8 HTTP sessions
	// Procs10 and Procs100 are interleaved rounds of ping and list (with 10
	// processes also logs100 and "empty", a list of no processes).
	Procs10  map[string]Latency `json:"rounds_10_procs"`
	Procs100 map[string]Latency `json:"rounds_100_procs"`
	List10   callSize           `json:"list_10"`
	List100  callSize           `json:"list_100"`
	Logs100  callSize           `json:"logs_100"`
	Ping     callSize           `json:"ping_wire"`
	// ToolsList is the size of tools/list, the tools' descriptions and
	// schemas that a client puts before its model once per session.
	ToolsList toolsListSize `json:"tools_list"`
	// ServerCPUUs is the server's CPU time per call of ping, list and
	// logs100 with 10 processes, over a block of calls of one kind.
	ServerCPUUs map[string]float64 `json:"server_cpu_us"`
}

// logProc is the command of the processes that have logs to read.
const logProc = "seq 1 200; exec sleep 3600"

func (b *bench) runFloor(tr string) (*FloorResult, error) {
	ctx := b.ctx
	s, c, err := b.openServer(serverConfig{name: "floor", transport: tr})
	if err != nil {
		return nil, err
	}
	defer s.close()
	r := &FloorResult{Ping8Clients: "1 stdio client shared by 8 goroutines"}
	if r.ToolsList, err = measureToolsList(ctx, c); err != nil {
		return nil, err
	}
	if _, err := pingLoad(ctx, []*conn{c}, 1, 200); err != nil { // warm up
		return nil, err
	}
	b.progress("  ping, 1 and 8 callers")
	if r.Ping1, err = pingLoad(ctx, []*conn{c}, 1, b.n.pings); err != nil {
		return nil, err
	}
	callers := []*conn{c}
	if tr == "http" {
		r.Ping8Clients = "8 HTTP sessions"
		for range 7 {
			hc, err := s.connectHTTP(ctx)
			if err != nil {
				return nil, err
			}
			callers = append(callers, hc)
		}
	}
	if r.Ping8, err = pingLoad(ctx, callers, 8, 2*b.n.pings); err != nil {
		return nil, err
	}
	wire := c.rx.Load()
	if _, err := c.ping(ctx); err != nil {
		return nil, err
	}
	r.Ping.WireBytes = c.rx.Load() - wire

	b.progress("  list 10, logs 100")
	if err := b.startLogProcs(ctx, c, 0, 10); err != nil {
		return nil, err
	}
	logsArgs := map[string]any{"name": "p000", "tail": 100}
	if r.List10, err = measureCall(ctx, c, "process_list", nil); err != nil {
		return nil, err
	}
	if r.Logs100, err = measureCall(ctx, c, "process_logs", logsArgs); err != nil {
		return nil, err
	}
	steps := []step{pingStep(c), toolStep("list", c, "process_list", nil), toolStep("logs100", c, "process_logs", logsArgs)}
	// "empty", a list of the exited processes when there are none, is the
	// cheapest tool call there is: what any tool call costs.
	stop := b.profile(s, "floor-"+tr)
	r.Procs10, err = rounds(ctx, b.n.rounds, b.n.phaseMax, append(steps, toolStep("empty", c, "process_list", map[string]any{"status": "exited"}))...)
	stop()
	if err != nil {
		return nil, err
	}
	r.ServerCPUUs = map[string]float64{}
	for _, st := range steps {
		if r.ServerCPUUs[st.name], err = serverCPUPerCall(ctx, s, b.n.rounds/2, st); err != nil {
			return nil, err
		}
	}

	b.progress("  list 100")
	if err := b.startLogProcs(ctx, c, 10, 90); err != nil {
		return nil, err
	}
	if r.List100, err = measureCall(ctx, c, "process_list", nil); err != nil {
		return nil, err
	}
	r.Procs100, err = rounds(ctx, b.n.rounds, b.n.phaseMax, pingStep(c), toolStep("list", c, "process_list", nil))
	return r, err
}

// startLogProcs starts processes p<from>..p<from+n-1> that print 200 lines
// and sleep, and waits until all their lines are in.
func (b *bench) startLogProcs(ctx context.Context, c *conn, from, n int) error {
	var procs []startArgs
	for _, name := range names("p", from, n, 3) {
		procs = append(procs, startArgs{"name": name, "command": logProc})
	}
	if _, err := startAll(ctx, []*conn{c}, 4, procs); err != nil {
		return err
	}
	ours := names("p", 0, from+n, 3)
	return waitFor(ctx, 30*time.Second, fmt.Sprintf("%d processes with 200 log lines", from+n), func() (bool, error) {
		v, err := list(ctx, c, "running")
		full := 0
		for _, p := range v.Processes {
			if p.LastSeq >= 200 && slices.Contains(ours, p.Name) {
				full++
			}
		}
		return full == from+n, err
	})
}

func (f *FloorResult) figures() []figure {
	l10, g100 := f.List10, f.Logs100
	return []figure{
		{"ping p50 / p99, 1 caller", lat(f.Ping1.Latency)},
		{"ping calls/s, 1 caller", fmt.Sprintf("%.0f", f.Ping1.CallsPerSec)},
		{"ping p50 / p99, 8 callers", lat(f.Ping8.Latency)},
		{"ping calls/s, 8 callers", fmt.Sprintf("%.0f (%s)", f.Ping8.CallsPerSec, f.Ping8Clients)},
		{"ping p50 / p99 (interleaved with list 10, logs 100)", lat(f.Procs10["ping"])},
		{"process_list 10 p50 / p99", lat(f.Procs10["list"])},
		{"process_logs 100 lines p50 / p99", lat(f.Procs10["logs100"])},
		{"tool call floor: process_list of no processes, p50 / p99 (ratio of p50 to ping p50)", vsPing(f.Procs10["empty"], f.Procs10["ping"])},
		{"process_list 100 p50 / p99 (ratio of p50 to ping p50)", vsPing(f.Procs100["list"], f.Procs100["ping"])},
		{"wire bytes: ping, list 10, list 100, logs 100", fmt.Sprintf("%d, %d, %d, %d", f.Ping.WireBytes, l10.WireBytes, f.List100.WireBytes, g100.WireBytes)},
		{"server CPU per call, 10 processes: ping, list 10, logs 100", fmtList("us", ", ", f.ServerCPUUs["ping"], f.ServerCPUUs["list"], f.ServerCPUUs["logs100"])},
		{"client decode of the result (bench process): list 10, logs 100", fmtList("us", ", ", l10.ClientDecodeUs, g100.ClientDecodeUs)},
		{"list 10: text / structured bytes per process", fmt.Sprintf("%.0f / %.0f", perProc(l10.TextBytes, l10.Procs), perProc(l10.StructuredBytes, l10.Procs))},
		{"tools/list bytes (compact): with outputSchema, without", fmt.Sprintf("%d, %d (%d tools)", f.ToolsList.WithOutputSchema, f.ToolsList.WithoutOutputSchema, f.ToolsList.Tools)},
	}
}
