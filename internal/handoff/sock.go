package handoff

import (
	ctls "crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
)

// Send sends one record to the new process (the upgrade channel's send):
// the files stay open on this side; close them once Send returned.
type Send = func(kind string, meta []byte, files ...*os.File) error

// Record is one moved connection as sent: its kind, metadata and sockets.
type Record struct {
	Kind  string
	Meta  []byte
	Files []*os.File
}

// SendBatch sends records to the new process, many per message (the
// upgrade channel packs as many descriptors as one sendmsg takes); the
// files stay open on this side. It returns how many records, from the
// first, went whole: on an error the new process adopts those and no
// other (a record cut short is dropped there).
type SendBatch = func(recs []Record) (int, error)

// ErrTLS: the connection carries TLS of ours; its crypto state cannot be
// exported, so it drains instead of moving.
var ErrTLS = errors.New("handoff: TLS state cannot move")

// Socket finds the TCP socket under c's wrappers (peek, PROXY protocol,
// per-address limit, tunnel); ErrTLS when a TLS layer of ours is on the
// way.
func Socket(c net.Conn) (*net.TCPConn, error) {
	for range 16 {
		switch t := c.(type) {
		case *net.TCPConn:
			return t, nil
		case *ctls.Conn:
			return nil, ErrTLS
		case interface{ NetConn() net.Conn }:
			c = t.NetConn()
		case interface{ TCPConn() (*net.TCPConn, bool) }:
			tc, ok := t.TCPConn()
			if !ok {
				return nil, fmt.Errorf("handoff: %T is not over TCP", c)
			}
			return tc, nil
		default:
			return nil, fmt.Errorf("handoff: no socket under %T", c)
		}
	}
	return nil, errors.New("handoff: too many wrappers")
}

// Movable reports whether c's socket can be sent.
func Movable(c net.Conn) bool {
	_, err := Socket(c)
	return err == nil
}

// Dup duplicates c's socket for sending (close-on-exec, and without
// touching its blocking mode, which the duplicate shares).
func Dup(c net.Conn) (*os.File, error) {
	tc, err := Socket(c)
	if err != nil {
		return nil, err
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("handoff: %w", err)
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) { nfd, derr = dupCloexec(int(fd)) }); err != nil {
		return nil, fmt.Errorf("handoff: %w", err)
	}
	if derr != nil {
		return nil, fmt.Errorf("handoff: dup: %w", derr)
	}
	return os.NewFile(uintptr(nfd), "handoff"), nil
}

// Adopt turns a received socket into a connection; f is closed.
func Adopt(f *os.File) (net.Conn, error) {
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("handoff: adopting socket: %w", err)
	}
	if _, ok := c.(*net.TCPConn); !ok {
		_ = c.Close()
		return nil, fmt.Errorf("handoff: adopted %T, want a TCP socket", c)
	}
	return c, nil
}

// CloseFiles closes what a record carried (after sending, or when a record
// is refused).
func CloseFiles(fs ...*os.File) {
	for _, f := range fs {
		if f != nil {
			_ = f.Close()
		}
	}
}
