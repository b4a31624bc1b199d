package transport_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// client, stream, HTTP server and supervisor a test opens must be shut down
// by the time it ends.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
