//go:build unix

package crashguard

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rs/zerolog"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
)

// Leftover is what a dead instance left running in one process group.
type Leftover struct {
	// Instance is the pid the dead server had; Pgid the group's id.
	Instance, Pgid int
	// Command is the command line of one of the processes killed.
	Command string
	// Killed counts the processes killed.
	Killed int
	// Err is set if some could not be killed.
	Err error
}

// Recover finds the state files of instances that are gone, kills what
// their process groups still have that is provably theirs (see the package
// doc) and removes the files. Files of live instances are left alone.
func Recover(dir string, log zerolog.Logger) ([]Leftover, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var found []Leftover
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var rec record
		if err := json.Unmarshal(data, &rec); err != nil || rec.Pid <= 0 {
			log.Warn().Str("file", path).Msg("unreadable state file removed")
			_ = os.Remove(path)
			continue
		}
		if rec.Pid == os.Getpid() {
			continue
		}
		if p, err := pgroup.Stat(rec.Pid); err == nil && p.Start == rec.Start {
			continue // a live instance
		}
		for _, r := range rec.Groups {
			if l, ok := recoverGroup(rec, r); ok {
				found = append(found, l)
			}
		}
		_ = os.Remove(path)
	}
	return found, nil
}

// recoverGroup kills what is provably left of group r of the dead
// instance rec; ok is false when nothing was.
func recoverGroup(rec record, r pgroup.Ref) (Leftover, bool) {
	o := r.Owned(rec.At)
	ms, _ := o.Members()
	l := Leftover{Instance: rec.Pid, Pgid: r.Pgid}
	i := slices.IndexFunc(ms, pgroup.Proc.Running)
	if i < 0 {
		return l, false
	}
	l.Command = pgroup.Cmdline(ms[i].Pid)
	l.Killed, l.Err = o.Kill()
	return l, true
}
