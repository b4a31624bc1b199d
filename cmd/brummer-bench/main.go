// Command brummer-bench measures brummer-mcp end to end. It builds the real
// server, drives it with mcp-go clients (protocol 2025-11-25) over stdio and
// streamable HTTP, and prints every target with the value measured, the
// baseline measured in the same run, their ratio and PASS or MISS; the full
// results go to a JSON file. Each scenario runs on each transport, on a
// fresh server:
//
//   - floor: ping with 1 and 8 callers; process_list of 10 and 100
//     processes and process_logs of 100 lines, interleaved with pings.
//   - isolation: the same list and logs calls idle, while a child floods
//     stdout, while a second client churns 100 short-lived processes, and
//     both.
//   - ingest: a flooding child's lines/s into the server's ring against a
//     bare bufio.Scanner reading the same program here; peak RSS.
//   - scale: 1,000 sleeps started, listed and stopped; RSS per process;
//     server CPU per list call.
//   - wait: a log wait's latency from its line's read time to its answer
//     (a process_wait pending on cat, then process_input); process_list
//     with 100 waits pending from 8 sessions against none.
//   - lifecycle: process_start and process_stop of `sleep 60` from one
//     caller, interleaved with pings.
//
// The floor scenario also measures tools/list: its bytes with and
// without the tools' outputSchema fields.
//
// Machines are shared and noisy, so every figure is compared with a
// baseline from the same run, mostly interleaved call by call.
//
//	go run ./cmd/brummer-bench          # about 4 minutes on 2 cores
//	go run ./cmd/brummer-bench -quick   # smoke run, about a minute
//
// What runs in one process is measured by go test instead, e.g. procstate's
// design benchmarks (DESIGN.md's table):
//
//	go test -run '^$' -bench '^(BenchmarkRead|BenchmarkUpdate|BenchmarkReadLatency)$' -benchmem -count 3 ./procstate/
//
// Every process the bench starts carries a marker in its environment and is
// killed on exit, Ctrl-C included. With BRUMMER_BENCH_HELPER=flood in its
// environment the binary is a child that writes 100-byte lines as fast as it
// can.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// scenarios run in this order, each on every transport.
var scenarios = []struct {
	name string
	run  func(b *bench, tr string, t *TransportResults) error
}{
	{"floor", func(b *bench, tr string, t *TransportResults) (err error) { t.Floor, err = b.runFloor(tr); return }},
	{"isolation", func(b *bench, tr string, t *TransportResults) (err error) {
		t.Isolation, err = b.runIsolation(tr)
		return
	}},
	{"ingest", func(b *bench, tr string, t *TransportResults) (err error) { t.Ingest, err = b.runIngest(tr); return }},
	{"scale", func(b *bench, tr string, t *TransportResults) (err error) { t.Scale, err = b.runScale(tr); return }},
	{"wait", func(b *bench, tr string, t *TransportResults) (err error) { t.Wait, err = b.runWait(tr); return }},
	{"lifecycle", func(b *bench, tr string, t *TransportResults) (err error) {
		t.Lifecycle, err = b.runLifecycle(tr)
		return
	}},
}

var allTransports = []string{"stdio", "http"}

type options struct {
	quick      bool
	floodFor   time.Duration
	jsonPath   string
	transports []string
	scenarios  []string
	perfDir    string
	serverArgs string
	// baselineBin is a server binary built from another tree: the
	// lifecycle scenario runs it beside this tree's, call by call.
	baselineBin string
}

// counts bounds each measurement, by count and by time.
type counts struct {
	pings         int           // sequential pings for the floor
	rounds        int           // interleaved rounds per phase
	bigRounds     int           // rounds with 1,000 processes (a list is ~10x slower)
	phaseMax      time.Duration // a phase stops after this even if rounds remain
	scannerWindow time.Duration // each bufio.Scanner baseline
}

