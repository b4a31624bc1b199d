package guard

import (
	"errors"
	"fmt"

	"github.com/rs/zerolog"
)

// Start starts no guard on Windows: the job objects procstate puts every
// child in already kill the children when the server dies (see the package
// doc). The error wraps errors.ErrUnsupported; run the server without a
// guard.
func Start(string, zerolog.Logger) (*Client, error) {
	return nil, fmt.Errorf("guard: %w on Windows: job objects kill the children when the server dies", errors.ErrUnsupported)
}

// killGroup is never reached: no guard runs on Windows.
func killGroup(int) error { return errors.ErrUnsupported }
