//go:build race

package detect

// raceEnabled reports whether the race detector is on; it makes
// allocation counts unreliable.
const raceEnabled = true
