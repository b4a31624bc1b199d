package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDashboard: with HTTP, the server serves the dashboard on the same
// listener, says where, and keeps the token for its data.
func TestDashboard(t *testing.T) {
	sock, addr := httpSocket(t)
	s := startServerEnv(t, []string{"BRUMMER_TOKEN=s3cret"}, []*os.File{sock}, "--http-fd", "3")
	base := "http://" + addr
	assert.Contains(t, s.stderr.String(), `"message":"dashboard at `+base+`/"`)

	get := func(path, token string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, string(b)
	}
	res, body := get("/", "")
	require.Equal(t, http.StatusOK, res.StatusCode, "the page needs no token")
	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Contains(t, body, "<html")
	res, _ = get("/api/state", "")
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "its data does")

	s.call(t, "process_start", map[string]any{"name": "web", "command": "echo hi; exec sleep 60"})
	res, body = get("/api/state", "s3cret")
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	var st struct {
		Version   string `json:"version"`
		ReadOnly  bool   `json:"read_only"`
		Processes []struct {
			Name, Status string
		} `json:"processes"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	assert.Equal(t, versionString(), st.Version)
	assert.False(t, st.ReadOnly)
	require.Len(t, st.Processes, 1)
	assert.Equal(t, "web", st.Processes[0].Name)

	// An open event stream ends at shutdown, and does not hold it up.
	req, err := http.NewRequest(http.MethodGet, base+"/api/events?name=web", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer s3cret")
	events, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer events.Body.Close()
	require.Equal(t, http.StatusOK, events.StatusCode)
	sc := bufio.NewScanner(events.Body)
	for sc.Scan() && sc.Text() != "event: lines" {
	}
	start := time.Now()
	require.NoError(t, s.stdin.Close())
	assert.Equal(t, 0, s.wait(t))
	assert.Less(t, time.Since(start), 5*time.Second)
	for sc.Scan() { // to the end of the stream
	}
	assertOnlyJSONRPC(t, s.stdout.String())
}

// TestDashboardReadOnly: --read-only holds for the page's buttons too.
func TestDashboardReadOnly(t *testing.T) {
	sock, addr := httpSocket(t)
	s := startServerEnv(t, nil, []*os.File{sock}, "--http-fd", "3", "--read-only")
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/api/stop", strings.NewReader(`{"all":true}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Brummer-Action", "1")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusForbidden, res.StatusCode, string(body))
	assert.Contains(t, string(body), "read-only")
	require.NoError(t, s.stdin.Close())
	assert.Equal(t, 0, s.wait(t))
}

func TestPageURL(t *testing.T) {
	tests := []struct{ name, addr, want string }{
		{"loopback", "127.0.0.1:7777", "http://127.0.0.1:7777/"},
		{"any IPv4", "0.0.0.0:7777", "http://127.0.0.1:7777/"},
		{"any IPv6", "[::]:7777", "http://127.0.0.1:7777/"},
		{"IPv6 loopback", "[::1]:7777", "http://[::1]:7777/"},
		{"a name", "box.lan:80", "http://box.lan:80/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, pageURL(fakeAddr(tt.addr)))
		})
	}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }
