package pgroup

// Tree lists the running members of group pgid and their running
// descendants, wherever those moved (a daemon that called setsid): the
// processes a readiness check of the group looks at. It only reads.
func Tree(pgid int) ([]int, error) {
	trees, err := Trees([]int{pgid})
	if err != nil {
		return nil, err
	}
	procs := trees[pgid]
	if len(procs) == 0 {
		return nil, nil
	}
	pids := make([]int, len(procs))
	for i, p := range procs {
		pids[i] = p.Pid
	}
	return pids, nil
}

// Trees is [Tree] for several groups at once, from a single scan of the
// processes, as a sampler of every group's CPU and memory needs it. For each
// of pgids that has running members it returns them, as the kernel reported
// them (CPU times included), members of the group first, then their
// descendants outside it. Ids of 1 or less, and groups without running
// members, have no entry.
func Trees(pgids []int) (map[int][]Proc, error) {
	want := make(map[int]bool, len(pgids))
	for _, g := range pgids {
		if g > 1 {
			want[g] = true
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	var all []Proc
	if err := Scan(func(p Proc) bool {
		if p.Running() {
			all = append(all, p)
		}
		return true
	}); err != nil {
		return nil, err
	}
	trees := make(map[int][]Proc, len(want))
	children := make(map[int][]int) // ppid -> indices into all
	for i, p := range all {
		if want[p.Pgrp] {
			trees[p.Pgrp] = append(trees[p.Pgrp], p)
		}
		children[p.PPid] = append(children[p.PPid], i)
	}
	// Descendants outside the group, breadth first: a scan is not in tree
	// order. in guards against a pid listed twice (a process that moved
	// between groups during the scan).
	for pgid, members := range trees {
		in := make(map[int]bool, len(members))
		for _, m := range members {
			in[m.Pid] = true
		}
		for next := 0; next < len(members); next++ {
			for _, i := range children[members[next].Pid] {
				if c := all[i]; !in[c.Pid] {
					in[c.Pid] = true
					members = append(members, c)
				}
			}
		}
		trees[pgid] = members
	}
	return trees, nil
}
