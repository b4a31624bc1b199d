package main

import (
	"context"
	"fmt"
	"time"
)

// LifecycleResult is the lifecycle scenario on one transport: one caller
// starting a short-lived child and stopping it, round after round, with a
// ping in each round. With -baseline-bin, a server built from another tree
// runs beside this tree's and each round calls both.
type LifecycleResult struct {
	// Rounds are ping, process_start of `sleep 60` and process_stop of it
	// (SIGTERM, which ends sleep at once), interleaved, under one name.
	Rounds map[string]Latency `json:"rounds"`
	// Handler is each tool's handler time in those rounds, from the
	// server's debug log ("took"): the call without mcp-go and transport.
	// Only with -server-args "--log-level debug": a log line per call is a
	// write that wakes the bench, which costs the calls measured.
	Handler map[string]Latency `json:"handler,omitempty"`
	// ServerCPUPerPairUs is the server's CPU time per start and stop, over
	// a block of them; ServerCPUPerPingUs the same per ping.
	ServerCPUPerPairUs float64 `json:"server_cpu_per_pair_us"`
	ServerCPUPerPingUs float64 `json:"server_cpu_per_ping_us"`
	// Baseline is the same for the -baseline-bin server, measured in the
	// same rounds; nil without one.
	Baseline    *LifecycleResult `json:"baseline,omitempty"`
	BaselineBin string           `json:"baseline_bin,omitempty"`
}

const lifeProc = "life"

// lifeServer is one server of the lifecycle scenario and its steps.
type lifeServer struct {
	s                 *server
	ping, start, stop step
	pair              step // a start and a stop, for the server's CPU time
}

func (b *bench) openLifeServer(tr, bin, label string) (*lifeServer, error) {
	s, c, err := b.openServer(serverConfig{name: label, transport: tr, bin: bin})
	if err != nil {
		return nil, err
	}
	l := &lifeServer{
		s:     s,
		ping:  pingStep(c),
		start: toolStep("start", c, "process_start", startArgs{"name": lifeProc, "argv": []string{"sleep", "60"}}),
		stop:  toolStep("stop", c, "process_stop", map[string]any{"name": lifeProc}),
	}
	l.pair = step{"start+stop", func(ctx context.Context) (time.Duration, error) {
		d1, err := l.start.do(ctx)
		if err != nil {
			return d1, err
		}
		d2, err := l.stop.do(ctx)
		return d1 + d2, err
	}}
	if _, err := pingLoad(b.ctx, []*conn{c}, 1, 200); err != nil { // warm up
		return nil, err
	}
	if _, err := rounds(b.ctx, 20, time.Minute, l.start, l.stop); err != nil {
		return nil, err
	}
	s.log.takeTook("process_start") // forget the warm-up
	s.log.takeTook("process_stop")
	return l, nil
}

// steps are l's ping, start and stop, their names prefixed.
func (l *lifeServer) steps(prefix string) []step {
	var out []step
	for _, st := range []step{l.ping, l.start, l.stop} {
		out = append(out, step{prefix + st.name, st.do})
	}
	return out
}

func (b *bench) runLifecycle(tr string) (*LifecycleResult, error) {
	ctx := b.ctx
	this, err := b.openLifeServer(tr, "", "lifecycle")
	if err != nil {
		return nil, err
	}
	defer this.s.close()
	groups := [][]step{this.steps("")}
	var base *lifeServer
	if b.opt.baselineBin != "" {
		if base, err = b.openLifeServer(tr, b.opt.baselineBin, "lifecycle-baseline"); err != nil {
			return nil, err
		}
		defer base.s.close()
		groups = append(groups, base.steps("baseline "))
	}
	b.progress("  start and stop")
	end := b.profile(this.s, "lifecycle-"+tr)
	all, err := alternating(ctx, b.n.rounds, b.n.phaseMax, groups)
	end()
	if err != nil {
		return nil, err
	}
	r, err := this.result(ctx, b.n.rounds/4, all, "")
	if err != nil || base == nil {
		return r, err
	}
	r.BaselineBin = b.opt.baselineBin
	r.Baseline, err = base.result(ctx, b.n.rounds/4, all, "baseline ")
	return r, err
}

