// Package project knows the project a server runs in: the scripts of its
// package.json, run with the package manager its lock file names, and the
// processes its brummer.json defines. Files are read again when they
// change, checked at most once a second and only when someone asks: no
// watcher, no goroutine.
//
// [StartScript] starts a defined process after what it depends on, each
// dependency waited for until it is ready: the one implementation of
// starting a project's script, for the tools and the dashboard alike. It
// runs on its caller's goroutine; what a definition's wait_for means, and
// what a caller's policy allows, the caller says ([Launcher]).
//
// # Concurrency contract
//
// A [Snapshot] is immutable. [Project.Snapshot] is an atomic load between
// checks of the files; the one caller that finds them changed reads them
// again under a mutex taken with TryLock, so no reader ever waits.
package project

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// The files a project is read from.
const (
	PackageJSON = "package.json"
	BrummerJSON = "brummer.json"
)

// maxFileBytes bounds a file read: a project file larger than this is
// reported, not read.
const maxFileBytes = 4 << 20

// maxProcesses bounds the processes of brummer.json.
const maxProcesses = 1000

// checkEvery is how often, at most, the files are checked for changes.
const checkEvery = time.Second

// Def is a process the project defines: a package.json script or a
// brummer.json process.
type Def struct {
	Name string
	// Source is PackageJSON or BrummerJSON.
	Source string
	// Command (a shell command line) or Argv.
	Command string
	Argv    []string
	// Cwd is relative to the project's directory, or absolute.
	Cwd string
	Env map[string]string
	// WaitFor is the wait_for object as written, checked by its user.
	WaitFor     json.RawMessage
	Restart     string
	MaxRestarts int
	Stdin       bool
	// DependsOn names processes that must be ready before this one starts.
	DependsOn []string
}

// ConfigError is a mistake in a project file, with its place.
type ConfigError struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

func (e ConfigError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Message
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
}

// Snapshot is what the project's files said when they were last read.
// It is immutable.
type Snapshot struct {
	// Dir is the project's directory.
	Dir string
	// Manager runs package.json scripts: npm, pnpm, yarn or bun.
	Manager string
	// Defs by name; brummer.json wins over package.json.
	Defs map[string]*Def
	// Names are the defined names, sorted.
	Names []string
	// Errors are the mistakes found in the files.
	Errors []ConfigError
}

// Def returns the definition of name, or nil.
func (s *Snapshot) Def(name string) *Def { return s.Defs[name] }

// Project reads a directory's project files on demand.
type Project struct {
	dir string
	now func() time.Time
	log zerolog.Logger

	snap    atomic.Pointer[Snapshot]
	checked atomic.Int64 // Unix nanoseconds of the last check

	mu     sync.Mutex // one reader of the files at a time
	stamps []stamp    // the files' states at the last read
}

// stamp is what a file looked like: a change in any field means read again.
type stamp struct {
	name  string
	size  int64
	mtime time.Time
	ok    bool
}

// New returns the project in dir, read once now. Mistakes in its files
// are logged to log at each read.
func New(dir string, log zerolog.Logger) *Project {
	p := &Project{dir: dir, now: time.Now, log: log}
	p.mu.Lock()
	p.reloadLocked()
	p.mu.Unlock()
	return p
}

// Snapshot returns what the project defines, reading the files again if
// they changed since they were read (checked at most once a second). It
// is safe for concurrent use and, between checks, only an atomic load.
func (p *Project) Snapshot() *Snapshot {
	now := p.now().UnixNano()
	if now-p.checked.Load() < int64(checkEvery) || !p.mu.TryLock() {
		return p.snap.Load()
	}
	defer p.mu.Unlock()
	if now-p.checked.Load() >= int64(checkEvery) {
		if !slices.Equal(p.stat(), p.stamps) {
			p.reloadLocked()
		}
		p.checked.Store(now)
	}
	return p.snap.Load()
}

// watched are the files whose change means a reload.
var watched = []string{PackageJSON, BrummerJSON, "bun.lock", "bun.lockb", "pnpm-lock.yaml", "yarn.lock"}

