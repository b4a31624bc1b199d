// Package runstate records, on disk, which process groups a server instance
// owns, so that the next instance can find and stop what one that crashed
// left behind. The guard process normally kills those groups when the
// server dies; this is the second line, for when the guard died too (the
// OOM killer, a reboot of the container's init, a kill of the whole tree).
//
// Each instance writes DIR/<pid>.json, replaced atomically after a change
// and removed on a clean exit. A file whose instance is gone marks a crash.
// Changes are written together at most every writeInterval, so that a burst
// of starts costs a few writes, not one each: a group started in the last
// writeInterval before a crash that also took the guard can be missed.
//
// # Concurrency contract
//
// A File is safe for concurrent use. Add and Remove only update memory and
// wake the file's writer goroutine, which writes the newest state; Close
// stops it and waits for it.
package runstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// record is the file format.
type record struct {
	Pid    int     `json:"pid"`
	Start  uint64  `json:"start"` // process start time, clock ticks since boot (0 if unknown)
	Groups []group `json:"groups"`
}

type group struct {
	Pgid  int    `json:"pgid"`
	Start uint64 `json:"start"` // the leader's start time
}

// writeInterval is the shortest time between two writes of a File.
const writeInterval = 50 * time.Millisecond

// File is this instance's record.
type File struct {
	path  string
	log   zerolog.Logger
	start uint64 // this process's start time

	mu     sync.Mutex
	groups map[int]uint64 // pgid -> leader start; guarded by mu

	wake chan struct{} // buffered 1: a change is waiting to be written
	stop chan struct{}
	done chan struct{}
}

// DefaultDir is where records live: $XDG_RUNTIME_DIR/brummer-mcp, else the
// user's cache directory, else the temp directory.
func DefaultDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "brummer-mcp")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "brummer-mcp", "run")
	}
	return filepath.Join(os.TempDir(), "brummer-mcp-"+strconv.Itoa(os.Getuid()))
}

// Open creates this instance's record in dir.
func Open(dir string, log zerolog.Logger) (*File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	f := &File{
		path:   filepath.Join(dir, strconv.Itoa(os.Getpid())+".json"),
		log:    log.With().Str("component", "runstate").Logger(),
		start:  startTime(os.Getpid()),
		groups: map[int]uint64{},
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if err := f.write(); err != nil {
		return nil, err
	}
	go f.writer()
	return f, nil
}

// Add records group pgid, whose leader has just been started.
func (f *File) Add(pgid int) {
	start := startTime(pgid)
	f.mu.Lock()
	f.groups[pgid] = start
	f.mu.Unlock()
	f.poke()
}

// Remove forgets group pgid.
func (f *File) Remove(pgid int) {
	f.mu.Lock()
	delete(f.groups, pgid)
	f.mu.Unlock()
	f.poke()
}

func (f *File) poke() {
	select {
	case f.wake <- struct{}{}:
	default: // a write is pending already; it will see this change
	}
}

func (f *File) writer() {
	defer close(f.done)
	for {
		select {
		case <-f.wake:
		case <-f.stop:
			return
		}
		if err := f.write(); err != nil {
			f.log.Warn().Err(err).Msg("write state file")
		}
		// Changes made meanwhile wait for the next write.
		select {
		case <-time.After(writeInterval):
		case <-f.stop:
			return
		}
	}
}

// write replaces the file with the current state, atomically.
func (f *File) write() error {
	f.mu.Lock()
	rec := record{Pid: os.Getpid(), Start: f.start}
	for pgid, start := range f.groups {
		rec.Groups = append(rec.Groups, group{Pgid: pgid, Start: start})
	}
	f.mu.Unlock()
	slices.SortFunc(rec.Groups, func(a, b group) int { return a.Pgid - b.Pgid })
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	tmp := f.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, f.path)
}

// Close stops the writer and removes the record: a clean exit leaves
// nothing behind to recover.
func (f *File) Close() error {
	close(f.stop)
	<-f.done
	return os.Remove(f.path)
}

// Leftover is a process group a dead instance left running.
type Leftover struct {
	// Instance is the pid the dead server had.
	Instance int
	// Pgid is the group's id; Command is its leader's command line, if it
	// still runs.
	Pgid    int
	Command string
	// Err is set if the group could not be killed.
	Err error
}

// Recover finds the records of instances that are gone, SIGKILLs the groups
// they left running and removes their records. Records of live instances
// are left alone. A group is killed only when it is provably the one
// recorded: its leader runs with the recorded start time, or the leader is
// gone and no process has its pid (so the group id cannot have been taken
// by a new group).
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
		if rec.Pid == os.Getpid() || (alive(rec.Pid) && startTime(rec.Pid) == rec.Start) {
			continue // a live instance (or us)
		}
		for _, g := range rec.Groups {
			if g.Pgid <= 1 || !recoverable(g) {
				continue
			}
			l := Leftover{Instance: rec.Pid, Pgid: g.Pgid, Command: cmdline(g.Pgid)}
			l.Err = killGroup(g.Pgid)
			found = append(found, l)
		}
		_ = os.Remove(path)
	}
	return found, nil
}
