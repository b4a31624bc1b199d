package rx

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompile(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"(", `"grep" "(" is not a valid RE2 regular expression: missing closing ): ` + "`(`"},
		{"a**", `"grep" "a**" is not a valid RE2 regular expression: invalid nested repetition operator: ` + "`**`"},
		{`\8`, `"grep" "\\8" is not a valid RE2 regular expression: invalid escape sequence: ` + "`\\8`"},
	}
	for _, tt := range tests {
		_, err := Compile("grep", tt.pattern)
		require.Error(t, err, tt.pattern)
		assert.Equal(t, tt.want, err.Error())
	}
	re, err := Compile("grep", "(?i)error|warn")
	require.NoError(t, err)
	assert.True(t, re.MatchString("WARN: x"))
}
