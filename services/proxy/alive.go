package proxy

import (
	"net"
	"syscall"

	"github.com/switchyard-proxy/switchyard/internal/sockpeek"
)

// alive reports whether an idle connection still looks usable: a
// non-blocking peek must find nothing to read. End of stream, an error or
// unexpected bytes mean the backend closed it or broke the protocol. Where
// no peek is possible the request retry covers dead connections.
func alive(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	switch sockpeek.Peek(rc) {
	case sockpeek.Data, sockpeek.Closed:
		return false
	}
	return true
}
