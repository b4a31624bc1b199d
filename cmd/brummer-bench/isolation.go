package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// IsolationResult is scenario 3 on one transport: the list and logs calls
// of scenario 2, idle and while (a) one process floods stdout and (b) 100
// short-lived processes start and exit continuously, driven by a separate
// client.
type IsolationResult struct {
	// RegisteredProcs is how many processes the server holds in every
	// phase: 10 that sleep, plus "flood" and churn-00..99, present (exited)
	// in the idle phases too, so that the registry is the same size
	// throughout. The measured list asks for status=running: the 10
	// sleepers, plus the flood and the churn processes alive at the time.
	RegisteredProcs int `json:"registered_procs"`
	// SideClient is how the flood and churn are driven.
	SideClient string        `json:"side_client"`
	Phases     []*phaseStats `json:"phases"`
}

// phaseStats is one phase of the isolation scenario.
type phaseStats struct {
	Name  string             `json:"name"`
	Calls map[string]Latency `json:"calls"` // ping, list, logs100
	// ServerCores is the server's CPU time over the phase's wall time.
	ServerCores float64 `json:"server_cores"`
	// FloodLinesPerSec is the flood's ingest rate during the phase.
	FloodLinesPerSec float64 `json:"flood_lines_per_sec,omitempty"`
	// ChurnStartsPerSec counts the short-lived processes started per
	// second; ChurnBusy the starts refused because the name was still live.
	ChurnStartsPerSec float64 `json:"churn_starts_per_sec,omitempty"`
	ChurnBusy         int64   `json:"churn_busy,omitempty"`
	Seconds           float64 `json:"seconds"`
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
	defer b.closeServer(s)
	side, err := s.connectHTTP(ctx)
	if err != nil {
		return nil, err
	}
	r := &IsolationResult{SideClient: "a second client on its own HTTP session"}

	// Setup: 10 processes with logs; "flood" and the churn slots as exited
	// processes, replaced by live ones in the loaded phases.
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

	// The list asks for the live processes only: the 10 sleepers, as in
	// scenario 2, plus the flood and whichever churn processes are alive at
	// that instant. The exited entries stay in the registry in every phase.
	listArgs := map[string]any{"status": "running"}
	logsArgs := map[string]any{"name": "p000", "tail": 100}
	steps := []step{pingStep(c), toolStep("list", c, "process_list", listArgs), toolStep("logs100", c, "process_logs", logsArgs)}
	phase := func(name string, flood, churn bool) error {
		b.progress("  " + name)
		ps := &phaseStats{Name: name}
		if flood {
			if err := b.startFlood(ctx, side); err != nil {
				return err
			}
		}
		var ch *churner
		if churn {
			ch = startChurn(ctx, side)
		}
		var seq0 uint64
		if flood {
			seq0, _, err = lastSeq(ctx, side, "flood")
			if err != nil {
				return err
			}
		}
		cpu0, _ := cpuTime(s.pid)
		t0 := time.Now()
		stop := func() {}
		if flood && churn {
			stop = b.profile(s, "s3-flood-churn-"+tr)
		}
		calls, err := rounds(ctx, b.n.rounds, b.n.phaseMax, steps...)
		stop()
		wall := time.Since(t0)
		cpu1, _ := cpuTime(s.pid)
		ps.Calls, ps.Seconds = calls, round3(wall.Seconds())
		ps.ServerCores = round3((cpu1 - cpu0).Seconds() / wall.Seconds())
		if ch != nil {
			started, busy, cerr := ch.stop()
			ps.ChurnStartsPerSec = round3(float64(started) / wall.Seconds())
			ps.ChurnBusy = busy
			err = errors.Join(err, cerr)
		}
		if flood {
			seq1, _, serr := lastSeq(ctx, side, "flood")
			ps.FloodLinesPerSec = round3(float64(seq1-seq0) / wall.Seconds())
			_, _, perr := side.call(ctx, "process_stop", map[string]any{"name": "flood", "timeout_ms": 2000})
			err = errors.Join(err, serr, perr)
		}
		if err != nil {
			return fmt.Errorf("phase %s: %w", name, err)
		}
		if err := waitRunning(ctx, c, 10, 30*time.Second); err != nil {
			return err
		}
		r.Phases = append(r.Phases, ps)
		return nil
	}
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
		if err := phase(p.name, p.flood, p.churn); err != nil {
			return r, err
		}
	}
	return r, nil
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

// churner keeps restarting churn-00..99 as processes that exit at once
// ("true"), from churnDrivers goroutines sharing one client.
type churner struct {
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started atomic.Int64
	busy    atomic.Int64 // starts refused: the slot's process was still live
	mu      sync.Mutex
	err     error
}

func startChurn(ctx context.Context, c *conn) *churner {
	ctx, cancel := context.WithCancel(ctx)
	ch := &churner{cancel: cancel}
	slots := names("churn-", 0, churnSlots, 2)
	for g := range churnDrivers {
		ch.wg.Go(func() {
			for i := g; ctx.Err() == nil; i = (i + churnDrivers) % churnSlots {
				_, _, err := c.call(ctx, "process_start", startArgs{"name": slots[i], "argv": []string{"true"}})
				switch {
				case err == nil:
					ch.started.Add(1)
				case isInUse(err):
					ch.busy.Add(1)
				case ctx.Err() != nil:
					return
				default:
					ch.mu.Lock()
					ch.err = errors.Join(ch.err, err)
					ch.mu.Unlock()
					return
				}
			}
		})
	}
	return ch
}

func (ch *churner) stop() (started, busy int64, err error) {
	ch.cancel()
	ch.wg.Wait()
	return ch.started.Load(), ch.busy.Load(), ch.err
}