var (
	fullCounts  = counts{pings: 2000, rounds: 1000, bigRounds: 200, phaseMax: 8 * time.Second, scannerWindow: 5 * time.Second}
	quickCounts = counts{pings: 400, rounds: 200, bigRounds: 40, phaseMax: 1500 * time.Millisecond, scannerWindow: time.Second}
)

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var transports, scenarioList string
	var all []string
	for _, sc := range scenarios {
		all = append(all, sc.name)
	}
	fs := flag.NewFlagSet("brummer-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.quick, "quick", false, "short run (about a minute): fewer calls, 3s flood")
	fs.DurationVar(&o.floodFor, "flood", 0, "how long the ingest scenario floods the server (default 30s, or 3s with -quick)")
	fs.StringVar(&o.jsonPath, "json", "bench-results.json", "write the full results to this JSON file")
	fs.StringVar(&transports, "transports", strings.Join(allTransports, ","), "transports to measure")
	fs.StringVar(&scenarioList, "scenarios", strings.Join(all, ","), "scenarios to run")
	fs.StringVar(&o.serverArgs, "server-args", "", "more flags for every server, separated by spaces, e.g. \"--child-nice 0\" to compare a setting")
	fs.StringVar(&o.perfDir, "perf", "", "record the server with perf (CPU stacks) during the scenarios into this directory")
	fs.StringVar(&o.baselineBin, "baseline-bin", "", "a brummer-mcp binary built from another tree (git worktree add; go build): the lifecycle scenario runs it beside this tree's, interleaved call by call")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if o.transports, err = subset("-transports", transports, allTransports); err != nil {
		return o, err
	}
	if o.scenarios, err = subset("-scenarios", scenarioList, all); err != nil {
		return o, err
	}
	switch {
	case o.floodFor < 0:
		return o, fmt.Errorf("-flood must not be negative, got %s", o.floodFor)
	case o.floodFor == 0 && o.quick:
		o.floodFor = 3 * time.Second
	case o.floodFor == 0:
		o.floodFor = 30 * time.Second
	}
	return o, nil
}

// subset parses a comma-separated list of names from all.
func subset(flagName, list string, all []string) ([]string, error) {
	var out []string
	for s := range strings.SplitSeq(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(all, s) {
			return nil, fmt.Errorf("%s: unknown %q (choose from %s)", flagName, s, strings.Join(all, ", "))
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: empty", flagName)
	}
	return out, nil
}

// bench is one run.
type bench struct {
	ctx       context.Context
	opt       options
	n         counts
	root      string // the module's root
	goVersion string
	tmp       string // removed at exit
	work      string // the servers' --cwd
	bin       string // the server binary
	self      string // this binary, for helper children
	marker    string // BRUMMER_BENCH_RUN=<id>, in every child's environment
	stderr    io.Writer
	start     time.Time
	keepTmp   bool // a scenario failed: keep the server logs for a look

	mu       sync.Mutex
	servers  []*server
	profiles []string
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "brummer-bench:", err)
		return 2
	}
	if runtime.GOOS != "linux" {
		fmt.Fprintln(stderr, "brummer-bench: needs Linux (it reads /proc for memory and CPU time)")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	limit := 15 * time.Minute // a safety net: a full run takes about 4 minutes
	if o.quick {
		limit = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, limit+o.floodFor*2)
	defer cancel()

	b := &bench{ctx: ctx, opt: o, n: fullCounts, stderr: stderr, start: time.Now()}
	if o.quick {
		b.n = quickCounts
	}
	b.marker = fmt.Sprintf("BRUMMER_BENCH_RUN=%d-%d", os.Getpid(), b.start.UnixNano())
	defer b.cleanup()

	res, err := b.runAll()
	if res != nil {
		printReport(stdout, res)
		if werr := writeJSON(o.jsonPath, res); werr != nil {
			fmt.Fprintln(stderr, "brummer-bench:", werr)
			return 1
		}
		fmt.Fprintf(stderr, "results written to %s\n", o.jsonPath)
	}
	if err != nil {
		fmt.Fprintln(stderr, "brummer-bench:", err)
		return 1
	}
	return 0
}

