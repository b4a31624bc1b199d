//go:build linux

package procstate

// Misbehaving children (issue 5, "Misbehaving processes"), each a test with
// the test binary as the child. The child that ignores SIGTERM is covered by
// TestStop: "SIGKILL after grace" (SIGKILL once the grace period is over,
// Stop back within grace + 1s) and "grandchild ignoring SIGTERM" (the same
// for a member of the group that is not the leader).
//
// These tests read /proc and wait with pidfds, hence Linux only.

import (
	"context"
	"errors"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/brummer-mcp/brummer-mcp/logring"
)

// TestGrandchildHoldsOutput: the child prints lines and exits, but a
// grandchild it left behind keeps the child's stdout and stderr open and
// goes on writing. The exit is published WaitDelay after the child's exit,
// with every line the child printed; then the pipes are closed, so that the
// ring stops growing and the grandchild's next write fails (it dies of
// SIGPIPE), and no reader goroutine is left.
func TestGrandchildHoldsOutput(t *testing.T) {
	const (
		waitDelay = 200 * time.Millisecond
		lines     = 1000
	)
	ctx := testContext(t)
	s := newSupervisor(t, Config{WaitDelay: waitDelay})
	ignore := goleak.IgnoreCurrent() // the supervisor's own goroutines stay

	start := time.Now()
	p, err := s.Start(helperSpec("orphan-writer", strconv.Itoa(lines)))
	require.NoError(t, err)
	select {
	case <-p.exited:
	case <-ctx.Done():
		require.FailNow(t, "child did not exit", "%s", ctx.Err())
	}
	exited := time.Now()
	recs := waitDone(t, ctx, p)
	published := time.Now()
	stats := p.Log().Stats()

	rec := recs[len(recs)-1]
	assert.Equal(t, StatusExited, rec.Status)
	assert.Equal(t, 0, rec.ExitCode)
	assert.Empty(t, rec.Signal)
	assert.GreaterOrEqual(t, published.Sub(start), waitDelay, "the held pipes were drained for WaitDelay")
	assert.Less(t, published.Sub(exited), waitDelay+time.Second, "the exit is published promptly")
	t.Logf("exit published %v after the child's exit (WaitDelay %v)", published.Sub(exited), waitDelay)

	var own []string
	ticks := 0
	for _, ln := range allLines(t, p) {
		if ln.Text == "tick" {
			ticks++
			continue
		}
		own = append(own, ln.Text)
	}
	require.Len(t, own, lines+1, "the grandchild's pid and every line of the child")
	grandchild, err := strconv.Atoi(own[0])
	require.NoError(t, err, "first line %q", own[0])
	want := make([]string, lines)
	for i := range want {
		want[i] = "line " + strconv.Itoa(i+1)
	}
	assert.Equal(t, want, own[1:])
	assert.Positive(t, ticks, "the grandchild wrote into the pipe")

	waitPidExit(t, ctx, grandchild)
	assert.Equal(t, stats, p.Log().Stats(), "nothing was read after the exit was published")
	goleak.VerifyNone(t, ignore)
}

// waitPidExit waits, without polling, until process pid (not our child)
// has terminated: the pidfd becomes readable when it does.
func waitPidExit(t *testing.T, ctx context.Context, pid int) {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return // gone and reaped already
	}
	require.NoError(t, err, "pidfd_open %d", pid)
	defer unix.Close(fd)
	deadline, _ := ctx.Deadline()
	for {
		timeout := max(0, int(time.Until(deadline).Milliseconds()))
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, timeout)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		require.NoError(t, err, "poll pidfd of %d", pid)
		require.Equal(t, 1, n, "pid %d did not end by itself", pid)
		return
	}
}

