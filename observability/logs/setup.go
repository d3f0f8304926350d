// Package logs sets up the process log (log/slog) from the static `log`
// section and provides the reopenable log file shared with the access log.
package logs

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/switchyard-proxy/switchyard/config/static"
)

// Output is what Setup returns: close it at exit, reopen it on SIGUSR1.
// For stdout both are no-ops.
type Output interface {
	io.Closer
	Reopener
}

type stdout struct{}

func (stdout) Close() error  { return nil }
func (stdout) Reopen() error { return nil }

// Setup builds the process logger from cfg (nil means Traefik's defaults:
// ERROR, common format, stdout) and installs it with slog.SetDefault. The
// returned closer is also a Reopener (see Output); pass it to
// ReopenOnSIGUSR1. Bad values are errors naming the key.
func Setup(cfg *static.Log) (closer io.Closer, err error) {
	h, out, err := NewHandler(cfg)
	if err != nil {
		return nil, err
	}
	slog.SetDefault(slog.New(h))
	return out, nil
}

// NewHandler is Setup without the SetDefault: the handler and its output.
func NewHandler(cfg *static.Log) (slog.Handler, Output, error) {
	c := static.Log{}
	if cfg != nil {
		c = *cfg
	}
	level, err := ParseLevel(c.Level)
	if err != nil {
		return nil, nil, fmt.Errorf("log.level: %w", err)
	}
	format := strings.ToLower(strings.TrimSpace(c.Format))
	switch format {
	case "", "common", "json":
	default:
		return nil, nil, fmt.Errorf("log.format: unknown format %q (want common or json)", c.Format)
	}

	var (
		w   io.Writer = os.Stdout
		out Output    = stdout{}
	)
	switch {
	case c.FilePath == "" && rotates(c):
		return nil, nil, fmt.Errorf("log.maxSize, maxAge, maxBackups and compress rotate log.filePath: set it (stdout does not rotate)")
	case c.FilePath != "" && rotates(c):
		f, err := OpenRotating(c.FilePath, c.MaxSize, c.MaxAge, c.MaxBackups, c.Compress)
		if err != nil {
			return nil, nil, fmt.Errorf("log.filePath: %w", err)
		}
		w, out = f, f
	case c.FilePath != "":
		f, err := Open(c.FilePath)
		if err != nil {
			return nil, nil, fmt.Errorf("log.filePath: %w", err)
		}
		w, out = f, f
	}

	if format == "json" {
		return newJSONHandler(w, level), out, nil
	}
	// Colours only on the console, like Traefik: a file gets plain text.
	color := !c.NoColor && c.FilePath == ""
	return newCommonHandler(w, level, color), out, nil
}

// newJSONHandler writes Traefik-shaped JSON lines:
// {"level":"info","time":"…","message":"…",…}.
func newJSONHandler(w io.Writer, level slog.Leveler) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.LevelKey:
				if l, ok := a.Value.Any().(slog.Level); ok {
					return slog.String(slog.LevelKey, longName(l))
				}
			case slog.TimeKey:
				if a.Value.Kind() == slog.KindTime {
					return slog.String(slog.TimeKey, a.Value.Time().Format(time.RFC3339))
				}
			case slog.MessageKey:
				a.Key = "message"
			}
			return a
		},
	})
}
