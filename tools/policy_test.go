package tools

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brummer-mcp/brummer-mcp/internal/toolresult"
	"github.com/brummer-mcp/brummer-mcp/procstate"
)

func TestAllowPolicy(t *testing.T) {
	t.Parallel()
	h := newHarnessPolicy(t, procstate.Config{}, Policy{Allow: []string{"sleep", "seq", "/bin/ech*"}})
	tests := []struct {
		name    string
		args    string
		refused string // "" means allowed
	}{
		{"argv by base name", `{"argv":["sleep","0"]}`, ""},
		{"argv by path, base name matches", `{"argv":["/bin/sleep","0"]}`, ""},
		{"argv by path pattern", `{"argv":["/bin/echo","hi"]}`, ""},
		{"simple command", `{"command":"seq 1 3"}`, ""},
		{"command after assignments", `{"command":"PORT=1 sleep 0"}`, ""},
		{"argv not allowed", `{"argv":["rm","-rf","x"]}`, `refused by the --allow policy: program "rm" is not one of the allowed programs (sleep, seq, /bin/ech*)`},
		{"path pattern needs the path", `{"argv":["echo","hi"]}`, `program "echo" is not one of the allowed programs`},
		{"command not allowed", `{"command":"curl http://example.com"}`, `program "curl" is not one of the allowed programs`},
		{"command list", `{"command":"sleep 0; rm -rf /"}`, `"command" must be a simple command without ; & | `},
		{"command substitution", `{"command":"sleep $(rm -rf /)"}`, "must be a simple command"},
		{"command pipe", `{"command":"seq 1 3 | sh"}`, "must be a simple command"},
		{"command redirect", `{"command":"seq 1 3 > /etc/passwd"}`, "must be a simple command"},
		{"command newline", `{"command":"sleep 0\nrm -rf /"}`, "must be a simple command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.call("process_start", tt.args)
			if tt.refused == "" {
				require.False(t, res.IsError, toolresult.Text(res))
				return
			}
			assert.True(t, res.IsError)
			assert.Contains(t, toolresult.Text(res), tt.refused)
		})
	}
	list, err := h.client.ListTools(t.Context(), listToolsRequest())
	require.NoError(t, err)
	for _, tool := range list.Tools {
		if tool.Name == "process_start" {
			assert.Contains(t, tool.Description, "Only these programs may be started: sleep, seq, /bin/ech*")
		}
	}
}

func TestReadOnlyPolicy(t *testing.T) {
	t.Parallel()
	h := newHarnessPolicy(t, procstate.Config{}, Policy{ReadOnly: true})
	list, err := h.client.ListTools(t.Context(), listToolsRequest())
	require.NoError(t, err)
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	assert.ElementsMatch(t, []string{"process_list", "process_logs", "process_wait"}, names)
	_, err = h.client.CallTool(t.Context(), callRequest("process_start", map[string]any{"command": "true"}))
	assert.ErrorContains(t, err, "process_start")
}

func TestPolicyValidate(t *testing.T) {
	t.Parallel()
	assert.NoError(t, Policy{Allow: []string{"npm", "go*", "/usr/bin/*"}}.Validate())
	assert.ErrorContains(t, Policy{Allow: []string{"[x"}}.Validate(), `--allow pattern "[x"`)
	assert.ErrorContains(t, Policy{Allow: []string{""}}.Validate(), "empty")
}
