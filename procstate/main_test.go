package procstate

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
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
//	flood [LINE]           print LINE (default 99 "x"s) and a newline to stdout
//	                       over and over until killed
//	bytes N                write N bytes "xxx..." without a newline to stdout
//	                       in 1 MiB writes, exit 0
//	print Q [N]            write strconv.Unquote(Q) to stdout (Q is a Go string
//	                       literal, so NUL and invalid UTF-8 survive argv), exit N
//	                       (default 0)
//	say Q [E]              write strconv.Unquote(Q) to stdout, then, if given,
//	                       strconv.Unquote(E) to stderr, then block until a
//	                       signal ends it
//	burn                   spin on one core until killed; read stdin lines, each
//	                       a number N: allocate N MiB more, touch every page,
//	                       print "allocated M" (M MiB in all); print "ready" first
//	tick                   print "tick" every 5ms to stdout until a write fails
//	orphan-writer N        start a copy of itself in tick mode, which inherits
//	                       its process group, stdout and stderr, print the copy's
//	                       pid, print "line 1" ... "line N" one write each, exit 0
//	daemon                 start a copy of itself in sleep mode in a session of
//	                       its own (so outside the process group), inheriting
//	                       stdout and stderr, print the copy's pid, print
//	                       "ready", exit 0 (Unix only)
//	orphans K              start K "sleep 3600" processes (cheaper than copies of
//	                       itself), which inherit its process group and stderr,
//	                       print their pids one a line, print "ready", exit 0
//	echo                   copy each stdin line to stdout at once (one write a
//	                       line) until stdin ends, exit 0
//	listen PORT            read one line from stdin (EOF counts, so without a
//	                       stdin pipe it goes on at once), listen on TCP
//	                       127.0.0.1:PORT (0: a free port), print "port P",
//	                       accept and close connections until killed
//	grandchild-listen      start a copy of itself in mode "listen 0", which
//	                       inherits its process group, stdin, stdout and
//	                       stderr, print "ready", block
//	failonce FILE          if FILE does not exist, create it and exit 1;
//	                       otherwise print "second run" and block
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
		if err = selfKill(arg(0, "KILL")); err != nil {
			break
		}
		blockForever()
	case "sleep":
		blockForever()
	case "ignoreterm":
		ignoreStop()
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
		line := []byte(arg(0, strings.Repeat("x", 99)) + "\n")
		w := bufio.NewWriterSize(os.Stdout, 64<<10)
		for {
			if _, err = w.Write(line); err != nil {
				break
			}
		}
	case "bytes":
		var n int
		if n, err = num(0, ""); err != nil {
			break
		}
		block := bytes.Repeat([]byte("x"), 1<<20)
		for n > 0 && err == nil {
			k := min(n, len(block))
			_, err = os.Stdout.Write(block[:k])
			n -= k
		}
		if err == nil {
			return 0
		}
	case "print":
		var text string
		var code int
		if text, err = strconv.Unquote(arg(0, "")); err != nil {
			break
		}
		if code, err = num(1, "0"); err != nil {
			break
		}
		if _, err = io.WriteString(os.Stdout, text); err == nil {
			return code
		}
	case "say":
		var out, errText string
		if out, err = strconv.Unquote(arg(0, `""`)); err != nil {
			break
		}
		if errText, err = strconv.Unquote(arg(1, `""`)); err != nil {
			break
		}
		if _, err = io.WriteString(os.Stdout, out); err != nil {
			break
		}
		if _, err = io.WriteString(os.Stderr, errText); err != nil {
			break
		}
		blockForever()
	case "burn":
		go spin()
		fmt.Println("ready")
		var held [][]byte
		in := bufio.NewScanner(os.Stdin)
		total := 0
		for in.Scan() && err == nil {
			var n int
			if n, err = strconv.Atoi(in.Text()); err != nil {
				break
			}
			block := make([]byte, n<<20)
			for i := 0; i < len(block); i += 4096 {
				block[i] = 1 // resident only once touched
			}
			held = append(held, block)
			total += n
			_, err = fmt.Println("allocated", total)
		}
		if err == nil {
			blockForever() // stdin ended: keep burning, holding the memory
		}
		runtime.KeepAlive(held)
	case "tick":
		for {
			if _, err = io.WriteString(os.Stdout, "tick\n"); err != nil {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	case "orphan-writer":
		var n int
		if n, err = num(0, ""); err != nil {
			break
		}
		cmd := helperCommand("tick")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err = cmd.Start(); err != nil {
			break
		}
		fmt.Println(cmd.Process.Pid)
		for i := 1; i <= n && err == nil; i++ {
			_, err = fmt.Printf("line %d\n", i)
		}
		if err == nil {
			return 0
		}
	case "daemon":
		cmd := helperCommand("sleep")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err = detach(cmd); err != nil {
			break
		}
		if err = cmd.Start(); err != nil {
			break
		}
		fmt.Println(cmd.Process.Pid)
		fmt.Println("ready")
		return 0
	case "orphans":
		var k int
		if k, err = num(0, ""); err != nil {
			break
		}
		for range k {
			cmd := exec.Command("sleep", "3600")
			cmd.Stderr = os.Stderr
			if err = cmd.Start(); err != nil {
				break
			}
			fmt.Println(cmd.Process.Pid)
		}
		if err == nil {
			fmt.Println("ready")
			return 0
		}
	case "echo":
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() && err == nil {
			_, err = os.Stdout.Write(append(in.Bytes(), '\n'))
		}
		if err == nil {
			err = in.Err()
		}
		if err == nil {
			return 0
		}
	case "listen":
		var port int
		if port, err = num(0, ""); err != nil {
			break
		}
		if _, err = bufio.NewReader(os.Stdin).ReadString('\n'); err != nil && err != io.EOF {
			break
		}
		var ln net.Listener
		if ln, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err != nil {
			break
		}
		fmt.Println("port", ln.Addr().(*net.TCPAddr).Port)
		for {
			c, aerr := ln.Accept()
			if aerr != nil {
				err = aerr
				break
			}
			c.Close()
		}
	case "grandchild-listen":
		cmd := helperCommand("listen")
		cmd.Args = append(cmd.Args, "0")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err = cmd.Start(); err != nil {
			break
		}
		fmt.Println("ready")
		blockForever()
	case "failonce":
		file := arg(0, "")
		if _, serr := os.Stat(file); serr != nil {
			if err = os.WriteFile(file, nil, 0o600); err == nil {
				return 1
			}
			break
		}
		fmt.Println("second run")
		blockForever()
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

// spin keeps one core busy.
func spin() {
	for n := uint64(0); ; n++ {
		if n == 0 {
			runtime.Gosched() // never, in practice; keeps the loop from being dead code
		}
	}
}

// blockForever parks the helper until a signal ends it. The sleep keeps the
// runtime from declaring a deadlock; it synchronises nothing.
func blockForever() {
	for {
		time.Sleep(time.Hour)
	}
}
