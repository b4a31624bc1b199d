package pgroup

// Ref identifies a process group across pid reuse, for records kept
// outside the server: the crash guard and the state file.
type Ref struct {
	// Pgid is the group's id, its leader's pid.
	Pgid int `json:"pgid"`
	// Start is the leader's start time (0 where it cannot be read).
	Start uint64 `json:"start"`
	// Reaped is a tick just before the server reaped the leader; 0 while
	// the server has not.
	Reaped uint64 `json:"reaped,omitempty"`
	// Known are the other members (pid -> start time) that were in the
	// group just before the leader's reap, if they were looked for.
	Known map[int]uint64 `json:"known,omitempty"`
}
