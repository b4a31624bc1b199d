package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
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
	Transports map[string]*TransportResults `json:"transports"`
	Profiles   []string                     `json:"profiles,omitempty"`
	Errors     []string                     `json:"errors,omitempty"`
}

// TransportResults holds the scenarios run on one transport; nil if not run.
type TransportResults struct {
	Floor     *FloorResult     `json:"floor,omitempty"`
	Isolation *IsolationResult `json:"isolation,omitempty"`
	Ingest    *IngestResult    `json:"ingest,omitempty"`
	Scale     *ScaleResult     `json:"scale,omitempty"`
	Wait      *WaitResult      `json:"wait,omitempty"`
	Lifecycle *LifecycleResult `json:"lifecycle,omitempty"`
}

func floorOf(t *TransportResults) *FloorResult         { return t.Floor }
func isolationOf(t *TransportResults) *IsolationResult { return t.Isolation }
func ingestOf(t *TransportResults) *IngestResult       { return t.Ingest }
func scaleOf(t *TransportResults) *ScaleResult         { return t.Scale }
func waitOf(t *TransportResults) *WaitResult           { return t.Wait }

// Target is one row of the targets table, with its verdict.
type Target struct {
	Scenario  string `json:"scenario"`
	Name      string `json:"name"`
	Transport string `json:"transport,omitempty"`
	// Measured and Baseline are in Unit. Ratio is Measured/Baseline when the
	// limit is a ratio, else Measured over the limit.
	Measured   float64 `json:"measured"`
	Baseline   float64 `json:"baseline"`
	BaselineOf string  `json:"baseline_of"`
	Unit       string  `json:"unit"`
	Ratio      float64 `json:"ratio"`
	Limit      string  `json:"limit"`
	Verdict    string  `json:"verdict"` // PASS, MISS, or NO DATA when the scenario did not run
	Note       string  `json:"note,omitempty"`

	ratioText string
}

// Figure is a measured value reported without a target, per transport.
type Figure struct {
	Scenario string            `json:"scenario"`
	Name     string            `json:"name"`
	Values   map[string]string `json:"values"` // by transport
}

// reading is what a target measured on one transport.
type reading struct {
	value, base float64
	note        string
}

// target is a performance goal: a value measured on each transport (or
// with merged, one row for the worst transport), compared with bound either
// itself or, with byRatio, as its ratio to the baseline measured beside it.
type target struct {
	scenario, name string
	unit           string
	baselineOf     string // "" when there is no baseline
	limit          string // bound as printed
	bound          float64
	byRatio        bool // compare value/base, not value
	atLeast        bool // bound is a minimum (the ratio prints as a share)
	merged         bool // one row for all transports: the worst
	measure        func(*TransportResults) (reading, bool)
}

// on adapts a measure of one scenario's result to the transport's results;
// a scenario that did not run gives no reading.
func on[T any](get func(*TransportResults) *T, f func(*T) reading) func(*TransportResults) (reading, bool) {
	return func(t *TransportResults) (reading, bool) {
		if r := get(t); r != nil {
			return f(r), true
		}
		return reading{}, false
	}
}

const mib = 1 << 20

