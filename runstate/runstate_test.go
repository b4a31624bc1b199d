//go:build unix

package runstate

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// group starts `sleep 60` as the leader of a new process group.
func startGroup(t *testing.T) (pgid int, wait func() error) {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	wait = sync.OnceValue(cmd.Wait)
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = wait()
	})
	return cmd.Process.Pid, wait
}

// deadPid returns the pid of a process that has exited.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

func writeRecord(t *testing.T, dir string, rec record) {
	t.Helper()
	data, err := json.Marshal(rec)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, strconv.Itoa(rec.Pid)+".json"), data, 0o600))
}

func TestFileLifecycle(t *testing.T) {
	dir := t.TempDir()
	f, err := Open(dir, zerolog.Nop())
	require.NoError(t, err)
	path := filepath.Join(dir, strconv.Itoa(os.Getpid())+".json")
	pgid, _ := startGroup(t)
	f.Add(pgid)
	f.Add(99999999)
	f.Remove(99999999)
	require.NoError(t, f.Close())
	assert.NoFileExists(t, path, "a clean exit leaves no record")

	// The last state written before Close is what a crash would leave:
	// write it again without the writer goroutine and read it back.
	f2 := &File{path: path, groups: map[int]uint64{pgid: startTime(pgid)}}
	require.NoError(t, f2.write())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var rec record
	require.NoError(t, json.Unmarshal(data, &rec))
	assert.Equal(t, os.Getpid(), rec.Pid)
	assert.Equal(t, []group{{Pgid: pgid, Start: startTime(pgid)}}, rec.Groups)
	assert.NotZero(t, rec.Groups[0].Start)
}

func TestRecover(t *testing.T) {
	dir := t.TempDir()
	left, wait := startGroup(t) // left by a crashed instance: must be killed
	reused, _ := startGroup(t)  // same pgid, different start time: not ours
	mine, _ := startGroup(t)    // belongs to a live instance: untouched
	crashed := deadPid(t)
	writeRecord(t, dir, record{Pid: crashed, Start: 1, Groups: []group{
		{Pgid: left, Start: startTime(left)},
		{Pgid: reused, Start: startTime(reused) + 1},
		{Pgid: deadPid(t), Start: 5}, // gone already
	}})
	live := os.Getppid()
	writeRecord(t, dir, record{Pid: live, Start: startTime(live), Groups: []group{{Pgid: mine, Start: startTime(mine)}}})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "junk.json"), []byte("{"), 0o600))

	found, err := Recover(dir, zerolog.Nop())
	require.NoError(t, err)
	require.Len(t, found, 1)
	assert.Equal(t, Leftover{Instance: crashed, Pgid: left, Command: "sleep 60"}, found[0])

	var exitErr *exec.ExitError
	require.ErrorAs(t, wait(), &exitErr)
	assert.Equal(t, syscall.SIGKILL, exitErr.Sys().(syscall.WaitStatus).Signal())
	assert.NoError(t, syscall.Kill(reused, 0), "a group with another start time was killed")
	assert.NoError(t, syscall.Kill(mine, 0), "a live instance's group was killed")

	assert.NoFileExists(t, filepath.Join(dir, strconv.Itoa(crashed)+".json"))
	assert.NoFileExists(t, filepath.Join(dir, "junk.json"))
	assert.FileExists(t, filepath.Join(dir, strconv.Itoa(live)+".json"))
}

// TestFileWritesChanges: a burst of changes reaches the file, coalesced,
// without Close.
func TestFileWritesChanges(t *testing.T) {
	dir := t.TempDir()
	f, err := Open(dir, zerolog.Nop())
	require.NoError(t, err)
	defer func() { require.NoError(t, f.Close()) }()
	path := filepath.Join(dir, strconv.Itoa(os.Getpid())+".json")
	for pgid := 1000; pgid < 1100; pgid++ {
		f.Add(pgid)
	}
	f.Remove(1000)
	want := make([]int, 0, 99)
	for pgid := 1001; pgid < 1100; pgid++ {
		want = append(want, pgid)
	}
	require.Eventually(t, func() bool {
		data, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		var rec record
		if json.Unmarshal(data, &rec) != nil {
			return false
		}
		got := make([]int, len(rec.Groups))
		for i, g := range rec.Groups {
			got[i] = g.Pgid
		}
		return slices.Equal(want, got) && rec.Start == startTime(os.Getpid())
	}, 10*time.Second, 5*time.Millisecond, "the file shows the groups after the burst")
}
