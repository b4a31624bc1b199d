package main

import (
	"context"
	"fmt"
	"time"
)

// ScaleResult is scenario 5 on one transport (and the 1,000-process row of
// scenario 2): 1,000 live processes started, listed and stopped.
type ScaleResult struct {
	Procs int `json:"procs"`
	// Callers is how many concurrent callers start and stop the processes.
	Callers int `json:"callers"`
	// ServerReadyMs is from exec of the server to its initialize answer.
	ServerReadyMs float64 `json:"server_ready_ms"`
	IdleRSS       int64   `json:"idle_rss"`
	StartAllMs    float64 `json:"start_all_ms"`
	RSSAfterStart int64   `json:"rss_after_start"`
	// ThreadsIdle and ThreadsAfterStart are the server's OS threads.
	ThreadsIdle       int64 `json:"threads_idle"`
	ThreadsAfterStart int64 `json:"threads_after_start"`
	// RSSPerProc is (RSSAfterStart - IdleRSS) / Procs.
	RSSPerProc float64 `json:"rss_per_proc"`
	// RSSPerProcSmallRing is the same with --log-lines 1 --log-bytes 1024
	// on a server of its own: the cost of a process without its log
	// buffers. It is measured on the first transport of a full run only.
	RSSPerProcSmallRing float64 `json:"rss_per_proc_small_ring,omitempty"`
	// Rounds are interleaved ping and process_list calls (its default output, a page of 50).
	Rounds map[string]Latency `json:"rounds"`
	// Handler summarises the server's own handler time of those list
	// calls, from its debug log ("took"); it ends before mcp-go encodes
	// the result.
	Handler Latency `json:"handler"`
	// ServerCPUPerPingUs and ServerCPUPerListUs are the server's CPU time
	// per call (all threads, /proc schedstat), over blocks of calls of one
	// kind. ListEncodeUs is their difference: what a full list costs the
	// server beyond a round trip (building, encoding, writing the result).
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
	defer b.closeServer(s)
	r.ServerReadyMs = round3(float64(time.Since(s.started)) / float64(time.Millisecond))
	conns := []*conn{c}
	if tr == "http" {
		for range scaleCallers - 1 {
			hc, err := s.connectHTTP(ctx)
			if err != nil {
				return nil, err
			}
			conns = append(conns, hc)
		}
	}
	// Warm up the paths the measurement uses, so that the idle RSS
	// includes what serving costs with no processes.
	if _, err := rounds(ctx, 50, time.Minute, pingStep(c), toolStep("list", c, "process_list", nil)); err != nil {
		return nil, err
	}
	idle, err := readMem(s.pid)
	if err != nil {
		return nil, err
	}
	r.IdleRSS, r.ThreadsIdle = idle.RSS, idle.Threads

	b.progress(fmt.Sprintf("  start %d", scaleProcs))
	var procs []startArgs
	all := names("s", 0, scaleProcs, 4)
	for _, name := range all {
		procs = append(procs, startArgs{"name": name, "argv": []string{"sleep", "3600"}})
	}
	took, err := startAll(ctx, conns, scaleCallers, procs)
	if err != nil {
		return nil, err
	}
	r.StartAllMs = ms(took)
	if err := waitRunning(ctx, c, scaleProcs, 30*time.Second); err != nil {
		return nil, err
	}
	m, err := readMem(s.pid)
	if err != nil {
		return nil, err
	}
	r.RSSAfterStart, r.ThreadsAfterStart = m.RSS, m.Threads
	r.RSSPerProc = round3(float64(m.RSS-idle.RSS) / scaleProcs)

	b.progress(fmt.Sprintf("  list %d", scaleProcs))
	if r.List, err = measureCall(ctx, c, "process_list", nil); err != nil {
		return nil, err
	}
	s.log.takeTook("process_list")
	r.Rounds, err = rounds(ctx, b.n.bigRounds, b.n.phaseMax, pingStep(c), toolStep("list", c, "process_list", nil))
	if err != nil {
		return nil, err
	}
	s.log.takeTook("process_list") // the default page; the figures below are of the full list

	b.progress("  server CPU per call")
	if r.ServerCPUPerPingUs, err = serverCPUPerCall(ctx, s, b.n.pings/2, pingStep(c)); err != nil {
		return nil, err
	}
	fullList := map[string]any{"limit": scaleProcs} // process_list pages by default
	stop := b.profile(s, "s5-fulllist-"+tr)
	r.ServerCPUPerListUs, err = serverCPUPerCall(ctx, s, b.n.bigRounds, toolStep("list", c, "process_list", fullList))
	stop()
	if err != nil {
		return nil, err
	}
	r.Handler = summarizeMs(s.log.takeTook("process_list"))
	r.ListEncodeUs = round3(r.ServerCPUPerListUs - r.ServerCPUPerPingUs)

	b.progress(fmt.Sprintf("  stop %d", scaleProcs))
	took, err = stopAll(ctx, conns, scaleCallers, all)
	if err != nil {
		return nil, err
	}
	r.StopAllMs = ms(took)
	if err := waitRunning(ctx, c, 0, 30*time.Second); err != nil {
		return r, err
	}
	if err := b.closeServer(s); err != nil {
		return r, err
	}

	if tr == b.opt.transports[0] && !b.opt.quick {
		b.progress(fmt.Sprintf("  RSS of %d with a 1-line ring", scaleProcs))
		r.RSSPerProcSmallRing, err = b.rssPerProc(tr, procs, "--log-lines", "1", "--log-bytes", "1024")
	}
	return r, err
}

// rssPerProc starts procs on a server run with args and returns its RSS
// growth per process.
func (b *bench) rssPerProc(tr string, procs []startArgs, args ...string) (float64, error) {
	ctx := b.ctx
	s, c, err := b.openServer(serverConfig{name: "scale-small-ring", transport: tr, args: args})
	if err != nil {
		return 0, err
	}
	defer b.closeServer(s)
	if _, err := rounds(ctx, 50, time.Minute, pingStep(c), toolStep("list", c, "process_list", nil)); err != nil {
		return 0, err
	}
	idle, err := readMem(s.pid)
	if err != nil {
		return 0, err
	}
	if _, err := startAll(ctx, []*conn{c}, scaleCallers, procs); err != nil {
		return 0, err
	}
	if err := waitRunning(ctx, c, len(procs), 30*time.Second); err != nil {
		return 0, err
	}
	m, err := readMem(s.pid)
	if err != nil {
		return 0, err
	}
	return round3(float64(m.RSS-idle.RSS) / float64(len(procs))), nil
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
	if err != nil {
		return 0, err
	}
	return round3(float64(cpu1-cpu0) / float64(time.Microsecond) / float64(n)), nil
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