// targets are the goals the bench checks, in the order printed.
var targets = []target{
	{scenario: "floor", name: "process_list of 10 processes: p50 vs ping p50", unit: "us", baselineOf: "ping p50",
		limit: "<= 1.5x", bound: 1.5, byRatio: true,
		measure: on(floorOf, func(f *FloorResult) reading {
			return reading{value: f.Procs10["list"].P50us, base: f.Procs10["ping"].P50us}
		})},
	{scenario: "floor", name: "process_logs of 100 lines: p50 vs ping p50", unit: "us", baselineOf: "ping p50",
		limit: "<= 2x", bound: 2, byRatio: true,
		measure: on(floorOf, func(f *FloorResult) reading {
			return reading{value: f.Procs10["logs100"].P50us, base: f.Procs10["ping"].P50us}
		})},
	{scenario: "isolation", name: "process_list p99 during flood + churn vs idle p99", unit: "us", baselineOf: "idle p99",
		limit: "<= 1.5x", bound: 1.5, byRatio: true, measure: on(isolationOf, isolated("list"))},
	{scenario: "isolation", name: "process_logs (100 lines) p99 during flood + churn vs idle p99", unit: "us", baselineOf: "idle p99",
		limit: "<= 1.5x", bound: 1.5, byRatio: true, measure: on(isolationOf, isolated("logs100"))},
	{scenario: "ingest", name: "log ingest lines/s vs a bare bufio.Scanner on the same flood", unit: "lines/s", baselineOf: "bufio.Scanner",
		limit: ">= 70%", bound: 0.7, byRatio: true, atLeast: true,
		measure: on(ingestOf, func(in *IngestResult) reading {
			return reading{value: in.Server.LinesPerSec, base: in.ScannerLinesPerSec,
				note: fmt.Sprintf("%.0f MB/s into the ring over %.0f s", in.Server.MBPerSec, in.Server.Seconds)}
		})},
	{scenario: "ingest", name: "peak server RSS while flooding (default limits)", unit: "B", baselineOf: "idle RSS",
		limit: "<= 38.0 MiB (8.0 MiB log bytes + 30 MiB)", bound: defaultLogBytes + 30*mib,
		measure: on(ingestOf, func(in *IngestResult) reading {
			return reading{value: float64(in.PeakRSS), base: float64(in.IdleRSS)}
		})},
	{scenario: "scale", name: "process_list (default output, a page of 50) with 1,000 processes: p50 vs ping p50", unit: "us", baselineOf: "ping p50",
		limit: "<= 5x", bound: 5, byRatio: true,
		measure: on(scaleOf, func(s *ScaleResult) reading {
			return reading{value: s.Rounds["list"].P50us, base: s.Rounds["ping"].P50us}
		})},
	{scenario: "scale", name: "full list of 1,000 (limit 1000) encoded: server CPU per list call beyond a ping", unit: "us", baselineOf: "server CPU per ping",
		limit: "<= 2 ms", bound: 2000,
		measure: on(scaleOf, func(s *ScaleResult) reading {
			return reading{value: s.ListEncodeUs, base: s.ServerCPUPerPingUs,
				note: "handler alone (debug log \"took\", before encoding) p50 " + fmtValue(s.Handler.P50us, "us")}
		})},
	{scenario: "wait", name: "log wait: p50 from the matching line's read time (ts) to the answer", unit: "us",
		limit: "<= 5 ms", bound: 5000,
		measure: on(waitOf, func(w *WaitResult) reading {
			return reading{value: w.LineToAnswer.P50us,
				note: fmt.Sprintf("p99 %s; an upper bound: ts has ms precision (BenchmarkLogWait in procstate has the µs figure)", fmtValue(w.LineToAnswer.P99us, "us"))}
		})},
	{scenario: "floor", name: "tools/list bytes (compact) with outputSchema", unit: "B", baselineOf: "without outputSchema",
		limit: "<= 12000 B (tools/golden_test.go)", bound: 12000, merged: true,
		measure: on(floorOf, func(f *FloorResult) reading {
			return reading{value: float64(f.ToolsList.WithOutputSchema), base: float64(f.ToolsList.WithoutOutputSchema)}
		})},
	{scenario: "floor", name: "tools/list bytes (compact) without outputSchema", unit: "B",
		limit: "<= 6000 B (tools/golden_test.go)", bound: 6000, merged: true,
		measure: on(floorOf, func(f *FloorResult) reading {
			return reading{value: float64(f.ToolsList.WithoutOutputSchema)}
		})},
	{scenario: "floor, scale", name: "process_list text bytes per process", unit: "B", baselineOf: "structuredContent bytes per process",
		limit: "<= ~100 B", bound: 100, merged: true, measure: textPerProc},
	{scenario: "floor, scale", name: "structuredContent empty or default fields (list 10, list 1,000, logs 100)", unit: "fields",
		limit: "0", merged: true, measure: defaultsIn},
}

