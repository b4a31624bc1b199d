// Package probe asks whether a process is ready to serve: a TCP port
// accepts connections, an HTTP endpoint answers, a set of processes
// listens on a port. Every probe stays on the loopback interface: the
// server is no proxy.
package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrUnsupported is returned by Listening where the platform does not say
// which sockets a process holds.
var ErrUnsupported = errors.New("listening sockets are only known on Linux")

// ErrNotLoopback is the error of an HTTP probe of a host that is neither
// localhost nor a loopback address: it is refused at the dial.
var ErrNotLoopback = errors.New("not a loopback address")

// Port reports whether a TCP connection to port on 127.0.0.1 or ::1
// succeeds within timeout.
func Port(ctx context.Context, port int, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	for _, host := range [...]string{"127.0.0.1", "::1"} {
		c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			c.Close()
			return true
		}
	}
	return false
}

// LoopbackURL parses raw, an http URL whose host must be localhost or a
// loopback address, and says what is wrong with it otherwise.
func LoopbackURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("not a URL: %v", errors.Unwrap(err))
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("the scheme must be http or https, got %q", u.Scheme)
	case u.User != nil:
		return nil, errors.New("user info is not allowed")
	case !Loopback(u.Hostname()):
		return nil, fmt.Errorf("the host must be localhost, 127.0.0.1 or [::1], got %q", u.Hostname())
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("the port must be 1..65535, got %q", p)
		}
	}
	return u, nil
}

// Loopback reports whether host names this machine's loopback interface.
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// HTTP sends a GET to u, which LoopbackURL accepted, and returns the
// status. Redirects are not followed: a redirect is an answer.
type HTTP struct {
	client *http.Client
}

// NewHTTP returns a prober whose requests time out after timeout. It
// dials loopback addresses only, whatever a name resolves to.
func NewHTTP(timeout time.Duration) *HTTP {
	d := &net.Dialer{Timeout: timeout}
	tr := &http.Transport{
		Proxy:             nil, // never through a proxy: the target is this machine
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if strings.EqualFold(host, "localhost") {
				// Resolve it ourselves: only loopback addresses.
				var last error
				for _, h := range [...]string{"127.0.0.1", "::1"} {
					c, err := d.DialContext(ctx, network, net.JoinHostPort(h, port))
					if err == nil {
						return c, nil
					}
					last = err
				}
				return nil, last
			}
			if !Loopback(host) {
				return nil, fmt.Errorf("%w: %s", ErrNotLoopback, host)
			}
			return d.DialContext(ctx, network, addr)
		},
		ResponseHeaderTimeout: timeout,
		// Local dev servers use self-signed certificates (Vite's basicSsl,
		// mkcert without its CA installed). The probe talks to loopback
		// only and sends nothing secret: whether it answers is all it asks.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // see above
	}
	return &HTTP{client: &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Get returns the status of a GET of u, or the error that prevented one.
func (h *HTTP) Get(ctx context.Context, u *url.URL) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "brummer-mcp readiness probe")
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// CloseIdle releases the prober's connections.
func (h *HTTP) CloseIdle() { h.client.CloseIdleConnections() }
