package crashguard

import "github.com/rs/zerolog"

// Leftover is what a dead instance left running in one process group.
type Leftover struct {
	Instance, Pgid int
	Command        string
	Killed         int
	Err            error
}

// Recover has nothing to do on Windows: a dead server's job objects took
// its children with them.
func Recover(string, zerolog.Logger) ([]Leftover, error) { return nil, nil }
