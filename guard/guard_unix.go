//go:build unix

package guard

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/rs/zerolog"
)

// Start launches exe in guard mode (with EnvMode=1) and returns its client.
// The guard runs in its own process group, so that a terminal's Ctrl-C or a
// signal to the server's group does not reach it: it ends by its pipe.
func Start(exe string, log zerolog.Logger) (*Client, error) {
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), EnvMode+"=1")
	cmd.Stdout = nil
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	w, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("guard pipe: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start guard: %w", err)
	}
	c := &Client{w: w, cmd: cmd, waited: make(chan struct{}), log: log.With().Str("component", "guard").Logger()}
	go func() {
		defer close(c.waited)
		err := cmd.Wait()
		c.mu.Lock()
		clean := c.w == nil
		c.broken = true
		c.mu.Unlock()
		if !clean {
			c.log.Warn().Err(err).Msg("guard exited early; children are no longer protected against a crash of the server")
		}
	}()
	return c, nil
}

// killGroup SIGKILLs process group pgid; a group already gone is no error.
func killGroup(pgid int) error {
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}