func (p *Project) stat() []stamp {
	out := make([]stamp, len(watched))
	for i, name := range watched {
		out[i].name = name
		if fi, err := os.Stat(filepath.Join(p.dir, name)); err == nil {
			out[i] = stamp{name: name, size: fi.Size(), mtime: fi.ModTime(), ok: true}
		}
	}
	return out
}

func (p *Project) reloadLocked() {
	p.stamps = p.stat()
	p.checked.Store(p.now().UnixNano())
	s := Load(p.dir)
	for _, e := range s.Errors {
		p.log.Warn().Str("file", filepath.Join(p.dir, e.File)).Int("line", e.Line).Int("column", e.Column).Msg(e.Message)
	}
	p.log.Debug().Str("dir", p.dir).Str("manager", s.Manager).Strs("processes", s.Names).Msg("project read")
	p.snap.Store(s)
}

// Load reads the project files of dir.
func Load(dir string) *Snapshot {
	s := &Snapshot{Dir: dir, Manager: manager(dir), Defs: map[string]*Def{}}
	if data, err := readFile(dir, PackageJSON); err != nil {
		s.addError(err, PackageJSON)
	} else if data != nil {
		scripts, cerr := parseScripts(data)
		if cerr != nil {
			s.Errors = append(s.Errors, *cerr)
		}
		for name := range scripts {
			s.Defs[name] = &Def{Name: name, Source: PackageJSON, Argv: []string{s.Manager, "run", name}}
		}
	}
	if data, err := readFile(dir, BrummerJSON); err != nil {
		s.addError(err, BrummerJSON)
	} else if data != nil {
		defs, errs := parseBrummer(data)
		s.Errors = append(s.Errors, errs...)
		maps.Copy(s.Defs, defs)
	}
	s.Errors = append(s.Errors, checkDeps(s.Defs)...)
	s.Names = slices.Sorted(maps.Keys(s.Defs))
	return s
}

func (s *Snapshot) addError(err error, file string) {
	s.Errors = append(s.Errors, ConfigError{File: file, Message: err.Error()})
}

// readFile returns the file's content, nil if it does not exist.
func readFile(dir, name string) ([]byte, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxFileBytes {
		return nil, fmt.Errorf("%d bytes, more than the %d read", fi.Size(), maxFileBytes)
	}
	buf := bytes.NewBuffer(make([]byte, 0, fi.Size()))
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, err
	}
	if buf.Len() > maxFileBytes {
		return nil, fmt.Errorf("more than the %d bytes read", maxFileBytes)
	}
	return buf.Bytes(), nil
}

// lockFiles name the package manager, in order of precedence.
var lockFiles = []struct{ file, manager string }{
	{"bun.lock", "bun"},
	{"bun.lockb", "bun"},
	{"pnpm-lock.yaml", "pnpm"},
	{"yarn.lock", "yarn"},
}

// manager picks the package manager from the lock file; npm without one.
func manager(dir string) string {
	for _, l := range lockFiles {
		if _, err := os.Stat(filepath.Join(dir, l.file)); err == nil {
			return l.manager
		}
	}
	return "npm"
}

