package http1

import "github.com/switchyard-proxy/switchyard/internal/sockpeek"

// peekIdle: nothing waits in c's receive queue, and the client has not
// closed.
func peekIdle(c *conn) bool {
	if c.raw == nil {
		return false
	}
	st := sockpeek.Unknown
	_ = c.raw.Control(func(fd uintptr) { st = sockpeek.PeekFD(fd) })
	return st == sockpeek.Empty
}
