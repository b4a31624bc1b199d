package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LocalHost", true},
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"localhost.", false},
		{"localhost.example.com", false},
		{"0.0.0.0", false},
		{"::", false},
		{"10.0.0.1", false},
		{"example.com", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			assert.Equal(t, tt.want, Loopback(tt.host))
		})
	}
}

func TestLoopbackURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		raw      string
		wantHost string // Hostname of the URL accepted
		wantErr  string // part of the error; "" if accepted
	}{
		{name: "localhost", raw: "http://localhost:3000/health", wantHost: "localhost"},
		{name: "localhost without a port", raw: "http://localhost/", wantHost: "localhost"},
		{name: "upper case", raw: "HTTP://LOCALHOST:3000/", wantHost: "LOCALHOST"},
		{name: "127.0.0.1", raw: "http://127.0.0.1:8080", wantHost: "127.0.0.1"},
		{name: "::1", raw: "http://[::1]:8080/x?y=1", wantHost: "::1"},
		{name: "127.1.2.3", raw: "http://127.1.2.3:80/", wantHost: "127.1.2.3"},
		{name: "https", raw: "https://localhost:8443/", wantHost: "localhost"},
		{name: "ftp scheme", raw: "ftp://localhost/", wantErr: `the scheme must be http or https, got "ftp"`},
		{name: "no scheme", raw: "localhost:3000", wantErr: `the scheme must be http or https, got "localhost"`},
		{name: "empty", raw: "", wantErr: `got ""`},
		{name: "external host", raw: "http://example.com/", wantErr: `the host must be localhost, 127.0.0.1 or [::1], got "example.com"`},
		{name: "external address", raw: "http://10.0.0.1:3000/", wantErr: `got "10.0.0.1"`},
		{name: "all interfaces", raw: "http://0.0.0.0:3000/", wantErr: `got "0.0.0.0"`},
		{name: "localhost as a subdomain", raw: "http://localhost.example.com/", wantErr: `got "localhost.example.com"`},
		{name: "no host", raw: "http:///path", wantErr: `got ""`},
		{name: "user info", raw: "http://user:secret@localhost/", wantErr: "user info is not allowed"},
		{name: "user info hiding a host", raw: "http://localhost@example.com/", wantErr: "user info is not allowed"},
		{name: "port too large", raw: "http://localhost:99999/", wantErr: `the port must be 1..65535, got "99999"`},
		{name: "port 0", raw: "http://127.0.0.1:0/", wantErr: `got "0"`},
		{name: "bad URL", raw: "http://%zz/", wantErr: "not a URL"},
		{name: "missing scheme", raw: "://localhost", wantErr: "not a URL: missing protocol scheme"},
		{name: "bad port", raw: "http://localhost:x/", wantErr: "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := LoopbackURL(tt.raw)
			assert.Equal(t, tt.wantErr == "", err == nil, "error: %v", err)
			assert.Contains(t, errText(err), tt.wantErr)
			assert.Equal(t, tt.wantHost, hostname(u))
		})
	}
}

// errText is err's text, "" for none.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// hostname is u's host without a port, "" for no URL.
func hostname(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Hostname()
}

// listen returns a TCP listener on addr that the test's cleanup closes,
// and its port; it skips the test where addr cannot be listened on (no
// IPv6).
func listen(t *testing.T, addr string) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("listen %s: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, ln.Addr().(*net.TCPAddr).Port
}

// closedPort returns a port of 127.0.0.1 that was free a moment ago.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

func TestPort(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		addr string // listened on; "" for nothing
		ctx  context.Context
		want bool
	}{
		{name: "IPv4", addr: "127.0.0.1:0", ctx: context.Background(), want: true},
		{name: "IPv6", addr: "[::1]:0", ctx: context.Background(), want: true},
		{name: "nothing listens", ctx: context.Background(), want: false},
		{name: "cancelled", addr: "127.0.0.1:0", ctx: cancelled, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := closedPort(t)
			if tt.addr != "" {
				_, port = listen(t, tt.addr)
			}
			assert.Equal(t, tt.want, Port(tt.ctx, port, time.Second))
		})
	}
}

// TestHTTPGet: the prober reports the status of loopback servers, follows
// no redirect, and dials nothing but loopback addresses, whatever the URL
// names.
func TestHTTPGet(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
		case "/broken":
			w.WriteHeader(http.StatusInternalServerError)
		case "/moved":
			http.Redirect(w, r, "http://example.com/", http.StatusFound)
		case "/moved-here":
			http.Redirect(w, r, "/missing", http.StatusMovedPermanently)
		case "/hang":
			select {
			case <-r.Context().Done():
			case <-hang:
			}
		}
	}))
	t.Cleanup(func() {
		close(hang)
		srv.Close()
	})
	port := strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)
	prober := NewHTTP(time.Second)
	t.Cleanup(prober.CloseIdle)
	tests := []struct {
		name       string
		url        string
		wantStatus int
		wantErr    error // matched with errors.Is; nil for none
		anyErr     bool  // some error, not a status
	}{
		{name: "ok", url: "http://127.0.0.1:" + port + "/ok", wantStatus: http.StatusOK},
		{name: "localhost", url: "http://localhost:" + port + "/ok", wantStatus: http.StatusOK},
		{name: "404", url: "http://127.0.0.1:" + port + "/missing", wantStatus: http.StatusNotFound},
		{name: "500", url: "http://127.0.0.1:" + port + "/broken", wantStatus: http.StatusInternalServerError},
		{name: "redirect to an external host", url: "http://127.0.0.1:" + port + "/moved", wantStatus: http.StatusFound},
		{name: "redirect to the same server", url: "http://127.0.0.1:" + port + "/moved-here", wantStatus: http.StatusMovedPermanently},
		{name: "external host", url: "http://example.com:" + port + "/ok", wantErr: ErrNotLoopback},
		{name: "a name of the loopback other than localhost", url: "http://localhost.localdomain:" + port + "/ok", wantErr: ErrNotLoopback},
		{name: "external address", url: "http://192.0.2.1:" + port + "/ok", wantErr: ErrNotLoopback},
		{name: "nothing listens", url: "http://127.0.0.1:" + strconv.Itoa(closedPort(t)) + "/", anyErr: true},
		{name: "no answer within the timeout", url: "http://127.0.0.1:" + port + "/hang", anyErr: true},
		{name: "TLS to a plain server", url: "https://127.0.0.1:" + port + "/ok", anyErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tt.url) // not LoopbackURL: the dialer must refuse by itself
			require.NoError(t, err)
			status, err := prober.Get(t.Context(), u)
			assert.Equal(t, tt.wantStatus, status)
			switch {
			case tt.wantErr != nil:
				assert.ErrorIs(t, err, tt.wantErr)
			case tt.anyErr:
				assert.Error(t, err)
			default:
				assert.NoError(t, err)
			}
		})
	}
}

// TestHTTPGetCancel: a cancelled context ends a probe without an answer
// at once.
func TestHTTPGetCancel(t *testing.T) {
	t.Parallel()
	asked := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(asked) // asked once
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	u, err := LoopbackURL(srv.URL)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	type answer struct {
		status int
		err    error
	}
	done := make(chan answer, 1) // its one answer
	go func() {
		status, err := NewHTTP(time.Minute).Get(ctx, u)
		done <- answer{status, err}
	}()
	<-asked
	cancel()
	select {
	case a := <-done:
		assert.ErrorIs(t, a.err, context.Canceled)
		assert.Zero(t, a.status)
	case <-time.After(5 * time.Second):
		require.FailNow(t, "the cancelled probe did not return")
	}
}

// TestHTTPSelfSigned: a local dev server on HTTPS with a self-signed
// certificate is ready when it answers.
func TestHTTPSelfSigned(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	u, err := LoopbackURL(srv.URL + "/")
	require.NoError(t, err)
	status, err := NewHTTP(time.Second).Get(t.Context(), u)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
}
