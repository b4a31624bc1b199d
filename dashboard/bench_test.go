package dashboard

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	mcptransport "github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/procstate"
	"github.com/brummer-mcp/brummer-mcp/tools"
	"github.com/brummer-mcp/brummer-mcp/transport"
)

// pagesFollowing is how many dashboard pages the benchmark opens.
const pagesFollowing = 20

// BenchmarkListWithPages measures what open dashboards cost the agents:
// process_list over streamable HTTP (the server as main wires it: tools,
// transport, the dashboard on the same listener) while a child floods
// stdout, with no page open and with 20 pages following the flood, in
// alternating blocks of 2 s, 4 of each (each first by turns), in the same
// run. It reports p50 and p99 of both and their ratios (the goal: the p99
// with pages within 1.2x of the p99 without), the lines per second each
// page got, and the flood's ingest rate in both. The view is the flooding
// process's log ("one") or all logs merged ("all", the page's first view).
// It runs for about 16 s per view, whatever -benchtime says. Everything
// shares the machine's cores, as in real use: the child, the server, the
// MCP client and the 20 pages' readers.
//
//	go test -run '^$' -bench ListWithPages ./dashboard/
func BenchmarkListWithPages(b *testing.B) {
	for _, view := range []string{"one", "all"} {
		b.Run("view="+view, func(b *testing.B) { benchListWithPages(b, view) })
	}
}

func benchListWithPages(b *testing.B, view string) {
	ctx := context.Background()
	sup, err := procstate.New(procstate.Config{Dir: b.TempDir(), StopGrace: 2 * time.Second}, zerolog.Nop())
	require.NoError(b, err)
	defer func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = sup.Close(cctx)
	}()
	srv := tools.NewServer(sup, "bench", tools.Policy{}, zerolog.Nop())
	defer srv.Close()
	d := New(Config{Sup: sup, Version: "bench", Log: zerolog.Nop()})
	defer d.Close()
	web, err := transport.NewHTTP(srv.MCPServer, transport.HTTPConfig{Addr: "127.0.0.1:0", UI: d.Handler()}, zerolog.Nop())
	require.NoError(b, err)
	ts := httptest.NewServer(web.Handler())
	defer ts.Close()
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = web.Shutdown(sctx)
	}()

	for i := range 10 {
		_, err := sup.Start(procstate.Spec{Name: "sleep-" + string(rune('a'+i)), Command: "echo ready; exec sleep 600"})
		require.NoError(b, err)
	}
	// 100-byte lines, as fast as yes writes them.
	flood, err := sup.Start(procstate.Spec{Name: "flood", Argv: []string{"yes", strings.Repeat("x", 99)}})
	require.NoError(b, err)

	c, err := client.NewStreamableHttpClient(ts.URL+"/mcp", mcptransport.WithHTTPLogger(slog.New(slog.DiscardHandler)))
	require.NoError(b, err)
	client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION)(c)
	defer c.Close()
	require.NoError(b, c.Start(ctx))
	_, err = c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ProtocolVersion: mcp.LATEST_LEGACY_PROTOCOL_VERSION,
		ClientInfo:      mcp.Implementation{Name: "bench", Version: "1"},
	}})
	require.NoError(b, err)
	list := func(n int) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			t0 := time.Now()
			res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "process_list"}})
			out[i] = time.Since(t0)
			require.NoError(b, err)
			require.False(b, res.IsError)
		}
		return out
	}
	list(200) // warm up
	listFor := func(d time.Duration) []time.Duration {
		var out []time.Duration
		for end := time.Now().Add(d); time.Now().Before(end); {
			out = append(out, list(100)...)
		}
		return out
	}

	query := "name=flood"
	if view == "all" {
		query = "name="
	}
	const (
		blocks    = 4
		blockTime = 2 * time.Second
	)
	var none, pages []time.Duration
	var floodNone, floodPages rate
	var got atomic.Int64 // lines the pages got
	var pageLines int64
	var pagesTime time.Duration
	b.ResetTimer()
	withPages := func() {
		stop := openPages(b, ts.URL, query, pagesFollowing, &got)
		n0, t0 := got.Load(), time.Now()
		floodPages.measure(flood, func() { pages = append(pages, listFor(blockTime)...) })
		pageLines += got.Load() - n0
		pagesTime += time.Since(t0)
		stop()
	}
	without := func() { floodNone.measure(flood, func() { none = append(none, listFor(blockTime)...) }) }
	for i := range blocks {
		if i%2 == 0 { // either first by turns: no drift favours one
			without()
			withPages()
		} else {
			withPages()
			without()
		}
	}
	b.StopTimer()
	p50n, p99n := quantiles(none)
	p50p, p99p := quantiles(pages)
	b.ReportMetric(float64(p50n.Microseconds()), "p50-none-us")
	b.ReportMetric(float64(p99n.Microseconds()), "p99-none-us")
	b.ReportMetric(float64(p50p.Microseconds()), "p50-pages-us")
	b.ReportMetric(float64(p99p.Microseconds()), "p99-pages-us")
	b.ReportMetric(float64(p50p)/float64(p50n), "p50-ratio")
	b.ReportMetric(float64(p99p)/float64(p99n), "p99-ratio")
	b.ReportMetric(float64(pageLines)/pagesTime.Seconds()/pagesFollowing, "lines/s/page")
	b.ReportMetric(float64(len(none)), "calls-none")
	b.ReportMetric(floodNone.perSec()/1e6, "flood-Mlines/s-none")
	b.ReportMetric(floodPages.perSec()/1e6, "flood-Mlines/s-pages")
	b.ReportMetric(0, "ns/op") // the figures above say it
}

// rate counts a log's lines over the time of measured blocks.
type rate struct {
	lines uint64
	took  time.Duration
}

func (r *rate) measure(p *procstate.Process, block func()) {
	seq0, t0 := p.Log().Stats().LastSeq, time.Now()
	block()
	r.lines += p.Log().Stats().LastSeq - seq0
	r.took += time.Since(t0)
}

func (r *rate) perSec() float64 { return float64(r.lines) / r.took.Seconds() }

func quantiles(d []time.Duration) (p50, p99 time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2], s[min(len(s)-1, len(s)*99/100)]
}

// openPages opens n event streams of view query, as pages that follow
// from their start, each read to the end and decoded enough to count its
// lines, and returns once each has had its first lines; stop closes them
// and waits for their readers.
func openPages(b *testing.B, base, query string, n int, lines *atomic.Int64) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	ready := make(chan struct{}, n)
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/events?"+query+"&cursor="+url.QueryEscape("c1:"), nil)
		require.NoError(b, err)
		wg.Go(func() {
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				ready <- struct{}{}
				return
			}
			defer res.Body.Close()
			countLines(res.Body, lines, ready)
		})
	}
	for range n {
		<-ready
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// countLines reads an event stream and counts the lines its events carry
// (each line object has one "seq"); it sends on first once it has seen
// lines, or at the end.
func countLines(r io.Reader, lines *atomic.Int64, first chan<- struct{}) {
	buf := make([]byte, 64<<10)
	var carry []byte
	seen := false
	for {
		n, err := r.Read(buf)
		chunk := append(carry, buf[:n]...)
		if k := bytes.Count(chunk, []byte(`"seq":`)); k > 0 {
			lines.Add(int64(k))
			if !seen {
				seen = true
				first <- struct{}{}
			}
		}
		// Keep a tail that may hold a split `"seq":`.
		carry = append(carry[:0], chunk[max(0, len(chunk)-5):]...)
		if err != nil {
			if !seen {
				first <- struct{}{}
			}
			return
		}
	}
}
