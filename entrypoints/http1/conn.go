package http1

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/switchyard-proxy/switchyard/entrypoints/connreg"
)

// Connection states. Every transition but the one into stClosed is a CAS
// from the state its author expects, so the serving goroutine, the poller,
// its sweep, Shutdown and Close agree on who owns the connection:
//
//	active → idle            the serving goroutine waits for a request
//	idle → active            a request arrived
//	idle → parking → parked  the connection is being handed to the poller
//	parking → idle           the poller refused it (the goroutine keeps it)
//	parked → idle            the poller saw input: served on a new goroutine
//	active → hijacked        the handler took the connection (a tunnel)
//	any → closed             terminal; whoever makes it closes the socket,
//	                         except from parking (the parking goroutine
//	                         finishes) and from active/idle (closing the
//	                         socket wakes the serving goroutine)
const (
	stActive int32 = iota
	stIdle
	stParking
	stParked
	stHijacked
	stClosed
)

// testHookIdle, when set (by tests, before any server starts), runs where
// a connection is about to wait idle: it widens the windows the state
// machine must get right.
var testHookIdle atomic.Pointer[func()]

// aLongTimeAgo is a read deadline that has passed: it wakes a blocked read
// and makes the next one return at once with what is buffered, if any.
var aLongTimeAgo = time.Unix(1, 0)

type conn struct {
	srv        *Server
	nc         net.Conn
	raw        syscall.RawConn // the socket under TLS/PROXY wrappers; nil if none
	fd         int32           // its descriptor, for the poller
	remoteAddr string
	tc         *tls.Conn
	tst        tlsStater // another TLS-like layer (TLCP): encrypted, not *tls.Conn
	tlsState   *tls.ConnectionState

	br       *bufio.Reader
	bw       *bufio.Writer
	scratch  []byte  // the request head being read
	pend     *[]byte // response body held back until its framing is known (pendPool)
	lastPOST bool    // the previous request was a POST

	state     atomic.Int32
	idleUntil time.Time    // end of the idle wait, kept across parking
	idleSince atomic.Int64 // unix nanoseconds the current idle wait began (read by Shutdown)
	closeOnce sync.Once

	entry *connreg.Entry // in srv.Registry; nil without one

	served int       // requests served on this connection
	bornAt time.Time // accepted; set only with keepAliveMaxTime
	tun    *tunnel   // the hijacked connection, in stHijacked

	watched atomic.Pointer[reqContext] // the request whose client the poller watches
	brLent  bool                       // br went back to the pool while the handler runs (lendReader)
}

func (s *Server) newConn(nc net.Conn, e *connreg.Entry) *conn {
	c := &conn{srv: s, nc: nc, fd: -1, entry: e}
	if e == nil && s.Registry != nil {
		e = connreg.NewEntry(nc, connreg.ProtoHTTP1, connreg.StateActive)
		if !s.Registry.Add(e) {
			_ = nc.Close()
			return nil
		}
		c.entry = e
	}
	if e != nil {
		if _, ok := nc.(tlsStater); ok {
			e.SetProtocol(connreg.ProtoTLCP) // HTTP/1.x over TLCP
		} else {
			e.SetProtocol(connreg.ProtoHTTP1)
		}
		e.SetState(connreg.StateActive)
	}
	if !s.track(c, true) {
		_ = nc.Close()
		c.unregister()
		return nil
	}
	if e != nil {
		e.SetOwner(c) // the registry's CloseAll goes through kill
	}
	if a := nc.RemoteAddr(); a != nil {
		c.remoteAddr = a.String()
	}
	if tc, ok := nc.(*tls.Conn); ok {
		if !tc.ConnectionState().HandshakeComplete {
			// As net/http: the handshake is bounded by the timeouts of
			// a request.
			_ = tc.SetReadDeadline(deadline(s.ReadTimeout))
			_ = tc.SetWriteDeadline(deadline(s.WriteTimeout))
			if err := tc.Handshake(); err != nil {
				s.logger().Debug("http: TLS handshake error", "remote", c.remoteAddr, "error", err)
				c.finish()
				return nil
			}
			_ = tc.SetDeadline(time.Time{})
		}
		c.tc = tc // its state is copied for the first request, not while idle
	} else if st, ok := nc.(tlsStater); ok {
		c.tst = st // handshake done by the entrypoint
	}
	c.raw, c.fd = rawSocket(nc)
	if s.KeepAliveMaxTime > 0 {
		c.bornAt = time.Now()
	}
	return c
}

