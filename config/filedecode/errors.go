package filedecode

import (
	"strconv"
	"strings"
)

// Error is a problem in one configuration file: where it is (file, line,
// key) and why. Line is 0 and Key empty when they are unknown.
type Error struct {
	File   string
	Line   int
	Key    string // key path in the documented spelling, e.g. http.routers.web.rule
	Reason string
	Err    error // the underlying cause, if any
}

// Error is "file:line: key: reason", leaving out the parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(e.Line))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }
