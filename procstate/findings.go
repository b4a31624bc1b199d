package procstate

import (
	"io"
	"os"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/brummer-mcp/brummer-mcp/detect"
	"github.com/brummer-mcp/brummer-mcp/logring"
)

// Findings is what a run's output says that an agent should notice: the
// errors it reported and the URLs it printed (package detect tells which
// lines those are). Only the run's own output counts, its stdout and stderr
// lines after [Process.LogFrom], never the supervisor's notes. A Findings
// value is immutable once published: do not modify URLs.
type Findings struct {
	// Errors counts the run's output lines that report an error: compiler
	// diagnostics, panics and tracebacks, uncaught exceptions, failed
	// package scripts and tests (see [detect.Error]).
	Errors int
	// LastError is the newest of those lines, nil if none. Its Text is as
	// printed (escape sequences included), cut to at most MaxErrorText
	// bytes at a character boundary.
	LastError *logring.Line
	// URLs are the distinct http and https URLs the run printed, first
	// seen first, at most MaxURLs; a wildcard host (0.0.0.0, [::]) reads
	// localhost (see [detect.URLs]).
	URLs []string
	// Incomplete is set when lines of the run were evicted from its log
	// before the analyzer read them, as in a flood: Errors and URLs may
	// miss what those lines held.
	Incomplete bool
	// Final is set once the findings cover the whole run: it has ended and
	// its last lines have been analyzed ([Process.Analyzed] is closed).
	Final bool
}

// Limits of Findings, and how often they are brought up to date.
const (
	// MaxURLs bounds Findings.URLs: the first URLs a run prints are its
	// addresses; later ones are mostly links in messages.
	MaxURLs = 10
	// MaxErrorText bounds the text of Findings.LastError, in bytes.
	MaxErrorText = 300
	// AnalyzeEvery is the least time between two analyzer passes over the
	// logs that grew: while a run prints, its Findings lag its log by up
	// to about this much (a line after a quiet spell is analyzed at once).
	// A run's end is analyzed without waiting.
	AnalyzeEvery = 250 * time.Millisecond
)

// Findings returns what the analyzer has found in the run's output so
// far. It is an atomic load of an immutable value: it never blocks and
// never scans the log itself. While the run prints, it lags the log by up
// to AnalyzeEvery; once the run has ended, it becomes Final promptly (wait
// for [Process.Analyzed], or watch [Supervisor.Changes]).
func (p *Process) Findings() Findings {
	if f := p.findings.Load(); f != nil {
		return *f
	}
	return Findings{}
}

// Analyzed returns a channel that is closed once the run's Findings are
// Final: the run has ended (its exit, or the failure of its start, is
// published) and every line of it has been analyzed.
func (p *Process) Analyzed() <-chan struct{} { return p.analyzed }

// analyzer is the supervisor's one goroutine that reads the logs for
// findings, off the ingest path. It wakes when a log grew (see
// outputPipe), at most once per AnalyzeEvery, and looks only at the
// processes whose logs grew; with no output anywhere it sleeps. A run
// that ends is analyzed for the last time at once.
type analyzer struct {
	grew  chan struct{} // buffered 1: some process's log grew
	ended chan struct{} // buffered 1: endedRuns has a run
	stop  chan struct{} // closed by Close
	done  chan struct{} // closed when the goroutine returns
	once  sync.Once     // closes stop

	mu        sync.Mutex
	endedRuns []*Process // guarded by mu: runs whose final pass is due; at most the runs ended since the last drain
	stopped   bool       // guarded by mu: the goroutine is gone; an ending run is analyzed by its waiter
}

// analysis is the analyzer's progress through one run's lines. It is
// owned by the analyzer goroutine; once that has stopped, by the goroutine
// that ends the run (see Supervisor.runEnded).
type analysis struct {
	cursor     uint64 // lines up to here have been looked at
	errors     int
	last       logring.Line  // the newest error line, without its text
	lastText   []byte        // its text, cut at MaxErrorText
	lastPub    *logring.Line // last as published; nil once a newer error came
	urls       []string
	found      []string // scratch for detect.URLs
	incomplete bool
	changed    bool // since the last publication
	finished   bool // the final findings are published
}