// isolated reads call's p99 under flood and churn against its idle p99.
func isolated(call string) func(*IsolationResult) reading {
	return func(r *IsolationResult) reading {
		a := r.p99("idle", call)
		return reading{value: r.p99("flood+churn", call), base: a,
			note: fmt.Sprintf("flood alone %.2fx, churn alone %.2fx; ping p99 in the same rounds %.2fx",
				ratio(r.p99("flood", call), a), ratio(r.p99("churn", call), a), ratio(r.p99("flood+churn", "ping"), r.p99("idle", "ping")))}
	}
}

// listSizes are the measured lists of a transport (10 and 1,000 processes).
func listSizes(t *TransportResults) []*callSize {
	var out []*callSize
	if t.Floor != nil {
		out = append(out, &t.Floor.List10)
	}
	if t.Scale != nil {
		out = append(out, &t.Scale.List)
	}
	return out
}

func textPerProc(t *TransportResults) (reading, bool) {
	var r reading
	ls := listSizes(t)
	for _, cs := range ls {
		r.value = max(r.value, float64(cs.TextBytes)/float64(max(cs.Procs, 1)))
		r.base = max(r.base, float64(cs.StructuredBytes)/float64(max(cs.Procs, 1)))
	}
	return r, len(ls) > 0
}

func defaultsIn(t *TransportResults) (reading, bool) {
	cs := listSizes(t)
	if t.Floor != nil {
		cs = append(cs, &t.Floor.Logs100)
	}
	n := map[string]int{}
	for _, c := range cs {
		for k, v := range c.DefaultFields {
			n[k] = max(n[k], v)
		}
	}
	var r reading
	var paths []string
	for _, k := range slices.Sorted(maps.Keys(n)) {
		r.value += float64(n[k])
		paths = append(paths, fmt.Sprintf("%s x%d", k, n[k]))
	}
	r.note = strings.Join(paths, ", ")
	return r, len(cs) > 0
}

// evaluate checks every target on the transports measured.
func evaluate(r *Results) []Target {
	var out []Target
	for _, tg := range targets {
		var rows []Target
		for _, tr := range r.transports() {
			if rd, ok := tg.measure(r.Transports[tr]); ok {
				rows = append(rows, tg.check(tr, rd))
			}
		}
		if tg.merged && len(rows) > 0 {
			worst := slices.MaxFunc(rows, tg.compare)
			worst.Transport = ""
			rows = []Target{worst}
		}
		if len(rows) == 0 {
			rows = []Target{{Scenario: tg.scenario, Name: tg.name, Limit: tg.limit, Verdict: "NO DATA", ratioText: "-"}}
		}
		out = append(out, rows...)
	}
	return out
}

// quantity is what tg compares with its bound.
func (tg target) quantity(value, base float64) float64 {
	if tg.byRatio {
		return ratio(value, base)
	}
	return value
}

// compare orders rows from best to worst.
func (tg target) compare(a, b Target) int {
	qa, qb := tg.quantity(a.Measured, a.Baseline), tg.quantity(b.Measured, b.Baseline)
	if tg.atLeast {
		qa, qb = -qa, -qb
	}
	return cmp.Compare(qa, qb)
}

