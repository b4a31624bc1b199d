package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// profile records the server's stacks with perf while a measurement runs,
// if -perf DIR was given; the returned func ends the recording. perf needs
// no hook in the server: Go binaries keep frame pointers and symbols. Read
// a recording with "perf report -i DIR/LABEL.data --no-children".
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
		t := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
		_ = cmd.Wait()
		t.Stop()
		logf.Close()
	}
}