// TestHugeLine: the child prints 1 GB without a newline. The ring keeps it
// as logring.MaxLineBytes pieces flagged Split, retains no more than LogBytes of
// them, and the heap stays bounded by the ring's limit, not the output.
//
// With the race detector, which instruments the UTF-8 check of every byte,
// 1 GB takes far too long; 128 MB show the same bound.
func TestHugeLine(t *testing.T) {
	total := 1_000_000_000
	if raceEnabled {
		total = 128_000_000
	}
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	logBytes := uint64(s.Config().LogBytes)

	runtime.GC()
	before := readMemory()
	peaks := sampleMemory()

	start := time.Now()
	p, err := s.Start(helperSpec("bytes", strconv.Itoa(total)))
	require.NoError(t, err)
	recs := waitDone(t, ctx, p)
	elapsed := time.Since(start)
	peak := peaks()
	runtime.GC()
	after := readMemory()

	rec := recs[len(recs)-1]
	require.Equal(t, 0, rec.ExitCode, "record %+v", *rec)
	pieces := (total + logring.MaxLineBytes - 1) / logring.MaxLineBytes
	last := total - (pieces-1)*logring.MaxLineBytes
	st := p.Log().Stats()
	assert.Equal(t, uint64(pieces)+2, st.LastSeq, "the output in MaxLineBytes pieces, between the start and exit notes")
	assert.LessOrEqual(t, st.Bytes, logBytes)
	assert.Greater(t, st.Bytes, logBytes-logring.MaxLineBytes, "the ring is full")
	assert.Equal(t, st.LastSeq-st.Lines, st.Evicted)

	got := allLines(t, p)
	require.NotEmpty(t, got)
	require.Len(t, got, int(st.Lines)-1, "all retained lines but the exit note")
	retained := uint64(0)
	for i, ln := range got[:len(got)-1] {
		require.True(t, ln.Split, "piece %d (seq %d) is flagged Split", i, ln.Seq)
		require.Len(t, ln.Text, logring.MaxLineBytes, "piece %d (seq %d)", i, ln.Seq)
		require.Equal(t, logring.MaxLineBytes, strings.Count(ln.Text, "x"), "piece %d (seq %d)", i, ln.Seq)
		retained += uint64(len(ln.Text))
	}
	tail := got[len(got)-1]
	assert.False(t, tail.Split, "the last piece ends the line")
	assert.Equal(t, strings.Repeat("x", last), tail.Text)
	exitNote := notes(t, p)
	require.Len(t, exitNote, 1, "the start note was evicted, the exit note is last")
	assert.Equal(t, st.Bytes, retained+uint64(len(tail.Text))+uint64(len(exitNote[0])))

	// What stays is the ring's text, a partly evicted text chunk and the
	// readers' buffers. While the output streams in (near 1 GB/s), a
	// collection also counts as live what was allocated during its mark
	// phase, a few MiB; between collections the heap grows to twice the
	// live heap (GOGC=100), and freed spans count as in use until swept.
	// Evicted text kept reachable (by a block of Lines shared with retained
	// lines, say) shows as peaks of about 3x (live) and 6x LogBytes.
	grew := func(after, before uint64) int64 { return int64(after) - int64(before) }
	assert.Less(t, grew(after.live, before.live), int64(logBytes)+1<<20, "live heap after the run")
	assert.Less(t, grew(peak.live, before.live), int64(logBytes)+8<<20, "peak live heap")
	assert.Less(t, grew(peak.heapInuse, before.heapInuse), 4*int64(logBytes), "peak heap in use")
	assert.Less(t, grew(peak.sys, before.sys), 4*int64(logBytes), "peak memory from the OS")
	t.Logf("%d MB in %v (%.0f MB/s); growth at peak: live heap +%.1f MiB, heap in use +%.1f MiB, sys +%.1f MiB; live heap after: +%.1f MiB; ring %d lines, %d bytes",
		total/1_000_000, elapsed.Round(time.Millisecond), float64(total)/1e6/elapsed.Seconds(),
		mib(grew(peak.live, before.live)), mib(grew(peak.heapInuse, before.heapInuse)), mib(grew(peak.sys, before.sys)),
		mib(grew(after.live, before.live)), st.Lines, st.Bytes)
}

