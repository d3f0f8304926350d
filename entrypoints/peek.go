package entrypoints

import (
	ctls "crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/switchyard-proxy/switchyard/internal/mqtt"
)

// peekSize is the first read of a connection: large enough for a typical
// ClientHello or a whole small HTTP request.
const peekSize = 4096

var peekPool = sync.Pool{New: func() any { b := make([]byte, 0, peekSize); return &b }}

// prefixConn replays the bytes read while routing, then reads the
// connection directly. The pooled buffer goes back once drained.
type prefixConn struct {
	net.Conn
	buf    *[]byte
	data   []byte
	holder               // a TCP router's relay, for the upgrade hand-off (handoff.go)
	mqtt   *mqtt.Connect // the CONNECT read for MQTT routing, if any
}

// MQTTConnect returns the client's MQTT CONNECT when the entrypoint read
// it to route the connection (nil otherwise): MQTT middlewares use it.
func (c *prefixConn) MQTTConnect() *mqtt.Connect { return c.mqtt }

func (c *prefixConn) Read(p []byte) (int, error) {
	if c.buf != nil {
		n := copy(p, c.data)
		c.data = c.data[n:]
		if len(c.data) == 0 {
			c.release()
		}
		return n, nil
	}
	return c.Conn.Read(p)
}

func (c *prefixConn) release() {
	if c.buf != nil {
		b := (*c.buf)[:0]
		if cap(b) > peekSize {
			// Grown for a large ClientHello or CONNECT: keep the
			// pool's buffers small.
			b = make([]byte, 0, peekSize)
		}
		*c.buf = b
		peekPool.Put(c.buf)
		c.buf, c.data = nil, nil
	}
}

// WriteTo lets io.Copy splice the rest of a raw TCP connection.
func (c *prefixConn) WriteTo(w io.Writer) (int64, error) {
	var total int64
	if c.buf != nil {
		n, err := w.Write(c.data)
		total += int64(n)
		c.release()
		if err != nil {
			return total, err
		}
	}
	n, err := io.Copy(w, c.Conn)
	return total + n, err
}

// NetConn exposes the connection underneath (the HTTP/1 engine finds the
// socket through it to park idle connections).
func (c *prefixConn) NetConn() net.Conn { return c.Conn }

// CloseWrite half-closes the underlying TCP connection, through a PROXY
// protocol wrapper if any.
func (c *prefixConn) CloseWrite() error { return closeWrite(c.Conn) }

func closeWrite(c net.Conn) error {
	switch t := c.(type) {
	case interface{ CloseWrite() error }:
		return t.CloseWrite()
	case interface{ TCPConn() (*net.TCPConn, bool) }:
		if tc, ok := t.TCPConn(); ok {
			return tc.CloseWrite()
		}
	}
	return errors.New("connection cannot half-close")
}

// Close releases the buffer if nothing read it.
func (c *prefixConn) Close() error {
	c.release()
	return c.Conn.Close()
}

// hello is what routing needs from a ClientHello.
type hello struct {
	sni  string
	alpn []string
}

// recorder feeds crypto/tls from the connection while recording every
// byte, so the handshake can be replayed to whoever serves the connection.
type recorder struct {
	net.Conn
	buf *[]byte
	pos int
}

func (r *recorder) Read(p []byte) (int, error) {
	b := *r.buf
	if r.pos < len(b) {
		n := copy(p, b[r.pos:])
		r.pos += n
		return n, nil
	}
	n, err := r.Conn.Read(p)
	if n > 0 {
		*r.buf = append(b, p[:n]...)
		r.pos += n
	}
	return n, err
}

func (r *recorder) Write([]byte) (int, error) { return 0, errStopHandshake }

var errStopHandshake = errors.New("client hello read")

// readHello parses the ClientHello with crypto/tls itself (no hand-written
// parser to get wrong), aborting the handshake right after it.
func readHello(c net.Conn, buf *[]byte) (hello, bool) {
	var h hello
	var ok bool
	rec := &recorder{Conn: c, buf: buf}
	srv := ctls.Server(rec, &ctls.Config{
		GetConfigForClient: func(ch *ctls.ClientHelloInfo) (*ctls.Config, error) {
			h.sni = ch.ServerName
			h.alpn = ch.SupportedProtos
			ok = true
			return nil, errStopHandshake
		},
	})
	_ = srv.Handshake()
	return h, ok
}

// deadline returns now+d, or the zero time for d <= 0.
func deadline(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}
