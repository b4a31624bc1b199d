package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

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
