//go:build unix

package sockpeek

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// PeekFD peeks at one byte of fd without blocking. It calls recvfrom(2)
// directly: unix.Recvfrom allocates the source address it returns, and this
// runs once per reused backend connection.
func PeekFD(fd uintptr) State {
	var b [1]byte
	for {
		n, _, errno := unix.Syscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
			unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
		switch {
		case errno == unix.EINTR:
			continue
		case errno == unix.EAGAIN:
			return Empty
		case errno != 0 || n == 0:
			return Closed
		}
		return Data
	}
}
