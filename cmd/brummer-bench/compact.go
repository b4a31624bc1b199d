package main

import (
	"bytes"
	"encoding/json"
)

// meaningfulZero lists the fields whose zero is information, not a
// default: an exit status of 0, and a log cursor (next_since is required
// and 0 is a valid cursor).
var meaningfulZero = map[string]bool{"exit_code": true, "next_since": true}

// defaultFields walks structuredContent JSON and counts, by path (array
// indexes folded to []), the fields that carry an empty or default value:
// "", 0, false, null, [] or {}. The target is that there are none.
func defaultFields(sc []byte) (map[string]int, error) {
	dec := json.NewDecoder(bytes.NewReader(sc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	out := map[string]int{}
	walkDefaults(v, "", out)
	return out, nil
}

func walkDefaults(v any, at string, out map[string]int) {
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
			walkDefaults(val, p, out)
		}
	case []any:
		for _, val := range x {
			walkDefaults(val, at+"[]", out)
		}
	}
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

// sumCounts adds up a default-field count map.
func sumCounts(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}
