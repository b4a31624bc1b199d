package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/brummer-mcp/brummer-mcp/procstate"
	"github.com/brummer-mcp/brummer-mcp/project"
)

// The resources: the process list, and each process's recent output.
// resources/list names the list and one logs resource per process; the
// template covers any name.
const (
	processesURI  = "brummer://processes"
	logsURIPrefix = "brummer://processes/"
	logsURISuffix = "/logs"
	logsTemplate  = logsURIPrefix + "{name}" + logsURISuffix
)

// logsURI is the URI of name's logs resource.
func logsURI(name string) string { return logsURIPrefix + name + logsURISuffix }

// nameOfLogsURI returns the process name of a logs resource URI.
func nameOfLogsURI(uri string) (string, bool) {
	name, ok := strings.CutPrefix(uri, logsURIPrefix)
	if !ok {
		return "", false
	}
	name, ok = strings.CutSuffix(name, logsURISuffix)
	return name, ok && procstate.NamePattern.MatchString(name)
}

// addResources registers the resources of sup on s.
func addResources(s *server.MCPServer, sup *procstate.Supervisor, proj *project.Project, hooks *server.Hooks) {
	s.AddResource(mcp.NewResource(processesURI, "processes",
		mcp.WithResourceDescription("Every process: status, pid, exit code or signal, uptime, log counters (JSON, as process_list)."),
		mcp.WithMIMEType("application/json")),
		func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			sup.WantUsage()
			res := listPage(sup, proj, &listArgs{Limit: ptrTo(maxListLimit)})
			b, err := json.Marshal(res)
			if err != nil {
				return nil, err
			}
			return []mcp.ResourceContents{mcp.TextResourceContents{URI: processesURI, MIMEType: "application/json", Text: string(b)}}, nil
		})
	s.AddResourceTemplate(mcp.NewResourceTemplate(logsTemplate, "logs",
		mcp.WithTemplateDescription("A process's last 100 lines of output, as process_logs shows them."),
		mcp.WithTemplateMIMEType("text/plain")),
		func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			name, ok := nameOfLogsURI(req.Params.URI)
			p := sup.Get(name)
			if !ok || p == nil {
				return nil, fmt.Errorf("no process %q: see %s", name, processesURI)
			}
			res, err := oneLog(p, &logsArgs{Name: name})
			if err != nil {
				return nil, err
			}
			return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "text/plain", Text: logsText(res)}}, nil
		})
	// One logs resource per process, listed without registering each:
	// the list is made when asked, from the supervisor's snapshot.
	hooks.AddAfterListResources(func(ctx context.Context, id any, req *mcp.ListResourcesRequest, res *mcp.ListResourcesResult) {
		if res == nil || req.Params.Cursor != "" {
			return
		}
		for _, p := range sup.Processes() {
			res.Resources = append(res.Resources, mcp.NewResource(logsURI(p.Name()), p.Name()+" logs", mcp.WithMIMEType("text/plain")))
		}
	})
}

func ptrTo[T any](v T) *T { return &v }