// runAll prepares the run and executes the scenarios. A scenario that fails
// is recorded and the others still run, unless the run was interrupted.
func (b *bench) runAll() (*Results, error) {
	if err := b.prepare(); err != nil {
		return nil, err
	}
	res := &Results{
		Command:    strings.TrimSpace("go run ./cmd/brummer-bench " + strings.Join(os.Args[1:], " ")),
		Started:    b.start.UTC().Format(time.RFC3339),
		Quick:      b.opt.quick,
		Machine:    machineInfo(b.goVersion),
		Transports: map[string]*TransportResults{},
	}
	for _, tr := range b.opt.transports {
		res.Transports[tr] = &TransportResults{}
	}
	var errs []error
	for _, sc := range scenarios {
		if !slices.Contains(b.opt.scenarios, sc.name) {
			continue
		}
		for _, tr := range b.opt.transports {
			if b.ctx.Err() != nil {
				break
			}
			b.progress(sc.name + " on " + tr)
			err := sc.run(b, tr, res.Transports[tr])
			b.closeAll()
			if err != nil {
				err = fmt.Errorf("%s on %s: %w", sc.name, tr, err)
				errs = append(errs, err)
				res.Errors = append(res.Errors, err.Error())
				b.keepTmp = true
				b.progress("  FAILED: " + err.Error())
			}
		}
	}
	if err := b.ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("interrupted: %w", err))
	}
	res.Machine.LoadAvgEnd = loadAvg()
	res.Seconds = round3(time.Since(b.start).Seconds())
	res.Profiles = b.profiles
	res.Targets, res.Figures = evaluate(res), figuresOf(res)
	return res, errors.Join(errs...)
}

// prepare finds the module, builds the server and makes the directories.
func (b *bench) prepare() error {
	out, err := exec.CommandContext(b.ctx, "go", "env", "GOMOD", "GOVERSION").Output()
	env := strings.Fields(string(out))
	if err != nil || len(env) != 2 || env[0] == os.DevNull {
		return errors.New("run brummer-bench inside the brummer-mcp module (go run ./cmd/brummer-bench)")
	}
	b.root, b.goVersion = filepath.Dir(env[0]), env[1]
	if b.self, err = os.Executable(); err != nil {
		return err
	}
	if b.tmp, err = os.MkdirTemp("", "brummer-bench-"); err != nil {
		return err
	}
	b.work = filepath.Join(b.tmp, "work")
	if err := os.Mkdir(b.work, 0o755); err != nil {
		return err
	}
	if b.opt.perfDir != "" {
		if _, err := exec.LookPath("perf"); err != nil {
			return fmt.Errorf("-perf: %w", err)
		}
		if err := os.MkdirAll(b.opt.perfDir, 0o755); err != nil {
			return err
		}
	}
	if b.opt.baselineBin != "" {
		if b.opt.baselineBin, err = filepath.Abs(b.opt.baselineBin); err != nil {
			return err
		}
		if _, err := os.Stat(b.opt.baselineBin); err != nil {
			return fmt.Errorf("-baseline-bin: %w", err)
		}
	}
	b.progress("building ./cmd/brummer-mcp")
	b.bin = filepath.Join(b.tmp, "brummer-mcp")
	cmd := exec.CommandContext(b.ctx, "go", "build", "-o", b.bin, "./cmd/brummer-mcp")
	cmd.Dir = b.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/brummer-mcp: %w\n%s", err, out)
	}
	return nil
}

func (b *bench) progress(msg string) {
	fmt.Fprintf(b.stderr, "[%6.1fs] %s\n", time.Since(b.start).Seconds(), msg)
}

// closeAll shuts down every server still running.
func (b *bench) closeAll() {
	b.mu.Lock()
	servers := slices.Clone(b.servers)
	b.mu.Unlock()
	for _, s := range servers {
		if err := s.close(); err != nil {
			b.progress("  " + err.Error())
		}
	}
}

// cleanup stops every server, kills anything left with the run's marker and
// removes the temporary directory (after a failure it keeps the server logs).
func (b *bench) cleanup() {
	b.closeAll()
	if killed := sweep(b.marker); len(killed) > 0 {
		b.progress(fmt.Sprintf("killed %d leftover processes: %v", len(killed), killed))
	}
	switch {
	case b.tmp == "":
	case b.keepTmp && b.ctx.Err() == nil:
		os.Remove(b.bin)
		b.progress("server logs kept in " + b.tmp)
	default:
		os.RemoveAll(b.tmp)
	}
}
