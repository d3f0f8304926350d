//go:build unix

package relay

import "golang.org/x/sys/unix"

// rawReads: a bare TCP socket is read from the poller's callback.
const rawReads = true

// readFD reads once without blocking; again: nothing to read yet.
func readFD(fd uintptr, b []byte) (n int, again bool, err error) {
	for {
		n, err = unix.Read(int(fd), b)
		switch err {
		case nil:
			return n, false, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, true, nil
		}
		return 0, false, err
	}
}
