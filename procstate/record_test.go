package procstate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestCommandLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rec  Record
		want string
	}{
		{"shell command as given", Record{Command: "npm run dev | tee x", Argv: []string{"/bin/sh", "-c", "npm run dev | tee x"}}, "npm run dev | tee x"},
		{"one plain word", Record{Argv: []string{"sleep"}}, "sleep"},
		{"plain words", Record{Argv: []string{"go", "test", "./...", "-run=X", "a@b:c%d+e,f"}}, "go test ./... -run=X a@b:c%d+e,f"},
		{"space", Record{Argv: []string{"echo", "a b"}}, "echo 'a b'"},
		{"single quote", Record{Argv: []string{"echo", "it's"}}, `echo 'it'\''s'`},
		{"empty argument", Record{Argv: []string{"printf", ""}}, "printf ''"},
		{"shell characters", Record{Argv: []string{"echo", "$HOME", "*", "a;b"}}, "echo '$HOME' '*' 'a;b'"},
		{"non-ASCII", Record{Argv: []string{"echo", "grüß"}}, "echo 'grüß'"},
		{"quoted program", Record{Argv: []string{"/opt/my app/run"}}, "'/opt/my app/run'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.rec.CommandLine())
		})
	}
}

func TestRunTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ms   int64
		want string
	}{
		{0, "0ms"},
		{850, "850ms"},
		{1000, "1.0s"},
		{12345, "12.3s"},
		{59949, "59.9s"},
		{60000, "1m00s"},
		{245000, "4m05s"},
		{3600000, "1h00m"},
		{7380000, "2h03m"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, RunTime(time.Duration(tt.ms)*time.Millisecond), "%d ms", tt.ms)
	}
}
