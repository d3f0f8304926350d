//go:build unix

package proxy

import (
	"net"
	"syscall"
)

// alive reports whether an idle connection still looks usable: a non-blocking
// peek must find nothing to read (EAGAIN). EOF, an error or unexpected bytes
// mean the backend closed it or broke the protocol.
func alive(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	ok = false
	var b [1]byte
	cerr := rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		ok = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		return true
	})
	return cerr == nil && ok
}
