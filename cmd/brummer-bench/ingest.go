package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"
)

// IngestResult is scenario 4 on one transport: how fast the server takes
// a flooding child's output into its ring, against a bare bufio.Scanner
// reading the same program in the bench process, and the server's memory
// while the flood lasts.
type IngestResult struct {
	// Scanner is the baseline, measured right before and right after the
	// server's flood; ScannerLinesPerSec is their mean.
	Scanner            []rate  `json:"scanner"`
	ScannerLinesPerSec float64 `json:"scanner_lines_per_sec"`
	// Server is the server's ingest over the whole flood, from last_seq
	// in process_list at the start and end.
	Server rate `json:"server"`
	// LogBytesLimit is the ring's byte limit (--log-bytes, the default).
	LogBytesLimit int64 `json:"log_bytes_limit"`
	// IdleRSS is the server's VmRSS before the flood; PeakRSS its VmHWM
	// at the end (the peak over its whole life); MaxSampledRSS the largest
	// VmRSS seen by sampling every 50 ms during the flood.
	IdleRSS       int64 `json:"idle_rss"`
	PeakRSS       int64 `json:"peak_rss"`
	MaxSampledRSS int64 `json:"max_sampled_rss"`
}

// rate is a flood's throughput over a window.
type rate struct {
	Lines       uint64  `json:"lines"`
	Seconds     float64 `json:"seconds"`
	LinesPerSec float64 `json:"lines_per_sec"`
	MBPerSec    float64 `json:"mb_per_sec"` // 10^6 bytes of output (100-byte lines) per second
}

func newRate(lines uint64, d time.Duration) rate {
	lps := float64(lines) / d.Seconds()
	return rate{Lines: lines, Seconds: round3(d.Seconds()), LinesPerSec: round3(lps), MBPerSec: round3(lps * floodLine / 1e6)}
}

// defaultLogBytes is the server's --log-bytes default (procstate.DefaultLogBytes).
const defaultLogBytes = 8 << 20

// floodWarmup is how long a flood runs before its rate is measured.
const floodWarmup = 300 * time.Millisecond

func (b *bench) runIngest(tr string) (*IngestResult, error) {
	ctx := b.ctx
	r := &IngestResult{LogBytesLimit: defaultLogBytes}
	b.progress(fmt.Sprintf("  scanner baseline (%s)", b.n.scannerWindow))
	before, err := b.scannerRate(ctx, b.n.scannerWindow)
	if err != nil {
		return nil, err
	}

	s, c, err := b.openServer(serverConfig{name: "ingest", transport: tr})
	if err != nil {
		return nil, err
	}
	defer b.closeServer(s)
	if _, err := pingLoad(ctx, []*conn{c}, 1, 100); err != nil {
		return nil, err
	}
	idle, err := readMem(s.pid)
	if err != nil {
		return nil, err
	}
	r.IdleRSS = idle.RSS

	b.progress(fmt.Sprintf("  server flood (%s)", b.opt.floodFor))
	sampleCtx, stopSampling := context.WithCancel(ctx)
	var maxRSS atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if m, err := readMem(s.pid); err == nil && m.RSS > maxRSS.Load() {
				maxRSS.Store(m.RSS)
			}
			select {
			case <-sampleCtx.Done():
				return
			case <-t.C:
			}
		}
	})
	err = b.startFlood(ctx, c)
	if err == nil {
		err = sleepCtx(ctx, floodWarmup)
	}
	var seq0, seq1 uint64
	var t0, t1 time.Time
	if err == nil {
		seq0, t0, err = lastSeq(ctx, c, "flood")
	}
	if err == nil {
		stop := b.profile(s, "s4-ingest-"+tr)
		err = sleepCtx(ctx, b.opt.floodFor)
		stop()
	}
	if err == nil {
		seq1, t1, err = lastSeq(ctx, c, "flood")
	}
	if err == nil {
		_, _, err = c.call(ctx, "process_stop", map[string]any{"name": "flood", "timeout_ms": 2000})
	}
	stopSampling()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	r.Server = newRate(seq1-seq0, t1.Sub(t0))
	end, err := readMem(s.pid)
	if err != nil {
		return nil, err
	}
	r.PeakRSS, r.MaxSampledRSS = end.HWM, maxRSS.Load()
	if err := b.closeServer(s); err != nil {
		return nil, err
	}

	b.progress(fmt.Sprintf("  scanner baseline (%s)", b.n.scannerWindow))
	after, err := b.scannerRate(ctx, b.n.scannerWindow)
	if err != nil {
		return nil, err
	}
	r.Scanner = []rate{before, after}
	r.ScannerLinesPerSec = round3((before.LinesPerSec + after.LinesPerSec) / 2)
	return r, nil
}

// scannerRate runs the flood helper with its stdout on a pipe read by a
// bare bufio.Scanner here, and measures the lines read over window after a
// warm-up.
func (b *bench) scannerRate(ctx context.Context, window time.Duration) (rate, error) {
	cmd := exec.Command(b.self)
	cmd.Env = append(os.Environ(), helperEnv+"=flood", b.marker)
	cmd.SysProcAttr = childAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return rate{}, err
	}
	if err := cmd.Start(); err != nil {
		return rate{}, err
	}
	var lines atomic.Uint64
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var n uint64
		for sc.Scan() {
			if n++; n%256 == 0 {
				lines.Store(n)
			}
		}
		done <- sc.Err()
	}()
	err = sleepCtx(ctx, floodWarmup)
	n0, t0 := lines.Load(), time.Now()
	if err == nil {
		err = sleepCtx(ctx, window)
	}
	n1, t1 := lines.Load(), time.Now()
	_ = killChild(cmd.Process.Pid)
	serr := <-done // the pipe ends when the writer dies
	_ = cmd.Wait()
	if err != nil {
		return rate{}, err
	}
	if serr != nil && !errors.Is(serr, os.ErrClosed) {
		return rate{}, fmt.Errorf("scanner: %w", serr)
	}
	return newRate(n1-n0, t1.Sub(t0)), nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
