package crashguard

import (
	"errors"
	"fmt"
	"io"

	"github.com/rs/zerolog"
)

// startWatchdog starts none on Windows: the job objects procstate puts
// every child in kill the children when the server dies.
func startWatchdog(string, zerolog.Logger) (*watchdog, error) {
	return nil, fmt.Errorf("crash guard: %w on Windows: job objects kill the children when the server dies", errors.ErrUnsupported)
}

// RunWatchdog is never reached on Windows: no watchdog is started.
func RunWatchdog(io.Reader) error { return errors.ErrUnsupported }
