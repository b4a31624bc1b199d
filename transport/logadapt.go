package transport

import (
	"context"
	stdlog "log"
	"log/slog"

	"github.com/rs/zerolog"
)

// zerologWriter adapts *log.Logger output (mcp-go's stdio server, net/http)
// to our logger.
type zerologWriter struct{ log zerolog.Logger }

func (w zerologWriter) Write(p []byte) (int, error) {
	msg := string(p)
	if n := len(msg); n > 0 && msg[n-1] == '\n' {
		msg = msg[:n-1]
	}
	w.log.Warn().Msg(msg)
	return len(p), nil
}

func stdLogTo(log zerolog.Logger) *stdlog.Logger { return stdlog.New(zerologWriter{log}, "", 0) }

// slogTo adapts mcp-go's slog output to our logger.
func slogTo(log zerolog.Logger) *slog.Logger { return slog.New(slogHandler{log: log}) }

type slogHandler struct {
	log   zerolog.Logger
	attrs []slog.Attr
}

func (h slogHandler) Enabled(_ context.Context, l slog.Level) bool {
	return h.log.GetLevel() <= zerologLevel(l)
}

func (h slogHandler) Handle(_ context.Context, r slog.Record) error {
	e := h.log.WithLevel(zerologLevel(r.Level))
	for _, a := range h.attrs {
		e = e.Any(a.Key, a.Value.Any())
	}
	r.Attrs(func(a slog.Attr) bool {
		e = e.Any(a.Key, a.Value.Any())
		return true
	})
	e.Msg(r.Message)
	return nil
}

func (h slogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return slogHandler{log: h.log, attrs: append(append([]slog.Attr(nil), h.attrs...), attrs...)}
}

func (h slogHandler) WithGroup(string) slog.Handler { return h }

func zerologLevel(l slog.Level) zerolog.Level {
	switch {
	case l >= slog.LevelError:
		return zerolog.ErrorLevel
	case l >= slog.LevelWarn:
		return zerolog.WarnLevel
	case l >= slog.LevelInfo:
		return zerolog.InfoLevel
	}
	return zerolog.DebugLevel
}
