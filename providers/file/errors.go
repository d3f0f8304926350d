package file

import (
	"errors"
	"io/fs"

	"github.com/switchyard-proxy/switchyard/config/filedecode"
)

// Error is a problem in one dynamic configuration file: where it is (file,
// line, key) and why. Line is 0 and Key empty when they are unknown.
type Error struct {
	File   string
	Line   int
	Key    string
	Reason string
	// Rendered is set when the file is a template whose output differs from
	// its source: Line then counts lines of the rendered output.
	Rendered bool
	Err      error
}

func (e *Error) Error() string {
	s := (&filedecode.Error{File: e.File, Line: e.Line, Key: e.Key, Reason: e.Reason}).Error()
	if e.Rendered && e.Line > 0 {
		s += " (line of the rendered template)"
	}
	return s
}

// fromDecode turns a *filedecode.Error into an *Error of file; other errors
// are returned as they are.
func fromDecode(err error) error {
	var de *filedecode.Error
	if !errors.As(err, &de) {
		return err
	}
	return &Error{File: de.File, Line: de.Line, Key: de.Key, Reason: de.Reason, Err: de.Err}
}

func (e *Error) Unwrap() error { return e.Err }

// logAttrs are the structured fields of e for slog.
func (e *Error) logAttrs() []any {
	attrs := []any{"file", e.File}
	if e.Line > 0 {
		attrs = append(attrs, "line", e.Line)
	}
	if e.Key != "" {
		attrs = append(attrs, "key", e.Key)
	}
	attrs = append(attrs, "reason", e.Reason)
	if e.Rendered {
		attrs = append(attrs, "rendered", true)
	}
	return attrs
}

// osReason drops the path an *fs.PathError repeats, since our messages name
// the path themselves.
func osReason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
