package main

import (
	"context"
	"fmt"
	"time"
)

// ScaleResult is the scale scenario on one transport: 1,000 live processes
// started, listed and stopped.
type ScaleResult struct {
	Procs         int     `json:"procs"`
	Callers       int     `json:"callers"`         // concurrent callers that start and stop them
	ServerReadyMs float64 `json:"server_ready_ms"` // from exec to the initialize answer
	IdleRSS       int64   `json:"idle_rss"`
	StartAllMs    float64 `json:"start_all_ms"`
	RSSAfterStart int64   `json:"rss_after_start"`
	// ThreadsIdle and ThreadsAfterStart are the server's OS threads.
	ThreadsIdle       int64 `json:"threads_idle"`
	ThreadsAfterStart int64 `json:"threads_after_start"`
	// RSSPerProc is (RSSAfterStart - IdleRSS) / Procs; RSSPerProcSmallRing
	// the same on a server with --log-lines 1 --log-bytes 1024 (first
	// transport of a full run only): a process without its log buffers.
	RSSPerProc          float64 `json:"rss_per_proc"`
	RSSPerProcSmallRing float64 `json:"rss_per_proc_small_ring,omitempty"`
	// Rounds are interleaved ping and process_list calls (its default
	// output, a page of 50). Handler is the server's own handler time of
	// the full lists, from its debug log ("took"), before mcp-go encodes.
	Rounds  map[string]Latency `json:"rounds"`
	Handler Latency            `json:"handler"`
	// ServerCPUPerPingUs and ServerCPUPerListUs are the server's CPU time
	// per call over blocks of one kind; ListEncodeUs is their difference:
	// what a full list costs beyond a round trip.
	ServerCPUPerPingUs float64  `json:"server_cpu_per_ping_us"`
	ServerCPUPerListUs float64  `json:"server_cpu_per_list_us"`
	ListEncodeUs       float64  `json:"list_cost_us"`
	List               callSize `json:"list"`
	StopAllMs          float64  `json:"stop_all_ms"`
}

const (
	scaleProcs   = 1000 // the server's default --max-procs
	scaleCallers = 8
)

func (b *bench) runScale(tr string) (*ScaleResult, error) {
	ctx := b.ctx
	r := &ScaleResult{Procs: scaleProcs, Callers: scaleCallers}
	s, c, err := b.openServer(serverConfig{name: "scale", transport: tr, debug: true})
	if err != nil {
		return nil, err
	}
	defer s.close()
	r.ServerReadyMs = ms(time.Since(s.started))
	conns := []*conn{c}
	for tr == "http" && len(conns) < scaleCallers {
		hc, err := s.connectHTTP(ctx)
		if err != nil {
			return nil, err
		}
		conns = append(conns, hc)
	}
	b.progress(fmt.Sprintf("  start %d", scaleProcs))
	procs := make([]startArgs, scaleProcs)
	all := names("s", 0, scaleProcs, 4)
	for i, name := range all {
		procs[i] = startArgs{"name": name, "argv": []string{"sleep", "3600"}}
	}
	idle, full, took, err := fill(ctx, s, conns, procs)
	if err != nil {
		return nil, err
	}
	r.StartAllMs = ms(took)
	r.IdleRSS, r.ThreadsIdle = idle.RSS, idle.Threads
	r.RSSAfterStart, r.ThreadsAfterStart = full.RSS, full.Threads
	r.RSSPerProc = round3(float64(full.RSS-idle.RSS) / scaleProcs)

	b.progress(fmt.Sprintf("  list %d", scaleProcs))
	if r.List, err = measureCall(ctx, c, "process_list", nil); err != nil {
		return nil, err
	}
	if r.Rounds, err = rounds(ctx, b.n.bigRounds, b.n.phaseMax, pingStep(c), toolStep("list", c, "process_list", nil)); err != nil {
		return nil, err
	}
	if r.ServerCPUPerPingUs, err = serverCPUPerCall(ctx, s, b.n.pings/2, pingStep(c)); err != nil {
		return nil, err
	}
	s.log.takeTook("process_list") // forget the default pages: Handler is of the full list
	stop := b.profile(s, "scale-fulllist-"+tr)
	r.ServerCPUPerListUs, err = serverCPUPerCall(ctx, s, b.n.bigRounds, toolStep("list", c, "process_list", map[string]any{"limit": scaleProcs}))
	stop()
	if err != nil {
		return nil, err
	}
	r.Handler = summarizeMs(s.log.takeTook("process_list"))
	r.ListEncodeUs = round3(r.ServerCPUPerListUs - r.ServerCPUPerPingUs)

	b.progress(fmt.Sprintf("  stop %d", scaleProcs))
	took, err = fanOut(ctx, conns, scaleCallers, scaleProcs, func(ctx context.Context, c *conn, i int) error {
		_, _, err := c.call(ctx, "process_stop", map[string]any{"name": all[i], "timeout_ms": 5000})
		return err
	})
	if err != nil {
		return nil, err
	}
	r.StopAllMs = ms(took)
	if err := waitRunning(ctx, c, 0, 30*time.Second); err != nil {
		return r, err
	}
	if err := s.close(); err != nil || tr != b.opt.transports[0] || b.opt.quick {
		return r, err
	}
	b.progress(fmt.Sprintf("  RSS of %d with a 1-line ring", scaleProcs))
	small, c, err := b.openServer(serverConfig{name: "scale-small-ring", transport: tr, args: []string{"--log-lines", "1", "--log-bytes", "1024"}})
	if err != nil {
		return r, err
	}
	defer small.close()
	idle, full, _, err = fill(ctx, small, []*conn{c}, procs)
	r.RSSPerProcSmallRing = round3(float64(full.RSS-idle.RSS) / scaleProcs)
	return r, err
}

