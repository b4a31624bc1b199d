package crashguard

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
)

// record is the state file's format.
type record struct {
	Pid   int    `json:"pid"`
	Start uint64 `json:"start"` // the instance's start time (0 if unknown)
	// At is when this was written, in pgroup ticks: the instance was alive
	// then, so a leader not marked reaped here was unreaped then.
	At     uint64       `json:"at"`
	Groups []pgroup.Ref `json:"groups"`
}

// writeInterval is the shortest time between two writes of a File.
const writeInterval = 50 * time.Millisecond

// refreshInterval is how often a File with groups is written again even
// without a change: its time stamp (record.At) bounds which members a
// recovery may claim, so members forked since the last write are claimed
// only through a parent that was.
const refreshInterval = time.Second

// File is this instance's state file.
type File struct {
	path  string
	log   zerolog.Logger
	start uint64 // this process's start time

	mu     sync.Mutex
	groups map[key]pgroup.Ref // guarded by mu

	wake chan struct{} // buffered 1: a change is waiting to be written
	stop chan struct{}
	done chan struct{}
}

// DefaultDir is where state files live: $XDG_RUNTIME_DIR/brummer-mcp, else
// the user's cache directory, else the temp directory.
func DefaultDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "brummer-mcp")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "brummer-mcp", "run")
	}
	return filepath.Join(os.TempDir(), "brummer-mcp-"+strconv.Itoa(os.Getuid()))
}

// OpenFile creates this instance's state file in dir.
func OpenFile(dir string, log zerolog.Logger) (*File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	f := &File{
		path:   filepath.Join(dir, strconv.Itoa(os.Getpid())+".json"),
		log:    log,
		groups: map[key]pgroup.Ref{},
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if p, err := pgroup.Stat(os.Getpid()); err == nil {
		f.start = p.Start
	}
	if err := f.write(); err != nil {
		return nil, err
	}
	go f.writer()
	return f, nil
}

// Add records group r, or replaces the record with the same id and start.
func (f *File) Add(r pgroup.Ref) {
	f.mu.Lock()
	f.groups[keyOf(r)] = r
	f.mu.Unlock()
	f.poke()
}

// Remove forgets group r; a group with the same id and another start time
// (a newer one) stays.
func (f *File) Remove(r pgroup.Ref) {
	f.mu.Lock()
	delete(f.groups, keyOf(r))
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
	refresh := time.NewTicker(refreshInterval)
	defer refresh.Stop()
	for {
		select {
		case <-f.wake:
		case <-refresh.C:
			f.mu.Lock()
			idle := len(f.groups) == 0
			f.mu.Unlock()
			if idle {
				continue
			}
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
	rec := record{Pid: os.Getpid(), Start: f.start, At: pgroup.Now(), Groups: make([]pgroup.Ref, 0, len(f.groups))}
	for _, r := range f.groups {
		rec.Groups = append(rec.Groups, r)
	}
	f.mu.Unlock()
	slices.SortFunc(rec.Groups, func(a, b pgroup.Ref) int {
		return cmp.Or(cmp.Compare(a.Pgid, b.Pgid), cmp.Compare(a.Start, b.Start))
	})
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

// Close stops the writer and removes the file: a clean exit leaves nothing
// behind to recover.
func (f *File) Close() error {
	close(f.stop)
	<-f.done
	return os.Remove(f.path)
}
