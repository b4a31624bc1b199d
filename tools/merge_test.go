package tools

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// merged is a merged page as "name|text" strings.
func merged(res mergedResult) []string {
	out := make([]string, len(res.Lines))
	for i, l := range res.Lines {
		out[i] = res.Names[res.Proc[i]] + "|" + l
	}
	return out
}

// TestMergedLogs: without a name, every process's lines in the order they
// were read, paged with a cursor that survives restarts and new processes.
func TestMergedLogs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	for _, n := range []string{"a", "b"} {
		ok[processInfo](h, "process_start", fmt.Sprintf(`{"name":%q,"argv":["cat"],"stdin":true}`, n))
	}
	lines := map[string]uint64{"a": 1, "b": 1} // the start notes
	say := func(name, text string) {
		ok[inputResult](h, "process_input", fmt.Sprintf(`{"name":%q,"text":%q}`, name, text))
		lines[name]++
		h.waitLines(name, lines[name]) // read before the next is written
	}
	say("a", "1")
	say("b", "2")
	say("a", "3")

	res, txt := ok[mergedResult](h, "process_logs", `{"stream":"stdout"}`)
	assert.Equal(t, []string{"a|1", "b|2", "a|3"}, merged(res))
	assert.Equal(t, []string{"a", "b"}, res.Names)
	assert.Contains(t, txt, "a | 1\nb | 2\na | 3\n[next_cursor=c1:a=3,b=2]")
	assert.Len(t, res.Seqs, 3)

	res, _ = ok[mergedResult](h, "process_logs", `{"stream":"stdout","tail":2}`)
	assert.Equal(t, []string{"b|2", "a|3"}, merged(res), "the newest two of all")

	// Paging forward from the start: an empty cursor reads every log from
	// its first line.
	first, _ := ok[mergedResult](h, "process_logs", `{"stream":"stdout","cursor":"c1:","limit":2}`)
	assert.Equal(t, []string{"a|1", "b|2"}, merged(first))
	assert.True(t, first.More)
	next, _ := ok[mergedResult](h, "process_logs", fmt.Sprintf(`{"stream":"stdout","cursor":%q}`, first.NextCursor))
	assert.Equal(t, []string{"a|3"}, merged(next))
	assert.False(t, next.More)
	empty, _ := ok[mergedResult](h, "process_logs", fmt.Sprintf(`{"cursor":%q}`, next.NextCursor))
	assert.Empty(t, empty.Lines, "nothing new")

	// A restart and a new process: the cursor returns exactly what came since.
	ok[processInfo](h, "process_restart", `{"name":"b"}`)
	lines["b"] += 2 // the exit note, the start note
	say("b", "4")
	ok[processInfo](h, "process_start", `{"name":"c","argv":["cat"],"stdin":true}`)
	lines["c"] = 1
	say("c", "5")
	later, _ := ok[mergedResult](h, "process_logs", fmt.Sprintf(`{"stream":"stdout","cursor":%q}`, next.NextCursor))
	assert.Equal(t, []string{"b|4", "c|5"}, merged(later))
	assert.Equal(t, []string{"b", "c"}, later.Names, "the processes of the page")

	only, _ := ok[mergedResult](h, "process_logs", `{"names":["c","a"],"stream":"stdout"}`)
	assert.Equal(t, []string{"a|1", "a|3", "c|5"}, merged(only))
	assert.Equal(t, []string{"a", "c"}, only.Names, "in order of appearance")
}

// TestLogsErrorsContextTime: detected errors, with context, and the time
// filters, for one process and merged.
func TestLogsErrorsContextTime(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	ok[processInfo](h, "process_start", `{"name":"tsc","command":"echo compiling; echo 'src/a.ts(12,7): error TS2322: bad'; echo checked; echo '0 errors'; echo 'npm ERR! code 2'"}`)
	h.waitDone("tsc")

	logs, _ := ok[logsResult](h, "process_logs", `{"name":"tsc","errors":true}`)
	assert.Equal(t, []string{"src/a.ts(12,7): error TS2322: bad", "npm ERR! code 2"}, logs.Lines)

	logs, txt := ok[logsResult](h, "process_logs", `{"name":"tsc","errors":true,"context":1,"stream":"stdout"}`)
	assert.Equal(t, []string{"compiling", "src/a.ts(12,7): error TS2322: bad", "checked", "0 errors", "npm ERR! code 2"}, logs.Lines)
	assert.Equal(t, []int{0, 2, 3}, logs.Context)
	assert.Contains(t, txt, "  compiling\n> src/a.ts(12,7): error TS2322: bad\n  checked\n  0 errors\n> npm ERR! code 2\n")

	logs, _ = ok[logsResult](h, "process_logs", `{"name":"tsc","grep":"checked","context":5,"stream":"stdout"}`)
	assert.Len(t, logs.Lines, 5, "context stops at the log's ends")
	assert.Equal(t, []int{0, 1, 3, 4}, logs.Context)

	all, _ := ok[mergedResult](h, "process_logs", `{"errors":true}`)
	assert.Equal(t, []string{"tsc|src/a.ts(12,7): error TS2322: bad", "tsc|npm ERR! code 2"}, merged(all))
	all, txt = ok[mergedResult](h, "process_logs", `{"errors":true,"context":1,"stream":"stdout"}`)
	assert.Equal(t, []string{"tsc|compiling", "tsc|src/a.ts(12,7): error TS2322: bad", "tsc|checked", "tsc|0 errors", "tsc|npm ERR! code 2"}, merged(all))
	assert.Equal(t, []int{0, 2, 3}, all.Context)
	assert.Contains(t, txt, "tsc |   compiling\ntsc | > src/a.ts(12,7)")

	logs, _ = ok[logsResult](h, "process_logs", `{"name":"tsc","last":"1h","stream":"stdout"}`)
	assert.Len(t, logs.Lines, 5)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	logs, _ = ok[logsResult](h, "process_logs", fmt.Sprintf(`{"name":"tsc","since_time":%q}`, future))
	assert.Empty(t, logs.Lines)
	all, _ = ok[mergedResult](h, "process_logs", fmt.Sprintf(`{"since_time":%q}`, future))
	assert.Empty(t, all.Lines)
	require.NotEmpty(t, all.NextCursor)
}
