package tools

import (
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// toolError is a result the model can act on: what was wrong, the value,
// and what to do.
func toolError(format string, args ...any) *mcp.CallToolResult {
	return mcp.NewToolResultError(fmt.Sprintf(format, args...))
}

// structured returns a result with structured content and a short text.
func structured(v any, text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{
		Content:           []mcp.Content{mcp.TextContent{Type: mcp.ContentTypeText, Text: text}},
		StructuredContent: v,
	}
}

// unknownProcess is the error for a name no process has; it lists the
// names there are, so that the model can correct itself.
func unknownProcess(sup *procstate.Supervisor, name string) *mcp.CallToolResult {
	names := sup.Names()
	if len(names) == 0 {
		return toolError("unknown process %q (there are no processes; start one with process_start)", name)
	}
	const show = 20
	list := strings.Join(names[:min(len(names), show)], ", ")
	if len(names) > show {
		list += fmt.Sprintf(", ... %d more (see process_list)", len(names)-show)
	}
	return toolError("unknown process %q (known: %s)", name, list)
}

// oneOf formats allowed values for error messages.
func oneOf(vals []string) string {
	return strings.Join(vals, ", ")
}