// memPeaks are the highest memory figures seen while sampling.
type memPeaks struct {
	live      uint64 // heap marked live by the last GC (/gc/heap/live:bytes)
	heapInuse uint64 // MemStats.HeapInuse: live and not yet swept garbage
	sys       uint64 // MemStats.Sys: all memory obtained from the OS
}

// sampleMemory samples memory every 2ms until the returned function is
// called, which returns the peaks.
func sampleMemory() (stop func() memPeaks) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var peak memPeaks
	wg.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			m := readMemory()
			peak = memPeaks{live: max(peak.live, m.live), heapInuse: max(peak.heapInuse, m.heapInuse), sys: max(peak.sys, m.sys)}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() memPeaks {
		close(done)
		wg.Wait()
		return peak
	}
}

func readMemory() memPeaks {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	return memPeaks{live: live[0].Value.Uint64(), heapInuse: ms.HeapInuse, sys: ms.Sys}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// TestHostileBytes: invalid UTF-8, NUL bytes and terminal escape codes are
// stored safely. Every line is valid UTF-8 (each run of invalid bytes
// becomes one U+FFFD); NUL, ESC and CR inside a line are kept as they are:
// the ring holds the raw text, the tools layer strips ANSI when asked.
func TestHostileBytes(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want []string
	}{
		{name: "invalid bytes", out: "a\xffb\xc0\xafc\n", want: []string{"a\uFFFDb\uFFFDc"}},
		{name: "lone continuation bytes", out: "\x80\x80x\x80\n", want: []string{"\uFFFDx\uFFFD"}},
		{name: "surrogate half", out: "x\xed\xa0\x80y\n", want: []string{"x\uFFFDy"}},
		{name: "truncated rune at exit", out: "ok\ncaf\xc3", want: []string{"ok", "caf\uFFFD"}},
		{name: "valid multibyte", out: "héllo 世界 🎉\n", want: []string{"héllo 世界 🎉"}},
		{name: "NUL bytes", out: "\x00a\x00\x00b\x00\n\x00\n", want: []string{"\x00a\x00\x00b\x00", "\x00"}},
		{name: "ANSI colours", out: "\x1b[1;31merror\x1b[0m: boom\n", want: []string{"\x1b[1;31merror\x1b[0m: boom"}},
		{name: "ANSI title and cursor", out: "\x1b]0;title\x07\x1b[2K\x1b[1Gdone\n", want: []string{"\x1b]0;title\x07\x1b[2K\x1b[1Gdone"}},
		{name: "carriage returns", out: "50%\r100%\r\nnext\n", want: []string{"50%\r100%", "next"}},
		{name: "all at once", out: "\x1b[32m\x00ok\xff\xfe\x1b[0m\r\n", want: []string{"\x1b[32m\x00ok\uFFFD\x1b[0m"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			s := newSupervisor(t, Config{})
			p, err := s.Start(helperSpec("print", strconv.Quote(tc.out)))
			require.NoError(t, err)
			recs := waitDone(t, ctx, p)
			require.Equal(t, 0, recs[len(recs)-1].ExitCode)

			got := allLines(t, p)
			assert.Equal(t, tc.want, texts(got))
			for _, ln := range got {
				assert.True(t, utf8.ValidString(ln.Text), "line %d %q", ln.Seq, ln.Text)
				assert.Equal(t, logring.Stdout, ln.Stream)
				assert.False(t, ln.Split)
			}
		})
	}
}

