package tools

import (
	"context"
	"errors"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/brummer-mcp/brummer-mcp/procstate"
)

// maxInputBytes bounds one input.
const maxInputBytes = 1 << 20

type inputArgs struct {
	Name    string `json:"name"`
	Text    string `json:"text"`
	Newline *bool  `json:"newline"`
	Close   bool   `json:"close"`
}

func (a *inputArgs) validate() error {
	switch {
	case a.Name == "":
		return errors.New(`"name" is required: the process to write to (see process_list)`)
	case len(a.Text) > maxInputBytes:
		return fmt.Errorf(`"text" is %d bytes; the limit is %d`, len(a.Text), maxInputBytes)
	}
	return nil
}

// data is what to write: the text and, unless newline is false, "\n".
func (a *inputArgs) data() []byte {
	b := []byte(a.Text)
	if a.Newline == nil || *a.Newline {
		b = append(b, '\n')
	}
	return b
}

type inputResult struct {
	Name    string `json:"name"`
	Written int    `json:"written"`
	Closed  bool   `json:"closed,omitempty"`
}

func inputTool() mcp.Tool {
	return mcp.Tool{
		Name:        "process_input",
		Description: "Write `text` to the stdin of a process started with stdin: true, e.g. to answer a prompt.",
		RawInputSchema: mustJSON(objectSchema(obj{
			"name":    nameArg(),
			"text":    obj{"type": "string"},
			"newline": obj{"type": "boolean", "description": "Append \\n. Default true."},
			"close":   obj{"type": "boolean", "description": "Then close stdin."},
		}, "name")),
		RawOutputSchema: mustJSON(bare(objectSchema(obj{
			"name":    str("The process."),
			"written": intg("Bytes written."),
			"closed":  obj{"type": "boolean"},
		}, "name", "written"))),
		Annotations: annotations(false, false, false, true),
	}
}

func inputHandler(sup *procstate.Supervisor) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, bad := bindArgs[inputArgs](req)
		if bad != nil {
			return bad, nil
		}
		p := sup.Get(args.Name)
		if p == nil {
			return unknownProcess(sup, args.Name), nil
		}
		n, err := p.Input(args.data(), args.Close)
		switch {
		case errors.Is(err, procstate.ErrNoStdin):
			return toolError("%q has no stdin pipe: start it with stdin: true to write to it", args.Name), nil
		case errors.Is(err, procstate.ErrStdinClosed):
			return toolError("the stdin of %q is closed (%v)", args.Name, err), nil
		case errors.Is(err, procstate.ErrInputTimeout):
			return toolError("%q does not read its stdin: %v; check its output with process_logs", args.Name, err), nil
		case err != nil:
			return toolError("write to %q: %v", args.Name, err), nil
		}
		out := inputResult{Name: args.Name, Written: n, Closed: args.Close}
		text := fmt.Sprintf("wrote %d bytes to %s", n, args.Name)
		if args.Close {
			text += "; its stdin is closed"
		}
		return structured(out, text), nil
	}
}
