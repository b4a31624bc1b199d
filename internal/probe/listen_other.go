//go:build !linux

package probe

// Listening is not available here: it returns ErrUnsupported.
func Listening([]int) ([]int, error) { return nil, ErrUnsupported }

// ListenSupported says whether Listening works on this platform.
const ListenSupported = false
