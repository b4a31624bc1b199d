package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// What models read (tool names, descriptions, schemas, annotations, the
// server's instructions, result and error texts) is pinned by the golden
// files in testdata. A change to any of it fails these tests with a diff;
// when the change is intended, rewrite the files and review them:
//
//	go test ./tools/ -run Golden -update
var update = flag.Bool("update", false, "rewrite the golden files")

// Budgets for the compact tools/list result, in bytes, with and without the
// outputSchema fields. Not enforced yet: TestToolListGolden records and logs
// the sizes.
const (
	toolListBudget         = 12000
	toolListBudgetNoOutput = 6000
)

// TestToolListGolden pins the tools/list result as a client receives it,
// for each server variant, and records its size beside it.
func TestToolListGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy Policy
		golden string // testdata/<golden>.golden, and <golden>_size.golden
	}{
		{"full", Policy{}, "tools_list"},
		{"read-only", Policy{ReadOnly: true}, "tools_list_readonly"},
		{"allow", Policy{Allow: []string{"npm", "go"}}, "tools_list_allow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarnessPolicy(t, procstate.Config{}, tt.policy)
			raw := h.rawResult("tools/list", nil)
			checkGolden(t, filepath.Join("testdata", tt.golden+".golden"), indentJSON(t, decodeJSON(t, raw)))

			with, without := toolListSizes(t, raw)
			t.Logf("%s tools/list: %d bytes, %d without outputSchema (budget %d, %d)", tt.name, with, without, toolListBudget, toolListBudgetNoOutput)
			assert.LessOrEqual(t, with, toolListBudget, "tools/list is over budget")
			assert.LessOrEqual(t, without, toolListBudgetNoOutput, "tools/list without outputSchema is over budget")
			size := fmt.Sprintf("Bytes of the compact tools/list result of the %s server, as sent on the wire.\n"+
				"Budget, enforced: %d with outputSchema, %d without.\n"+
				"with outputSchema: %d\nwithout outputSchema: %d\n",
				tt.name, toolListBudget, toolListBudgetNoOutput, with, without)
			checkGolden(t, filepath.Join("testdata", tt.golden+"_size.golden"), []byte(size))
		})
	}
}

// toolListSizes returns the size of a compact tools/list result and its
// size without the tools' outputSchema fields.
func toolListSizes(t *testing.T, raw json.RawMessage) (with, without int) {
	t.Helper()
	var compact bytes.Buffer
	require.NoError(t, json.Compact(&compact, raw))
	var res struct {
		Tools []map[string]json.RawMessage `json:"tools"`
	}
	require.NoError(t, json.Unmarshal(raw, &res))
	// Re-encoded the way mcp-go encodes (json.Marshal of maps), the result
	// has the wire's size: the measure below is the wire's, minus the fields.
	again, err := json.Marshal(res)
	require.NoError(t, err)
	require.Len(t, again, compact.Len(), "tools/list has fields besides tools; count them here")
	for _, tool := range res.Tools {
		require.Contains(t, tool, "outputSchema")
		delete(tool, "outputSchema")
	}
	stripped, err := json.Marshal(res)
	require.NoError(t, err)
	return compact.Len(), len(stripped)
}

// TestInstructionsGolden pins what the initialize result tells a model
// about the server, above all its instructions.
func TestInstructionsGolden(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	c := newRawClient(t, h)
	raw, err := c.SendRequest(t.Context(), transport.JSONRPCRequest{
		JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(int64(1)), Method: "initialize",
		Params: mcp.InitializeParams{
			ProtocolVersion: mcp.LATEST_LEGACY_PROTOCOL_VERSION,
			ClientInfo:      mcp.Implementation{Name: "golden", Version: "1"},
		},
	})
	require.NoError(t, err)
	require.Nil(t, raw.Error)
	checkGolden(t, filepath.Join("testdata", "initialize.golden"), indentJSON(t, decodeJSON(t, raw.Result)))
}

// newRawClient is a second in-process connection to h's server that has not
// been initialized yet.
func newRawClient(t *testing.T, h *harness) *transport.InProcessTransport {
	t.Helper()
	c := transport.NewInProcessTransport(h.srv)
	require.NoError(t, c.Start(t.Context()))
	t.Cleanup(func() { c.Close() })
	return c
}

// TestToolResultGolden pins one result of each tool, and tool errors, as a
// client receives them. Values that change between runs (pids, times,
// uptimes, the snapshot version, the temporary directory) are replaced
// with placeholders such as "<pid>"; their presence stays pinned.
//
// The cases run in order and build on each other: "web" is started by the
// first and stopped near the end.
func TestToolResultGolden(t *testing.T) {
	t.Parallel()
	h := newHarness(t, procstate.Config{})
	// Processes whose output and exit are fixed, ended before any case runs.
	// Each writes to one stream only: between stdout and stderr, the order
	// of lines (and so their seqs) depends on which pipe is read first.
	ok[processInfo](h, "process_start", `{"name":"gen","argv":["seq","1","3"]}`)
	ok[processInfo](h, "process_start", `{"name":"fail","command":"echo boom >&2; exit 3"}`)
	h.waitDone("gen")
	h.waitDone("fail")

	tests := []struct {
		name string
		tool string
		args string
	}{
		{"start", "process_start", `{"name":"web","argv":["sleep","60"]}`},
		{"start_error_name_in_use", "process_start", `{"name":"web","command":"true"}`},
		{"start_error_no_command", "process_start", `{}`},
		{"start_error_unknown_argument", "process_start", `{"command":"true","shell":"bash"}`},
		{"list", "process_list", `{}`},
		{"list_page", "process_list", `{"limit":1}`},
		{"list_error_status", "process_list", `{"status":"zombie"}`},
		{"logs", "process_logs", `{"name":"gen"}`},
		{"logs_stderr", "process_logs", `{"name":"fail"}`},
		{"logs_grep", "process_logs", `{"name":"gen","grep":"^[13]$"}`},
		{"logs_error_unknown_process", "process_logs", `{"name":"api"}`},
		{"logs_error_cursor_ahead", "process_logs", `{"name":"gen","since":99}`},
		{"logs_error_tail", "process_logs", `{"name":"gen","tail":-1}`},
		{"stop", "process_stop", `{"name":"web"}`},
		{"stop_already_stopped", "process_stop", `{"name":"web"}`},
		{"stop_error_unknown_process", "process_stop", `{"name":"api"}`},
		{"stop_error_signal", "process_stop", `{"name":"gen","signal":"SIGFOO"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var args any
			require.NoError(t, json.Unmarshal([]byte(tt.args), &args))
			raw := h.rawResult("tools/call", mcp.CallToolParams{Name: tt.tool, Arguments: args})
			res := decodeJSON(t, raw).(map[string]any)
			h.checkStructured(t, tt.tool, res)
			normalize(res, h.sup.Config().Dir)
			checkGolden(t, filepath.Join("testdata", "results", tt.name+".golden"), indentJSON(t, res))
		})
	}
}

// rawResult sends one request through the client's transport, on the
// client's initialized session, and returns the result exactly as the
// client receives it.
func (h *harness) rawResult(method string, params any) json.RawMessage {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := h.client.GetTransport().SendRequest(ctx, transport.JSONRPCRequest{
		JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(int64(1)), Method: method, Params: params,
	})
	require.NoError(h.t, err)
	require.Nil(h.t, resp.Error, "%s: a JSON-RPC error", method)
	return resp.Result
}

// checkStructured checks that a successful result carries structured
// content that matches the tool's output schema.
func (h *harness) checkStructured(t *testing.T, tool string, res map[string]any) {
	t.Helper()
	if res["isError"] == true {
		assert.NotContains(t, res, "structuredContent", "a tool error with structured content")
		return
	}
	require.Contains(t, res, "structuredContent", "%s: success without structuredContent", tool)
	raw, err := json.Marshal(res["structuredContent"])
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	require.NoError(t, h.schemas[tool].Validate(doc), "%s result does not match its output schema: %s", tool, raw)
}

// Placeholders for values that change between runs.
var (
	// varyingFields are fields of structured content replaced as a whole.
	varyingFields = map[string]string{
		"pid":       "<pid>",
		"uptime_ms": "<uptime_ms>",
		"ended_at":  "<ended_at>",
		"version":   "<version>",
	}
	// varyingText are the same values in texts.
	varyingText = []struct {
		re   *regexp.Regexp
		with string
	}{
		{regexp.MustCompile(`\bpid([ =])\d+`), "pid$1<pid>"},
		{regexp.MustCompile(`\bup=\S+`), "up=<uptime>"},
		{regexp.MustCompile(`\(ran [^)]+\)`), "(ran <uptime>)"},
		{regexp.MustCompile(`\] (exited with code -?\d+|killed by SIG[A-Z0-9]+) after \S+`), "] $1 after <uptime>"},
	}
)

// normalize replaces the values in a decoded result that change between
// runs with placeholders, in place. dir is the server's directory, a
// temporary one.
func normalize(v any, dir string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, val := range v {
			if p, ok := varyingFields[k]; ok {
				v[k] = p
				continue
			}
			v[k] = normalize(val, dir)
		}
	case []any:
		for i := range v {
			v[i] = normalize(v[i], dir)
		}
	case string:
		s := strings.ReplaceAll(v, dir, "<dir>")
		for _, r := range varyingText {
			s = r.re.ReplaceAllString(s, r.with)
		}
		return s
	}
	return v
}

// decodeJSON decodes raw keeping numbers as they were written.
func decodeJSON(t *testing.T, raw []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	return v
}

// indentJSON encodes v for a golden file: keys sorted (mcp-go sends them
// sorted too), two-space indent, and "&&" rather than "\u0026\u0026", so
// that a review reads what a model reads.
func indentJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(v))
	return b.Bytes()
}

// checkGolden compares got with the golden file at path, or rewrites the
// file with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; create it with: go test ./tools/ -run Golden -update")
	if string(want) != string(got) {
		assert.Fail(t, path+" differs from the golden file",
			"if the change is intended, run go test ./tools/ -run Golden -update and review the diff\n%s", lineDiff(string(want), string(got)))
	}
}

// lineDiff shows where got departs from want: the lines between their
// common beginning and their common end ("-" want, "+" got), with two
// lines of context on each side.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	pre := 0
	for pre < len(w) && pre < len(g) && w[pre] == g[pre] {
		pre++
	}
	suf := 0
	for suf < len(w)-pre && suf < len(g)-pre && w[len(w)-1-suf] == g[len(g)-1-suf] {
		suf++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "@@ golden line %d @@\n", pre+1)
	write := func(prefix string, lines []string) {
		for _, l := range lines {
			b.WriteString(prefix + l + "\n")
		}
	}
	write("  ", w[max(0, pre-2):pre])
	write("- ", w[pre:len(w)-suf])
	write("+ ", g[pre:len(g)-suf])
	write("  ", w[len(w)-suf:min(len(w), len(w)-suf+2)])
	return b.String()
}
