package crashguard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/brummer-mcp/brummer-mcp/internal/pgroup"
)

// The watchdog's protocol: one line per message on its stdin.
//
//	+{"pgid":P,"start":S,...}  record a group (or update the record of P, S)
//	-{"pgid":P,"start":S}      forget it: nothing left in it is ours
//	bye                        clean shutdown: exit without killing
const (
	opAdd    = '+'
	opRemove = '-'
	byeLine  = "bye"
)

// key identifies a group across pid reuse.
type key struct {
	pgid  int
	start uint64
}

func keyOf(r pgroup.Ref) key { return key{r.Pgid, r.Start} }

// encode returns the message for op and r, newline included.
func encode(op byte, r pgroup.Ref) []byte {
	b, _ := json.Marshal(r) // a Ref always marshals
	line := make([]byte, 0, len(b)+2)
	line = append(line, op)
	line = append(line, b...)
	return append(line, '\n')
}

// errBadLine is wrapped by parseLine's errors.
var errBadLine = errors.New("bad watchdog message")

// parseLine decodes one message (without its newline). bye reports "bye".
func parseLine(line []byte) (op byte, r pgroup.Ref, bye bool, err error) {
	line = bytes.TrimSpace(line)
	if string(line) == byeLine {
		return 0, r, true, nil
	}
	if len(line) < 2 || (line[0] != opAdd && line[0] != opRemove) {
		return 0, r, false, fmt.Errorf("%w: %q", errBadLine, line)
	}
	if err := json.Unmarshal(line[1:], &r); err != nil {
		return 0, r, false, fmt.Errorf("%w: %v", errBadLine, err)
	}
	if len(r.Known) == 0 {
		r.Known = nil // as an empty record is written
	}
	if r.Pgid <= 1 {
		// never -1 or -0: that would be everything we may signal
		return 0, r, false, fmt.Errorf("%w: process group %d", errBadLine, r.Pgid)
	}
	return line[0], r, false, nil
}