// alternating is rounds (see rounds) of every group of steps, the groups
// taking turns at going first, so that no server always follows another.
func alternating(ctx context.Context, n int, maxDur time.Duration, groups [][]step) (map[string]Latency, error) {
	d := map[string][]time.Duration{}
	t0 := time.Now()
	for i := 0; i < n && (i < 10 || time.Since(t0) < maxDur); i++ {
		for j := range groups {
			for _, st := range groups[(i+j)%len(groups)] {
				lat, err := st.do(ctx)
				if err != nil {
					return nil, err
				}
				d[st.name] = append(d[st.name], lat)
			}
		}
	}
	out := make(map[string]Latency, len(d))
	for name, ds := range d {
		out[name] = summarize(ds)
	}
	return out, nil
}

// result picks l's latencies out of rounds, reads its handler times and
// measures its CPU time per start and stop over n of them.
func (l *lifeServer) result(ctx context.Context, n int, rounds map[string]Latency, prefix string) (*LifecycleResult, error) {
	r := &LifecycleResult{Rounds: map[string]Latency{}}
	if start, stop := l.s.log.takeTook("process_start"), l.s.log.takeTook("process_stop"); len(start) > 0 {
		r.Handler = map[string]Latency{"start": summarizeMs(start), "stop": summarizeMs(stop)}
	}
	for _, name := range []string{"ping", "start", "stop"} {
		r.Rounds[name] = rounds[prefix+name]
	}
	var err error
	if r.ServerCPUPerPairUs, err = serverCPUPerCall(ctx, l.s, n, l.pair); err != nil {
		return nil, err
	}
	r.ServerCPUPerPingUs, err = serverCPUPerCall(ctx, l.s, n, l.ping)
	return r, err
}

func (l *LifecycleResult) figures() []figure {
	fs := []figure{
		{"process_start p50 / p99 (`sleep 60`, 1 caller)", lat(l.Rounds["start"])},
		{"process_stop p50 / p99 (SIGTERM; until its exit is published)", lat(l.Rounds["stop"])},
		{"ping p50 / p99 in the same rounds", lat(l.Rounds["ping"])},
		{"start, stop p50 vs ping p50", fmt.Sprintf("%.2fx, %.2fx", ratio(l.Rounds["start"].P50us, l.Rounds["ping"].P50us), ratio(l.Rounds["stop"].P50us, l.Rounds["ping"].P50us))},
		{"server CPU per start + stop; per ping", fmtValue(l.ServerCPUPerPairUs, "us") + "; " + fmtValue(l.ServerCPUPerPingUs, "us")},
	}
	if l.Handler != nil {
		fs = append(fs, figure{"handler alone (debug log \"took\"): start, stop p50", fmtList("us", ", ", l.Handler["start"].P50us, l.Handler["stop"].P50us)})
	}
	if o := l.Baseline; o != nil {
		fs = append(fs,
			figure{"baseline server (-baseline-bin), same rounds: start, stop, ping p50; CPU per start + stop",
				fmtList("us", ", ", o.Rounds["start"].P50us, o.Rounds["stop"].P50us, o.Rounds["ping"].P50us) + "; " + fmtValue(o.ServerCPUPerPairUs, "us")},
			figure{"this tree vs the baseline: start, stop, ping p50; CPU per start + stop",
				fmt.Sprintf("%.2fx, %.2fx, %.2fx; %.2fx", ratio(l.Rounds["start"].P50us, o.Rounds["start"].P50us), ratio(l.Rounds["stop"].P50us, o.Rounds["stop"].P50us),
					ratio(l.Rounds["ping"].P50us, o.Rounds["ping"].P50us), ratio(l.ServerCPUPerPairUs, o.ServerCPUPerPairUs))})
	}
	return fs
}
