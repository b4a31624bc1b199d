// Package guard keeps a server's children from outliving it, even when the
// server is killed with SIGKILL and gets no chance to stop them.
//
// The guard is a tiny process (the server's own binary, re-executed in guard
// mode) that holds the list of process groups the server has spawned. The
// server tells it about each group over a pipe; the guard holds the pipe's
// read end and nothing else. When the pipe reaches EOF without a clean
// goodbye (the server died), the guard SIGKILLs every group on its list and
// exits. On a clean shutdown the server stops its children itself and says
// goodbye, and the guard exits without killing anything.
//
// # Windows
//
// Windows needs no guard, and Start returns an error wrapping
// errors.ErrUnsupported there: procstate puts each child in a job object
// created with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE whose only handle the
// server holds, so when the server dies, however it dies, the system closes
// the handle and kills every process in the job.
//
// # Protocol
//
// One line per message on the guard's stdin: "+PGID" (a group to guard),
// "-PGID" (forget it: the group is gone or has been stopped), "bye" (clean
// shutdown: exit without killing). Groups are counted, not just listed: a
// group id is its leader's pid, which may be reused by a new group before
// the old one's "-" arrives.
//
// # Concurrency contract
//
// A Client may be used from any goroutine: writes are serialised by its
// mutex. If the guard process dies, the client logs it once and drops
// further messages; the server goes on without a guard.
package guard

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/rs/zerolog"
)

// EnvMode is the environment variable that puts the binary in guard mode.
const EnvMode = "BRUMMER_GUARD_MODE"

// Client is the server's end of the guard.
type Client struct {
	mu     sync.Mutex
	w      io.WriteCloser // guarded by mu
	broken bool           // guarded by mu: the guard is gone
	cmd    *exec.Cmd
	waited chan struct{} // closed when the guard process has been reaped
	log    zerolog.Logger
}

// Add asks the guard to kill group pgid if the server dies.
func (c *Client) Add(pgid int) { c.send("+" + strconv.Itoa(pgid)) }

// Remove tells the guard that group pgid no longer needs guarding.
func (c *Client) Remove(pgid int) { c.send("-" + strconv.Itoa(pgid)) }

func (c *Client) send(msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken || c.w == nil {
		return
	}
	if _, err := io.WriteString(c.w, msg+"\n"); err != nil {
		c.broken = true
		c.log.Warn().Err(err).Msg("guard unreachable")
	}
}

// Close says goodbye, so the guard exits without killing anything, and
// waits for it. Call it after the server has stopped its children.
func (c *Client) Close() {
	c.mu.Lock()
	if c.w != nil {
		if !c.broken {
			_, _ = io.WriteString(c.w, "bye\n")
		}
		_ = c.w.Close()
		c.w = nil
	}
	c.mu.Unlock()
	<-c.waited
}

// Pid is the guard process's pid.
func (c *Client) Pid() int { return c.cmd.Process.Pid }

// Run is the guard mode's main: it reads messages from in until "bye"
// (returns nil, kills nothing) or EOF (kills every guarded group). The
// signals a terminal or a process manager sends the server are ignored:
// only the pipe ends the guard.
func Run(in io.Reader) error {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	groups := map[int]int{}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "bye" {
			return nil
		}
		if len(line) < 2 {
			continue
		}
		pgid, err := strconv.Atoi(line[1:])
		if err != nil || pgid <= 1 {
			continue // never kill -1 or -0: that would be everything we may signal
		}
		switch line[0] {
		case '+':
			groups[pgid]++
		case '-':
			if groups[pgid]--; groups[pgid] <= 0 {
				delete(groups, pgid)
			}
		}
	}
	// EOF (or a read error) without "bye": the server is gone.
	var errs []error
	for pgid := range groups {
		if err := killGroup(pgid); err != nil {
			errs = append(errs, fmt.Errorf("kill group %d: %w", pgid, err))
		}
	}
	return errors.Join(errs...)
}
