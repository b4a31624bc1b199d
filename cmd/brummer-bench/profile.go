package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// profile samples the server's stacks with perf while a measurement runs,
// if -perf DIR was given; the returned func ends the recording. The server
// has no profiling hook of its own, and perf needs none: Go binaries keep
// frame pointers and symbols. Read a recording with
// "perf report -i DIR/LABEL.data --no-children".
func (b *bench) profile(s *server, label string) (stop func()) {
	if b.opt.perfDir == "" {
		return func() {}
	}
	out := filepath.Join(b.opt.perfDir, label+".data")
	logf, err := os.Create(filepath.Join(b.opt.perfDir, label+".log"))
	if err != nil {
		b.progress(fmt.Sprintf("  perf: %v", err))
		return func() {}
	}
	cmd := exec.Command("perf", "record", "-F", "999", "-g", "-p", strconv.Itoa(s.pid), "-o", out)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), b.marker)
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		b.progress(fmt.Sprintf("  perf: %v", err))
		return func() {}
	}
	b.profiles = append(b.profiles, out)
	return func() {
		_ = cmd.Process.Signal(os.Interrupt) // perf writes its file on SIGINT
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
	}
}
