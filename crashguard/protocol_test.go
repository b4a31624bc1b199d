package crashguard

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParseLine(t *testing.T) {
	ref := pgroup.Ref{Pgid: 42, Start: 7, Reaped: 9, Known: map[int]uint64{43: 8}}
	tests := []struct {
		name string
		line string
		op   byte
		ref  pgroup.Ref
		bye  bool
		err  string
	}{
		{name: "add", line: strings.TrimSpace(string(encode(opAdd, ref))), op: opAdd, ref: ref},
		{name: "remove", line: `-{"pgid":42,"start":7}`, op: opRemove, ref: pgroup.Ref{Pgid: 42, Start: 7}},
		{name: "bye", line: "bye", bye: true},
		{name: "spaces", line: "  bye \r", bye: true},
		{name: "empty", line: "", err: `bad watchdog message: ""`},
		{name: "unknown op", line: `*{"pgid":42}`, err: "bad watchdog message"},
		{name: "no json", line: "+42", err: "bad watchdog message"},
		{name: "pgid 1", line: `+{"pgid":1,"start":7}`, err: "process group 1"},
		{name: "pgid 0", line: `+{"start":7}`, err: "process group 0"},
		{name: "negative pgid", line: `+{"pgid":-5}`, err: "process group -5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, ref, bye, err := parseLine([]byte(tt.line))
			if tt.err != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, errBadLine)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.op, op)
			assert.Equal(t, tt.ref, ref)
			assert.Equal(t, tt.bye, bye)
		})
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add([]byte(`+{"pgid":42,"start":7,"reaped":9,"known":{"43":8}}`))
	f.Add([]byte(`-{"pgid":42,"start":7}`))
	f.Add([]byte("bye"))
	f.Fuzz(func(t *testing.T, line []byte) {
		op, ref, bye, err := parseLine(line)
		if err != nil || bye {
			return
		}
		// What is accepted names a real group and round-trips.
		assert.Greater(t, ref.Pgid, 1)
		op2, ref2, _, err := parseLine(encode(op, ref))
		require.NoError(t, err)
		assert.Equal(t, op, op2)
		assert.Equal(t, ref, ref2)
	})
}

func TestReadGroups(t *testing.T) {
	a1 := pgroup.Ref{Pgid: 100, Start: 1}
	a1reaped := pgroup.Ref{Pgid: 100, Start: 1, Reaped: 5, Known: map[int]uint64{101: 2}}
	a2 := pgroup.Ref{Pgid: 100, Start: 9} // the same id, a later group
	b := pgroup.Ref{Pgid: 200, Start: 3}
	msgs := func(lines ...[]byte) string {
		var sb strings.Builder
		for _, l := range lines {
			sb.Write(l)
		}
		return sb.String()
	}
	tests := []struct {
		name string
		in   string
		want map[key]pgroup.Ref
		bye  bool
	}{
		{"EOF keeps the groups", msgs(encode(opAdd, a1), encode(opAdd, b)), map[key]pgroup.Ref{keyOf(a1): a1, keyOf(b): b}, false},
		{"bye", msgs(encode(opAdd, a1), []byte("bye\n")), map[key]pgroup.Ref{keyOf(a1): a1}, true},
		{"an update replaces the record", msgs(encode(opAdd, a1), encode(opAdd, a1reaped)), map[key]pgroup.Ref{keyOf(a1): a1reaped}, false},
		{"removed", msgs(encode(opAdd, a1), encode(opRemove, a1)), map[key]pgroup.Ref{}, false},
		{"an old group's removal spares a new one with its id", msgs(encode(opAdd, a1), encode(opAdd, a2), encode(opRemove, a1)), map[key]pgroup.Ref{keyOf(a2): a2}, false},
		{"garbage is skipped", msgs([]byte("hello\n+\n+{\"pgid\":1}\n"), encode(opAdd, b)), map[key]pgroup.Ref{keyOf(b): b}, false},
		{"no trailing newline", strings.TrimSuffix(string(encode(opAdd, b)), "\n"), map[key]pgroup.Ref{keyOf(b): b}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			groups, bye := readGroups(strings.NewReader(tt.in))
			got := map[key]pgroup.Ref{}
			for k, g := range groups {
				got[k] = g.ref
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.bye, bye)
		})
	}
}
