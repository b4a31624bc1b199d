package project

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
}

func TestManager(t *testing.T) {
	tests := []struct {
		lock, want string
	}{
		{"", "npm"},
		{"package-lock.json", "npm"},
		{"pnpm-lock.yaml", "pnpm"},
		{"yarn.lock", "yarn"},
		{"bun.lock", "bun"},
		{"bun.lockb", "bun"},
	}
	for _, tt := range tests {
		t.Run(tt.want+" "+tt.lock, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, map[string]string{PackageJSON: `{"scripts":{"dev":"vite","build:prod":"vite build","bad name":"x","num":1}}`})
			if tt.lock != "" {
				write(t, dir, map[string]string{tt.lock: ""})
			}
			s := Load(dir)
			assert.Equal(t, tt.want, s.Manager)
			assert.Equal(t, []string{"build:prod", "dev"}, s.Names, "invalid names and non-string scripts are left out")
			assert.Equal(t, []string{tt.want, "run", "dev"}, s.Def("dev").Argv)
			assert.Equal(t, PackageJSON, s.Def("dev").Source)
			assert.Empty(t, s.Errors)
		})
	}
}

const fixture = `{
  "$schema": "https://raw.githubusercontent.com/brummer-mcp/brummer-mcp/main/brummer.schema.json",
  "processes": {
    "db": {"argv": ["postgres", "-D", "data"], "wait_for": {"port": 5432}},
    "api": {
      "command": "go run ./cmd/api",
      "cwd": "backend",
      "env": {"PORT": "8080"},
      "depends_on": ["db"],
      "wait_for": {"log": "listening", "timeout_ms": 60000},
      "restart": "on-failure",
      "max_restarts": 5
    },
    "dev": {"command": "vite --port 5173", "depends_on": ["api"], "stdin": true}
  }
}
`

func TestBrummerJSON(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{PackageJSON: `{"scripts":{"dev":"vite","test":"vitest"}}`, BrummerJSON: fixture})
	s := Load(dir)
	require.Empty(t, s.Errors)
	assert.Equal(t, []string{"api", "db", "dev", "test"}, s.Names)
	api := s.Def("api")
	assert.Equal(t, &Def{
		Name: "api", Source: BrummerJSON, Command: "go run ./cmd/api", Cwd: "backend",
		Env: map[string]string{"PORT": "8080"}, DependsOn: []string{"db"},
		WaitFor: []byte(`{"log": "listening", "timeout_ms": 60000}`), Restart: "on-failure", MaxRestarts: 5,
	}, api)
	assert.Equal(t, BrummerJSON, s.Def("dev").Source, "brummer.json wins over package.json")
	assert.Equal(t, PackageJSON, s.Def("test").Source)

	var order []string
	for _, d := range s.StartOrder("dev") {
		order = append(order, d.Name)
	}
	assert.Equal(t, []string{"db", "api", "dev"}, order)
}

// TestConfigErrors: a mistake is reported with its place, and the rest of
// the file still serves.
func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		names []string
		want  []ConfigError
	}{
		{
			name: "syntax",
			text: "{\n  \"processes\": {\n    \"a\": {\"command\": \"x\",}\n  }\n}\n",
			want: []ConfigError{{File: BrummerJSON, Line: 3, Column: 26, Message: `invalid character '}' looking for beginning of object key string`}},
		},
		{
			name:  "unknown field",
			text:  "{\"processes\": {\n  \"ok\": {\"command\": \"x\"},\n  \"bad\": {\"command\": \"x\", \"cmd\": \"y\"}\n}}",
			names: []string{"ok"},
			want:  []ConfigError{{File: BrummerJSON, Line: 3, Column: 27, Message: `process "bad": unknown field "cmd"`}},
		},
		{
			name:  "wrong type",
			text:  "{\"processes\": {\n  \"w\": {\"argv\": \"ls -l\"}\n}}",
			want:  []ConfigError{{File: BrummerJSON, Line: 2, Column: 9, Message: `process "w": "argv" must not be a JSON string`}},
			names: nil,
		},
		{
			name: "both command and argv",
			text: `{"processes": {"x": {"command": "a", "argv": ["b"]}}}`,
			want: []ConfigError{{File: BrummerJSON, Line: 1, Column: 21, Message: `process "x": give exactly one of "command" and "argv"`}},
		},
		{
			name: "restart",
			text: `{"processes": {"x": {"command": "a", "restart": "sometimes"}}}`,
			want: []ConfigError{{File: BrummerJSON, Line: 1, Column: 21, Message: `process "x": "restart" must be one of never, on-failure, always, got "sometimes"`}},
		},
		{
			name: "unknown key",
			text: `{"procs": {}}`,
			want: []ConfigError{{File: BrummerJSON, Line: 1, Column: 3, Message: `unknown key "procs" (known: $schema, processes)`}},
		},
		{
			name:  "missing dependency and cycle",
			text:  `{"processes": {"a": {"command": "a", "depends_on": ["b", "ghost"]}, "b": {"command": "b", "depends_on": ["a"]}}}`,
			names: []string{"a", "b"},
			want: []ConfigError{
				{File: BrummerJSON, Message: `process "a" depends on "ghost", which is not defined`},
				{File: BrummerJSON, Message: `depends_on cycle: a -> b -> a`},
			},
		},
		{
			name: "truncated",
			text: `{"processes": {"a": {"command": "a"`,
			want: []ConfigError{{File: BrummerJSON, Line: 1, Column: 36, Message: `the file ends too early (a missing } or ]?)`}},
		},
		{
			name: "not an object",
			text: `[]`,
			want: []ConfigError{{File: BrummerJSON, Line: 1, Column: 2, Message: `the file must hold a JSON object`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, map[string]string{BrummerJSON: tt.text})
			s := Load(dir)
			assert.Equal(t, tt.want, s.Errors)
			if tt.names != nil {
				assert.Equal(t, tt.names, s.Names)
			}
		})
	}
}

