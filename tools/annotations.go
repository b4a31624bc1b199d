package tools

import "github.com/mark3labs/mcp-go/mcp"

// annotations sets all four hints explicitly: mcp-go's defaults claim
// every tool is destructive and open-world.
func annotations(readOnly, destructive, idempotent, openWorld bool) mcp.ToolAnnotation {
	return mcp.ToolAnnotation{
		ReadOnlyHint:    &readOnly,
		DestructiveHint: &destructive,
		IdempotentHint:  &idempotent,
		OpenWorldHint:   &openWorld,
	}
}
