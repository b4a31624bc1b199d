package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
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
	All       bool   `json:"all"`
	Signal    string `json:"signal"`
	TimeoutMs *int64 `json:"timeout_ms"`

	sig   syscall.Signal
	grace time.Duration
}

func (a *stopArgs) validate() error {
	switch {
	case a.Name == "" && !a.All:
		return errors.New(`give "name", the process to stop (see process_list), or "all": true`)
	case a.Name != "" && a.All:
		return fmt.Errorf(`give "name" %q or "all": true, not both`, truncate(a.Name, 64))
	}
	a.sig = syscall.SIGTERM
	if a.Signal != "" {
		sig, ok := procstate.SignalByName(a.Signal)
		if !ok {
			return fmt.Errorf(`"signal" must be one of %s, got %q`, oneOf(stopSignals), truncate(a.Signal, 40))
		}
		a.sig = sig
	}
	var err error
	a.grace, err = graceOf(a.TimeoutMs)
	return err
}

// graceOf checks a timeout_ms argument of a stop and returns the grace
// period it gives.
func graceOf(timeoutMs *int64) (time.Duration, error) {
	ms := int64(defaultStopTimeoutMs)
	if timeoutMs != nil {
		ms = *timeoutMs
	}
	if ms < 0 || ms > maxStopTimeoutMs {
		return 0, fmt.Errorf(`"timeout_ms" must be 0..%d, got %d`, maxStopTimeoutMs, ms)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

type stopResult struct {
	processInfo
	AlreadyStopped bool `json:"already_stopped,omitempty"`
	Killed         bool `json:"killed,omitempty"`
}

// stopAllResult is the outcome of a stop with all: every process that was
// live, by name.
type stopAllResult struct {
	Stopped []stopResult `json:"stopped"`
}

func stopTool() mcp.Tool {
	rec := processSchema()
	props := rec["properties"].(obj)
	props["already_stopped"] = obj{"type": "boolean"}
	props["killed"] = obj{"type": "boolean"}
	// One process, or with all, the list of them.
	out := obj{"type": "object", "properties": obj{"stopped": obj{"type": "array", "items": rec}}}
	for k, v := range props {
		out["properties"].(obj)[k] = v
	}
	return mcp.Tool{
		Name:        "process_stop",
		Description: "Stop a process and all it spawned: `signal` to its group, SIGKILL after `timeout_ms`. Returns the final record; logs stay. `all`: every live one (in `stopped`).",
		RawInputSchema: mustJSON(objectSchema(obj{
			"name":       nameArg(),
			"all":        obj{"type": "boolean", "description": "Instead of name: every live process."},
			"signal":     obj{"type": "string", "enum": stopSignals, "description": "Default TERM."},
			"timeout_ms": obj{"type": "integer", "description": "Default 5000."},
		})),
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
		if args.All {
			return stopAll(ctx, sup, args), nil
		}
		res, err := sup.Stop(ctx, args.Name, args.sig, args.grace)
		switch {
		case errors.Is(err, procstate.ErrUnknown):
			return unknownProcess(sup, args.Name), nil
		case err != nil:
			// The request was cancelled; the stop goes on without it.
			return toolError("stop of %q still in progress: %v; check with process_list", args.Name, err), nil
		}
		out := stopOutcome(res)
		return structured(out, stopText(out)), nil
	}
}

func stopOutcome(res procstate.StopResult) stopResult {
	return stopResult{
		processInfo:    infoFrom(res.Process, res.Record, time.Now(), ""),
		AlreadyStopped: res.AlreadyStopped,
		Killed:         res.Killed,
	}
}

// stopAll stops every live process in parallel and lists the outcomes by
// name. A stop the request's end cut short is listed as it stands.
func stopAll(ctx context.Context, sup *procstate.Supervisor, args *stopArgs) *mcp.CallToolResult {
	var live []*procstate.Process
	for _, p := range sup.Processes() {
		if p.Record().Status.Live() {
			live = append(live, p)
		}
	}
	out := stopAllResult{Stopped: make([]stopResult, len(live))}
	var cut atomic.Bool
	var wg sync.WaitGroup
	for i, p := range live {
		wg.Go(func() {
			res, err := sup.Stop(ctx, p.Name(), args.sig, args.grace)
			if err != nil {
				cut.Store(true)
				res = procstate.StopResult{Process: p, Record: p.Record()}
			}
			out.Stopped[i] = stopOutcome(res)
		})
	}
	wg.Wait()
	if cut.Load() {
		return toolError("stop of all still in progress: %v; check with process_list", ctx.Err())
	}
	var b strings.Builder
	if len(out.Stopped) == 0 {
		b.WriteString("no process was running")
	}
	for i, s := range out.Stopped {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(stopText(s))
	}
	return structured(out, b.String())
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