// tlsStater is a connection under a TLS-like protocol other than
// crypto/tls (tls/tlcp.Conn): Request.TLS comes from it.
type tlsStater interface {
	TLSConnectionState() tls.ConnectionState
}

// report records a state change in the registry: one atomic store.
func (c *conn) report(st connreg.State) {
	if e := c.entry; e != nil {
		e.SetState(st)
	}
}

// unregister removes the connection from the registry.
func (c *conn) unregister() {
	if e := c.entry; e != nil && c.srv.Registry != nil {
		c.srv.Registry.Remove(e)
	}
}

// Abort closes the connection whatever it is doing (connreg.Owner: the
// registry's CloseAll).
func (c *conn) Abort() { c.kill() }

// keepAliveSpent: the response in flight is the connection's last one
// (keepAliveMaxRequests, keepAliveMaxTime).
func (c *conn) keepAliveSpent() bool {
	s := c.srv
	return s.KeepAliveMaxRequests > 0 && c.served >= s.KeepAliveMaxRequests ||
		s.KeepAliveMaxTime > 0 && time.Since(c.bornAt) >= s.KeepAliveMaxTime
}

// rawSocket finds the socket under TLS, peek and PROXY-protocol wrappers.
func rawSocket(nc net.Conn) (syscall.RawConn, int32) {
	for range 8 {
		if sc, ok := nc.(syscall.Conn); ok {
			rc, err := sc.SyscallConn()
			if err != nil {
				return nil, -1
			}
			fd := int32(-1)
			_ = rc.Control(func(f uintptr) { fd = int32(f) })
			return rc, fd
		}
		switch t := nc.(type) {
		case interface{ NetConn() net.Conn }:
			nc = t.NetConn()
		case interface{ TCPConn() (*net.TCPConn, bool) }:
			tc, ok := t.TCPConn()
			if !ok {
				return nil, -1
			}
			nc = tc
		case interface{ Raw() net.Conn }:
			nc = t.Raw()
		default:
			return nil, -1
		}
	}
	return nil, -1
}

var (
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
	writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}
)

func (c *conn) buffers() {
	c.brLent = false
	if c.br == nil {
		c.br = readerPool.Get().(*bufio.Reader)
		c.br.Reset(c.nc)
	}
	if c.bw == nil {
		c.bw = writerPool.Get().(*bufio.Writer)
		c.bw.Reset(c.nc)
	}
}

// lendReader gives the empty reader back to the pool while a handler
// runs with its request body consumed and its client watched by the
// poller; reclaimReader takes one again. Both run with the request's
// context lock held, and stopWatch (which the handler's end and Hijack
// go through) orders them before any other use of br.
func (c *conn) lendReader() {
	if c.br != nil && c.br.Buffered() == 0 {
		c.br.Reset(nil)
		readerPool.Put(c.br)
		c.br = nil
		c.brLent = true
	}
}

func (c *conn) reclaimReader() {
	if c.brLent {
		c.brLent = false
		c.br = readerPool.Get().(*bufio.Reader)
		c.br.Reset(c.nc)
	}
}

// writer returns the connection's writer, taking one from the pool if a
// flush gave it back.
func (c *conn) writer() *bufio.Writer {
	if c.bw == nil {
		c.bw = writerPool.Get().(*bufio.Writer)
		c.bw.Reset(c.nc)
	}
	return c.bw
}

