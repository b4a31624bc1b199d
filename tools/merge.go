package tools

import (
	"fmt"
)

// maxCursorBytes bounds a cursor argument.
const maxCursorBytes = 64 << 10

// cursorError says what is wrong with a cursor argument.
func cursorError(s string, err error) error {
	return fmt.Errorf(`"cursor" %q: %v; pass a next_cursor from process_logs, or omit it to read the newest lines`, truncate(s, 40), err)
}
