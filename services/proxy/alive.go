package proxy

import (
	"github.com/switchyard-proxy/switchyard/internal/sockpeek"
)

// alive reports whether an idle connection may carry a new request: a
// non-blocking peek must find nothing to read. End of stream, an error or
// any byte at all mean the backend closed it or broke the protocol (an
// unsolicited response). Where no peek is possible the request retry covers
// dead connections. The descriptor is ours: the connection is off the idle
// list, so nothing can close it meanwhile.
func (c *conn) alive() bool {
	if c.fd < 0 {
		return true
	}
	switch sockpeek.PeekFD(uintptr(c.fd)) {
	case sockpeek.Data, sockpeek.Closed:
		return false
	}
	return true
}

// answered reports whether the backend has sent something (or closed) on a
// busy connection: a response that came before the request was fully written.
func (c *conn) answered() bool {
	if c.br.Buffered() > 0 {
		return true
	}
	if c.fd < 0 {
		return false
	}
	switch sockpeek.PeekFD(uintptr(c.fd)) {
	case sockpeek.Data, sockpeek.Closed:
		return true
	}
	return false
}