// releaseWriter gives an empty writer back to the pool.
func (c *conn) releaseWriter() {
	if c.bw != nil && c.bw.Buffered() == 0 {
		c.bw.Reset(nil)
		writerPool.Put(c.bw)
		c.bw = nil
	}
}

// releaseBuffers gives the bufio pair back; the reader must be empty.
func (c *conn) releaseBuffers() {
	if c.br != nil {
		c.br.Reset(nil)
		readerPool.Put(c.br)
		c.br = nil
	}
	if c.bw != nil {
		c.bw.Reset(nil)
		writerPool.Put(c.bw)
		c.bw = nil
	}
	c.scratch = nil
	c.releasePend()
}

// serve runs the request loop on the calling goroutine until the
// connection closes, is hijacked or parked. fresh: the connection has not
// been served yet (a TLS connection right after its handshake).
func (c *conn) serve(fresh bool) {
	c.buffers()
	if fresh && c.srv.parkAfter() >= 0 && c.raw != nil {
		// A client that connects ahead of need (mobile apps, browsers'
		// speculative connections) is parked at once if it sent nothing
		// yet: no goroutine, no buffers while it waits.
		_ = c.nc.SetReadDeadline(aLongTimeAgo)
		_, err := c.br.Peek(1)
		_ = c.nc.SetReadDeadline(time.Time{})
		if err != nil {
			if !isTimeout(err) {
				c.close()
				return
			}
			c.idleUntil = deadline(c.srv.idleTimeout())
			c.idleSince.Store(time.Now().UnixNano())
			if h := testHookIdle.Load(); h != nil {
				(*h)()
			}
			// A CAS: Close may already have closed the connection, which
			// must not come back to life in the poller.
			if !c.state.CompareAndSwap(stActive, stIdle) {
				c.close()
				return
			}
			c.report(connreg.StateIdle)
			if c.park() {
				return
			}
		}
	}
	for {
		if !c.waitRequest() {
			return
		}
		if !c.serveRequest() {
			return
		}
	}
}

// waitRequest waits for the first byte of the next request. false: the
// connection was closed or parked and the caller must stop.
func (c *conn) waitRequest() bool {
	c.buffers()
	if c.br.Buffered() > 0 {
		return true // pipelined
	}
	closing := c.srv.closing.Load()
	if c.state.Load() == stActive {
		c.idleUntil = deadline(c.srv.idleTimeout())
		if closing {
			// The last response went out before the shutdown began, so
			// it did not say Connection: close, and the client may be
			// sending its next request right now: closing at once would
			// cut that request (a read error on the client's side). Wait
			// for it a little, and answer it with Connection: close.
			if g := time.Now().Add(drainIdleGrace); c.idleUntil.IsZero() || g.Before(c.idleUntil) {
				c.idleUntil = g
			}
		}
		c.idleSince.Store(time.Now().UnixNano())
		if !c.state.CompareAndSwap(stActive, stIdle) {
			c.close()
			return false
		}
		c.report(connreg.StateIdle)
	}
	park := c.srv.parkAfter()
	canPark := park >= 0 && c.raw != nil && !closing
	for {
		dl := c.idleUntil
		parkFirst := false
		if canPark {
			if p := time.Now().Add(park); dl.IsZero() || p.Before(dl) {
				dl, parkFirst = p, true
			}
		}
		if h := testHookIdle.Load(); h != nil {
			(*h)()
		}
		_ = c.nc.SetReadDeadline(dl)
		// closeIfIdle makes the state closed, then sets a past deadline
		// to wake this read. Checking after our own deadline is set
		// means one of the two always sees the other: no lost wake-up.
		if c.state.Load() != stIdle {
			c.close()
			return false
		}
		_, err := c.br.Peek(1)
		if err == nil {
			if !c.state.CompareAndSwap(stIdle, stActive) {
				c.close()
				return false
			}
			c.report(connreg.StateActive)
			return true
		}
		if parkFirst && isTimeout(err) && !c.srv.closing.Load() {
			_ = c.nc.SetReadDeadline(time.Time{})
			if c.park() {
				return false
			}
			canPark = false
			continue
		}
		c.close()
		return false
	}
}