func (s *ScaleResult) figures() []figure {
	fs := []figure{
		{"server ready (exec to initialize answered)", fmtValue(s.ServerReadyMs*1000, "us")},
		{"start 1,000 sleeps (8 callers)", fmtValue(s.StartAllMs*1000, "us")},
		{"stop 1,000 (8 callers)", fmtValue(s.StopAllMs*1000, "us")},
		{"server RSS: idle, with 1,000; per process (default limits; a process that prints nothing holds two 4 KiB read buffers and under 1 KiB of ring)",
			fmtList("B", ", ", float64(s.IdleRSS), float64(s.RSSAfterStart)) + "; " + fmtValue(s.RSSPerProc, "B")},
		{"server OS threads: idle, with 1,000", fmt.Sprintf("%d, %d", s.ThreadsIdle, s.ThreadsAfterStart)},
		{"server RSS per process without log buffers (--log-lines 1)", ""},
		{"process_list 1,000 p50 / p99; ping p50 / p99", lat(s.Rounds["list"]) + "; " + lat(s.Rounds["ping"])},
		{"list 1,000: wire bytes; text / structured bytes per process",
			fmt.Sprintf("%d; %.0f / %.0f", s.List.WireBytes, perProc(s.List.TextBytes, s.List.Procs), perProc(s.List.StructuredBytes, s.List.Procs))},
		{"list 1,000: handler p50 (debug log); server CPU per list / per ping; client decode", fmtValue(s.Handler.P50us, "us") + "; " +
			fmtList("us", " / ", s.ServerCPUPerListUs, s.ServerCPUPerPingUs) + "; " + fmtValue(s.List.ClientDecodeUs, "us")},
	}
	if s.RSSPerProcSmallRing != 0 {
		fs[5].value = fmtValue(s.RSSPerProcSmallRing, "B")
	}
	return fs
}

// fill warms up the paths the measurement uses (so that the idle memory
// includes what serving costs), then starts procs from scaleCallers
// callers on conns and waits until all run. It returns the server's memory
// before and after, and how long the starts took.
func fill(ctx context.Context, s *server, conns []*conn, procs []startArgs) (idle, full memInfo, took time.Duration, err error) {
	c := conns[0]
	if _, err = rounds(ctx, 50, time.Minute, pingStep(c), toolStep("list", c, "process_list", nil)); err != nil {
		return
	}
	if idle, err = readMem(s.pid); err != nil {
		return
	}
	if took, err = startAll(ctx, conns, scaleCallers, procs); err != nil {
		return
	}
	if err = waitRunning(ctx, c, len(procs), 30*time.Second); err != nil {
		return
	}
	full, err = readMem(s.pid)
	return
}

// serverCPUPerCall makes n calls of st one after another and returns the
// server's CPU time per call, in microseconds.
func serverCPUPerCall(ctx context.Context, s *server, n int, st step) (float64, error) {
	cpu0, err := cpuTime(s.pid)
	if err != nil {
		return 0, err
	}
	for range n {
		if _, err := st.do(ctx); err != nil {
			return 0, err
		}
	}
	cpu1, err := cpuTime(s.pid)
	return round3(float64(cpu1-cpu0) / float64(time.Microsecond) / float64(n)), err
}

// summarizeMs summarises durations given in (fractional) milliseconds.
func summarizeMs(msecs []float64) Latency {
	d := make([]time.Duration, len(msecs))
	for i, v := range msecs {
		d[i] = time.Duration(v * float64(time.Millisecond))
	}
	return summarize(d)
}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }
