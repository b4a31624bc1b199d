package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/brummer-mcp/brummer-mcp/internal/toolresult"
)

// callSize is the size of one result.
type callSize struct {
	// WireBytes is what the client received: the JSON-RPC response (HTTP:
	// the response body). TextBytes is the text content, StructuredBytes
	// the structuredContent as compact JSON.
	WireBytes       int64 `json:"wire_bytes"`
	TextBytes       int   `json:"text_bytes"`
	StructuredBytes int   `json:"structured_bytes"`
	Procs           int   `json:"procs,omitempty"` // processes listed, for lists
	// DefaultFields counts the fields of structuredContent that hold an
	// empty or default value, by path (see defaultFields).
	DefaultFields map[string]int `json:"default_fields,omitempty"`
	// ClientDecodeUs is the median time the bench takes to unmarshal the
	// result into mcp.CallToolResult, as mcp-go's client does on every call.
	ClientDecodeUs float64 `json:"client_decode_us"`
}

// measureCall makes one call alone on c and records its sizes.
func measureCall(ctx context.Context, c *conn, tool string, args map[string]any) (callSize, error) {
	before := c.rx.Load()
	res, _, err := c.call(ctx, tool, args)
	if err != nil {
		return callSize{}, err
	}
	cs := callSize{WireBytes: c.rx.Load() - before, TextBytes: len(toolresult.Text(res))}
	sc, err := structuredJSON(res)
	if err != nil {
		return cs, err
	}
	cs.StructuredBytes = len(sc)
	var v struct {
		Processes []json.RawMessage `json:"processes"`
	}
	if err := json.Unmarshal(sc, &v); err != nil {
		return cs, err
	}
	cs.Procs = len(v.Processes)
	if cs.DefaultFields, err = defaultFields(sc); err != nil {
		return cs, err
	}
	raw, err := json.Marshal(res)
	d := make([]time.Duration, 51)
	for i := range d {
		t0 := time.Now()
		err = errors.Join(err, json.Unmarshal(raw, new(mcp.CallToolResult)))
		d[i] = time.Since(t0)
	}
	cs.ClientDecodeUs = summarize(d).P50us
	return cs, err
}

// structuredJSON is a result's structuredContent as JSON.
func structuredJSON(res *mcp.CallToolResult) ([]byte, error) {
	if res.StructuredContent == nil {
		return nil, errors.New("result has no structuredContent")
	}
	return json.Marshal(res.StructuredContent)
}

// meaningfulZero lists the fields whose zero is information, not a
// default: an exit status of 0, and a log cursor (0 is a valid one).
var meaningfulZero = map[string]bool{"exit_code": true, "next_since": true}

// defaultFields counts, by path (array indexes folded to []), the fields
// of structuredContent JSON that hold an empty or default value: "", 0,
// false, null, [] or {}. The target is that there are none.
func defaultFields(sc []byte) (map[string]int, error) {
	dec := json.NewDecoder(bytes.NewReader(sc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	out := map[string]int{}
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				p := k
				if at != "" {
					p = at + "." + k
				}
				if isDefault(val) && !meaningfulZero[k] {
					out[p]++
				}
				walk(val, p)
			}
		case []any:
			for _, val := range x {
				walk(val, at+"[]")
			}
		}
	}
	walk(v, "")
	return out, nil
}

func isDefault(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case json.Number:
		f, err := x.Float64()
		return err == nil && f == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// toolsListSize is the size of the compact tools/list result, as
// tools/golden_test.go measures it: what a client loads into its model's
// context once per session.
type toolsListSize struct {
	Tools               int `json:"tools"`
	WithOutputSchema    int `json:"with_output_schema"`
	WithoutOutputSchema int `json:"without_output_schema"`
}

// measureToolsList asks for tools/list on c and returns the bytes of its
// compact result with and without the tools' outputSchema fields.
func measureToolsList(ctx context.Context, c *conn) (toolsListSize, error) {
	var ts toolsListSize
	// A string id cannot collide with the client's own numeric ids.
	resp, err := c.c.GetTransport().SendRequest(ctx, transport.JSONRPCRequest{
		JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId("brummer-bench-tools-list"), Method: string(mcp.MethodToolsList),
	})
	switch {
	case err != nil:
		return ts, fmt.Errorf("tools/list: %w", err)
	case resp.Error != nil:
		return ts, fmt.Errorf("tools/list: %s", resp.Error.Message)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, resp.Result); err != nil {
		return ts, err
	}
	var res map[string]json.RawMessage
	var tools []map[string]json.RawMessage
	if err := json.Unmarshal(resp.Result, &res); err != nil {
		return ts, err
	}
	if err := json.Unmarshal(res["tools"], &tools); err != nil {
		return ts, err
	}
	// Re-encoded as mcp-go encodes (json.Marshal, HTML-escaped), the
	// result has the wire's size; then without the fields.
	size := func() (int, error) {
		var err error
		if res["tools"], err = json.Marshal(tools); err != nil {
			return 0, err
		}
		b, err := json.Marshal(res)
		return len(b), err
	}
	again, err := size()
	if err != nil {
		return ts, err
	}
	if again != compact.Len() {
		return ts, fmt.Errorf("tools/list re-encoded is %d bytes, on the wire %d", again, compact.Len())
	}
	for _, tool := range tools {
		delete(tool, "outputSchema")
	}
	ts.Tools, ts.WithOutputSchema = len(tools), compact.Len()
	ts.WithoutOutputSchema, err = size()
	return ts, err
}
