package tlcp

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is a TLCP connection over a net.Conn. Read and Write may be called
// from two goroutines at once; the handshake runs on the first of them
// (or on Handshake).
type Conn struct {
	conn     net.Conn
	isClient bool
	config   *Config

	handshakeMu   sync.Mutex
	handshakeErr  error
	handshakeDone atomic.Bool
	state         ConnectionState

	in  halfConn
	out halfConn

	raw     *[]byte // bytes read from conn (pooled; nil when all consumed)
	rawOff  int     // how much of raw the records read so far took
	hand    []byte  // handshake bytes read, not yet consumed
	input   []byte  // application data decrypted (in raw), not yet read
	readErr error   // sticky: EOF after close_notify, or a fatal error

	closeNotifySent bool // under out
	closed          atomic.Bool
}

type halfConn struct {
	sync.Mutex
	cipher  recordCipher
	next    recordCipher // becomes cipher at ChangeCipherSpec
	seq     uint64
	err     error  // sticky write error (out)
	scratch []byte // sealed record (out)
}

// Server returns a server-side TLCP connection on c.
func Server(c net.Conn, config *Config) *Conn {
	return &Conn{conn: c, config: config}
}

// Client returns a client-side TLCP connection on c.
func Client(c net.Conn, config *Config) *Conn {
	return &Conn{conn: c, config: config, isClient: true}
}

// Dial connects to addr and runs a client handshake.
func Dial(network, addr string, config *Config) (*Conn, error) {
	return DialWithDialer(&net.Dialer{Timeout: 30 * time.Second}, network, addr, config)
}

// DialWithDialer is Dial with a dialer; its timeout bounds the handshake.
func DialWithDialer(d *net.Dialer, network, addr string, config *Config) (*Conn, error) {
	raw, err := d.Dial(network, addr)
	if err != nil {
		return nil, err
	}
	if d.Timeout > 0 {
		_ = raw.SetDeadline(time.Now().Add(d.Timeout))
	}
	cfg := config
	if cfg.ServerName == "" {
		c2 := *config
		host, _, _ := net.SplitHostPort(addr)
		c2.ServerName = host
		cfg = &c2
	}
	c := Client(raw, cfg)
	if err := c.Handshake(); err != nil {
		_ = raw.Close()
		return nil, err
	}
	_ = raw.SetDeadline(time.Time{})
	return c, nil
}

func (c *Conn) rand() io.Reader {
	if c.config.Rand != nil {
		return c.config.Rand
	}
	return rand.Reader
}

// NetConn returns the connection under TLCP.
func (c *Conn) NetConn() net.Conn { return c.conn }

func (c *Conn) LocalAddr() net.Addr                { return c.conn.LocalAddr() }
func (c *Conn) RemoteAddr() net.Addr               { return c.conn.RemoteAddr() }
func (c *Conn) SetDeadline(t time.Time) error      { return c.conn.SetDeadline(t) }
func (c *Conn) SetReadDeadline(t time.Time) error  { return c.conn.SetReadDeadline(t) }
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }

// ConnectionState reports the negotiated parameters (zero before the
// handshake completes).
func (c *Conn) ConnectionState() ConnectionState {
	if !c.handshakeDone.Load() {
		return ConnectionState{Version: VersionTLCP}
	}
	return c.state
}

// TLSConnectionState is ConnectionState in crypto/tls's shape (Version
// 0x0101, SM2 certificates as x509 values), for code that reads an HTTP
// request's TLS field.
func (c *Conn) TLSConnectionState() tls.ConnectionState {
	st := c.ConnectionState()
	out := tls.ConnectionState{
		Version:           st.Version,
		HandshakeComplete: st.HandshakeComplete,
		DidResume:         st.DidResume,
		CipherSuite:       st.CipherSuite,
		ServerName:        st.ServerName,
	}
	for _, p := range st.PeerCertificates {
		out.PeerCertificates = append(out.PeerCertificates, p.ToX509())
	}
	for _, ch := range st.VerifiedChains {
		xc := make([]*x509.Certificate, len(ch))
		for i, p := range ch {
			xc[i] = p.ToX509()
		}
		out.VerifiedChains = append(out.VerifiedChains, xc)
	}
	return out
}

