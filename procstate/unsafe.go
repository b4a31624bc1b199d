package procstate

import "unsafe"

// unsafeString returns b as a string without copying. The caller guarantees
// that b is never modified afterwards: the ring's text chunks are written
// once, then only read.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
