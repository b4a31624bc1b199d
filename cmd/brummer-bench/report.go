package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Results is everything one run measured; it is written as JSON.
type Results struct {
	Command    string                       `json:"command"`
	Started    string                       `json:"started"`
	Seconds    float64                      `json:"seconds"`
	Quick      bool                         `json:"quick"`
	Machine    Machine                      `json:"machine"`
	Targets    []Target                     `json:"targets"`
	Figures    []Figure                     `json:"figures"`
	Procstate  *ProcstateResult             `json:"procstate,omitempty"`
	Transports map[string]*TransportResults `json:"transports"`
	Profiles   []string                     `json:"profiles,omitempty"`
	Errors     []string                     `json:"errors,omitempty"`
}

// TransportResults holds the scenarios run on one transport.
type TransportResults struct {
	Floor     *FloorResult     `json:"floor,omitempty"`     // scenarios 1 and 2
	Isolation *IsolationResult `json:"isolation,omitempty"` // scenario 3
	Ingest    *IngestResult    `json:"ingest,omitempty"`    // scenario 4
	Scale     *ScaleResult     `json:"scale,omitempty"`     // scenario 5 (and 2 at 1,000)
}

// Target is one target of issue 4 with its verdict.
type Target struct {
	Scenario  string `json:"scenario"`
	Name      string `json:"name"`
	Transport string `json:"transport,omitempty"`
	// Measured and Baseline are in Unit; BaselineOf says what the
	// baseline is. Ratio is defined per target (see Limit).
	Measured   float64 `json:"measured"`
	Baseline   float64 `json:"baseline"`
	BaselineOf string  `json:"baseline_of"`
	Unit       string  `json:"unit"`
	Ratio      float64 `json:"ratio"`
	Limit      string  `json:"limit"`
	// Verdict is PASS, MISS, or NO DATA when the scenario did not run.
	Verdict string `json:"verdict"`
	Note    string `json:"note,omitempty"`
}