// Handshake runs the handshake if it has not run yet.
func (c *Conn) Handshake() error {
	if c.handshakeDone.Load() {
		return nil
	}
	c.handshakeMu.Lock()
	defer c.handshakeMu.Unlock()
	if c.handshakeErr != nil {
		return c.handshakeErr
	}
	if c.handshakeDone.Load() {
		return nil
	}
	c.in.Lock()
	c.out.Lock()
	var err error
	if c.isClient {
		err = c.clientHandshake()
	} else {
		err = c.serverHandshake()
	}
	if err != nil {
		c.sendAlertLocked(err)
		c.handshakeErr = err
	} else {
		c.state.Version = VersionTLCP
		c.state.HandshakeComplete = true
		c.handshakeDone.Store(true)
		c.releaseRaw()
	}
	c.out.Unlock()
	c.in.Unlock()
	return err
}

// sendAlertLocked sends the fatal alert matching err (c.out held).
func (c *Conn) sendAlertLocked(err error) {
	var le *localError
	var a alert
	switch {
	case errors.As(err, &le):
		a = le.a
	case errors.As(err, &a):
	default:
		var re RemoteAlertError
		if errors.As(err, &re) || isNetErr(err) {
			return
		}
		a = alertInternalError
	}
	_ = c.writeRecordLocked(recordAlert, []byte{2, byte(a)})
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// rawPool holds read buffers that fit a whole record: a connection holds
// one only while a record is incomplete or its plaintext unread, so an
// idle connection holds none.
var rawPool = sync.Pool{New: func() any { b := make([]byte, 0, recordHeaderLen+maxCiphertext+1024); return &b }}

// fill reads until c.raw holds n bytes. What was read stays in c.raw on
// an error (a read deadline mid-record loses nothing).
func (c *Conn) fill(n int) error {
	if c.raw == nil {
		c.raw = rawPool.Get().(*[]byte)
	}
	b := *c.raw
	for len(b) < n {
		m, err := c.conn.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		*c.raw = b
		if err != nil {
			if errors.Is(err, io.EOF) && len(b) > 0 && m == 0 {
				err = io.ErrUnexpectedEOF
			}
			if len(b) >= n {
				return nil
			}
			return err
		}
	}
	return nil
}

// releaseRaw returns the read buffer once everything in it is consumed.
func (c *Conn) releaseRaw() {
	if c.raw != nil && c.rawOff == len(*c.raw) && len(c.input) == 0 {
		*c.raw = (*c.raw)[:0]
		rawPool.Put(c.raw)
		c.raw, c.rawOff = nil, 0
	}
}

// readRecord reads and opens one record (c.in held). Alerts end the
// stream; ChangeCipherSpec switches the read cipher; handshake bytes are
// appended to c.hand; application data becomes c.input (decrypted in
// place in c.raw).
func (c *Conn) readRecord() (uint8, error) {
	if c.readErr != nil {
		return 0, c.readErr
	}
	if c.raw != nil && c.rawOff > 0 {
		b := *c.raw
		*c.raw = b[:copy(b, b[c.rawOff:])]
		c.rawOff = 0
	}
	if err := c.fill(recordHeaderLen); err != nil {
		if errors.Is(err, io.EOF) && c.raw != nil && len(*c.raw) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	hdr := (*c.raw)[:recordHeaderLen]
	typ := hdr[0]
	vers := binary.BigEndian.Uint16(hdr[1:])
	n := int(binary.BigEndian.Uint16(hdr[3:]))
	if vers != VersionTLCP {
		return 0, c.setReadErr(fail(alertProtocolVersion, "record version %#04x", vers))
	}
	if typ < recordChangeCipherSpec || typ > recordApplicationData {
		return 0, c.setReadErr(fail(alertUnexpectedMessage, "record type %d", typ))
	}
	if n > maxCiphertext || (c.in.cipher == nil && n > maxPlaintext) {
		return 0, c.setReadErr(fail(alertRecordOverflow, "record of %d bytes", n))
	}
	if err := c.fill(recordHeaderLen + n); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	frag := (*c.raw)[recordHeaderLen : recordHeaderLen+n]
	c.rawOff = recordHeaderLen + n
	data := frag
	var err error
	if c.in.cipher != nil {
		data, err = c.in.cipher.open(c.in.seq, typ, frag)
		if err != nil {
			return 0, c.setReadErr(err)
		}
		if len(data) > maxPlaintext {
			return 0, c.setReadErr(fail(alertRecordOverflow, "plaintext of %d bytes", len(data)))
		}
	}
	c.in.seq++
	switch typ {
	case recordAlert:
		if len(data) != 2 {
			return 0, c.setReadErr(fail(alertDecodeError, "alert of %d bytes", len(data)))
		}
		if alert(data[1]) == alertCloseNotify {
			return 0, c.setReadErr(io.EOF)
		}
		if data[0] == 1 { // warning: ignored (§6.3.4.2)
			return typ, nil
		}
		return 0, c.setReadErr(RemoteAlertError{Alert: data[1]})
	case recordChangeCipherSpec:
		if len(data) != 1 || data[0] != 1 || c.in.next == nil || len(c.hand) > 0 {
			return 0, c.setReadErr(fail(alertUnexpectedMessage, "change cipher spec out of place"))
		}
		c.in.cipher, c.in.next, c.in.seq = c.in.next, nil, 0
	case recordHandshake:
		if len(data) == 0 {
			return 0, c.setReadErr(fail(alertUnexpectedMessage, "empty handshake record"))
		}
		c.hand = append(c.hand, data...)
	case recordApplicationData:
		if !c.handshakeDone.Load() {
			return 0, c.setReadErr(fail(alertUnexpectedMessage, "application data before the handshake completed"))
		}
		c.input = data
	}
	return typ, nil
}

func (c *Conn) setReadErr(err error) error {
	c.readErr = err
	return err
}

// readHandshake returns the next handshake message, header included
// (c.in held).
func (c *Conn) readHandshake() ([]byte, error) {
	for len(c.hand) < 4 || len(c.hand) < 4+u24(c.hand[1:]) {
		if len(c.hand) >= 4 && u24(c.hand[1:]) > maxHandshakeSize {
			return nil, fail(alertDecodeError, "handshake message of %d bytes", u24(c.hand[1:]))
		}
		typ, err := c.readRecord()
		if err != nil {
			return nil, err
		}
		switch typ {
		case recordHandshake, recordAlert:
		default:
			return nil, fail(alertUnexpectedMessage, "record type %d during the handshake", typ)
		}
	}
	n := 4 + u24(c.hand[1:])
	msg := make([]byte, n)
	copy(msg, c.hand)
	c.hand = c.hand[:copy(c.hand, c.hand[n:])]
	return msg, nil
}

func u24(b []byte) int { return int(b[0])<<16 | int(b[1])<<8 | int(b[2]) }

// readChangeCipherSpec waits for the peer's ChangeCipherSpec (c.in held,
// c.in.next set).
func (c *Conn) readChangeCipherSpec() error {
	if len(c.hand) > 0 {
		return fail(alertUnexpectedMessage, "handshake data before change cipher spec")
	}
	for {
		typ, err := c.readRecord()
		if err != nil {
			return err
		}
		switch typ {
		case recordChangeCipherSpec:
			return nil
		case recordAlert:
		default:
			return fail(alertUnexpectedMessage, "record type %d instead of change cipher spec", typ)
		}
	}
}

// writeRecordLocked writes data as records of type typ (c.out held).
func (c *Conn) writeRecordLocked(typ uint8, data []byte) error {
	if c.out.err != nil {
		return c.out.err
	}
	for len(data) > 0 || typ != recordApplicationData {
		m := min(len(data), maxPlaintext)
		b := c.out.scratch[:0]
		b = append(b, typ, byte(VersionTLCP>>8), byte(VersionTLCP&0xff), 0, 0)
		var err error
		if c.out.cipher == nil {
			b = append(b, data[:m]...)
		} else {
			b, err = c.out.cipher.seal(b, c.out.seq, b[:recordHeaderLen], data[:m], c.rand())
			if err != nil {
				c.out.err = err
				return err
			}
		}
		binary.BigEndian.PutUint16(b[3:], uint16(len(b)-recordHeaderLen))
		c.out.scratch = b
		c.out.seq++
		if _, err := c.conn.Write(b); err != nil {
			c.out.err = err
			return err
		}
		data = data[m:]
		if typ != recordApplicationData {
			if len(data) == 0 {
				break
			}
		}
	}
	if typ == recordChangeCipherSpec {
		c.out.cipher, c.out.next, c.out.seq = c.out.next, nil, 0
	}
	return nil
}

// Read reads application data, running the handshake first if needed.
func (c *Conn) Read(p []byte) (int, error) {
	if err := c.Handshake(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	c.in.Lock()
	defer c.in.Unlock()
	for len(c.input) == 0 {
		typ, err := c.readRecord()
		if err != nil {
			return 0, err
		}
		if typ == recordHandshake {
			// Renegotiation is not supported (§6.4.5.1 allows refusing).
			c.hand = c.hand[:0]
			c.out.Lock()
			_ = c.writeRecordLocked(recordAlert, []byte{1, byte(alertNoRenegotiation)})
			c.out.Unlock()
		}
	}
	n := copy(p, c.input)
	c.input = c.input[n:]
	c.releaseRaw()
	return n, nil
}

// Buffered reports whether decrypted or received bytes wait in memory
// (a poller on the socket would not see them).
func (c *Conn) Buffered() int {
	n := len(c.input)
	if c.raw != nil {
		n += len(*c.raw) - c.rawOff
	}
	return n
}

// Write writes application data, running the handshake first if needed.
func (c *Conn) Write(p []byte) (int, error) {
	if err := c.Handshake(); err != nil {
		return 0, err
	}
	if c.closed.Load() {
		return 0, errClosed
	}
	c.out.Lock()
	defer c.out.Unlock()
	if c.closeNotifySent {
		return 0, errors.New("tlcp: write after CloseWrite")
	}
	if err := c.writeRecordLocked(recordApplicationData, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// CloseWrite sends close_notify; the connection stays open for reading.
func (c *Conn) CloseWrite() error {
	if !c.handshakeDone.Load() {
		return errors.New("tlcp: CloseWrite before the handshake completed")
	}
	c.out.Lock()
	defer c.out.Unlock()
	return c.closeNotifyLocked()
}

func (c *Conn) closeNotifyLocked() error {
	if c.closeNotifySent {
		return nil
	}
	c.closeNotifySent = true
	return c.writeRecordLocked(recordAlert, []byte{1, byte(alertCloseNotify)})
}

// Close sends close_notify (bounded to 5 s) after a completed handshake
// and closes the connection.
func (c *Conn) Close() error {
	if c.closed.Swap(true) {
		return errClosed
	}
	if c.handshakeDone.Load() && c.out.TryLock() {
		_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_ = c.closeNotifyLocked()
		c.out.Unlock()
	}
	return c.conn.Close()
}

// String describes the connection for logs.
func (c *Conn) String() string {
	return fmt.Sprintf("tlcp %s->%s", c.conn.LocalAddr(), c.conn.RemoteAddr())
}
