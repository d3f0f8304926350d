package logs

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// ANSI colours of the common format, used unless noColor is set.
const (
	colorReset = "\x1b[0m"
	colorGray  = "\x1b[90m"
	colorCyan  = "\x1b[36m"
)

func levelColor(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "\x1b[35m" // magenta
	case l < slog.LevelInfo:
		return "\x1b[33m" // yellow
	case l < slog.LevelWarn:
		return "\x1b[32m" // green
	case l < slog.LevelError:
		return "\x1b[31m" // red
	}
	return "\x1b[1;31m" // bold red
}

// commonHandler writes one human-readable line per record:
//
//	2024-05-01T10:00:00+02:00 INF message key=value other="two words"
type commonHandler struct {
	out   *commonOutput
	attrs []byte // pre-formatted " k=v" from WithAttrs
	group string // "a.b." prefix from WithGroup
}

// commonOutput is shared by a handler and its WithAttrs/WithGroup children.
type commonOutput struct {
	mu    sync.Mutex
	w     io.Writer
	level slog.Leveler
	color bool
}

func newCommonHandler(w io.Writer, level slog.Leveler, color bool) *commonHandler {
	return &commonHandler{out: &commonOutput{w: w, level: level, color: color}}
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (h *commonHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.out.level.Level()
}

func (h *commonHandler) Handle(_ context.Context, r slog.Record) error {
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:0]
	color := h.out.color

	if !r.Time.IsZero() {
		if color {
			b = append(b, colorGray...)
		}
		b = r.Time.AppendFormat(b, time.RFC3339)
		if color {
			b = append(b, colorReset...)
		}
		b = append(b, ' ')
	}
	if color {
		b = append(b, levelColor(r.Level)...)
	}
	b = append(b, shortName(r.Level)...)
	if color {
		b = append(b, colorReset...)
	}
	b = append(b, ' ')
	b = append(b, r.Message...)
	b = append(b, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		b = appendAttr(b, h.group, a, color)
		return true
	})
	b = append(b, '\n')

	h.out.mu.Lock()
	_, err := h.out.w.Write(b)
	h.out.mu.Unlock()

	if cap(b) <= 64<<10 { // do not keep huge buffers alive
		*bp = b
		bufPool.Put(bp)
	}
	return err
}

func (h *commonHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	c := *h
	c.attrs = append([]byte(nil), h.attrs...)
	for _, a := range as {
		c.attrs = appendAttr(c.attrs, h.group, a, h.out.color)
	}
	return &c
}

func (h *commonHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group = h.group + name + "."
	return &c
}

// appendAttr writes " key=value", flattening groups into dotted keys.
func appendAttr(b []byte, prefix string, a slog.Attr, color bool) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return b
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, ga := range a.Value.Group() {
			b = appendAttr(b, p, ga, color)
		}
		return b
	}
	b = append(b, ' ')
	if color {
		b = append(b, colorCyan...)
	}
	b = append(b, prefix...)
	b = append(b, a.Key...)
	b = append(b, '=')
	if color {
		b = append(b, colorReset...)
	}
	switch v := a.Value; v.Kind() {
	case slog.KindInt64:
		b = strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		b = strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		b = strconv.AppendFloat(b, v.Float64(), 'g', -1, 64)
	case slog.KindBool:
		b = strconv.AppendBool(b, v.Bool())
	case slog.KindTime:
		b = v.Time().AppendFormat(b, time.RFC3339Nano)
	default:
		b = appendMaybeQuoted(b, v.String())
	}
	return b
}

// appendMaybeQuoted quotes s when it would be ambiguous bare: empty, or
// containing spaces, quotes, '=' or non-printable characters.
func appendMaybeQuoted(b []byte, s string) []byte {
	if needsQuote(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func needsQuote(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == '"' || c == '=' || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || !strconv.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}