// Figure is a measured value reported without a target, per transport.
type Figure struct {
	Scenario string            `json:"scenario"`
	Name     string            `json:"name"`
	Values   map[string]string `json:"values"` // by transport ("" when transport-independent)
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

const mib = 1 << 20

// evaluate turns the measurements into the targets and the other
// figures.
func evaluate(r *Results) ([]Target, []Figure) {
	var ts []Target
	add := func(t Target) { ts = append(ts, t) }
	noData := func(scenario, name, tr, limit string) {
		add(Target{Scenario: scenario, Name: name, Transport: tr, Limit: limit, Verdict: "NO DATA"})
	}

	// procstate design benchmarks.
	const (
		readOne  = "procstate read of 1 record of 1,000 under a full-speed writer: snapshot vs RWMutex"
		readZero = "procstate read allocs under the writer (snapshot)"
		inflate  = "procstate reader p99 inflation caused by the writer (snapshot)"
		update   = "procstate update of one process at 1,000 (snapshot)"
		updAlloc = "procstate update allocs at 1,000 (snapshot)"
	)
	if p := r.Procstate; p != nil {
		snap, ok1 := p.metric("BenchmarkRead/one/snapshot/writer", "ns/op")
		rw, ok2 := p.metric("BenchmarkRead/one/rwmutex/writer", "ns/op")
		if ok1 && ok2 {
			sp := ratio(rw, snap)
			add(Target{Scenario: "procstate", Name: readOne, Measured: snap, Unit: "ns", Baseline: rw, BaselineOf: "RWMutex map",
				Ratio: sp, Limit: ">= 2x faster", Verdict: verdict(sp >= 2)})
		} else {
			noData("procstate", readOne, "", ">= 2x faster")
		}
		one, ok1 := p.metric("BenchmarkRead/one/snapshot/writer", "read-allocs/op")
		all, ok2 := p.metric("BenchmarkRead/list/snapshot/writer", "read-allocs/op")
		if ok1 && ok2 {
			// The benchmark subtracts the writer's allocations from the
			// process's total and rounds to 0.001; runtime bookkeeping
			// leaves a few allocations per run, which short runs show.
			add(Target{Scenario: "procstate", Name: readZero + ": one record, list of all", Measured: max(one, all), Unit: "allocs",
				BaselineOf: "-", Limit: "0 (< 0.01/op)", Verdict: verdict(one < 0.01 && all < 0.01),
				Note: fmt.Sprintf("one %g, list %g read-allocs/op", one, all)})
		} else {
			noData("procstate", readZero, "", "0")
		}
		infl, ok1 := p.metric("BenchmarkReadLatency/snapshot", "p99-inflation")
		rwInfl, ok2 := p.metric("BenchmarkReadLatency/rwmutex", "p99-inflation")
		if ok1 && ok2 {
			idle, _ := p.metric("BenchmarkReadLatency/snapshot", "p99-idle-ns")
			busy, _ := p.metric("BenchmarkReadLatency/snapshot", "p99-writer-ns")
			note := fmt.Sprintf("snapshot p99 %.0f ns idle, %.0f ns under the writer", idle, busy)
			if fresh, ok := p.metric("BenchmarkReadLatency/snapshot", "fresh-%"); ok {
				note += fmt.Sprintf("; %.1f%% of reads under the writer found a record it had just replaced (a cross-core fetch)", fresh)
			}
			if one, ok := p.metric("BenchmarkReadLatency/snapshot"+oneCPU, "p99-inflation"); ok {
				note += fmt.Sprintf("; on one CPU %.2fx", one)
			}
			add(Target{Scenario: "procstate", Name: inflate, Measured: infl, Unit: "x", Baseline: rwInfl, BaselineOf: "RWMutex map's inflation",
				Ratio: infl, Limit: "<= 1.5x", Verdict: verdict(infl <= 1.5), Note: note})
		} else {
			noData("procstate", inflate, "", "<= 1.5x")
		}
		upd, ok1 := p.metric("BenchmarkUpdate/snapshot", "ns/op")
		mc, ok2 := p.metric("BenchmarkUpdate/mapcopy", "ns/op")
		ua, ok3 := p.metric("BenchmarkUpdate/snapshot", "allocs/op")
		mca, _ := p.metric("BenchmarkUpdate/mapcopy", "allocs/op")
		if ok1 && ok2 && ok3 {
			add(Target{Scenario: "procstate", Name: update, Measured: upd, Unit: "ns", Baseline: mc, BaselineOf: "copying the 1,000-entry map",
				Ratio: ratio(upd, mc), Limit: "about 1 µs (<= 1.5 µs)", Verdict: verdict(upd <= 1500)})
			add(Target{Scenario: "procstate", Name: updAlloc, Measured: ua, Unit: "allocs", Baseline: mca, BaselineOf: "copying the map",
				Ratio: ratio(ua, mca), Limit: "a few (<= 4)", Verdict: verdict(ua <= 4)})
		} else {
			noData("procstate", update, "", "about 1 µs")
			noData("procstate", updAlloc, "", "a few")
		}
	} else {
		for _, n := range []string{readOne, readZero, inflate, update, updAlloc} {
			noData("procstate", n, "", "")
		}
	}

	trs := r.transports()

	// Scenario 2: list and logs against ping.
	for _, tr := range trs {
		f := r.Transports[tr].Floor
		const list10, logs100 = "process_list of 10 processes: p50 vs ping p50", "process_logs of 100 lines: p50 vs ping p50"
		if f == nil {
			noData("2", list10, tr, "<= 1.5x")
			noData("2", logs100, tr, "<= 2x")
			continue
		}
		ping := f.Procs10["ping"].P50us
		l := f.Procs10["list"].P50us
		g := f.Procs10["logs100"].P50us
		add(Target{Scenario: "2", Name: list10, Transport: tr, Measured: l, Unit: "us", Baseline: ping, BaselineOf: "ping p50",
			Ratio: ratio(l, ping), Limit: "<= 1.5x", Verdict: verdict(ratio(l, ping) <= 1.5)})
		add(Target{Scenario: "2", Name: logs100, Transport: tr, Measured: g, Unit: "us", Baseline: ping, BaselineOf: "ping p50",
			Ratio: ratio(g, ping), Limit: "<= 2x", Verdict: verdict(ratio(g, ping) <= 2)})
	}

	// Scenario 3: isolation.
	for _, tr := range trs {
		iso := r.Transports[tr].Isolation
		for _, call := range []string{"list", "logs100"} {
			name := fmt.Sprintf("%s p99 during flood + churn vs idle p99", map[string]string{"list": "process_list", "logs100": "process_logs (100 lines)"}[call])
			idle, busy := iso.phase("idle"), iso.phase("flood+churn")
			if idle == nil || busy == nil {
				noData("3", name, tr, "<= 1.5x")
				continue
			}
			a, z := idle.Calls[call].P99us, busy.Calls[call].P99us
			add(Target{Scenario: "3", Name: name, Transport: tr, Measured: z, Unit: "us", Baseline: a, BaselineOf: "idle p99",
				Ratio: ratio(z, a), Limit: "<= 1.5x", Verdict: verdict(ratio(z, a) <= 1.5),
				Note: fmt.Sprintf("flood alone %.2fx, churn alone %.2fx; ping p99 in the same rounds %.2fx",
					ratio(iso.p99("flood", call), a), ratio(iso.p99("churn", call), a), ratio(iso.p99("flood+churn", "ping"), iso.p99("idle", "ping")))})
		}
	}

	// Scenario 4: ingest and memory.
	for _, tr := range trs {
		in := r.Transports[tr].Ingest
		const rateName, rssName = "log ingest lines/s vs a bare bufio.Scanner on the same flood", "peak server RSS while flooding (default limits)"
		if in == nil {
			noData("4", rateName, tr, ">= 70%")
			noData("4", rssName, tr, "<= log bytes + 30 MiB")
			continue
		}
		q := ratio(in.Server.LinesPerSec, in.ScannerLinesPerSec)
		add(Target{Scenario: "4", Name: rateName, Transport: tr, Measured: in.Server.LinesPerSec, Unit: "lines/s",
			Baseline: in.ScannerLinesPerSec, BaselineOf: "bufio.Scanner", Ratio: q, Limit: ">= 70%", Verdict: verdict(q >= 0.7),
			Note: fmt.Sprintf("%.0f MB/s into the ring over %.0f s", in.Server.MBPerSec, in.Server.Seconds)})
		lim := float64(in.LogBytesLimit + 30*mib)
		add(Target{Scenario: "4", Name: rssName, Transport: tr, Measured: float64(in.PeakRSS), Unit: "B",
			Baseline: float64(in.IdleRSS), BaselineOf: "idle RSS", Ratio: ratio(float64(in.PeakRSS), lim),
			Limit:   fmt.Sprintf("<= %s (%s log bytes + 30 MiB)", fmtValue(lim, "B"), fmtValue(float64(in.LogBytesLimit), "B")),
			Verdict: verdict(float64(in.PeakRSS) <= lim)})
	}

	// Scenario 5 (and 2 at 1,000): list of 1,000.
	for _, tr := range trs {
		sc := r.Transports[tr].Scale
		const p50Name, encName = "process_list (default output, a page of 50) with 1,000 processes: p50 vs ping p50", "full list of 1,000 (limit 1000) encoded: server CPU per list call beyond a ping"
		if sc == nil {
			noData("5", p50Name, tr, "<= 5x")
			noData("5", encName, tr, "< 2 ms")
			continue
		}
		ping, l := sc.Rounds["ping"].P50us, sc.Rounds["list"].P50us
		add(Target{Scenario: "5", Name: p50Name, Transport: tr, Measured: l, Unit: "us", Baseline: ping, BaselineOf: "ping p50",
			Ratio: ratio(l, ping), Limit: "<= 5x", Verdict: verdict(ratio(l, ping) <= 5)})
		add(Target{Scenario: "5", Name: encName, Transport: tr, Measured: sc.ListEncodeUs, Unit: "us", Baseline: sc.ServerCPUPerPingUs,
			BaselineOf: "server CPU per ping", Ratio: ratio(sc.ListEncodeUs, 2000), Limit: "< 2 ms", Verdict: verdict(sc.ListEncodeUs < 2000),
			Note: fmt.Sprintf("handler alone (debug log \"took\", before encoding) p50 %s", fmtValue(sc.Handler.P50us, "us"))})
	}

	// Compact output: the text and structured content do not depend on
	// the transport; every transport's results are checked.
	const textName, defName = "process_list text bytes per process", "structuredContent empty or default fields (list 10, list 1,000, logs 100)"
	var perProc, structPerProc float64
	defaults := map[string]int{}
	seen := false
	for _, tr := range trs {
		t := r.Transports[tr]
		for _, cs := range []*callSize{floorSize(t, "list10"), scaleList(t)} {
			if cs == nil || cs.Procs == 0 {
				continue
			}
			seen = true
			perProc = max(perProc, float64(cs.TextBytes)/float64(cs.Procs))
			structPerProc = max(structPerProc, float64(cs.StructuredBytes)/float64(cs.Procs))
		}
		for _, cs := range []*callSize{floorSize(t, "list10"), floorSize(t, "logs100"), scaleList(t)} {
			if cs != nil {
				for k, v := range cs.DefaultFields {
					defaults[k] = max(defaults[k], v)
				}
			}
		}
	}
	if seen {
		add(Target{Scenario: "2, 5", Name: textName, Measured: perProc, Unit: "B", Baseline: structPerProc,
			BaselineOf: "structuredContent bytes per process", Ratio: ratio(perProc, 100), Limit: "<= ~100 B",
			Verdict: verdict(perProc <= 100)})
		n := sumCounts(defaults)
		var paths []string
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range defaults {
				if !yield(k) {
					return
				}
			}
		}) {
			paths = append(paths, fmt.Sprintf("%s x%d", k, defaults[k]))
		}
		add(Target{Scenario: "2, 5", Name: defName, Measured: float64(n), Unit: "fields", BaselineOf: "-",
			Limit: "0", Verdict: verdict(n == 0), Note: strings.Join(paths, ", ")})
	} else {
		noData("2, 5", textName, "", "<= ~100 B")
		noData("2, 5", defName, "", "0")
	}
	return ts, figures(r, trs)
}