// TestFastExits: a child that exits at once, started again and again. Every
// exit is recorded, and neither goroutines nor file descriptors leak.
// /bin/true keeps the exec cheap, so that the test measures the supervisor.
//
// With the race detector every goroutine and channel operation is slower:
// 1,000 starts instead of 10,000 (a leak of one goroutine or descriptor per
// start shows just as well).
func TestFastExits(t *testing.T) {
	n := 10_000
	if raceEnabled {
		n = 1_000
	}
	if testing.Short() {
		n /= 10
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	s := newSupervisor(t, Config{})
	spec := Spec{Argv: []string{"/bin/true"}}
	// The first start sets up what lives as long as the test process (the
	// netpoller's descriptors): not a leak.
	p, err := s.Start(spec)
	require.NoError(t, err)
	waitDone(t, ctx, p)

	ignore := goleak.IgnoreCurrent()
	goroutinesBefore := runtime.NumGoroutine()
	fdsBefore := openFDs(t)
	start := time.Now()
	for i := range n {
		p, err := s.Start(spec)
		require.NoError(t, err, "start %d", i)
		select {
		case <-p.Done():
		case <-ctx.Done():
			require.FailNow(t, "child did not end", "start %d: %s", i, ctx.Err())
		}
		rec := p.Record()
		require.Equal(t, StatusExited, rec.Status, "start %d: %+v", i, *rec)
		require.Equal(t, 0, rec.ExitCode, "start %d: %+v", i, *rec)
		require.Empty(t, rec.Error, "start %d", i)
	}
	elapsed := time.Since(start)
	goleak.VerifyNone(t, ignore) // waits (bounded) for the last goroutines to return
	goroutinesAfter := runtime.NumGoroutine()
	fdsAfter := openFDs(t)

	// "Before" may still count the warm-up's last goroutine or descriptor
	// on its way out: a leak shows as more after, never as fewer.
	assert.LessOrEqual(t, goroutinesAfter, goroutinesBefore, "goroutines leaked")
	assert.Subset(t, fdsBefore, fdsAfter, "file descriptors leaked")
	assert.Len(t, s.Processes(), s.Config().MaxExited, "exited processes beyond MaxExited are evicted")
	t.Logf("%d starts in %v: %v per start; goroutines %d -> %d, fds %d -> %d",
		n, elapsed.Round(time.Millisecond), (elapsed / time.Duration(n)).Round(time.Microsecond),
		goroutinesBefore, goroutinesAfter, len(fdsBefore), len(fdsAfter))
}

// openFDs lists this process's open file descriptors with their targets.
func openFDs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	fds := make([]string, 0, len(entries))
	for _, e := range entries {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		fds = append(fds, e.Name()+" -> "+target)
	}
	return fds
}

// TestChildrenOutliveLeader: the child starts a hundred children (sleep)
// in its process group and exits. The exit is recorded while the children
// run on; stopping the exited process, closing the supervisor or starting a
// new process under its name kills them all before it returns.
func TestChildrenOutliveLeader(t *testing.T) {
	const children = 100
	tests := []struct {
		name string
		end  func(t *testing.T, ctx context.Context, s *Supervisor, p *Process)
	}{
		{name: "Stop", end: func(t *testing.T, ctx context.Context, s *Supervisor, p *Process) {
			res, err := s.Stop(ctx, p.Name(), syscall.SIGTERM, time.Second)
			require.NoError(t, err)
			assert.True(t, res.AlreadyStopped)
		}},
		{name: "Close", end: func(t *testing.T, ctx context.Context, s *Supervisor, p *Process) {
			require.NoError(t, s.Close(ctx))
		}},
		{name: "restart under its name", end: func(t *testing.T, ctx context.Context, s *Supervisor, p *Process) {
			next, err := s.Start(withName(p.Name(), helperSpec("exit", "0")))
			require.NoError(t, err)
			assert.Equal(t, 1, next.Record().Restarts)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			s := newSupervisor(t, Config{WaitDelay: 100 * time.Millisecond})
			p, err := s.Start(helperSpec("orphans", strconv.Itoa(children)))
			require.NoError(t, err)
			recs := waitDone(t, ctx, p)
			rec := recs[len(recs)-1]
			require.Equal(t, StatusExited, rec.Status)
			require.Equal(t, 0, rec.ExitCode)
			pids := stdoutPids(t, allLines(t, p))
			require.Len(t, pids, children)
			for _, pid := range pids {
				requireRunningIn(t, pid, rec.Pid)
			}

			tc.end(t, ctx, s, p)
			for _, pid := range pids {
				assertGone(t, pid, rec.Pid)
			}
			assert.False(t, GroupAlive(rec.Pid))
		})
	}
}
