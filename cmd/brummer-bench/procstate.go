package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ProcstateResult is the in-process design benchmarks of procstate
// (design_bench_test.go), run by go test in a subprocess.
type ProcstateResult struct {
	Command string        `json:"command"`
	Results []benchResult `json:"results"`
}

// benchResult is one benchmark line: its name without the GOMAXPROCS
// suffix, its iterations and its metrics by unit ("ns/op", "allocs/op",
// "p99-inflation", ...).
type benchResult struct {
	Name       string             `json:"name"`
	Iterations int64              `json:"iterations"`
	Metrics    map[string]float64 `json:"metrics"`
}

// metric returns the named benchmark's metric, and whether it was found.
func (r *ProcstateResult) metric(name, unit string) (float64, bool) {
	for _, b := range r.Results {
		if b.Name == name {
			v, ok := b.Metrics[unit]
			return v, ok
		}
	}
	return 0, false
}

// procstateBenchmarks selects the design benchmarks the targets need.
const procstateBenchmarks = "^(BenchmarkRead|BenchmarkUpdate|BenchmarkReadLatency)$"

// procstateCount is how many times each runs; every metric is the median.
// A p99 of 150 ns moves with anything else the shared machine runs.
const procstateCount = 3

func (b *bench) runProcstate() (*ProcstateResult, error) {
	args := []string{"-bench", procstateBenchmarks, "-benchmem"}
	r := &ProcstateResult{}
	var err error
	if r.Command, r.Results, err = b.goBench(args); err != nil {
		return nil, err
	}
	// The control for the p99 inflation: on one CPU the writer and the
	// readers share a cache, so no read waits for a line from another core.
	cmd, one, err := b.goBench([]string{"-bench", "^BenchmarkReadLatency$/^snapshot$", "-cpu", "1"})
	if err != nil {
		return nil, err
	}
	r.Command += "; " + cmd
	for _, res := range one {
		res.Name += oneCPU
		r.Results = append(r.Results, res)
	}
	return r, nil
}

// oneCPU marks the results of the benchmarks run with -cpu 1.
const oneCPU = "@cpu1"

// goBench runs go test with the -bench arguments on ./procstate/,
// procstateCount times, and returns the command and the median results.
func (b *bench) goBench(bench []string) (string, []benchResult, error) {
	args := append([]string{"test", "-run", "^$", "-count", strconv.Itoa(procstateCount)}, bench...)
	if b.n.benchtime != "" {
		args = append(args, "-benchtime", b.n.benchtime)
	}
	args = append(args, "./procstate/")
	cmd := exec.CommandContext(b.ctx, "go", args...)
	cmd.Dir = b.root
	cmd.Env = append(os.Environ(), b.marker)
	cmd.SysProcAttr = childAttr()
	// go test runs the test binary as its child: end the whole group.
	cmd.Cancel = func() error { return killChild(cmd.Process.Pid) }
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	line := "go " + shellJoin(args)
	if err := cmd.Run(); err != nil {
		return "", nil, fmt.Errorf("%s: %w\n%s", line, err, out.Bytes())
	}
	results, err := parseBenchOutput(&out)
	if err != nil {
		return "", nil, err
	}
	if len(results) == 0 {
		return "", nil, fmt.Errorf("%s printed no benchmark results:\n%s", line, out.Bytes())
	}
	return line, medians(results), nil
}

// medians merges the results of one benchmark run several times (-count)
// into one, in first-seen order: each metric is the median of its values,
// Iterations the sum.
func medians(rs []benchResult) []benchResult {
	var out []benchResult
	at := map[string]int{}            // name -> index in out and values
	var values []map[string][]float64 // per result, the values of each metric
	for _, r := range rs {
		i, seen := at[r.Name]
		if !seen {
			i = len(out)
			at[r.Name] = i
			out = append(out, benchResult{Name: r.Name, Metrics: map[string]float64{}})
			values = append(values, map[string][]float64{})
		}
		out[i].Iterations += r.Iterations
		for k, v := range r.Metrics {
			values[i][k] = append(values[i][k], v)
		}
	}
	for i := range out {
		for k, vs := range values[i] {
			slices.Sort(vs)
			out[i].Metrics[k] = vs[len(vs)/2]
		}
	}
	return out
}

// procsSuffix is the "-2" that go test appends for GOMAXPROCS.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseBenchOutput reads the results from go test -bench text output:
// "BenchmarkX/sub-2  1234  56.7 ns/op  0 B/op ...". Other lines are skipped.
func parseBenchOutput(r io.Reader) ([]benchResult, error) {
	var out []benchResult
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		br := benchResult{Name: procsSuffix.ReplaceAllString(f[0], ""), Iterations: n, Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark line %q: value %q: %w", sc.Text(), f[i], err)
			}
			br.Metrics[f[i+1]] = v
		}
		out = append(out, br)
	}
	return out, sc.Err()
}

// shellJoin quotes args for display as a shell command line.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " ^$|()*?'\"\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// goVersion is the version of the go command that builds the server.
func goVersion(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
