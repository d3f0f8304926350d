package upgrade

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Record is one received record. The receiver owns Files and must close
// the ones it does not keep.
type Record struct {
	Kind  string
	Meta  []byte
	Files []*os.File
}

// Close closes every file of the record (for records nobody adopts).
func (r *Record) Close() {
	for _, f := range r.Files {
		_ = f.Close()
	}
	r.Files = nil
}

// Conn is one end of the upgrade channel. Send is safe for concurrent use;
// Recv is for one goroutine.
type Conn struct {
	c   *net.UnixConn
	wmu sync.Mutex

	fds []int  // received descriptors not yet claimed by a record
	oob []byte // receive buffer for control messages
}

// Pair creates a connected channel: the local end and the file to hand to
// the child process (ExtraFiles), which the caller closes once started.
func Pair() (*Conn, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("upgrade: socketpair: %w", err)
	}
	local := os.NewFile(uintptr(fds[0]), "upgrade-parent")
	remote := os.NewFile(uintptr(fds[1]), "upgrade-child")
	c, err := FromFile(local)
	_ = local.Close()
	if err != nil {
		_ = remote.Close()
		return nil, nil, err
	}
	return c, remote, nil
}

// FromFile wraps an inherited socket descriptor; f may be closed afterwards.
func FromFile(f *os.File) (*Conn, error) {
	nc, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("upgrade: channel fd %d: %w", f.Fd(), err)
	}
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		_ = nc.Close()
		return nil, fmt.Errorf("upgrade: channel fd %d is not a Unix socket", f.Fd())
	}
	return &Conn{c: uc, oob: make([]byte, unix.CmsgSpace(4*MaxFiles))}, nil
}

// Send writes one record with its files in one sendmsg; the files stay
// open on this side (the receiver gets duplicates).
func (c *Conn) Send(kind string, meta []byte, files ...*os.File) error {
	b, err := encodeRecord(kind, meta, len(files))
	if err != nil {
		return err
	}
	fds := make([]int, 0, len(files))
	for _, f := range files {
		// Not f.Fd(): it would switch the descriptor, shared with the
		// live socket it was duplicated from, to blocking mode.
		rc, err := f.SyscallConn()
		if err != nil {
			return fmt.Errorf("upgrade: record %q: %w", kind, err)
		}
		var fd int
		if err := rc.Control(func(u uintptr) { fd = int(u) }); err != nil {
			return fmt.Errorf("upgrade: record %q: %w", kind, err)
		}
		fds = append(fds, fd)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	n, _, err := c.c.WriteMsgUnix(b, oob, nil)
	// The descriptors must stay open until the kernel has taken its
	// references, which sendmsg has done once it returns.
	for _, f := range files {
		runtime.KeepAlive(f)
	}
	if err != nil {
		return fmt.Errorf("upgrade: sending %q: %w", kind, err)
	}
	if n < len(b) { // a stream socket may take part of a large record
		if _, err := c.c.Write(b[n:]); err != nil {
			return fmt.Errorf("upgrade: sending %q: %w", kind, err)
		}
	}
	return nil
}

// Recv reads the next record. io.EOF means the peer closed the channel
// between records.
func (c *Conn) Recv() (Record, error) {
	var h [headerLen]byte
	if err := c.readFull(h[:], true); err != nil {
		return Record{}, err
	}
	n, err := bodyLen(h[:])
	if err != nil {
		return Record{}, err
	}
	body := make([]byte, n)
	if err := c.readFull(body, false); err != nil {
		return Record{}, err
	}
	kind, nfiles, meta, err := decodeBody(body)
	if err != nil {
		return Record{}, err
	}
	if nfiles > len(c.fds) {
		return Record{}, fmt.Errorf("upgrade: record %q announces %d files, %d received", kind, nfiles, len(c.fds))
	}
	r := Record{Kind: kind, Meta: meta}
	for _, fd := range c.fds[:nfiles] {
		r.Files = append(r.Files, os.NewFile(uintptr(fd), kind))
	}
	c.fds = c.fds[nfiles:]
	return r, nil
}

// readFull fills b, collecting descriptors that arrive on the way. A clean
// EOF before the first byte of a record is io.EOF.
func (c *Conn) readFull(b []byte, atStart bool) error {
	got := 0
	for got < len(b) {
		n, oobn, flags, _, err := c.c.ReadMsgUnix(b[got:], c.oob)
		if oobn > 0 {
			if perr := c.takeRights(c.oob[:oobn]); perr != nil {
				return perr
			}
		}
		if flags&unix.MSG_CTRUNC != 0 {
			return errors.New("upgrade: control message truncated (descriptors lost)")
		}
		got += n
		if err != nil {
			if errors.Is(err, io.EOF) && got == 0 && atStart {
				return io.EOF
			}
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return fmt.Errorf("upgrade: receiving: %w", err)
		}
		if n == 0 && oobn == 0 {
			if got == 0 && atStart {
				return io.EOF
			}
			return io.ErrUnexpectedEOF
		}
	}
	return nil
}

func (c *Conn) takeRights(oob []byte) error {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return fmt.Errorf("upgrade: control message: %w", err)
	}
	for _, m := range msgs {
		if m.Header.Level != syscall.SOL_SOCKET || m.Header.Type != syscall.SCM_RIGHTS {
			continue
		}
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			return fmt.Errorf("upgrade: control message: %w", err)
		}
		c.fds = append(c.fds, fds...)
	}
	return nil
}

// Close closes the channel and any descriptors received but never claimed.
func (c *Conn) Close() error {
	for _, fd := range c.fds {
		_ = unix.Close(fd)
	}
	c.fds = nil
	return c.c.Close()
}

// CloseWrite tells the peer that nothing more will be sent.
func (c *Conn) CloseWrite() error { return c.c.CloseWrite() }
