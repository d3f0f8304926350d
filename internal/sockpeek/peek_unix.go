//go:build unix

package sockpeek

import "golang.org/x/sys/unix"

// PeekFD peeks at one byte of fd without blocking.
func PeekFD(fd uintptr) State {
	var b [1]byte
	for {
		n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return Empty
		case err != nil || n == 0:
			return Closed
		}
		return Data
	}
}