// park hands the idle connection to the poller and frees its buffers;
// false if it could not (the caller keeps waiting itself). true: the
// connection is parked or closed, and the caller must stop.
func (c *conn) park() bool {
	p := c.srv.getParker()
	if p == nil || c.br == nil || c.br.Buffered() > 0 {
		return false
	}
	// parking: nobody else closes the socket until it is in the poller,
	// so the descriptor added there is never a closed (or reused) one.
	if !c.state.CompareAndSwap(stIdle, stParking) {
		c.close()
		return true
	}
	c.releaseBuffers()
	if c.tc != nil {
		shrinkTLS(c.tc) // nobody reads it until the poller resumes it
	}
	if err := p.add(c); err != nil {
		if c.state.CompareAndSwap(stParking, stIdle) {
			c.buffers()
			return false
		}
		c.finish() // closed meanwhile
		return true
	}
	if !c.state.CompareAndSwap(stParking, stParked) {
		// Close() ran meanwhile and left the socket to us.
		p.remove(c)
		c.finish()
	}
	return true
}

// resume serves a parked connection that became readable. The poller may
// see input before park's last step; it waits for it (a few instructions).
func (c *conn) resume() {
	for {
		switch c.state.Load() {
		case stParked:
			if c.state.CompareAndSwap(stParked, stIdle) {
				c.serve(false)
				return
			}
		case stParking:
			runtime.Gosched()
		default:
			return // closed
		}
	}
}

// closeIfIdle closes the connection if it waits for a request (Shutdown).
func (c *conn) closeIfIdle(now time.Time, grace time.Duration) {
	if grace > 0 && now.UnixNano()-c.idleSince.Load() < int64(grace) {
		return // idle only a moment: a request may be on its way
	}
	switch {
	case c.state.CompareAndSwap(stIdle, stClosed):
		// The serving goroutine is blocked in Peek: wake it; it sees
		// the state and closes.
		_ = c.nc.SetReadDeadline(aLongTimeAgo)
	case c.state.CompareAndSwap(stParked, stClosed):
		if p := c.srv.parker; p != nil {
			p.remove(c)
		}
		c.finish()
	}
}

// kill closes the connection whatever it is doing (Close).
func (c *conn) kill() {
	switch c.state.Swap(stClosed) {
	case stParking:
		// The parking goroutine sees its CAS fail and finishes.
	case stParked:
		if p := c.srv.parker; p != nil {
			p.remove(c)
		}
		c.finish()
	case stHijacked:
		if t := c.tun; t != nil {
			_ = t.Close()
		}
	default:
		// A request whose client the poller watches learns of the close
		// here: closing a socket takes it out of an epoll set silently.
		x := c.watched.Load()
		if x != nil {
			c.srv.parker.unwatch(c.fd, x)
		}
		c.finish()
		if x != nil {
			x.polledGone()
		}
	}
}

// close ends the connection from its serving goroutine.
func (c *conn) close() {
	c.state.Store(stClosed)
	if c.bw != nil && c.bw.Buffered() > 0 {
		_ = c.bw.Flush()
	}
	c.finish()
	c.releaseBuffers()
}

// finish closes the socket and forgets the connection, once.
func (c *conn) finish() {
	c.closeOnce.Do(func() {
		_ = c.nc.Close()
		c.srv.track(c, false)
		c.unregister()
	})
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func deadline(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}

// closeWriter is implemented by TCP connections and the wrappers above
// them: a lingering close sends FIN before the kernel sees unread input.
type closeWriter interface{ CloseWrite() error }
