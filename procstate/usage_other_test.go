//go:build !linux

package procstate

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestUsageUnsupported: without Linux there is no usage, and wanting it
// costs nothing.
func TestUsageUnsupported(t *testing.T) {
	s := newSupervisor(t, Config{})
	p, err := s.Start(helperSpec("sleep"))
	assert.NoError(t, err)
	s.WantUsage()
	_, ok := p.Usage()
	assert.False(t, ok)
	assert.Nil(t, s.usage)
}
