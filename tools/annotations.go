package tools

import "github.com/mark3labs/mcp-go/mcp"

// annotations sets the hints that differ from the spec's defaults
// (readOnly false, destructive true, idempotent false, openWorld true):
// absent hints cost nothing and mean the default. The destructive and
// idempotent hints mean nothing for a read-only tool.
func annotations(readOnly, destructive, idempotent, openWorld bool) mcp.ToolAnnotation {
	var a mcp.ToolAnnotation
	hint := func(dst **bool, v, def bool) {
		if v != def {
			*dst = &v
		}
	}
	hint(&a.ReadOnlyHint, readOnly, false)
	if !readOnly {
		hint(&a.DestructiveHint, destructive, true)
		hint(&a.IdempotentHint, idempotent, false)
	}
	hint(&a.OpenWorldHint, openWorld, true)
	return a
}
