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

// Stop argument bounds.
const (
	defaultStopTimeoutMs = 5000
	maxStopTimeoutMs     = 60000
)

// stopSignals are the signals a stop may send on this platform.
var stopSignals = procstate.SignalNames()

type stopArgs struct {
	Name      string `json:"name"`
	Signal    string `json:"signal"`
	TimeoutMs *int64 `json:"timeout_ms"`

	sig   syscall.Signal
	grace time.Duration
}

func (a *stopArgs) validate() error {
	if a.Name == "" {
		return errors.New(`"name" is required: the process to stop (see process_list)`)
	}
	a.sig = syscall.SIGTERM
	if a.Signal != "" {
		sig, ok := procstate.SignalByName(a.Signal)
		if !ok {
			return fmt.Errorf(`"signal" must be one of %s, got %q`, oneOf(stopSignals), truncate(a.Signal, 40))
		}
		a.sig = sig
	}
	ms := int64(defaultStopTimeoutMs)
	if a.TimeoutMs != nil {
		ms = *a.TimeoutMs
	}
	if ms < 0 || ms > maxStopTimeoutMs {
		return fmt.Errorf(`"timeout_ms" must be 0..%d, got %d`, maxStopTimeoutMs, ms)
	}
	a.grace = time.Duration(ms) * time.Millisecond
	return nil
}

type stopResult struct {
	processInfo
	AlreadyStopped bool `json:"already_stopped,omitempty"`
	Killed         bool `json:"killed,omitempty"`
}

func stopTool() mcp.Tool {
	out := processSchema()
	props := out["properties"].(obj)
	props["already_stopped"] = obj{"type": "boolean", "description": "The process had already exited; nothing was signalled."}
	props["killed"] = obj{"type": "boolean", "description": "The grace period ran out with members of the process group still running, so the group was sent SIGKILL."}
	return mcp.Tool{
		Name:  "process_stop",
		Title: "Stop a process",
		Description: "Stop a process and all it spawned: `signal` to its process group, SIGKILL after `timeout_ms`. " +
			"Returns its final record once it exited (already_stopped if it had; killed if the grace ran out). Its logs stay readable.",
		RawInputSchema: mustJSON(objectSchema(obj{
			"name":       nameArg("The process."),
			"signal":     obj{"type": "string", "enum": stopSignals, "description": "Default TERM."},
			"timeout_ms": obj{"type": "integer", "minimum": 0, "maximum": maxStopTimeoutMs, "description": "Grace before SIGKILL. Default 5000."},
		}, "name")),
		RawOutputSchema: mustJSON(bare(out)),
		Annotations:     annotations(false, true, true, false),
	}
}

func stopHandler(sup *procstate.Supervisor) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, bad := bindArgs[stopArgs](req)
		if bad != nil {
			return bad, nil
		}
		res, err := sup.Stop(ctx, args.Name, args.sig, args.grace)
		switch {
		case errors.Is(err, procstate.ErrUnknown):
			return unknownProcess(sup, args.Name), nil
		case err != nil:
			// The request was cancelled; the stop goes on without it.
			return toolError("stop of %q still in progress: %v; check with process_list", args.Name, err), nil
		}
		out := stopResult{
			processInfo:    infoFrom(res.Record, res.Process.Log().Stats(), time.Now(), ""),
			AlreadyStopped: res.AlreadyStopped,
			Killed:         res.Killed,
		}
		return structured(out, stopText(out)), nil
	}
}

func stopText(out stopResult) string {
	if out.AlreadyStopped {
		return fmt.Sprintf("%s was already stopped (%s)", out.Name, outcome(out.processInfo))
	}
	text := fmt.Sprintf("stopped %s (ran %s): %s", out.Name, procstate.RunTime(time.Duration(out.UptimeMs)*time.Millisecond), outcome(out.processInfo))
	switch {
	case out.Killed && out.Signal == "SIGKILL":
		text += "; it did not exit within the grace period and was killed"
	case out.Killed:
		text += "; the grace period ran out, so its process group was also sent SIGKILL"
	}
	return text
}
