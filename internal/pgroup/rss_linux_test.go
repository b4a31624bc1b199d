package pgroup

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStatm(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want uint64
		ok   bool
	}{
		{"kernel", "5376 1529 1068 165 0 573 0\n", 1529, true},
		{"two fields", "10 3", 3, true},
		{"one field", "10\n", 0, false},
		{"empty", "", 0, false},
		{"not a number", "10 x 3", 0, false},
		{"negative", "10 -3 3", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseStatm([]byte(tt.in))
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func FuzzParseStatm(f *testing.F) {
	f.Add([]byte("5376 1529 1068 165 0 573 0\n"))
	f.Add([]byte("1 2"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pages, ok := parseStatm(b)
		if !ok {
			assert.Zero(t, pages)
		}
	})
}

// TestRSS: the test binary's own RSS is in the range its runtime reports,
// and a gone process has none.
func TestRSS(t *testing.T) {
	rss, err := RSS(os.Getpid())
	require.NoError(t, err)
	assert.Greater(t, rss, uint64(1<<20), "a Go test binary holds more than 1 MiB")
	assert.Less(t, rss, uint64(16<<30))
	assert.Zero(t, rss%pageSize)

	gone := exec.Command("true")
	require.NoError(t, gone.Run())
	_, err = RSS(gone.Process.Pid)
	assert.ErrorIs(t, err, os.ErrNotExist)
}
