package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// IsolationResult is the isolation scenario on one transport: the floor's
// list and logs calls idle, and while a second client keeps one process
// flooding stdout, 100 short-lived processes churning, or both.
type IsolationResult struct {
	// RegisteredProcs is how many processes the server holds in every
	// phase: 10 sleepers plus "flood" and churn-00..99, exited in the idle
	// phases. The measured list asks for status=running.
	RegisteredProcs int           `json:"registered_procs"`
	SideClient      string        `json:"side_client"`
	Phases          []*phaseStats `json:"phases"`
}

// phaseStats is one phase of the isolation scenario.
type phaseStats struct {
	Name              string             `json:"name"`
	Calls             map[string]Latency `json:"calls"`        // ping, list, logs100
	ServerCores       float64            `json:"server_cores"` // server CPU time over wall time
	FloodLinesPerSec  float64            `json:"flood_lines_per_sec,omitempty"`
	ChurnStartsPerSec float64            `json:"churn_starts_per_sec,omitempty"`
	ChurnBusy         int64              `json:"churn_busy,omitempty"` // starts refused: the name was still live
	Seconds           float64            `json:"seconds"`
}

const (
	churnSlots   = 100
	churnDrivers = 2 // concurrent callers of the churn client
)

func (b *bench) runIsolation(tr string) (*IsolationResult, error) {
	ctx := b.ctx
	s, c, err := b.openServer(serverConfig{name: "isolation", transport: tr, sideHTTP: tr == "stdio"})
	if err != nil {
		return nil, err
	}
	defer s.close()
	side, err := s.connectHTTP(ctx)
	if err != nil {
		return nil, err
	}
	r := &IsolationResult{SideClient: "a second client on its own HTTP session"}
	if err := b.startLogProcs(ctx, c, 0, 10); err != nil {
		return nil, err
	}
	var exited []startArgs
	for _, name := range append([]string{"flood"}, names("churn-", 0, churnSlots, 2)...) {
		exited = append(exited, startArgs{"name": name, "argv": []string{"true"}})
	}
	if _, err := startAll(ctx, []*conn{side}, 4, exited); err != nil {
		return nil, err
	}
	if err := waitRunning(ctx, c, 10, 30*time.Second); err != nil {
		return nil, err
	}
	v, err := list(ctx, c, "")
	if err != nil {
		return nil, err
	}
	r.RegisteredProcs = len(v.Processes)
	if _, err := pingLoad(ctx, []*conn{c}, 1, 200); err != nil { // warm up
		return nil, err
	}

	steps := []step{pingStep(c), toolStep("list", c, "process_list", map[string]any{"status": "running"}),
		toolStep("logs100", c, "process_logs", map[string]any{"name": "p000", "tail": 100})}
	for _, p := range []struct {
		name         string
		flood, churn bool
	}{
		{"idle", false, false},
		{"flood", true, false},
		{"churn", false, true},
		{"flood+churn", true, true},
		{"idle-after", false, false},
	} {
		b.progress("  " + p.name)
		ps, err := b.phase(ctx, s, c, side, p.flood, p.churn, steps, "isolation-"+tr)
		if err != nil {
			return nil, fmt.Errorf("phase %s: %w", p.name, err)
		}
		ps.Name = p.name
		r.Phases = append(r.Phases, ps)
	}
	return r, nil
}

