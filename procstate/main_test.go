package procstate

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

// The test binary is also the child process of the supervisor tests. When
// the environment variable BRUMMER_HELPER names a mode, TestMain runs that
// mode and exits instead of running the tests. A mode's arguments are the
// child's command-line arguments or, if it has none, the words of
// BRUMMER_HELPER_ARG. Build a Spec for a mode with helperSpec.
//
// Modes (other packages may copy this list; keep it in sync):
//
//	lines N                print "line 1" ... "line N" to stdout and exit 0 at once
//	exit N                 exit with status N
//	selfkill [SIG]         send itself SIG ("KILL" by default) and so die of it
//	sleep                  block until a signal ends it (SIGTERM's default action)
//	ignoreterm             ignore SIGTERM, print "ready", block (only SIGKILL ends it)
//	grandchildren K        start K copies of itself in sleep mode, which inherit
//	                       its process group and stderr, print their pids one a
//	                       line, print "ready", block
//	grandchild-ignoreterm  start one copy of itself in ignoreterm mode (inheriting
//	                       its process group and stderr), wait for the copy's
//	                       "ready", print the copy's pid, print "ready", block; the
//	                       leader itself dies on SIGTERM
//	stderr [N]             print "out I" to stdout and "err I" to stderr for I in
//	                       1..N (default 3), exit 0
//	flood                  print 100-byte lines to stdout until killed
//
// A mode that cannot run (bad argument) prints why to stderr and exits 2.
const (
	helperEnv    = "BRUMMER_HELPER"
	helperArgEnv = "BRUMMER_HELPER_ARG"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		args := os.Args[1:]
		if len(args) == 0 {
			args = strings.Fields(os.Getenv(helperArgEnv))
		}
		os.Exit(runHelper(mode, args))
	}
	goleak.VerifyTestMain(m)
}

// helperSpec returns a Spec that runs the test binary in the given helper
// mode with args.
func helperSpec(mode string, args ...string) Spec {
	return Spec{
		Argv: append([]string{helperPath()}, args...),
		Env:  map[string]string{helperEnv: mode, "GORACE": helperGORACE()},
	}
}

// helperGORACE keeps the caller's race detector options but drops the
// race runtime's default one-second sleep at exit, which would otherwise
// make every helper built with -race take a second to exit.
func helperGORACE() string {
	return strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
}

// helperPath is the test binary's absolute path, so that a Spec with a Cwd
// of its own still finds it.
func helperPath() string {
	path, err := filepath.Abs(os.Args[0])
	if err != nil {
		return os.Args[0]
	}
	return path
}

// runHelper runs one helper mode and returns the exit status.
func runHelper(mode string, args []string) int {
	arg := func(i int, def string) string {
		if i < len(args) {
			return args[i]
		}
		return def
	}
	num := func(i int, def string) (int, error) {
		n, err := strconv.Atoi(arg(i, def))
		if err != nil {
			return 0, fmt.Errorf("mode %s: argument %d: %w", mode, i+1, err)
		}
		return n, nil
	}
	var err error
	switch mode {
	case "lines":
		var n int
		if n, err = num(0, ""); err == nil {
			w := bufio.NewWriter(os.Stdout)
			for i := 1; i <= n; i++ {
				fmt.Fprintf(w, "line %d\n", i)
			}
			err = w.Flush()
		}
		if err == nil {
			return 0
		}
	case "exit":
		var n int
		if n, err = num(0, "0"); err == nil {
			return n
		}
	case "selfkill":
		sig := unix.SignalNum("SIG" + strings.TrimPrefix(strings.ToUpper(arg(0, "KILL")), "SIG"))
		if sig == 0 {
			err = fmt.Errorf("mode selfkill: unknown signal %q", arg(0, "KILL"))
			break
		}
		signal.Reset(sig)
		_ = syscall.Kill(os.Getpid(), sig)
		blockForever()
	case "sleep":
		blockForever()
	case "ignoreterm":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		blockForever()
	case "grandchildren":
		var k int
		if k, err = num(0, ""); err != nil {
			break
		}
		pids := make([]int, 0, k)
		for range k {
			cmd := helperCommand("sleep")
			cmd.Stderr = os.Stderr
			if err = cmd.Start(); err != nil {
				break
			}
			pids = append(pids, cmd.Process.Pid)
		}
		if err != nil {
			break
		}
		for _, pid := range pids {
			fmt.Println(pid)
		}
		fmt.Println("ready")
		blockForever()
	case "grandchild-ignoreterm":
		cmd := helperCommand("ignoreterm")
		cmd.Stderr = os.Stderr
		pipe, perr := cmd.StdoutPipe()
		if perr != nil {
			err = perr
			break
		}
		out := bufio.NewScanner(pipe)
		if err = cmd.Start(); err != nil {
			break
		}
		if !out.Scan() || out.Text() != "ready" {
			err = fmt.Errorf("mode grandchild-ignoreterm: grandchild did not get ready: %v", out.Err())
			break
		}
		fmt.Println(cmd.Process.Pid)
		fmt.Println("ready")
		blockForever()
	case "stderr":
		var n int
		if n, err = num(0, "3"); err != nil {
			break
		}
		for i := 1; i <= n; i++ {
			fmt.Fprintf(os.Stdout, "out %d\n", i)
			fmt.Fprintf(os.Stderr, "err %d\n", i)
		}
		return 0
	case "flood":
		line := []byte(strings.Repeat("x", 99) + "\n")
		w := bufio.NewWriterSize(os.Stdout, 64<<10)
		for {
			if _, err = w.Write(line); err != nil {
				break
			}
		}
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	fmt.Fprintln(os.Stderr, "helper:", err)
	return 2
}

// helperCommand returns a command that runs the test binary in mode,
// without a process group of its own.
func helperCommand(mode string) *exec.Cmd {
	cmd := exec.Command(helperPath())
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, helperEnv+"=") || strings.HasPrefix(kv, helperArgEnv+"=") ||
			strings.HasPrefix(kv, "GORACE=")
	})
	cmd.Env = append(cmd.Env, helperEnv+"="+mode, "GORACE="+helperGORACE())
	return cmd
}

// blockForever parks the helper until a signal ends it. The sleep keeps the
// runtime from declaring a deadlock; it synchronises nothing.
func blockForever() {
	for {
		time.Sleep(time.Hour)
	}
}
