package tools

import (
	"encoding/json"
)

// Schemas are written by hand, not generated from struct tags: they are part
// of the contract with clients, and generation fails silently on some tags.
// schema_test.go checks that every result validates against its schema.

type obj = map[string]any

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // static schemas: a failure here is a programming error
	}
	return b
}

// objectSchema is an object with these properties. Unknown properties are
// refused by the tools themselves, with a message that lists the known
// ones, so the schema does not spend bytes on "additionalProperties".
func objectSchema(props obj, required ...string) obj {
	s := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func str(desc string) obj  { return obj{"type": "string", "description": desc} }
func intg(desc string) obj { return obj{"type": "integer", "description": desc} }

// nameArg is a process name argument. Its rule is checked by the tools,
// whose error says what is wrong, not by a pattern every agent pays for.
// Its meaning is plain from the tool's description.
func nameArg() obj { return obj{"type": "string"} }

// bare returns schema s without descriptions and enums: output schemas
// state the shape; the tool's description says what the fields mean, once.
func bare(s any) any {
	switch v := s.(type) {
	case obj:
		out := make(obj, len(v))
		for k, val := range v {
			if k != "description" && k != "enum" {
				out[k] = bare(val)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i := range v {
			out[i] = bare(v[i])
		}
		return out
	}
	return s
}

// processSchema describes processInfo.
func processSchema() obj {
	return objectSchema(obj{
		"name":            str("Process name, the handle for the other tools."),
		"status":          obj{"type": "string", "enum": []string{"starting", "running", "stopping", "backoff", "exited", "failed"}},
		"pid":             intg("Process id, also its process group id."),
		"command":         str("Command line: the shell command, or argv shell-quoted."),
		"cwd":             str("Working directory; process_list omits it when it is the server's default (its top-level cwd)."),
		"ended_at":        str("Exit time, RFC 3339 UTC; absent while live."),
		"exit_code":       intg("Exit status; absent while live or when killed by a signal."),
		"signal":          str("Signal that killed it, e.g. SIGTERM."),
		"error":           str("Why it failed to start, or a wait error."),
		"uptime_ms":       intg("How long it has run (or ran), in milliseconds."),
		"run":             intg("Run number of the name: 1, 2, ..."),
		"restarts":        intg("Earlier processes started under this name."),
		"next_restart_at": str("In backoff: when the next run starts."),
		"last_seq":        intg("Sequence number of the newest output line; absent if none. Lines 1..last_seq were printed."),
		"evicted":         intg("Oldest lines no longer in memory (evicted to stay within the log limits)."),
	}, "name", "status", "command", "uptime_ms")
}
