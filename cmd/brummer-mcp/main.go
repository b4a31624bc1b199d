// Command brummer-mcp is an MCP server that runs and supervises
// long-running processes for AI coding agents.
//
// Main is wiring only: flags, one logger, signals, the supervisor, the MCP
// server, the transports and the dashboard, and the shutdown order (end the
// dashboard's streams, stop serving, stop every child, exit).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/brummer-mcp/brummer-mcp/crashguard"
	"github.com/brummer-mcp/brummer-mcp/dashboard"
	"github.com/brummer-mcp/brummer-mcp/procstate"
	"github.com/brummer-mcp/brummer-mcp/project"
	"github.com/brummer-mcp/brummer-mcp/tools"
	"github.com/brummer-mcp/brummer-mcp/transport"
)

func main() {
	unblockSignals()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type options struct {
	cwd       string
	logLevel  string
	logFile   string
	maxProcs  int
	logLines  int
	logBytes  int
	version   bool
	stopGrace time.Duration
	childNice int

	http         string
	httpFD       int
	noStdio      bool
	token        string
	allowOrigins stringList
	maxBody      int64
	policy       tools.Policy
	stateDir     string
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("brummer-mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.cwd, "cwd", "", "default working directory of processes (default: the current directory)")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&o.logFile, "log-file", "", "write logs to this file instead of stderr")
	fs.IntVar(&o.maxProcs, "max-procs", procstate.DefaultMaxProcs, "most live processes at once")
	fs.IntVar(&o.logLines, "log-lines", procstate.DefaultLogLines, "output lines kept in memory per process")
	fs.IntVar(&o.logBytes, "log-bytes", procstate.DefaultLogBytes, "output bytes kept in memory per process")
	fs.DurationVar(&o.stopGrace, "stop-grace", procstate.DefaultStopGrace, "on shutdown, time between SIGTERM and SIGKILL")
	fs.IntVar(&o.childNice, "child-nice", procstate.DefaultNice, "how many nice(1) steps (0..19) below the server's CPU priority processes run: they yield the CPU to the server, the agents and the editor when the machine is saturated; 0 runs them at the server's")
	fs.StringVar(&o.http, "http", "", "also serve MCP over HTTP on this address, e.g. 127.0.0.1:7777 (/mcp, /sse, /message), and the web dashboard at /")
	fs.IntVar(&o.httpFD, "http-fd", 0, "serve HTTP on the listening TCP socket inherited as this file descriptor (from a service manager, or a parent that bound the port) instead of binding --http's address")
	fs.BoolVar(&o.noStdio, "no-stdio", false, "do not serve stdio (HTTP only; needs --http)")
	fs.StringVar(&o.token, "token", "", "bearer token every HTTP request must carry (default $BRUMMER_TOKEN); required off loopback")
	fs.Var(&o.allowOrigins, "allow-origin", "an Origin allowed besides loopback ones, e.g. https://app.example (repeatable)")
	fs.Int64Var(&o.maxBody, "max-body-bytes", transport.DefaultMaxBodyBytes, "largest request: an HTTP request body, or one line on stdio (a longer line is skipped and answered with a JSON-RPC error)")
	fs.Var((*stringList)(&o.policy.Allow), "allow", "only programs matching this pattern may be started: a base name (npm, go*) or a path pattern (/usr/bin/*); repeatable")
	fs.BoolVar(&o.policy.ReadOnly, "read-only", false, "offer only the reading tools (process_list, process_logs)")
	fs.StringVar(&o.stateDir, "state-dir", crashguard.DefaultDir(), "where this instance records its process groups, so that the next one can stop what a crashed one left; empty disables")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "brummer-mcp %s: an MCP server that runs and supervises processes for AI agents.\n\n", versionString())
		fmt.Fprintf(fs.Output(), "It speaks MCP (JSON-RPC) on stdin/stdout, and with --http also over streamable HTTP (/mcp)\n")
		fmt.Fprintf(fs.Output(), "and legacy HTTP+SSE (/sse), with a web dashboard at /. Start it from an MCP client, e.g.\n")
		fmt.Fprintf(fs.Output(), "  claude mcp add brummer -- brummer-mcp\n")
		fmt.Fprintf(fs.Output(), "or serve HTTP for several agents:\n")
		fmt.Fprintf(fs.Output(), "  brummer-mcp --no-stdio --http 127.0.0.1:7777\n\nFlags:\n")
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(fs.Output(), "  --%s\n    \t%s", strings.TrimSpace(f.Name+" "+name), usage)
			if f.DefValue != "" && f.DefValue != "false" {
				fmt.Fprintf(fs.Output(), " (default %s)", f.DefValue)
			}
			fmt.Fprintln(fs.Output())
		})
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q (brummer-mcp takes only flags; see --help)", fs.Arg(0))
	case o.maxProcs < 1:
		return o, fmt.Errorf("--max-procs must be at least 1, got %d", o.maxProcs)
	case o.logLines < 1:
		return o, fmt.Errorf("--log-lines must be at least 1, got %d", o.logLines)
	case o.logBytes < 1024:
		return o, fmt.Errorf("--log-bytes must be at least 1024, got %d", o.logBytes)
	case o.stopGrace < 0:
		return o, fmt.Errorf("--stop-grace must not be negative, got %s", o.stopGrace)
	case o.childNice < 0 || o.childNice > 19:
		return o, fmt.Errorf("--child-nice must be 0..19, got %d", o.childNice)
	case o.noStdio && o.http == "" && o.httpFD == 0:
		return o, errors.New("--no-stdio needs --http: there would be no way to connect")
	case o.httpFD < 0 || (o.httpFD > 0 && o.httpFD < 3):
		return o, fmt.Errorf("--http-fd must be an inherited descriptor (3 or more), got %d", o.httpFD)
	case o.httpFD > 0 && o.http != "":
		return o, errors.New("--http-fd and --http exclude each other: the socket is bound already")
	case o.maxBody < 1024:
		return o, fmt.Errorf("--max-body-bytes must be at least 1024, got %d", o.maxBody)
	}
	if err := o.policy.Validate(); err != nil {
		return o, err
	}
	if o.cwd != "" {
		if fi, err := os.Stat(o.cwd); err != nil || !fi.IsDir() {
			return o, fmt.Errorf("--cwd %q is not a directory", o.cwd)
		}
	}
	if o.token == "" {
		o.token = os.Getenv("BRUMMER_TOKEN")
	}
	return o, nil
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if os.Getenv(crashguard.EnvMode) == "1" {
		if err := crashguard.RunWatchdog(stdin); err != nil {
			fmt.Fprintln(stderr, "brummer-mcp watchdog:", err)
			return 1
		}
		return 0
	}
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "brummer-mcp:", err)
		return 2
	}
	if o.version {
		fmt.Fprintln(stdout, "brummer-mcp", versionString())
		return 0
	}

	// A client that closes our stderr pipe must not kill us with SIGPIPE
	// before the children are stopped, yet children get the default.
	catchSignals()
	// From the start, SIGINT and SIGTERM mean "shut down in order", never
	// the default death that would leave children behind.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	log, closeLog, err := newLogger(o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "brummer-mcp:", err)
		return 2
	}
	defer closeLog()

	// Processes a crashed instance left behind (when its watchdog died too)
	// are stopped and reported.
	if o.stateDir != "" {
		leftovers, err := crashguard.Recover(o.stateDir, log)
		if err != nil {
			log.Warn().Err(err).Msg("cannot look for processes left by crashed instances")
		}
		for _, l := range leftovers {
			log.Warn().Int("instance", l.Instance).Int("pgid", l.Pgid).Str("command", l.Command).
				Int("killed", l.Killed).AnErr("kill_error", l.Err).
				Msg("stopped processes left running by a crashed instance")
		}
	}
	// The crash guard kills what is left of our children's process groups
	// if we die without stopping them (SIGKILL, OOM killer, crash). Windows
	// needs none: the children's job objects die with us.
	var groups procstate.GroupWatcher
	var otherChildren []int
	exe, err := os.Executable()
	if err != nil {
		log.Warn().Err(err).Msg("no watchdog: cannot find our own executable")
	}
	if g, err := crashguard.Start(crashguard.Config{Exe: exe, StateDir: o.stateDir}, log); errors.Is(err, errors.ErrUnsupported) {
		log.Debug().Err(err).Msg("no crash guard")
	} else if err != nil {
		log.Warn().Err(err).Msg("no crash guard")
	} else {
		defer g.Close()
		groups = g
		if pid := g.WatchdogPid(); pid != 0 {
			otherChildren = append(otherChildren, pid)
			log.Debug().Int("watchdog_pid", pid).Msg("watchdog started")
		}
	}

	sup, err := procstate.New(procstate.Config{
		Dir:           o.cwd,
		MaxProcs:      o.maxProcs,
		LogLines:      o.logLines,
		LogBytes:      o.logBytes,
		StopGrace:     o.stopGrace,
		Nice:          o.childNice,
		Subreaper:     true,
		OtherChildren: otherChildren,
		Groups:        groups,
	}, log)
	if err != nil {
		log.Error().Err(err).Msg("start")
		return 1
	}

	// A session that ends (an SSE stream that closes) cancels its calls.
	calls := transport.NewSessionCalls()
	proj := project.New(sup.Config().Dir, log)
	srv := tools.NewServer(sup, versionString(), o.policy, log,
		tools.WithProject(proj),
		tools.WithSessionHooks(calls.Hooks), tools.WithMiddleware(calls.Middleware))
	defer srv.Close()

	var web *transport.HTTP
	var dash *dashboard.Dashboard
	dashURL := ""
	httpErr := make(chan error, 1)
	if o.http != "" || o.httpFD > 0 {
		// The dashboard starts a project's process as process_start
		// {"script"} does, under the same policy.
		dash = dashboard.New(dashboard.Config{
			Sup:      sup,
			Project:  proj,
			Prepare:  tools.ScriptStep(o.policy),
			ReadOnly: o.policy.ReadOnly,
			Version:  versionString(),
			Log:      log,
		})
		cfg := transport.HTTPConfig{
			Addr:         o.http,
			Token:        o.token,
			AllowOrigins: o.allowOrigins,
			MaxBodyBytes: o.maxBody,
			UI:           dash.Handler(),
		}
		if o.httpFD > 0 {
			f := os.NewFile(uintptr(o.httpFD), "http-fd")
			ln, err := net.FileListener(f) // a duplicate: f is ours to close
			f.Close()
			if err != nil {
				fmt.Fprintf(stderr, "brummer-mcp: --http-fd %d: %v\n", o.httpFD, err)
				_ = sup.Close(context.Background())
				return 2
			}
			cfg.Listener = ln
		}
		web, err = transport.NewHTTP(srv.MCPServer, cfg, log)
		if err != nil { // a configuration mistake: say so plainly, like a bad flag
			fmt.Fprintln(stderr, "brummer-mcp: --http:", err)
			_ = sup.Close(context.Background())
			return 2
		}
		if err := web.Listen(); err != nil {
			fmt.Fprintln(stderr, "brummer-mcp:", err)
			_ = sup.Close(context.Background())
			return 1
		}
		dashURL = pageURL(web.Addr())
		log.Info().Str("url", dashURL).Msg("dashboard at " + dashURL)
		go func() { httpErr <- web.Serve() }()
	}

	if o.noStdio {
		select {
		case <-ctx.Done():
			log.Info().Msg("signal received; shutting down")
		case err := <-httpErr:
			log.Error().Err(err).Msg("http")
		}
	} else {
		if f, ok := stdin.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			fmt.Fprintf(stderr, "brummer-mcp %s: a process manager for AI agents, as an MCP server.\n", versionString())
			if web == nil {
				fmt.Fprintf(stderr, "It speaks MCP (JSON-RPC) on stdin/stdout and is meant to be started by an MCP client, not by hand.\n")
				fmt.Fprintf(stderr, "Connect a client: claude mcp add brummer -- brummer-mcp   (see README.md; Ctrl-C quits)\n")
			} else {
				fmt.Fprintf(stderr, "It speaks MCP on stdin/stdout and on http://%s/mcp (SSE: /sse); closing stdin stops it, --no-stdio serves HTTP only.\n", web.Addr())
				fmt.Fprintf(stderr, "Connect a client: claude mcp add --transport http brummer http://%s/mcp   (see README.md; Ctrl-C quits)\n", web.Addr())
				fmt.Fprintf(stderr, "See what runs, in a browser: %s\n", dashURL)
			}
		}
		log.Info().Str("version", versionString()).Str("cwd", sup.Config().Dir).Msg("serving MCP on stdio")
		err = transport.ServeStdio(ctx, srv.MCPServer, stdin, stdout, transport.StdioConfig{MaxLineBytes: o.maxBody}, log)
		switch {
		case ctx.Err() != nil:
			log.Info().Msg("signal received; shutting down")
		case err != nil:
			log.Error().Err(err).Msg("stdio")
		default:
			log.Info().Msg("stdin closed; shutting down")
		}
	}
	// From here on a second SIGINT or SIGTERM cuts the grace period short.
	// The new handler is installed before the first is released, so that no
	// signal finds the default action (death, with children left behind).
	closeCtx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	stop()
	closeCtx, cancelTimeout := context.WithTimeout(closeCtx, o.stopGrace+5*time.Second)
	defer cancelTimeout()

	// The dashboard's event streams end, and its actions in progress are
	// cancelled (what they started runs on), before the HTTP server waits
	// for its requests and the supervisor stops the children.
	if dash != nil {
		dash.Close()
	}
	// Stop accepting HTTP requests and close the MCP sessions; requests in
	// flight (a process_stop, say) end as the processes are stopped, so the
	// two run side by side. The supervisor refuses new starts from now on.
	webDone := make(chan struct{})
	go func() {
		defer close(webDone)
		if web != nil {
			if err := web.Shutdown(closeCtx); err != nil {
				log.Warn().Err(err).Msg("http shutdown")
			}
		}
	}()
	log.Info().Msg("stopping processes")
	if err := sup.Close(closeCtx); err != nil {
		log.Warn().Err(err).Msg("processes killed without grace")
	}
	<-webDone
	log.Info().Msg("all processes stopped")
	return 0
}

// pageURL is where a browser on this machine finds the dashboard served on
// addr: a wildcard address is reached on loopback.
func pageURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// newLogger builds the one logger of the program: JSON lines to the log file,
// or to stderr (human-readable when stderr is a terminal). Never stdout.
func newLogger(o options, stderr io.Writer) (zerolog.Logger, func(), error) {
	level, err := zerolog.ParseLevel(o.logLevel)
	if err != nil || o.logLevel == "" {
		return zerolog.Nop(), nil, fmt.Errorf("--log-level must be debug, info, warn or error, got %q", o.logLevel)
	}
	var w io.Writer = stderr
	closeFn := func() {}
	if o.logFile != "" {
		f, err := os.OpenFile(o.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return zerolog.Nop(), nil, fmt.Errorf("--log-file: %w", err)
		}
		w, closeFn = f, func() { f.Close() }
	} else if f, ok := stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		w = zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger(), closeFn, nil
}
