package pgroup

// Tree lists the running members of group pgid and their running
// descendants, wherever those moved (a daemon that called setsid): the
// processes a readiness check of the group looks at. It only reads.
func Tree(pgid int) ([]int, error) {
	if pgid <= 1 {
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
	in := make(map[int]bool)
	var pids []int
	for _, p := range all {
		if p.Pgrp == pgid {
			in[p.Pid] = true
			pids = append(pids, p.Pid)
		}
	}
	// Descendants outside the group: repeat until no new one is found
	// (a scan is not in tree order).
	for grew := len(pids) > 0; grew; {
		grew = false
		for _, p := range all {
			if !in[p.Pid] && in[p.PPid] {
				in[p.Pid] = true
				pids = append(pids, p.Pid)
				grew = true
			}
		}
	}
	return pids, nil
}
