//go:build unix

package pgroup

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestProve(t *testing.T) {
	leader := Proc{Pid: 10, PPid: 1, Pgrp: 10, Start: 100}
	old := Proc{Pid: 11, PPid: 1, Pgrp: 10, Start: 101}       // started before the reap
	newChild := Proc{Pid: 12, PPid: 11, Pgrp: 10, Start: 300} // forked by old after it
	grandchild := Proc{Pid: 13, PPid: 12, Pgrp: 10, Start: 301}
	orphan := Proc{Pid: 14, PPid: 1, Pgrp: 10, Start: 300}       // parent unknown, started after
	sameTick := Proc{Pid: 15, PPid: 1, Pgrp: 10, Start: 200}     // in the tick of the bound
	reusedParent := Proc{Pid: 16, PPid: 11, Pgrp: 10, Start: 50} // "child" older than its parent
	tests := []struct {
		name string
		in   []Proc
		rule Owned
		want []Proc
	}{
		{"none", nil, Owned{Before: 200}, []Proc{}},
		{"by start time", []Proc{leader, old}, Owned{Before: 200}, []Proc{leader, old}},
		{"descendants forked later, in any order", []Proc{grandchild, newChild, old}, Owned{Before: 200}, []Proc{grandchild, newChild, old}},
		{"a stranger started after the bound", []Proc{old, orphan}, Owned{Before: 200}, []Proc{old}},
		{"the bound's own tick is not claimed", []Proc{sameTick}, Owned{Before: 200}, []Proc{}},
		{"no bound: nothing by time", []Proc{leader, old, newChild}, Owned{Before: 0}, []Proc{}},
		{"known members", []Proc{sameTick, orphan}, Owned{Before: 200, Known: map[int]uint64{15: 200, 14: 299}}, []Proc{sameTick}},
		{"children of a subreaper", []Proc{orphan, newChild}, Owned{Pgid: 10, Parent: 1}, []Proc{orphan}},
		{"a subreaper's child that leads the group leads another one", []Proc{{Pid: 10, PPid: 1, Pgrp: 10, Start: 500}}, Owned{Pgid: 10, Parent: 1}, []Proc{}},
		{"a child older than its parent is no child", []Proc{old, reusedParent}, Owned{Before: 60}, []Proc{reusedParent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ElementsMatch(t, tt.want, tt.rule.prove(append([]Proc(nil), tt.in...)))
		})
	}
}
