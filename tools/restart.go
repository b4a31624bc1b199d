package tools

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/brummer-mcp/brummer-mcp/procstate"
)

type restartArgs struct {
	Name      string   `json:"name"`
	TimeoutMs *int64   `json:"timeout_ms"`
	WaitFor   *waitFor `json:"wait_for"`

	grace time.Duration
}

func (a *restartArgs) validate() error {
	if a.Name == "" {
		return errors.New(`"name" is required: the process to restart (see process_list)`)
	}
	var err error
	if a.grace, err = graceOf(a.TimeoutMs); err != nil {
		return err
	}
	if a.WaitFor != nil {
		return a.WaitFor.validate()
	}
	return nil
}

func restartTool() mcp.Tool {
	return mcp.Tool{
		Name:        "process_restart",
		Description: "Stop a process (as process_stop) and start it again as it was: its next run, same name and log. Works on exited ones too.",
		RawInputSchema: mustJSON(objectSchema(obj{
			"name":       nameArg(),
			"timeout_ms": obj{"type": "integer", "description": "Stop grace. Default 5000."},
			"wait_for":   waitForRef(),
		}, "name")),
		RawOutputSchema: mustJSON(bare(waitOutputSchema())),
		Annotations:     annotations(false, true, false, true),
	}
}

func restartHandler(sup *procstate.Supervisor) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, bad := bindArgs[restartArgs](req)
		if bad != nil {
			return bad, nil
		}
		p, stopped, err := sup.Restart(ctx, args.Name, syscall.SIGTERM, args.grace)
		var inUse *procstate.NameInUseError
		switch {
		case errors.Is(err, procstate.ErrUnknown):
			return unknownProcess(sup, args.Name), nil
		case errors.As(err, &inUse):
			// Another call restarted it first: that run is the answer.
			info := infoOf(sup.Get(args.Name), time.Now(), "")
			return structured(info, fmt.Sprintf("%s was restarted by another call meanwhile: run %d, pid %d", info.Name, info.Restarts+1, info.Pid)), nil
		case errors.Is(err, procstate.ErrClosed):
			return nil, err // the server is shutting down: nothing the model can fix
		case err != nil && p == nil && stopped.Record != nil && stopped.Record.Status.Live():
			// The request ended during the stop; the stop goes on without it.
			return toolError("restart of %q: the stop is still in progress (%v); check with process_list", args.Name, err), nil
		case err != nil:
			return toolError("restart of %q: %v", args.Name, err), nil
		}
		info := infoOf(p, time.Now(), "")
		before := "it had already exited"
		if !stopped.AlreadyStopped {
			before = "the previous run was " + outcome(stopOutcome(stopped).processInfo)
		}
		headline := fmt.Sprintf("restarted %s: run %d, pid %d (%s)", info.Name, info.Restarts+1, info.Pid, before)
		if args.WaitFor != nil {
			return waitAfter(ctx, req, p, args.WaitFor, headline)
		}
		return structured(info, headline), nil
	}
}
