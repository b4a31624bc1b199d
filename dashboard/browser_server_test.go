package dashboard_test

// The server the browser tests drive: the real brummer-mcp binary, built
// once per run, serving HTTP on a loopback port in a project directory made
// for the test. Processes are started as an agent starts them, through the
// MCP tools over streamable HTTP.

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// buildServer builds cmd/brummer-mcp into a directory of t.
func buildServer(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "brummer-mcp")
	// -buildvcs=false: a checkout owned by another user (git's
	// safe.directory) or without git must not fail the build.
	cmd := exec.Command(goTool, "build", "-buildvcs=false", "-o", bin, "github.com/brummer-mcp/brummer-mcp/cmd/brummer-mcp")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/brummer-mcp: %v\n%s", err, out)
	}
	return bin
}

type serverOptions struct {
	project  map[string]string // the files of a project made for the test
	fixture  string            // or a directory whose files are copied
	dir      string            // the project directory; default a new one
	args     []string          // more flags
	token    string
	readOnly bool
}

// testServer is a running brummer-mcp and an MCP session with it.
type testServer struct {
	URL     string
	session *sdk.ClientSession

	mu     sync.Mutex
	stderr strings.Builder
}

// newServer starts bin on 127.0.0.1:0 in a new project directory.
func newServer(t *testing.T, bin string, o serverOptions) *testServer {
	t.Helper()
	dir := o.dir
	if dir == "" {
		dir = t.TempDir()
	}
	files := o.project
	if o.fixture != "" {
		files = map[string]string{}
		entries, err := os.ReadDir(o.fixture)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				b, err := os.ReadFile(filepath.Join(o.fixture, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				files[e.Name()] = string(b)
			}
		}
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"--no-stdio", "--http", "127.0.0.1:0", "--cwd", dir, "--state-dir", "", "--stop-grace", "2s", "--log-level", "info"}
	if o.readOnly {
		args = append(args, "--read-only")
	}
	args = append(args, o.args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "BRUMMER_TOKEN="+o.token)
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &testServer{}
	addr := make(chan string, 1)
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.stderr.WriteString(line + "\n")
			s.mu.Unlock()
			var entry struct {
				Message string `json:"message"`
				Addr    string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil && strings.HasPrefix(entry.Message, "serving MCP over HTTP") && entry.Addr != "" {
				select {
				case addr <- entry.Addr:
				default:
				}
			}
		}
	}()
	waited := make(chan error, 1)
	go func() {
		<-logDone
		waited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if s.session != nil {
			_ = s.session.Close()
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-waited:
			if err != nil {
				t.Errorf("brummer-mcp exited with %v", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-waited
			t.Error("brummer-mcp did not exit within 10 s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("brummer-mcp log:\n%s", s.log())
		}
	})
	select {
	case a := <-addr:
		s.URL = "http://" + a
	case err := <-waited:
		t.Fatalf("brummer-mcp exited before serving: %v\n%s", err, s.log())
	case <-time.After(15 * time.Second):
		t.Fatalf("brummer-mcp did not log its HTTP address\n%s", s.log())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := sdk.NewClient(&sdk.Implementation{Name: "dashboard-browser-test", Version: "1"}, nil)
	tr := &sdk.StreamableClientTransport{Endpoint: s.URL + "/mcp", DisableStandaloneSSE: true}
	if o.token != "" {
		tr.HTTPClient = &http.Client{Transport: bearer{o.token, http.DefaultTransport}}
	}
	if s.session, err = client.Connect(ctx, tr, nil); err != nil {
		t.Fatalf("MCP session: %v\n%s", err, s.log())
	}
	return s
}

func (s *testServer) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// call calls an MCP tool and fails t on an error result.
func (s *testServer) call(t *testing.T, tool string, args map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.session.CallTool(ctx, &sdk.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s %v: %v", tool, args, err)
	}
	if res.IsError {
		var text []string
		for _, c := range res.Content {
			if tc, ok := c.(*sdk.TextContent); ok {
				text = append(text, tc.Text)
			}
		}
		t.Fatalf("%s %v: %s", tool, args, strings.Join(text, "\n"))
	}
}

// start starts command as name, as an agent does.
func (s *testServer) start(t *testing.T, name, command string) {
	t.Helper()
	s.call(t, "process_start", map[string]any{"name": name, "command": command})
}

// startScript starts a process the project defines (and what it depends
// on, waiting for each to be ready).
func (s *testServer) startScript(t *testing.T, script string) {
	t.Helper()
	s.call(t, "process_start", map[string]any{"script": script})
}

// input writes a line to name's stdin.
func (s *testServer) input(t *testing.T, name, text string) {
	t.Helper()
	s.call(t, "process_input", map[string]any{"name": name, "text": text})
}

// get fetches a path of the server, with a token if one is given.
func (s *testServer) get(t *testing.T, path, token string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res, string(b)
}
