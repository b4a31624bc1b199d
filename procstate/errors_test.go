package procstate

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/logring"
)

// TestTypedErrors: each error an agent can act on carries its detail as
// values (errors.As) and still matches its sentinel (errors.Is), so that
// no caller parses error texts.
func TestTypedErrors(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "file"), nil, 0o600))
	s := newSupervisor(t, Config{Dir: dir})
	live, err := s.Start(withName("live", helperSpec("sleep")))
	require.NoError(t, err)

	t.Run("name in use", func(t *testing.T) {
		_, err := s.Start(withName("live", helperSpec("sleep")))
		var e *NameInUseError
		require.ErrorAs(t, err, &e)
		assert.ErrorIs(t, err, ErrNameInUse)
		assert.Equal(t, live.Record().Pid, e.Record.Pid)
		assert.Equal(t, "live", e.Record.Name)
	})
	t.Run("cwd", func(t *testing.T) {
		tests := []struct {
			name, cwd, detail string
			cause             error
		}{
			{"missing", "nope", `"` + filepath.Join(dir, "nope") + `" does not exist`, fs.ErrNotExist},
			{"a file", "file", `"` + filepath.Join(dir, "file") + `" is not a directory`, ErrNotDir},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.Start(Spec{Argv: []string{"true"}, Cwd: tt.cwd})
				var e *CwdError
				require.ErrorAs(t, err, &e)
				assert.ErrorIs(t, err, ErrBadCwd)
				assert.ErrorIs(t, err, tt.cause)
				assert.Equal(t, tt.detail, e.Detail())
				assert.Equal(t, "invalid working directory: "+tt.detail, err.Error())
			})
		}
	})
	t.Run("spawn", func(t *testing.T) {
		p, err := s.Start(Spec{Argv: []string{"/nonexistent/brummer-no-such-program"}})
		var e *SpawnError
		require.ErrorAs(t, err, &e)
		assert.ErrorIs(t, err, ErrSpawn)
		assert.Contains(t, e.Err.Error(), "no such file")
		assert.Equal(t, StatusFailed, p.Record().Status)
		assert.Equal(t, e.Err.Error(), p.Record().Error)
	})
	t.Run("cursor ahead", func(t *testing.T) {
		_, err := live.Log().Read(logring.Query{Since: 500, HasSince: true})
		var e *logring.CursorAheadError
		require.ErrorAs(t, err, &e)
		assert.True(t, errors.Is(err, logring.ErrCursorAhead))
		assert.Equal(t, logring.CursorAheadError{Since: 500, Newest: live.Log().Stats().LastSeq}, *e)
	})
}
