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
	"time"

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
	c     *net.UnixConn
	wmu   sync.Mutex
	stall time.Duration // bound of one send; guarded by wmu

	fds  []int  // received descriptors not yet claimed by a record
	oob  []byte // receive buffer for control messages
	rbuf []byte // received bytes: rbuf[r:w] not yet parsed
	r, w int
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
	_, err := c.SendBatch([]Record{{Kind: kind, Meta: meta, Files: files}})
	return err
}

// batchBytes bounds the bytes of one sendmsg of a batch (its descriptors
// are bounded by MaxFiles).
const batchBytes = 256 << 10

// SendBatch writes records, as many per sendmsg as MaxFiles descriptors
// and batchBytes allow: a move of thousands of connections is tens of
// system calls, not thousands. It returns how many records, from the
// first, were written whole (all of them when err is nil); the files stay
// open on this side.
func (c *Conn) SendBatch(recs []Record) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.stall > 0 {
		_ = c.c.SetWriteDeadline(time.Now().Add(c.stall))
	}
	sent := 0
	var b []byte
	var fds []int
	for sent < len(recs) {
		b, fds = b[:0], fds[:0]
		end := sent
		for end < len(recs) {
			r := &recs[end]
			if end > sent && (len(fds)+len(r.Files) > MaxFiles || len(b)+headerLen+len(r.Kind)+2+len(r.Meta) > batchBytes) {
				break
			}
			var err error
			if b, err = appendRecord(b, r.Kind, r.Meta, len(r.Files)); err != nil {
				return sent, err
			}
			for _, f := range r.Files {
				// Not f.Fd(): it would switch the descriptor, shared with
				// the live socket it was duplicated from, to blocking mode.
				rc, err := f.SyscallConn()
				if err != nil {
					return sent, fmt.Errorf("upgrade: record %q: %w", r.Kind, err)
				}
				var fd int
				if err := rc.Control(func(u uintptr) { fd = int(u) }); err != nil {
					return sent, fmt.Errorf("upgrade: record %q: %w", r.Kind, err)
				}
				fds = append(fds, fd)
			}
			end++
		}
		if len(fds) > MaxFiles {
			return sent, fmt.Errorf("upgrade: record %q: %d files exceed %d", recs[sent].Kind, len(fds), MaxFiles)
		}
		var oob []byte
		if len(fds) > 0 {
			oob = unix.UnixRights(fds...)
		}
		n, _, err := c.c.WriteMsgUnix(b, oob, nil)
		// The descriptors must stay open until the kernel has taken its
		// references, which sendmsg has done once it returns.
		for _, r := range recs[sent:end] {
			runtime.KeepAlive(r.Files)
		}
		if err == nil && n < len(b) { // a stream socket may take part of a large message
			var m int
			m, err = c.c.Write(b[n:])
			n += m
		}
		if err != nil {
			// Count the records that went whole before the error.
			off := 0
			for _, r := range recs[sent:end] {
				off += headerLen + 1 + len(r.Kind) + 1 + len(r.Meta)
				if off > n {
					break
				}
				sent++
			}
			return sent, fmt.Errorf("upgrade: sending %q: %w", recs[min(sent, len(recs)-1)].Kind, err)
		}
		sent = end
	}
	return sent, nil
}

// SetSendStall bounds each Send and SendBatch call from then on: it fails
// when the peer has not taken it within d (0: no bound).
func (c *Conn) SetSendStall(d time.Duration) {
	c.wmu.Lock()
	c.stall = d
	c.wmu.Unlock()
}

// Recv reads the next record. io.EOF means the peer closed the channel
// between records.
func (c *Conn) Recv() (Record, error) {
	if err := c.fill(headerLen, true); err != nil {
		return Record{}, err
	}
	n, err := bodyLen(c.rbuf[c.r : c.r+headerLen])
	if err != nil {
		return Record{}, err
	}
	if err := c.fill(headerLen+n, false); err != nil {
		return Record{}, err
	}
	// A copy: the metadata outlives the receive buffer's next fill.
	body := append([]byte(nil), c.rbuf[c.r+headerLen:c.r+headerLen+n]...)
	c.r += headerLen + n
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

// recvChunk is the receive buffer's usual size: a batch of records comes
// in a few reads.
const recvChunk = 64 << 10

// fill reads until at least want bytes are buffered, collecting the
// descriptors that arrive on the way (they come with the first byte of
// the message that carries them, so before the records they belong to).
// A clean EOF with nothing buffered and atStart is io.EOF.
func (c *Conn) fill(want int, atStart bool) error {
	for c.w-c.r < want {
		if c.r > 0 && (c.r == c.w || len(c.rbuf)-c.r < want) {
			c.w = copy(c.rbuf, c.rbuf[c.r:c.w])
			c.r = 0
		}
		if len(c.rbuf)-c.w < recvChunk/4 || len(c.rbuf) < want {
			nb := make([]byte, max(recvChunk, want, 2*len(c.rbuf)))
			c.w = copy(nb, c.rbuf[c.r:c.w])
			c.r, c.rbuf = 0, nb
		}
		n, oobn, flags, _, err := c.c.ReadMsgUnix(c.rbuf[c.w:], c.oob)
		if oobn > 0 {
			if perr := c.takeRights(c.oob[:oobn]); perr != nil {
				return perr
			}
		}
		if flags&unix.MSG_CTRUNC != 0 {
			return errors.New("upgrade: control message truncated (descriptors lost)")
		}
		c.w += n
		if err != nil || (n == 0 && oobn == 0) {
			if c.w-c.r >= want {
				return nil
			}
			if atStart && c.w == c.r && (err == nil || errors.Is(err, io.EOF)) {
				return io.EOF
			}
			if err == nil || errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return fmt.Errorf("upgrade: receiving: %w", err)
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