func (tg target) check(tr string, rd reading) Target {
	t := Target{Scenario: tg.scenario, Name: tg.name, Transport: tr, Measured: rd.value, Baseline: rd.base,
		BaselineOf: orDash(tg.baselineOf), Unit: tg.unit, Limit: tg.limit, Note: rd.note}
	q := tg.quantity(rd.value, rd.base)
	t.Verdict = verdict(q <= tg.bound)
	if tg.atLeast {
		t.Verdict = verdict(q >= tg.bound)
	}
	t.Ratio = q
	if !tg.byRatio {
		t.Ratio = ratio(q, tg.bound)
	}
	switch {
	case !tg.byRatio && tg.bound == 0:
		t.ratioText = "-"
	case tg.atLeast:
		t.ratioText = fmt.Sprintf("%.0f%%", t.Ratio*100)
	default:
		t.ratioText = fmt.Sprintf("%.3gx", t.Ratio)
	}
	return t
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// figure is a measurement shown without a target.
type figure struct{ name, value string }

// figures lists the figures of the scenarios that ran on t, with their
// scenario; a figure whose value is "" was not measured.
func (t *TransportResults) figures() (scenarios []string, figs []figure) {
	add := func(scenario string, fs []figure) {
		for _, f := range fs {
			scenarios, figs = append(scenarios, scenario), append(figs, f)
		}
	}
	if t.Floor != nil {
		add("floor", t.Floor.figures())
	}
	if t.Isolation != nil {
		add("isolation", t.Isolation.figures())
	}
	if t.Ingest != nil {
		add("ingest", t.Ingest.figures())
	}
	if t.Scale != nil {
		add("scale", t.Scale.figures())
	}
	if t.Wait != nil {
		add("wait", t.Wait.figures())
	}
	if t.Lifecycle != nil {
		add("lifecycle", t.Lifecycle.figures())
	}
	return scenarios, figs
}

// figuresOf puts the figures of every transport side by side.
func figuresOf(r *Results) []Figure {
	var out []Figure
	at := map[string]int{}
	for _, tr := range r.transports() {
		scenarios, figs := r.Transports[tr].figures()
		for k, f := range figs {
			if f.value == "" {
				continue
			}
			i, seen := at[f.name]
			if !seen {
				i, at[f.name] = len(out), len(out)
				out = append(out, Figure{Scenario: scenarios[k], Name: f.name, Values: map[string]string{}})
			}
			out[i].Values[tr] = f.value
		}
	}
	return out
}

func lat(l Latency) string { return fmtValue(l.P50us, "us") + " / " + fmtValue(l.P99us, "us") }

// vsPing is a latency and its p50's ratio to ping's.
func vsPing(l, ping Latency) string {
	return fmt.Sprintf("%s (%.2fx)", lat(l), ratio(l.P50us, ping.P50us))
}

func perProc(bytes, procs int) float64 { return float64(bytes) / float64(max(procs, 1)) }

// fmtList renders values in unit, separated by sep.
func fmtList(unit, sep string, vs ...float64) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmtValue(v, unit)
	}
	return strings.Join(parts, sep)
}

// phase returns the named phase, or nil.
func (r *IsolationResult) phase(name string) *phaseStats {
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
	return slices.DeleteFunc(slices.Clone(allTransports), func(tr string) bool { return r.Transports[tr] == nil })
}

// fmtValue renders v in unit for the table.
func fmtValue(v float64, unit string) string {
	switch {
	case unit == "us" && v >= 1e6:
		return fmt.Sprintf("%.2f s", v/1e6)
	case unit == "us" && v >= 1000:
		return fmt.Sprintf("%.2f ms", v/1000)
	case unit == "us" && v >= 100:
		return fmt.Sprintf("%.0f µs", v)
	case unit == "us":
		return fmt.Sprintf("%.1f µs", v)
	case unit == "B" && v >= mib:
		return fmt.Sprintf("%.1f MiB", v/mib)
	case unit == "B" && v >= 10<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	case unit == "B":
		return fmt.Sprintf("%.0f B", v)
	case unit == "lines/s":
		return fmt.Sprintf("%.2fM lines/s", v/1e6)
	case unit == "":
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%g %s", v, unit)
}

// printReport writes the markdown tables.
func printReport(w io.Writer, r *Results) {
	m := r.Machine
	fmt.Fprintf(w, "\n## brummer-bench results\n\n")
	fmt.Fprintf(w, "`%s` on %d CPUs (%s), %s, kernel %s; load average %s at start, %s at end; %.0f s.\n\n",
		r.Command, m.CPUs, m.CPUModel, m.GoVersion, m.Kernel, m.LoadAvgStart, m.LoadAvgEnd, r.Seconds)
	fmt.Fprintf(w, "### Targets\n\n| scenario | target | transport | measured | baseline (same run) | ratio | limit | result |\n|---|---|---|---|---|---|---|---|\n")
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
			t.Scenario, name, orDash(t.Transport), meas, base, t.ratioText, t.Limit, t.Verdict)
	}
	if len(r.Figures) > 0 {
		trs := r.transports()
		fmt.Fprintf(w, "\n### Other figures\n\n| scenario | figure | %s |\n|---|---|%s\n", strings.Join(trs, " | "), strings.Repeat("---|", len(trs)))
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
