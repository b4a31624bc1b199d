package logring

import "unsafe"

// unsafeString returns b as a string without copying. The caller guarantees
// that b is not modified while the string is in use: the ring uses it for
// text in its chunks during a read (which holds off their reuse) and for
// the copy a read returns, which is never written again.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
