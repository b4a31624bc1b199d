//go:build linux

// Package pgrouptest makes pid reuse happen on demand in tests: it starts
// a process on a pid of the test's choosing, so that a test can put a
// stranger's process group on exactly the id one of its own groups had.
package pgrouptest

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
)

// lastPidFile is the pid the kernel handed out last in this pid namespace;
// root may write it, and the next fork gets the pid after it.
const lastPidFile = "/proc/sys/kernel/ns_last_pid"

// attempts bounds the retries when another fork takes the pid first.
const attempts = 1000

// forcing serialises StartAt within this test binary; a lock file does so
// across the test binaries that go test runs side by side, which would
// otherwise rewind the same counter under each other.
var forcing sync.Mutex

// lockForcing takes the machine-wide lock of StartAt and returns its
// release.
func lockForcing(t testing.TB) func() {
	forcing.Lock()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "brummer-pgrouptest.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		forcing.Unlock()
		t.Fatalf("lock file: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		forcing.Unlock()
		t.Fatalf("lock: %v", err)
	}
	return func() {
		f.Close() // releases the flock
		forcing.Unlock()
	}
}

// StartAt starts the command that newCmd returns so that its pid is pid,
// and returns it started; the test's cleanup kills and reaps it. newCmd is
// called again for each attempt (another fork may win the race for the
// pid). The test is skipped where this cannot be done: not Linux, not
// root, or ns_last_pid is not writable. It fails the test if pid is in use
// or stays out of reach.
func StartAt(t testing.TB, pid int, newCmd func() *exec.Cmd) *exec.Cmd {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("forcing a pid needs root (ns_last_pid)")
	}
	f, err := os.OpenFile(lastPidFile, os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("forcing a pid: %v", err)
	}
	defer f.Close()
	defer lockForcing(t)()
	// On a busy machine the pid may have been taken already by a short-lived
	// process of someone else's (pids wrap around fast): wait for it.
	for deadline := time.Now().Add(5 * time.Second); inUse(pid); {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d stays in use; it cannot be given to a new process", pid)
		}
		<-time.After(time.Millisecond) // no event tells when another's process ends

	}
	// Forks between the write and ours take pids first: this program's own
	// threads (the runtime may start one as the fork blocks) do so each
	// time. Learn how many, and aim that much lower.
	skew := 0
	var gots []int
	for range attempts {
		if _, err := f.WriteAt([]byte(strconv.Itoa(pid-1-skew)), 0); err != nil {
			t.Skipf("forcing a pid: %v", err)
		}
		cmd := newCmd()
		if err := cmd.Start(); err != nil {
			t.Fatalf("start: %v", err)
		}
		got := cmd.Process.Pid
		gots = append(gots, got)
		if got == pid {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			})
			return cmd
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		// got-pid is how many more (or fewer) pids went to others than
		// skew allowed for.
		if skew += got - pid; skew < 0 || skew > 64 {
			skew = 0
		}
	}
	t.Fatalf("could not start a process with pid %d in %d attempts (got %v)", pid, attempts, gots[:min(len(gots), 12)])
	return nil
}

// inUse reports whether a process, or a process group, has pid.
func inUse(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM || pgroup.Exists(pid)
}

// Stranger returns a command for StartAt: "sleep 3600" leading a process
// group of its own, as an unrelated job would. Its group id is its pid.
func Stranger() *exec.Cmd {
	cmd := exec.Command("sleep", "3600")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// Signalled reports whether process pid has exited or has a signal
// pending. A signal is pending from the moment kill(2) returns until the
// process has handled it, and a SIGKILLed one is pending until the process
// is dead, so right after code that might have signalled pid, this tells
// without waiting whether it did (for a process that gets no signals
// otherwise, such as [Stranger]).
func Signalled(pid int) bool {
	if !Alive(pid) {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return true
	}
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(line, ":")
		if k == "SigPnd" || k == "ShdPnd" {
			if mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64); err != nil || mask != 0 {
				return true
			}
		}
	}
	return !Alive(pid)
}

// Alive reports whether process pid exists and has not exited (zombies
// count as exited).
func Alive(pid int) bool {
	p, err := pgroup.Stat(pid)
	return err == nil && p.Running()
}

// Outlive waits until the clock of start times has passed tick: a process
// that started at tick has then lived into a later one, as every process a
// server has run for more than 10 ms has. Start times cannot order two
// processes that started in the same tick, so the identity rule claims a
// leader only from the next tick on.
func Outlive(t testing.TB, tick uint64) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for pgroup.Now() <= tick {
		if time.Now().After(deadline) {
			t.Fatalf("the clock of start times stays at %d", pgroup.Now())
		}
		runtime.Gosched()
	}
}

// ShellGroup runs script with sh as the leader of a new process group and
// returns it with the pids the script prints, one a line, before a line
// "ready" (or the end of its output). The test's cleanup kills the group
// and each pid printed, and reaps the leader.
func ShellGroup(t testing.TB, script string) (*exec.Cmd, []int) {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	return cmd, ReadPids(t, out)
}

// ReadPids reads pids, one a line, until a line "ready" or the end, and
// kills each at the test's cleanup.
func ReadPids(t testing.TB, out io.Reader) []int {
	t.Helper()
	var pids []int
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "ready" {
		pid, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
		if err != nil {
			t.Fatalf("script output %q: %v", sc.Text(), err)
		}
		pids = append(pids, pid)
		t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	}
	return pids
}