// startAnalyzer starts the analyzer goroutine, which Close stops.
func (s *Supervisor) startAnalyzer() {
	a := &analyzer{
		grew:  make(chan struct{}, 1),
		ended: make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	s.an = a
	go s.analyze(a)
}

// stopAnalyzer stops the analyzer after it has made the final pass of
// every run that ended so far, and waits for it. Runs that end later are
// analyzed by their waiters.
func (s *Supervisor) stopAnalyzer() {
	if s.an == nil {
		return
	}
	s.an.once.Do(func() { close(s.an.stop) })
	<-s.an.done
}

func (s *Supervisor) analyze(a *analyzer) {
	defer close(a.done)
	throttle := time.NewTimer(time.Hour)
	throttle.Stop()
	defer throttle.Stop()
	var due <-chan time.Time // set while a pass waits for AnalyzeEvery to pass
	var last time.Time       // when the last pass began
	for {
		select {
		case <-a.stop:
			for s.finishRuns(a, true) {
			}
			return
		case <-a.ended:
			s.finishRuns(a, false)
		case <-a.grew:
			if due != nil {
				break // a pass is coming
			}
			if wait := AnalyzeEvery - time.Since(last); wait > 0 {
				throttle.Reset(wait)
				due = throttle.C
				break
			}
			last = time.Now()
			s.analyzePass()
		case <-due:
			due = nil
			last = time.Now()
			s.analyzePass()
		}
	}
}

// analyzePass brings up to date the findings of the processes whose logs
// grew since the last pass. A process whose log did not grow costs one
// atomic load.
func (s *Supervisor) analyzePass() {
	changed := false
	for _, p := range s.Processes() {
		if !p.grew.Load() || !p.grew.Swap(false) || p.an.finished {
			continue
		}
		if p.an.scan(p) {
			p.publishFindings(false)
			changed = true
		}
	}
	if changed {
		s.changes.bump()
	}
}

// finishRuns makes the final pass of the runs that ended, and reports
// whether there were any. With stopping, once none is left, it marks the
// analyzer stopped, so that runs that end later are finished by their
// waiters.
func (s *Supervisor) finishRuns(a *analyzer, stopping bool) bool {
	a.mu.Lock()
	runs := a.endedRuns
	a.endedRuns = nil
	if stopping && len(runs) == 0 {
		a.stopped = true
	}
	a.mu.Unlock()
	for _, p := range runs {
		p.finishFindings()
	}
	if len(runs) > 0 {
		s.changes.bump()
	}
	for _, p := range runs {
		close(p.analyzed)
	}
	return len(runs) > 0
}

// endOutput records where the run's lines end, once its output is drained
// and before its end is published: no next run can add lines before that.
// The start note makes the seq at least LogFrom+1, so never 0, which
// stands for "not ended".
func (p *Process) endOutput() { p.runEnd.Store(p.log.Stats().LastSeq) }

// runEnded is called once p's run has ended (endOutput) and its end is
// published. It has the analyzer make the final pass at once, or makes it
// itself if the analyzer has stopped (or never ran).
func (s *Supervisor) runEnded(p *Process) {
	if a := s.an; a != nil {
		a.mu.Lock()
		if !a.stopped {
			a.endedRuns = append(a.endedRuns, p)
			a.mu.Unlock()
			select {
			case a.ended <- struct{}{}:
			default: // a wake-up is pending
			}
			return
		}
		a.mu.Unlock()
		p.finishFindings()
		s.changes.bump()
	}
	close(p.analyzed)
}

// logGrew tells the analyzer that p's log may have new lines: the cost on
// the ingest path, an atomic load when the analyzer already knows.
func (s *Supervisor) logGrew(p *Process) {
	if p.grew.Load() || p.grew.Swap(true) {
		return // the analyzer has been told and has not looked yet
	}
	select {
	case s.an.grew <- struct{}{}:
	default: // a wake-up is pending
	}
}

// pipeReader is what Ingest uses of a pipe: reads, and deadlines for
// partial lines.
type pipeReader interface {
	io.Reader
	SetReadDeadline(time.Time) error
}

// outputReader returns what Ingest reads for one of p's output pipes:
// the pipe itself, or with the analyzer on, the pipe wrapped to tell it
// when the log grew.
func (s *Supervisor) outputReader(p *Process, f *os.File) pipeReader {
	if s.an == nil {
		return f
	}
	return &outputPipe{f: f, p: p, s: s}
}

// outputPipe is the read end of a child's stdout or stderr as
// logring.Ring.Ingest reads it: it tells the analyzer that the log grew.
// Ingest publishes the lines of one read before it reads again, so when
// Read is entered after a read that brought bytes (or a deadline, which
// publishes a partial line), the lines they completed are in the ring. A
// read's last lines are told of by the next read, or by the end of
// Ingest (see spawn), or by the end of the run. It forwards
// SetReadDeadline, with which Ingest publishes partial lines.
type outputPipe struct {
	f    *os.File
	p    *Process
	s    *Supervisor
	read bool // the last read brought bytes or an error
}

func (o *outputPipe) Read(b []byte) (int, error) {
	if o.read {
		o.s.logGrew(o.p)
	}
	n, err := o.f.Read(b)
	o.read = n > 0 || err != nil
	return n, err
}

func (o *outputPipe) SetReadDeadline(t time.Time) error { return o.f.SetReadDeadline(t) }

// scan analyzes p's lines after the cursor, up to the run's end, and
// reports whether the findings changed. Lines are matched in place: the
// Match function always declines, so Read copies nothing, and only the
// newest error line's text (cut) and new URLs are copied out.
func (a *analysis) scan(p *Process) bool {
	end := p.runEnd.Load()
	page, err := p.log.Read(logring.Query{Since: a.cursor, HasSince: true, Match: func(l *logring.Line) bool {
		if end == 0 {
			// The run may end during the scan; the next run, whose lines
			// are not this run's, starts only after its end is stored.
			end = p.runEnd.Load()
		}
		if l.Stream != logring.System && (end == 0 || l.Seq <= end) {
			a.line(l)
		}
		return false
	}})
	if err == nil {
		a.cursor = page.NextSince
		if page.Missed > 0 && !a.incomplete {
			a.incomplete, a.changed = true, true
		}
	}
	changed := a.changed
	a.changed = false
	return changed
}

// line analyzes one output line, whose text is valid only during the call.
func (a *analysis) line(l *logring.Line) {
	if _, ok := detect.Error(l.Text); ok {
		a.errors++
		a.last = logring.Line{Seq: l.Seq, Time: l.Time, Stream: l.Stream, Split: l.Split, Partial: l.Partial}
		a.lastText = append(a.lastText[:0], cut(l.Text, MaxErrorText)...)
		a.lastPub = nil
		a.changed = true
	}
	if len(a.urls) < MaxURLs {
		a.found = detect.URLs(l.Text, a.found[:0])
		for _, u := range a.found {
			if len(a.urls) < MaxURLs && !slices.Contains(a.urls, u) {
				a.urls = append(a.urls, u)
				a.changed = true
			}
		}
		clear(a.found) // drop the strings: found is reused
	}
}

// cut returns s cut to at most n bytes, at the start of a character.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// publishFindings publishes the analysis as p's Findings. Only the
// analysis's owner calls it.
func (p *Process) publishFindings(final bool) {
	a := &p.an
	f := &Findings{Errors: a.errors, URLs: slices.Clone(a.urls), Incomplete: a.incomplete, Final: final}
	if a.errors > 0 {
		if a.lastPub == nil {
			ln := a.last
			ln.Text = string(a.lastText)
			a.lastPub = &ln
		}
		f.LastError = a.lastPub
	}
	p.findings.Store(f)
}

// finishFindings makes the final pass over p's run, which has ended,
// publishes its final Findings and lets the analysis go. Only the
// analysis's owner calls it.
func (p *Process) finishFindings() {
	p.an.scan(p)
	p.publishFindings(true)
	p.an = analysis{finished: true}
}
