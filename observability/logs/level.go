package logs

import (
	"fmt"
	"log/slog"
	"strings"
)

// Levels beyond slog's four. Traefik accepts TRACE, FATAL and PANIC; slog
// levels are plain integers, so they sit four apart like slog's own.
const (
	LevelTrace = slog.LevelDebug - 4
	LevelFatal = slog.LevelError + 4
	LevelPanic = slog.LevelError + 8
)

// DefaultLevel is Traefik's default: ERROR.
const DefaultLevel = slog.LevelError

// ParseLevel reads a Traefik level name, case-insensitively. An empty
// string is the default level (ERROR). WARNING is accepted as WARN.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "":
		return DefaultLevel, nil
	case "TRACE":
		return LevelTrace, nil
	case "DEBUG":
		return slog.LevelDebug, nil
	case "INFO":
		return slog.LevelInfo, nil
	case "WARN", "WARNING":
		return slog.LevelWarn, nil
	case "ERROR":
		return slog.LevelError, nil
	case "FATAL":
		return LevelFatal, nil
	case "PANIC":
		return LevelPanic, nil
	}
	return 0, fmt.Errorf("unknown level %q (want TRACE, DEBUG, INFO, WARN, ERROR, FATAL or PANIC)", s)
}

// shortName is the three-letter tag of the common format (TRC, DBG, INF…).
func shortName(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "TRC"
	case l < slog.LevelInfo:
		return "DBG"
	case l < slog.LevelWarn:
		return "INF"
	case l < slog.LevelError:
		return "WRN"
	case l < LevelFatal:
		return "ERR"
	case l < LevelPanic:
		return "FTL"
	}
	return "PNC"
}

// longName is the lower-case level of the JSON format (trace, debug…).
func longName(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "trace"
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	case l < LevelFatal:
		return "error"
	case l < LevelPanic:
		return "fatal"
	}
	return "panic"
}