func floorSize(t *TransportResults, which string) *callSize {
	if t.Floor == nil {
		return nil
	}
	switch which {
	case "list10":
		return &t.Floor.List10
	case "logs100":
		return &t.Floor.Logs100
	}
	return nil
}

func scaleList(t *TransportResults) *callSize {
	if t.Scale == nil {
		return nil
	}
	return &t.Scale.List
}

// phase returns the named phase, or nil.
func (r *IsolationResult) phase(name string) *phaseStats {
	if r == nil {
		return nil
	}
	for _, p := range r.Phases {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// p99 is the p99 of call in the named phase, or 0.
func (r *IsolationResult) p99(phase, call string) float64 {
	if p := r.phase(phase); p != nil {
		return p.Calls[call].P99us
	}
	return 0
}

// transports lists the transports measured, in their usual order.
func (r *Results) transports() []string {
	var trs []string
	for _, tr := range allTransports {
		if r.Transports[tr] != nil {
			trs = append(trs, tr)
		}
	}
	return trs
}

// figures are the other measurements, one row per figure, one column per
// transport.
func figures(r *Results, trs []string) []Figure {
	var fs []Figure
	row := func(scenario, name string, val func(t *TransportResults) string) {
		f := Figure{Scenario: scenario, Name: name, Values: map[string]string{}}
		for _, tr := range trs {
			if v := val(r.Transports[tr]); v != "" {
				f.Values[tr] = v
			}
		}
		if len(f.Values) > 0 {
			fs = append(fs, f)
		}
	}
	lat := func(l Latency) string {
		return fmt.Sprintf("%s / %s", fmtValue(l.P50us, "us"), fmtValue(l.P99us, "us"))
	}
	floor := func(get func(*FloorResult) string) func(*TransportResults) string {
		return func(t *TransportResults) string {
			if t.Floor == nil {
				return ""
			}
			return get(t.Floor)
		}
	}
	row("1", "ping p50 / p99, 1 caller", floor(func(f *FloorResult) string { return lat(f.Ping1.Latency) }))
	row("1", "ping calls/s, 1 caller", floor(func(f *FloorResult) string { return fmt.Sprintf("%.0f", f.Ping1.CallsPerSec) }))
	row("1", "ping p50 / p99, 8 callers", floor(func(f *FloorResult) string { return lat(f.Ping8.Latency) }))
	row("1", "ping calls/s, 8 callers", floor(func(f *FloorResult) string {
		return fmt.Sprintf("%.0f (%s)", f.Ping8.CallsPerSec, f.Ping8Clients)
	}))
	row("2", "ping p50 / p99 (interleaved with list 10, logs 100)", floor(func(f *FloorResult) string { return lat(f.Procs10["ping"]) }))
	row("2", "process_list 10 p50 / p99", floor(func(f *FloorResult) string { return lat(f.Procs10["list"]) }))
	row("2", "process_logs 100 lines p50 / p99", floor(func(f *FloorResult) string { return lat(f.Procs10["logs100"]) }))
	row("2", "tool call floor: process_list of no processes, p50 / p99 (ratio of p50 to ping p50)", floor(func(f *FloorResult) string {
		return fmt.Sprintf("%s (%.2fx)", lat(f.Procs10["empty"]), ratio(f.Procs10["empty"].P50us, f.Procs10["ping"].P50us))
	}))
	row("2", "process_list 100 p50 / p99 (ratio of p50 to ping p50)", floor(func(f *FloorResult) string {
		return fmt.Sprintf("%s (%.2fx)", lat(f.Procs100["list"]), ratio(f.Procs100["list"].P50us, f.Procs100["ping"].P50us))
	}))
	row("2", "wire bytes: ping, list 10, list 100, logs 100", floor(func(f *FloorResult) string {
		return fmt.Sprintf("%d, %d, %d, %d", f.Ping.WireBytes, f.List10.WireBytes, f.List100.WireBytes, f.Logs100.WireBytes)
	}))
	row("2", "server CPU per call, 10 processes: ping, list 10, logs 100", floor(func(f *FloorResult) string {
		return fmt.Sprintf("%s, %s, %s", fmtValue(f.ServerCPUUs["ping"], "us"), fmtValue(f.ServerCPUUs["list"], "us"), fmtValue(f.ServerCPUUs["logs100"], "us"))
	}))
	row("2", "client decode of the result (bench process): list 10, logs 100", floor(func(f *FloorResult) string {
		return fmt.Sprintf("%s, %s", fmtValue(f.List10.ClientDecodeUs, "us"), fmtValue(f.Logs100.ClientDecodeUs, "us"))
	}))
	row("2", "list 10: text / structured bytes per process", floor(func(f *FloorResult) string {
		return fmt.Sprintf("%.0f / %.0f", float64(f.List10.TextBytes)/float64(max(f.List10.Procs, 1)), float64(f.List10.StructuredBytes)/float64(max(f.List10.Procs, 1)))
	}))
	scale := func(get func(*ScaleResult) string) func(*TransportResults) string {
		return func(t *TransportResults) string {
			if t.Scale == nil {
				return ""
			}
			return get(t.Scale)
		}
	}
	row("2, 5", "process_list 1,000 p50 / p99; ping p50 / p99", scale(func(s *ScaleResult) string {
		return fmt.Sprintf("%s; %s", lat(s.Rounds["list"]), lat(s.Rounds["ping"]))
	}))
	row("2, 5", "list 1,000: wire bytes; text / structured bytes per process", scale(func(s *ScaleResult) string {
		return fmt.Sprintf("%d; %.0f / %.0f", s.List.WireBytes, float64(s.List.TextBytes)/float64(max(s.List.Procs, 1)), float64(s.List.StructuredBytes)/float64(max(s.List.Procs, 1)))
	}))
	iso := func(get func(*IsolationResult) string) func(*TransportResults) string {
		return func(t *TransportResults) string {
			if t.Isolation == nil {
				return ""
			}
			return get(t.Isolation)
		}
	}
	for _, call := range []string{"list", "logs100"} {
		row("3", call+" p99 by phase: idle, flood, churn, flood+churn, idle-after", iso(func(r *IsolationResult) string {
			var parts []string
			for _, p := range r.Phases {
				parts = append(parts, fmtValue(p.Calls[call].P99us, "us"))
			}
			return strings.Join(parts, ", ")
		}))
		row("3", call+" p50 by phase", iso(func(r *IsolationResult) string {
			var parts []string
			for _, p := range r.Phases {
				parts = append(parts, fmtValue(p.Calls[call].P50us, "us"))
			}
			return strings.Join(parts, ", ")
		}))
	}
	row("3", "ping p99 by phase (no process state read)", iso(func(r *IsolationResult) string {
		var parts []string
		for _, p := range r.Phases {
			parts = append(parts, fmtValue(p.Calls["ping"].P99us, "us"))
		}
		return strings.Join(parts, ", ")
	}))
	row("3", "server cores used by phase", iso(func(r *IsolationResult) string {
		var parts []string
		for _, p := range r.Phases {
			parts = append(parts, fmt.Sprintf("%.2f", p.ServerCores))
		}
		return strings.Join(parts, ", ")
	}))
	row("3", "flood lines/s; churn starts/s (flood+churn phase)", iso(func(r *IsolationResult) string {
		p := r.phase("flood+churn")
		if p == nil {
			return ""
		}
		return fmt.Sprintf("%s; %.0f", fmtValue(p.FloodLinesPerSec, "lines/s"), p.ChurnStartsPerSec)
	}))
	ingest := func(get func(*IngestResult) string) func(*TransportResults) string {
		return func(t *TransportResults) string {
			if t.Ingest == nil {
				return ""
			}
			return get(t.Ingest)
		}
	}
	row("4", "server ingest: lines/s, MB/s", ingest(func(in *IngestResult) string {
		return fmt.Sprintf("%s, %.0f MB/s", fmtValue(in.Server.LinesPerSec, "lines/s"), in.Server.MBPerSec)
	}))
	row("4", "bufio.Scanner before / after: lines/s", ingest(func(in *IngestResult) string {
		if len(in.Scanner) != 2 {
			return ""
		}
		return fmt.Sprintf("%s / %s", fmtValue(in.Scanner[0].LinesPerSec, "lines/s"), fmtValue(in.Scanner[1].LinesPerSec, "lines/s"))
	}))
	row("4", "server RSS: idle, peak (VmHWM), max sampled", ingest(func(in *IngestResult) string {
		return fmt.Sprintf("%s, %s, %s", fmtValue(float64(in.IdleRSS), "B"), fmtValue(float64(in.PeakRSS), "B"), fmtValue(float64(in.MaxSampledRSS), "B"))
	}))
	row("5", "server ready (exec to initialize answered)", scale(func(s *ScaleResult) string { return fmtValue(s.ServerReadyMs*1000, "us") }))
	row("5", "start 1,000 sleeps (8 callers)", scale(func(s *ScaleResult) string { return fmtValue(s.StartAllMs*1000, "us") }))
	row("5", "stop 1,000 (8 callers)", scale(func(s *ScaleResult) string { return fmtValue(s.StopAllMs*1000, "us") }))
	row("5", "server RSS: idle, with 1,000; per process (default limits; a process that prints nothing holds two 4 KiB read buffers and under 1 KiB of ring)", scale(func(s *ScaleResult) string {
		return fmt.Sprintf("%s, %s; %s", fmtValue(float64(s.IdleRSS), "B"), fmtValue(float64(s.RSSAfterStart), "B"), fmtValue(s.RSSPerProc, "B"))
	}))
	row("5", "server OS threads: idle, with 1,000", scale(func(s *ScaleResult) string {
		return fmt.Sprintf("%d, %d", s.ThreadsIdle, s.ThreadsAfterStart)
	}))
	row("5", "server RSS per process without log buffers (--log-lines 1)", scale(func(s *ScaleResult) string {
		if s.RSSPerProcSmallRing == 0 {
			return ""
		}
		return fmtValue(s.RSSPerProcSmallRing, "B")
	}))
	row("5", "list 1,000: handler p50 (debug log); server CPU per list / per ping; client decode", scale(func(s *ScaleResult) string {
		return fmt.Sprintf("%s; %s / %s; %s", fmtValue(s.Handler.P50us, "us"), fmtValue(s.ServerCPUPerListUs, "us"), fmtValue(s.ServerCPUPerPingUs, "us"), fmtValue(s.List.ClientDecodeUs, "us"))
	}))
	return fs
}

// fmtValue renders v in unit for the table.
func fmtValue(v float64, unit string) string {
	switch unit {
	case "ns":
		if v >= 1000 {
			return fmt.Sprintf("%.2f µs", v/1000)
		}
		return fmt.Sprintf("%.0f ns", v)
	case "us":
		switch {
		case v >= 1e6:
			return fmt.Sprintf("%.2f s", v/1e6)
		case v >= 1000:
			return fmt.Sprintf("%.2f ms", v/1000)
		case v >= 100:
			return fmt.Sprintf("%.0f µs", v)
		}
		return fmt.Sprintf("%.1f µs", v)
	case "B":
		switch {
		case v >= mib:
			return fmt.Sprintf("%.1f MiB", v/mib)
		case v >= 10<<10:
			return fmt.Sprintf("%.1f KiB", v/(1<<10))
		}
		return fmt.Sprintf("%.0f B", v)
	case "lines/s":
		return fmt.Sprintf("%.2fM lines/s", v/1e6)
	case "x":
		return fmt.Sprintf("%.2fx", v)
	case "allocs":
		return fmt.Sprintf("%g allocs/op", v)
	}
	return fmt.Sprintf("%g %s", v, unit)
}

// fmtRatio renders a target's ratio.
func fmtRatio(t Target) string {
	switch {
	case t.Verdict == "NO DATA" || t.BaselineOf == "-":
		return "-"
	case strings.HasPrefix(t.Limit, ">= 70%"):
		return fmt.Sprintf("%.0f%%", t.Ratio*100)
	}
	return fmt.Sprintf("%.3gx", t.Ratio)
}

// printReport writes the markdown tables.
func printReport(w io.Writer, r *Results) {
	m := r.Machine
	fmt.Fprintf(w, "\n## brummer-bench results\n\n")
	fmt.Fprintf(w, "`%s` on %d CPUs (%s), %s, kernel %s; load average %s at start, %s at end; %.0f s.\n\n",
		r.Command, m.CPUs, m.CPUModel, m.GoVersion, m.Kernel, m.LoadAvgStart, m.LoadAvgEnd, r.Seconds)
	fmt.Fprintf(w, "### Targets (issue 4)\n\n")
	fmt.Fprintf(w, "| # | target | transport | measured | baseline (same run) | ratio | limit | result |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|\n")
	for _, t := range r.Targets {
		meas, base := "-", "-"
		if t.Verdict != "NO DATA" {
			meas = fmtValue(t.Measured, t.Unit)
			if t.BaselineOf != "-" {
				base = fmtValue(t.Baseline, t.Unit) + " (" + t.BaselineOf + ")"
			}
		}
		name := t.Name
		if t.Note != "" {
			name += " <br><sub>" + t.Note + "</sub>"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | **%s** |\n",
			t.Scenario, name, orDash(t.Transport), meas, base, fmtRatio(t), t.Limit, t.Verdict)
	}
	if len(r.Figures) > 0 {
		trs := r.transports()
		fmt.Fprintf(w, "\n### Other figures\n\n| # | figure | %s |\n|---|---|%s\n", strings.Join(trs, " | "), strings.Repeat("---|", len(trs)))
		for _, f := range r.Figures {
			var vals []string
			for _, tr := range trs {
				vals = append(vals, orDash(f.Values[tr]))
			}
			fmt.Fprintf(w, "| %s | %s | %s |\n", f.Scenario, f.Name, strings.Join(vals, " | "))
		}
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "\n### Errors\n\n")
		for _, e := range r.Errors {
			fmt.Fprintf(w, "- %s\n", strings.ReplaceAll(e, "\n", " "))
		}
	}
	fmt.Fprintln(w)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeJSON(path string, r *Results) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
