package toolresult

import (
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
)

func TestText(t *testing.T) {
	tests := []struct {
		name string
		res  *mcp.CallToolResult
		want string
	}{
		{name: "no content", res: &mcp.CallToolResult{}, want: ""},
		{name: "one block", res: mcp.NewToolResultText("a\nb"), want: "a\nb"},
		{
			name: "text blocks joined, others skipped",
			res: &mcp.CallToolResult{Content: []mcp.Content{
				mcp.NewTextContent("one "),
				mcp.NewImageContent("AAAA", "image/png"),
				mcp.NewTextContent("two"),
			}},
			want: "one two",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Text(tt.res))
		})
	}
}
