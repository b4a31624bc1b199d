package guard

import (
	"errors"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
)

func TestStartUnsupported(t *testing.T) {
	c, err := Start("brummer-mcp.exe", zerolog.Nop())
	assert.Nil(t, c)
	assert.ErrorIs(t, err, errors.ErrUnsupported)
}
