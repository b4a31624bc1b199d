//go:build !linux

package procstate

import (
	"time"

	"github.com/rs/zerolog"
)

// reaper is a no-op where there is no child subreaper: orphaned
// descendants go to init, which reaps them.
type reaper struct{}

func newReaper(bool, []int, func(), zerolog.Logger) *reaper { return &reaper{} }

func (r *reaper) subreaper() bool { return false }

func (r *reaper) spawn(_ *Process, start func() (int, error)) error {
	_, err := start()
	return err
}

func (r *reaper) waited(int, *Process)      {}
func (r *reaper) killOrphans(time.Duration) {}
func (r *reaper) close()                    {}
