package logring

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"time"
	"unicode/utf8"
)

// MaxLineBytes is the longest line stored as one piece. Longer output lines
// are cut at a UTF-8 boundary into pieces of at most this size, each but the
// last flagged [Line.Split].
const MaxLineBytes = 64 << 10

// Bounds of ingest's read buffer.
const (
	firstReadBytes = 4 << 10
	maxReadBytes   = 2 * MaxLineBytes
)

var replacementChar = []byte("\uFFFD")

// SplitLines is the one parser of child output. It calls emit for every
// complete line in data and returns how many bytes it consumed; the rest is
// an unfinished line to be completed by more data. Lines end in "\n" or
// "\r\n" (the ending is not passed on); a line longer than MaxLineBytes is
// cut at a rune boundary and its pieces but the last are emitted with split
// set; at EOF the unfinished rest is emitted too. Invalid UTF-8 is replaced
// by U+FFFD, so every emitted line is valid UTF-8. The slices passed to emit
// alias data or a scratch buffer and are valid only during the call.
func SplitLines(data []byte, atEOF bool, emit func(line []byte, split bool)) (consumed int) {
	for consumed < len(data) {
		rest := data[consumed:]
		window := rest
		if len(window) > MaxLineBytes+1 {
			window = window[:MaxLineBytes+1]
		}
		if i := bytes.IndexByte(window, '\n'); i >= 0 && i <= MaxLineBytes {
			line := rest[:i]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			emitValid(line, false, emit)
			consumed += i + 1
			continue
		}
		if len(rest) > MaxLineBytes {
			cut := runeCut(rest[:MaxLineBytes])
			emitValid(rest[:cut], true, emit)
			consumed += cut
			continue
		}
		if atEOF {
			line := rest
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			emitValid(line, false, emit)
			consumed = len(data)
		}
		break
	}
	return consumed
}

func emitValid(line []byte, split bool, emit func([]byte, bool)) {
	if !utf8.Valid(line) {
		line = bytes.ToValidUTF8(line, replacementChar)
		// A replacement may be longer than the bytes it replaces: cut again.
		for len(line) > MaxLineBytes {
			cut := runeCut(line[:MaxLineBytes])
			emit(line[:cut], true)
			line = line[cut:]
		}
	}
	emit(line, split)
}

// runeCut returns where to cut b, which is full-length and has no newline,
// so that no UTF-8 sequence is torn apart: before a last rune that is
// incomplete, else at len(b).
func runeCut(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax+1; i-- {
		if !utf8.RuneStart(b[i]) {
			continue
		}
		if utf8.FullRune(b[i:]) || i == 0 {
			return len(b)
		}
		return i
	}
	return len(b)
}

// PartialAfter is how long an unfinished line waits for more output before
// Ingest publishes it as a partial line.
const PartialAfter = 150 * time.Millisecond

// ingest reads rd until EOF or an error and appends its lines to the ring.
// The lines from one read share a timestamp, one acquisition of the
// writers' lock and one publication; they go straight from the read buffer
// into the ring. A closed pipe (os.ErrClosed) ends ingest like EOF.
//
// The read buffer starts at firstReadBytes and doubles, up to
// maxReadBytes, whenever a read fills it: a quiet process costs 4 KiB, a
// flood is read 128 KiB at a time, and a line without its newline yet
// always finds room (a full maxReadBytes buffer holds a MaxLineBytes piece
// that SplitLines cuts).
//
// If rd has read deadlines (a pipe does), an unfinished line that gets no
// more output for PartialAfter is published as a line flagged Partial, so
// that a prompt ("Enter value: ") can be seen and waited for; what follows
// starts a new line.
func (r *Ring) Ingest(stream Stream, rd io.Reader) error {
	buf := make([]byte, firstReadBytes)
	var b batch
	emit := func(line []byte, split bool) { r.addLocked(&b, line, split) }
	emitPartial := func(line []byte, split bool) { r.addRecLocked(&b, line, split, true) }
	dl, _ := rd.(interface{ SetReadDeadline(time.Time) error })
	armed := false // dl has a deadline set
	pending := 0
	for {
		n, err := rd.Read(buf[pending:])
		if armed && errors.Is(err, os.ErrDeadlineExceeded) {
			armed = false
			_ = dl.SetReadDeadline(time.Time{})
			if pending += n; pending > 0 {
				r.mu.Lock()
				b = r.beginLocked(stream, time.Now().UnixNano())
				SplitLines(buf[:pending], true, emitPartial)
				added := r.publishLocked(&b)
				r.mu.Unlock()
				if added {
					r.notify()
				}
				pending = 0
			}
			continue
		}
		filled := pending+n == len(buf)
		pending += n
		atEOF := err != nil
		// Lines end only at a newline, a cut or EOF. Without one, the new
		// bytes just extend the unfinished line: splitting would re-scan it
		// all and find nothing, which a child writing a long line a byte at
		// a time turns into quadratic work.
		if atEOF || pending > MaxLineBytes || bytes.IndexByte(buf[pending-n:pending], '\n') >= 0 {
			r.mu.Lock()
			b = r.beginLocked(stream, time.Now().UnixNano())
			consumed := SplitLines(buf[:pending], atEOF, emit)
			added := r.publishLocked(&b)
			r.mu.Unlock()
			if added {
				r.notify()
			}
			pending = copy(buf, buf[consumed:pending])
		}
		// Arm the deadline only while a line waits for its end, and not
		// during a flood, whose next read returns at once anyway.
		switch {
		case dl != nil && pending > 0 && !filled && err == nil:
			armed = dl.SetReadDeadline(time.Now().Add(PartialAfter)) == nil
		case armed:
			armed = false
			_ = dl.SetReadDeadline(time.Time{})
		}
		if filled && len(buf) < maxReadBytes {
			grown := make([]byte, min(2*len(buf), maxReadBytes))
			copy(grown, buf[:pending])
			buf = grown
		} else if filled {
			// A flood: the next read returns at once, so this goroutine
			// would keep its P until preempted (10 ms). Let the calls
			// queued behind it run first.
			runtime.Gosched()
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) {
				return nil
			}
			return err
		}
	}
}
