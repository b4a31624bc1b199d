package procstate

import (
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/logring"
)

// TestOneLogPerName: the runs of a name share one log whose seq keeps
// counting, with the supervisor's notes between them, so that a cursor
// kept across a restart reads exactly the lines after it.
func TestOneLogPerName(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{})
	first, err := s.Start(withName("t", Spec{Command: "echo old-1; echo old-2"}))
	require.NoError(t, err)
	waitDone(t, ctx, first)
	cursor := first.Log().Stats().LastSeq // everything of run 1, its exit note included
	assert.Equal(t, 1, first.Record().Run)

	second, err := s.Start(withName("t", Spec{Command: "echo NEW-1; echo NEW-2; exit 3"}))
	require.NoError(t, err)
	waitDone(t, ctx, second)
	assert.Equal(t, 2, second.Record().Run)
	assert.Same(t, first.Log(), second.Log(), "one log per name")

	page, err := second.Log().Read(logring.Query{HasSince: true, Since: cursor})
	require.NoError(t, err)
	got := texts(page.Lines)
	require.Len(t, got, 4)
	assert.Regexp(t, `^\[run 2\] started: echo NEW-1; echo NEW-2; exit 3 \(pid \d+\)$`, got[0])
	assert.Equal(t, []string{"NEW-1", "NEW-2"}, got[1:3])
	assert.Regexp(t, `^\[run 2\] exited with code 3 after `, got[3])
	assert.Equal(t, cursor+1, page.Lines[0].Seq, "the seq goes on")
	assert.Equal(t, logring.System, page.Lines[0].Stream)
	assert.Zero(t, page.Missed)

	// A run that cannot start says so in the log too.
	third, err := s.Start(withName("t", Spec{Argv: []string{"/nonexistent/brummer-no-such-program"}}))
	require.ErrorIs(t, err, ErrSpawn)
	assert.Equal(t, 3, third.Record().Run)
	last := notes(t, third)
	assert.Regexp(t, `^\[run 3\] failed to start: `, last[len(last)-1])
}

// TestPrunedNameKeepsCounting: once a name's record is pruned, a new start
// under it continues its numbering, so an old cursor is never mistaken.
func TestPrunedNameKeepsCounting(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, Config{MaxExited: 1})
	p, err := s.Start(withName("a", Spec{Command: "echo 1; echo 2; echo 3"}))
	require.NoError(t, err)
	waitDone(t, ctx, p)
	lastSeq := p.Log().Stats().LastSeq
	other, err := s.Start(withName("b", Spec{Argv: []string{"true"}}))
	require.NoError(t, err)
	waitDone(t, ctx, other)
	require.Nil(t, s.Get("a"), "pruned")

	again, err := s.Start(withName("a", Spec{Command: "echo again"}))
	require.NoError(t, err)
	waitDone(t, ctx, again)
	assert.Equal(t, 2, again.Record().Run)
	page, err := again.Log().Read(logring.Query{HasSince: true, Since: 2})
	require.NoError(t, err)
	assert.Equal(t, lastSeq-2, page.Missed, "the old lines are gone, and said so")
	assert.Equal(t, lastSeq+1, page.Lines[0].Seq)
	assert.Equal(t, []string{"again"}, texts(allLines(t, again)))
}

// TestRestart: a restart stops the process and starts it again with the
// same definition, environment and working directory included, as the
// name's next run; an exited process is just started again.
func TestRestart(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	s := newSupervisor(t, Config{})
	p, err := s.Start(Spec{Name: "w", Command: `echo "$GREETING from $PWD"; exec sleep 60`, Env: map[string]string{"GREETING": "hi"}, Cwd: dir})
	require.NoError(t, err)
	waitForLine(t, ctx, p, "hi from "+dir)

	next, res, err := s.Restart(ctx, "w", syscall.SIGTERM, time.Second)
	require.NoError(t, err)
	assert.Equal(t, StatusExited, res.Record.Status)
	assert.Equal(t, "SIGTERM", res.Record.Signal)
	assert.NotSame(t, p, next)
	assert.Equal(t, 2, next.Record().Run)
	assert.Equal(t, 1, next.Record().Restarts)
	assert.NotEqual(t, p.Record().Pid, next.Record().Pid)
	require.Eventually(t, func() bool { return len(allLines(t, next)) == 2 }, testTimeout, time.Millisecond)
	assert.Equal(t, []string{"hi from " + dir, "hi from " + dir}, texts(allLines(t, next)), "both runs' output, in one log, the same environment and directory")
	assert.Same(t, s.Get("w"), next)

	_, err = s.Stop(ctx, "w", syscall.SIGKILL, 0)
	require.NoError(t, err)
	again, res, err := s.Restart(ctx, "w", syscall.SIGTERM, time.Second)
	require.NoError(t, err)
	assert.True(t, res.AlreadyStopped, "an exited process is just started again")
	assert.Equal(t, 3, again.Record().Run)

	_, _, err = s.Restart(ctx, "nope", syscall.SIGTERM, time.Second)
	assert.ErrorIs(t, err, ErrUnknown)
}
