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

// IngestResult is the ingest scenario on one transport: how fast the
// server takes a flooding child's output into its ring, against a bare
// bufio.Scanner reading the same program in the bench, and the server's
// memory meanwhile.
type IngestResult struct {
	// Scanner is the baseline right before and right after the server's
	// flood; ScannerLinesPerSec their mean.
	Scanner            []rate  `json:"scanner"`
	ScannerLinesPerSec float64 `json:"scanner_lines_per_sec"`
	// Server is the ring's ingest, from last_seq in process_list.
	Server        rate  `json:"server"`
	LogBytesLimit int64 `json:"log_bytes_limit"`
	// IdleRSS is VmRSS before the flood, PeakRSS VmHWM at its end (the
	// peak over the server's life), MaxSampledRSS the largest VmRSS sampled
	// every 50 ms during the flood.
	IdleRSS       int64 `json:"idle_rss"`
	PeakRSS       int64 `json:"peak_rss"`
	MaxSampledRSS int64 `json:"max_sampled_rss"`
}

// rate is a flood's throughput over a window.
type rate struct {
	Lines       uint64  `json:"lines"`
	Seconds     float64 `json:"seconds"`
	LinesPerSec float64 `json:"lines_per_sec"`
	MBPerSec    float64 `json:"mb_per_sec"` // 10^6 bytes of 100-byte lines per second
}

// defaultLogBytes is the server's --log-bytes default (procstate.DefaultLogBytes).
const defaultLogBytes = 8 << 20

// floodWarmup is how long a flood runs before its rate is measured.
const floodWarmup = 300 * time.Millisecond

func (b *bench) runIngest(tr string) (*IngestResult, error) {
	ctx := b.ctx
	r := &IngestResult{LogBytesLimit: defaultLogBytes}
	before, err := b.scannerRate(ctx)
	if err != nil {
		return nil, err
	}
	s, c, err := b.openServer(serverConfig{name: "ingest", transport: tr})
	if err != nil {
		return nil, err
	}
	defer s.close()
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
		stop := b.profile(s, "ingest-"+tr)
		r.Server, err = window(ctx, b.opt.floodFor, func() (uint64, time.Time, error) { return lastSeq(ctx, c, "flood") })
		stop()
	}
	if err == nil {
		_, _, err = c.call(ctx, "process_stop", map[string]any{"name": "flood", "timeout_ms": 2000})
	}
	stopSampling()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	end, err := readMem(s.pid)
	if err != nil {
		return nil, err
	}
	r.PeakRSS, r.MaxSampledRSS = end.HWM, maxRSS.Load()
	if err := s.close(); err != nil {
		return nil, err
	}
	after, err := b.scannerRate(ctx)
	if err != nil {
		return nil, err
	}
	r.Scanner = []rate{before, after}
	r.ScannerLinesPerSec = round3((before.LinesPerSec + after.LinesPerSec) / 2)
	return r, nil
}

func (in *IngestResult) figures() []figure {
	return []figure{
		{"server ingest: lines/s, MB/s", fmt.Sprintf("%s, %.0f MB/s", fmtValue(in.Server.LinesPerSec, "lines/s"), in.Server.MBPerSec)},
		{"bufio.Scanner before / after: lines/s", fmtList("lines/s", " / ", in.Scanner[0].LinesPerSec, in.Scanner[1].LinesPerSec)},
		{"server RSS: idle, peak (VmHWM), max sampled", fmtList("B", ", ", float64(in.IdleRSS), float64(in.PeakRSS), float64(in.MaxSampledRSS))},
	}
}

// window counts the lines sample sees over d, after a warm-up.
func window(ctx context.Context, d time.Duration, sample func() (uint64, time.Time, error)) (rate, error) {
	if err := sleepCtx(ctx, floodWarmup); err != nil {
		return rate{}, err
	}
	n0, t0, err := sample()
	if err != nil {
		return rate{}, err
	}
	if err := sleepCtx(ctx, d); err != nil {
		return rate{}, err
	}
	n1, t1, err := sample()
	lps := float64(n1-n0) / t1.Sub(t0).Seconds()
	return rate{Lines: n1 - n0, Seconds: round3(t1.Sub(t0).Seconds()), LinesPerSec: round3(lps), MBPerSec: round3(lps * floodLine / 1e6)}, err
}

// scannerRate runs the flood helper with its stdout on a pipe read by a
// bare bufio.Scanner here.
func (b *bench) scannerRate(ctx context.Context) (rate, error) {
	b.progress(fmt.Sprintf("  scanner baseline (%s)", b.n.scannerWindow))
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
	r, err := window(ctx, b.n.scannerWindow, func() (uint64, time.Time, error) { return lines.Load(), time.Now(), nil })
	_ = killChild(cmd.Process.Pid)
	serr := <-done // the pipe ends when the writer dies
	_ = cmd.Wait()
	if serr != nil && !errors.Is(serr, os.ErrClosed) {
		err = errors.Join(err, fmt.Errorf("scanner: %w", serr))
	}
	return r, err
}
