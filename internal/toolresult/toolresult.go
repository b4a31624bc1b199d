// Package toolresult reads what a client gets back from a tool call. The
// tests, the end-to-end checks and brummer-bench share it.
package toolresult

import (
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
)

// Text concatenates the text blocks of a tool result, skipping other kinds
// of content.
func Text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := mcp.AsTextContent(c); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}