// phase times rounds of steps on c while side keeps a flood, a churn, or
// both going, and ends them.
func (b *bench) phase(ctx context.Context, s *server, c, side *conn, flood, churning bool, steps []step, label string) (*phaseStats, error) {
	ps := &phaseStats{}
	var seq0 uint64
	if flood {
		if err := b.startFlood(ctx, side); err != nil {
			return nil, err
		}
		var err error
		if seq0, _, err = lastSeq(ctx, side, "flood"); err != nil {
			return nil, err
		}
	}
	var stopChurn func() (int64, int64, error)
	if churning {
		stopChurn = churn(ctx, side)
	}
	stop := func() {}
	if flood && churning {
		stop = b.profile(s, label)
	}
	cpu0, _ := cpuTime(s.pid)
	t0 := time.Now()
	calls, err := rounds(ctx, b.n.rounds, b.n.phaseMax, steps...)
	wall := time.Since(t0)
	cpu1, _ := cpuTime(s.pid)
	stop()
	ps.Calls, ps.Seconds = calls, round3(wall.Seconds())
	ps.ServerCores = round3((cpu1 - cpu0).Seconds() / wall.Seconds())
	if stopChurn != nil {
		started, busy, cerr := stopChurn()
		ps.ChurnStartsPerSec, ps.ChurnBusy = round3(float64(started)/wall.Seconds()), busy
		err = errors.Join(err, cerr)
	}
	if flood {
		seq1, _, serr := lastSeq(ctx, side, "flood")
		ps.FloodLinesPerSec = round3(float64(seq1-seq0) / wall.Seconds())
		_, _, perr := side.call(ctx, "process_stop", map[string]any{"name": "flood", "timeout_ms": 2000})
		err = errors.Join(err, serr, perr)
	}
	if err != nil {
		return nil, err
	}
	return ps, waitRunning(ctx, c, 10, 30*time.Second)
}

func (r *IsolationResult) figures() []figure {
	byPhase := func(unit string, v func(*phaseStats) float64) string {
		var vs []float64
		for _, p := range r.Phases {
			vs = append(vs, v(p))
		}
		return fmtList(unit, ", ", vs...)
	}
	p99 := func(call string) string {
		return byPhase("us", func(p *phaseStats) float64 { return p.Calls[call].P99us })
	}
	p50 := func(call string) string {
		return byPhase("us", func(p *phaseStats) float64 { return p.Calls[call].P50us })
	}
	fs := []figure{
		{"list p99 by phase: idle, flood, churn, flood+churn, idle-after", p99("list")},
		{"list p50 by phase", p50("list")},
		{"logs100 p99 by phase: idle, flood, churn, flood+churn, idle-after", p99("logs100")},
		{"logs100 p50 by phase", p50("logs100")},
		{"ping p99 by phase (no process state read)", p99("ping")},
		{"server cores used by phase", byPhase("", func(p *phaseStats) float64 { return p.ServerCores })},
	}
	if p := r.phase("flood+churn"); p != nil {
		fs = append(fs, figure{"flood lines/s; churn starts/s (flood+churn phase)",
			fmt.Sprintf("%s; %.0f", fmtValue(p.FloodLinesPerSec, "lines/s"), p.ChurnStartsPerSec)})
	}
	return fs
}

// startFlood starts the bench binary as "flood" in helper mode on c and
// waits until its lines arrive.
func (b *bench) startFlood(ctx context.Context, c *conn) error {
	_, _, err := c.call(ctx, "process_start", startArgs{
		"name": "flood",
		"argv": []string{b.self},
		"env":  map[string]string{helperEnv: "flood"},
	})
	if err != nil {
		return err
	}
	return waitFor(ctx, 10*time.Second, "flood output", func() (bool, error) {
		seq, _, err := lastSeq(ctx, c, "flood")
		return seq > 0, err
	})
}

// churn restarts churn-00..99 as processes that exit at once ("true"),
// from churnDrivers callers on c, until stop; a start refused because the
// name is still live counts as busy.
func churn(ctx context.Context, c *conn) (stop func() (started, busy int64, err error)) {
	ctx, cancel := context.WithCancel(ctx)
	var nStarted, nBusy atomic.Int64
	slots := names("churn-", 0, churnSlots, 2)
	done := make(chan error, 1)
	go func() {
		_, err := fanOut(ctx, []*conn{c}, churnDrivers, math.MaxInt, func(ctx context.Context, c *conn, i int) error {
			_, _, err := c.call(ctx, "process_start", startArgs{"name": slots[i%churnSlots], "argv": []string{"true"}})
			switch {
			case err == nil:
				nStarted.Add(1)
			case isInUse(err):
				nBusy.Add(1)
			case ctx.Err() == nil:
				return err
			}
			return nil
		})
		done <- err
	}()
	return func() (int64, int64, error) {
		cancel()
		err := <-done
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		return nStarted.Load(), nBusy.Load(), err
	}
}