func TestPackageJSONError(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{PackageJSON: "{\n  \"scripts\": {\"dev\": \"vite\"\n}\n"})
	s := Load(dir)
	require.Len(t, s.Errors, 1)
	assert.Equal(t, PackageJSON, s.Errors[0].File)
	assert.Equal(t, 4, s.Errors[0].Line)
	assert.Equal(t, "package.json:4:1: the file ends too early (a missing } or ]?)", s.Errors[0].Error())
}

// TestReload: a change is seen at the first look a second after the last
// check, not before; between checks a snapshot is a load.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{PackageJSON: `{"scripts":{"dev":"vite"}}`})
	var now atomic.Int64
	now.Store(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC).UnixNano())
	p := &Project{dir: dir, now: func() time.Time { return time.Unix(0, now.Load()) }}
	p.mu.Lock()
	p.reloadLocked()
	p.mu.Unlock()
	first := p.Snapshot()
	assert.Equal(t, []string{"dev"}, first.Names)

	write(t, dir, map[string]string{PackageJSON: `{"scripts":{"dev":"vite","test":"vitest"}}`, "pnpm-lock.yaml": ""})
	now.Add(int64(500 * time.Millisecond))
	assert.Same(t, first, p.Snapshot(), "checked at most once a second")
	now.Add(int64(600 * time.Millisecond))
	s := p.Snapshot()
	assert.Equal(t, []string{"dev", "test"}, s.Names)
	assert.Equal(t, "pnpm", s.Manager)
	now.Add(int64(2 * time.Second))
	assert.Same(t, s, p.Snapshot(), "unchanged files are not read again")
}

// TestSchema: the shipped JSON Schema accepts the README's example and
// refuses what the loader refuses.
func TestSchema(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "brummer.schema.json"))
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("brummer.schema.json", doc))
	schema, err := c.Compile("brummer.schema.json")
	require.NoError(t, err)
	for _, tt := range []struct {
		text string
		ok   bool
	}{
		{fixture, true},
		{`{"processes": {"a": {"command": "x", "cmd": "y"}}}`, false},
		{`{"processes": {"a": {"command": "x", "argv": ["y"]}}}`, false},
		{`{"processes": {"a": {}}}`, false},
		{`{"processes": {"a": {"argv": ["x"], "restart": "sometimes"}}}`, false},
		{`{"processes": {"a": {"argv": ["x"], "wait_for": {"log": "x", "port": 1}}}}`, false},
		{`{"processes": {"a b": {"argv": ["x"]}}}`, false},
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.text))
		require.NoError(t, err)
		err = schema.Validate(v)
		assert.Equal(t, tt.ok, err == nil, "%s: %v", tt.text, err)
		if tt.ok {
			dir := t.TempDir()
			write(t, dir, map[string]string{BrummerJSON: tt.text})
			assert.Empty(t, Load(dir).Errors)
		}
	}
}

// FuzzBrummerJSON: any file is read without a panic; every error has a
// place inside the file and a message.
func FuzzBrummerJSON(f *testing.F) {
	f.Add([]byte(fixture))
	f.Add([]byte(`{"processes": {"a": {"command": "a", "depends_on": ["a"]}}}`))
	f.Add([]byte(`{"processes": {"a": {"argv": [1]}}}`))
	f.Add([]byte(`{"$schema": 1, "x": [}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		defs, errs := parseBrummer(data)
		errs = append(errs, checkDeps(defs)...)
		lines := strings.Count(string(data), "\n") + 1
		for _, e := range errs {
			assert.NotEmpty(t, e.Message)
			assert.LessOrEqual(t, e.Line, lines)
		}
		for name, d := range defs {
			assert.True(t, validName(name), name)
			assert.Equal(t, d.Command == "", len(d.Argv) > 0, "exactly one of command and argv")
			for _, dep := range d.DependsOn {
				assert.NotNil(t, defs[dep], "dependency %q", dep)
			}
		}
	})
}
