package crashguard

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
)

func readRecord(t *testing.T, path string) (record, bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		return record{}, false
	}
	var rec record
	return rec, json.Unmarshal(data, &rec) == nil
}

func TestFileLifecycle(t *testing.T) {
	dir := t.TempDir()
	f, err := OpenFile(dir, zerolog.Nop())
	require.NoError(t, err)
	path := filepath.Join(dir, strconv.Itoa(os.Getpid())+".json")
	rec, ok := readRecord(t, path)
	require.True(t, ok, "the file exists from the start")
	assert.Equal(t, os.Getpid(), rec.Pid)
	assert.Empty(t, rec.Groups)

	ref := pgroup.Ref{Pgid: 4242, Start: 17}
	f.Add(ref)
	require.Eventually(t, func() bool {
		rec, ok := readRecord(t, path)
		return ok && slices.EqualFunc(rec.Groups, []pgroup.Ref{ref}, refEqual)
	}, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, f.Close())
	assert.NoFileExists(t, path, "a clean exit leaves no record")
}

func refEqual(a, b pgroup.Ref) bool {
	return a.Pgid == b.Pgid && a.Start == b.Start && a.Reaped == b.Reaped
}

// TestFileKeysByStart: when an old group's removal comes after a new group
// has taken the same id, the new one stays recorded.
func TestFileKeysByStart(t *testing.T) {
	dir := t.TempDir()
	f, err := OpenFile(dir, zerolog.Nop())
	require.NoError(t, err)
	defer func() { require.NoError(t, f.Close()) }()
	path := filepath.Join(dir, strconv.Itoa(os.Getpid())+".json")
	old, reaped, next := pgroup.Ref{Pgid: 500, Start: 10}, pgroup.Ref{Pgid: 500, Start: 10, Reaped: 20}, pgroup.Ref{Pgid: 500, Start: 30}
	f.Add(old)
	f.Add(reaped) // replaces old
	f.Add(next)
	f.Remove(old)
	require.Eventually(t, func() bool {
		rec, ok := readRecord(t, path)
		return ok && slices.EqualFunc(rec.Groups, []pgroup.Ref{next}, refEqual)
	}, 10*time.Second, 5*time.Millisecond, "the new group with the old id must stay recorded")
}

// TestFileWritesChanges: a burst of changes reaches the file, coalesced,
// without Close, with its time stamp.
func TestFileWritesChanges(t *testing.T) {
	dir := t.TempDir()
	f, err := OpenFile(dir, zerolog.Nop())
	require.NoError(t, err)
	defer func() { require.NoError(t, f.Close()) }()
	path := filepath.Join(dir, strconv.Itoa(os.Getpid())+".json")
	for pgid := 1000; pgid < 1100; pgid++ {
		f.Add(pgroup.Ref{Pgid: pgid, Start: 1})
	}
	f.Remove(pgroup.Ref{Pgid: 1000, Start: 1})
	want := make([]int, 0, 99)
	for pgid := 1001; pgid < 1100; pgid++ {
		want = append(want, pgid)
	}
	before := pgroup.Now()
	require.Eventually(t, func() bool {
		rec, ok := readRecord(t, path)
		got := make([]int, len(rec.Groups))
		for i, g := range rec.Groups {
			got[i] = g.Pgid
		}
		return ok && slices.Equal(want, got) && rec.At >= before
	}, 10*time.Second, 5*time.Millisecond, "the file shows the groups after the burst")
}