// parseScripts returns the names of package.json's scripts.
func parseScripts(data []byte) (map[string]string, *ConfigError) {
	var pkg struct {
		Scripts map[string]json.RawMessage `json:"scripts"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		e := positioned(PackageJSON, data, 0, err)
		return nil, &e
	}
	out := make(map[string]string, len(pkg.Scripts))
	for name, raw := range pkg.Scripts {
		var cmd string
		if json.Unmarshal(raw, &cmd) == nil && validName(name) {
			out[name] = cmd
		}
	}
	return out, nil
}

// brummerProcess is a process as brummer.json writes it.
type brummerProcess struct {
	Command     string            `json:"command"`
	Argv        []string          `json:"argv"`
	Cwd         string            `json:"cwd"`
	Env         map[string]string `json:"env"`
	WaitFor     json.RawMessage   `json:"wait_for"`
	Restart     string            `json:"restart"`
	MaxRestarts int               `json:"max_restarts"`
	Stdin       bool              `json:"stdin"`
	DependsOn   []string          `json:"depends_on"`
}

// parseBrummer reads brummer.json: each process is read on its own, so a
// mistake in one leaves the others usable.
func parseBrummer(data []byte) (map[string]*Def, []ConfigError) {
	var errs []ConfigError
	fail := func(off int64, err error) {
		errs = append(errs, positioned(BrummerJSON, data, off, err))
	}
	// A syntax error first, from a scan of the whole file: a decoder's
	// offsets are not the file's.
	var any json.RawMessage
	if err := json.Unmarshal(data, &any); err != nil {
		fail(0, err)
		return nil, errs
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		fail(dec.InputOffset(), orErr(err, "the file must hold a JSON object"))
		return nil, errs
	}
	defs := map[string]*Def{}
	for dec.More() {
		keyOff := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			fail(dec.InputOffset(), err)
			return defs, errs
		}
		key, _ := tok.(string)
		switch key {
		case "$schema":
			var s string
			if err := dec.Decode(&s); err != nil {
				fail(keyOff, errors.New(`"$schema" must be a string`))
			}
		case "processes":
			if !parseProcesses(dec, data, defs, fail) {
				return defs, errs
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				fail(dec.InputOffset(), err)
				return defs, errs
			}
			fail(keyOff+1, fmt.Errorf("unknown key %q (known: $schema, processes)", key))
		}
	}
	if _, err := dec.Token(); err != nil {
		fail(dec.InputOffset(), err)
	}
	return defs, errs
}

// parseProcesses reads the "processes" object into defs; false when the
// file cannot be read further.
func parseProcesses(dec *json.Decoder, data []byte, defs map[string]*Def, fail func(int64, error)) bool {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		fail(dec.InputOffset(), orErr(err, `"processes" must be an object of name: process`))
		return err == nil && skipValue(dec)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			fail(dec.InputOffset(), err)
			return false
		}
		name, _ := tok.(string)
		if len(defs) >= maxProcesses {
			fail(dec.InputOffset(), fmt.Errorf("more than %d processes; the rest are ignored", maxProcesses))
			return false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			fail(dec.InputOffset(), err)
			return false
		}
		// The value starts after the key, the colon and any space.
		off := dec.InputOffset() - int64(len(raw))
		def, err := decodeProcess(name, raw)
		if err != nil {
			fail(off+errOffset(raw, err), fmt.Errorf("process %q: %s", name, message(err)))
			continue
		}
		defs[name] = def
	}
	_, err := dec.Token() // the closing brace
	if err != nil {
		fail(dec.InputOffset(), err)
		return false
	}
	return true
}

func skipValue(dec *json.Decoder) bool {
	var skip json.RawMessage
	return dec.Decode(&skip) == nil
}

func orErr(err error, msg string) error {
	if err != nil {
		return err
	}
	return errors.New(msg)
}

// restartPolicies are the values of "restart".
var restartPolicies = []string{"never", "on-failure", "always"}

// decodeProcess decodes and checks one brummer.json process.
func decodeProcess(name string, raw json.RawMessage) (*Def, error) {
	if !validName(name) {
		return nil, errors.New("the name must be 1-64 of letters, digits, '.', '_', ':', '-', starting with a letter or digit")
	}
	var bp brummerProcess
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&bp); err != nil {
		return nil, err
	}
	switch {
	case (bp.Command == "") == (len(bp.Argv) == 0):
		return nil, errors.New(`give exactly one of "command" and "argv"`)
	case bp.Restart != "" && !slices.Contains(restartPolicies, bp.Restart):
		return nil, fmt.Errorf(`"restart" must be one of %s, got %q`, strings.Join(restartPolicies, ", "), bp.Restart)
	case bp.MaxRestarts < 0:
		return nil, fmt.Errorf(`"max_restarts" must be at least 1, got %d`, bp.MaxRestarts)
	}
	if len(bp.WaitFor) > 0 && bp.WaitFor[0] != '{' {
		return nil, errors.New(`"wait_for" must be an object, e.g. {"log": "ready"}`)
	}
	return &Def{
		Name: name, Source: BrummerJSON,
		Command: bp.Command, Argv: bp.Argv, Cwd: bp.Cwd, Env: bp.Env,
		WaitFor: bp.WaitFor, Restart: bp.Restart, MaxRestarts: bp.MaxRestarts, Stdin: bp.Stdin,
		DependsOn: bp.DependsOn,
	}, nil
}

// errOffset is where in raw the decode error err points.
func errOffset(raw []byte, err error) int64 {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return syn.Offset
	case errors.As(err, &typ):
		// Offset is past the value; its field's key is the better place.
		if i := bytes.Index(raw, []byte(`"`+lastField(typ.Field)+`"`)); typ.Field != "" && i >= 0 {
			return int64(i)
		}
		return typ.Offset
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if i := bytes.Index(raw, []byte(field)); i >= 0 {
			return int64(i)
		}
	}
	return 0
}

func lastField(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// positioned is err at byte offset off of file's data.
func positioned(file string, data []byte, off int64, err error) ConfigError {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn) && syn.Offset >= int64(len(data)):
		off = int64(len(data)) // the end of the file
	case errors.As(err, &syn):
		off = syn.Offset - 1 // the offending byte
	case off > 0:
	case errors.As(err, &typ):
		off = typ.Offset
	}
	line, col := lineCol(data, off)
	return ConfigError{File: file, Line: line, Column: col, Message: message(err)}
}

// message is err in words for a person editing the file.
func message(err error) string {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field != "" {
		return fmt.Sprintf("%q must not be a JSON %s", typ.Field, typ.Value)
	}
	msg := err.Error()
	msg = strings.ReplaceAll(msg, "json: unknown field ", "unknown field ")
	msg = strings.ReplaceAll(msg, "json: ", "")
	for _, eof := range []string{"unexpected EOF", "unexpected end of JSON input"} {
		if msg == eof || strings.HasSuffix(msg, ": "+eof) {
			msg = strings.TrimSuffix(msg, eof) + "the file ends too early (a missing } or ]?)"
		}
	}
	return msg
}

// lineCol turns a byte offset into a 1-based line and column (in bytes).
func lineCol(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// validName is the process name rule of procstate.
func validName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != ':' && c != '-') {
			return false
		}
	}
	return true
}

// checkDeps reports depends_on names that are not defined, and cycles;
// a process with such a mistake keeps only its valid dependencies.
func checkDeps(defs map[string]*Def) []ConfigError {
	var errs []ConfigError
	names := slices.Sorted(maps.Keys(defs))
	for _, n := range names {
		d := defs[n]
		var keep []string
		for _, dep := range d.DependsOn {
			if defs[dep] == nil {
				errs = append(errs, ConfigError{File: BrummerJSON, Message: fmt.Sprintf("process %q depends on %q, which is not defined", n, dep)})
				continue
			}
			keep = append(keep, dep)
		}
		d.DependsOn = keep
	}
	// Depth first, once over the graph; an edge that closes a cycle is
	// reported and dropped.
	const white, grey, black = 0, 1, 2
	state := map[string]int{}
	var stack []string
	var visit func(n string)
	visit = func(n string) {
		state[n] = grey
		stack = append(stack, n)
		d := defs[n]
		var keep []string
		for _, dep := range d.DependsOn {
			switch state[dep] {
			case grey:
				cycle := append(slices.Clone(stack[slices.Index(stack, dep):]), dep)
				errs = append(errs, ConfigError{File: BrummerJSON, Message: "depends_on cycle: " + strings.Join(cycle, " -> ")})
				continue
			case white:
				visit(dep)
			}
			keep = append(keep, dep)
		}
		d.DependsOn = keep
		stack = stack[:len(stack)-1]
		state[n] = black
	}
	for _, n := range names {
		if state[n] == white {
			visit(n)
		}
	}
	return errs
}

// StartOrder returns the processes to start for name, dependencies first,
// each once; name is last.
func (s *Snapshot) StartOrder(name string) []*Def {
	var order []*Def
	seen := map[string]bool{}
	var visit func(n string)
	visit = func(n string) {
		if seen[n] || s.Defs[n] == nil {
			return
		}
		seen[n] = true
		for _, d := range s.Defs[n].DependsOn {
			visit(d)
		}
		order = append(order, s.Defs[n])
	}
	visit(name)
	return order
}
