package pgroup

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// stat builds a /proc/PID/stat line with the given comm, state, ppid,
// pgrp and start time; the fields between are as the kernel writes them.
func stat(pid, comm, state, ppid, pgrp, start string) string {
	// session .. minflt .. cmajflt (fields 6-13), utime 7, stime 5 (14,
	// 15), cutime .. itrealvalue (16-21)
	mid := strings.Repeat("0 ", 8) + "7 5 " + strings.Repeat("0 ", 6)
	return pid + " (" + comm + ") " + state + " " + ppid + " " + pgrp + " " + mid + start + " 1234 56 789\n"
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Proc
		ok   bool
	}{
		{"plain", stat("42", "sleep", "S", "1", "42", "1000"), Proc{Pid: 42, PPid: 1, Pgrp: 42, State: 'S', Start: 1000, UTime: 7, STime: 5}, true},
		{"comm with spaces and parentheses", stat("7", "a) (b c) X", "Z", "3", "5", "99"), Proc{Pid: 7, PPid: 3, Pgrp: 5, State: 'Z', Start: 99, UTime: 7, STime: 5}, true},
		{"empty comm", stat("8", "", "R", "2", "8", "0"), Proc{Pid: 8, PPid: 2, Pgrp: 8, State: 'R', UTime: 7, STime: 5}, true},
		{"empty", "", Proc{}, false},
		{"no parentheses", "42 sleep S 1 42", Proc{}, false},
		{"cut after comm", "42 (sleep)", Proc{}, false},
		{"too few fields", "42 (sleep) S 1 42 0 0", Proc{}, false},
		{"state of two letters", stat("42", "x", "SS", "1", "42", "5"), Proc{}, false},
		{"state not a letter", stat("42", "x", "\x00", "1", "42", "5"), Proc{}, false},
		{"state not ASCII", stat("42", "x", "\x9f", "1", "42", "5"), Proc{}, false},
		{"bad pid", stat("x", "x", "S", "1", "42", "5"), Proc{}, false},
		{"negative pid", stat("-4", "x", "S", "1", "42", "5"), Proc{}, false},
		{"bad ppid", stat("4", "x", "S", "y", "42", "5"), Proc{}, false},
		{"bad start", stat("4", "x", "S", "1", "42", "-5"), Proc{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseStat([]byte(tt.in))
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte(stat("42", "sleep", "S", "1", "42", "1000")))
	f.Add([]byte(stat("7", "a) (b", "Z", "3", "5", "99")))
	f.Add([]byte("1 ()"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := ParseStat(b)
		if !ok {
			assert.Equal(t, Proc{}, p)
			return
		}
		assert.Positive(t, p.Pid)
		assert.NotZero(t, p.State)
		// What parsed is what a stat line of those values says.
		round, ok2 := ParseStat([]byte(stat(itoa(p.Pid), "c", string([]byte{p.State}), itoa(p.PPid), itoa(p.Pgrp), utoa(p.Start))))
		assert.True(t, ok2)
		p.UTime, p.STime = 7, 5 // as stat writes them
		assert.Equal(t, p, round)
	})
}
