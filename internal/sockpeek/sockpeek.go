// Package sockpeek looks at a socket's receive queue without consuming it
// and without blocking: is a pooled backend connection still usable, did a
// client close while its request runs, has an accepted connection sent
// anything yet.
package sockpeek

import "syscall"

// State is what a peek found.
type State int

const (
	// Unknown: no descriptor to look at, or not on this platform.
	Unknown State = iota
	// Empty: nothing to read, the peer has not closed.
	Empty
	// Data: bytes are waiting.
	Data
	// Closed: end of stream or a socket error (reset).
	Closed
)

// Peek looks at rc's socket; it does not take the read lock, so it can run
// beside a reader.
func Peek(rc syscall.RawConn) State {
	if rc == nil {
		return Unknown
	}
	st := Unknown
	if err := rc.Control(func(fd uintptr) { st = PeekFD(fd) }); err != nil {
		return Closed
	}
	return st
}
