package proxy

import (
	"bufio"
	"context"
	"net"
	"sync"
	"syscall"
	"time"
)

const (
	readBufSize  = 8 << 10  // holds a whole response head on the fast path
	writeBufSize = 4 << 10  // request head + small bodies in one write
	copyBufSize  = 32 << 10 // body copies

	// maxDialsPerHost bounds the dials in flight to one backend address. A
	// request finding no idle connection while that many are being dialed
	// waits for the first connection to come back or a dial to end (or for
	// its client to leave): a burst (an HTTP/2 rapid reset, a thundering
	// herd) reuses connections instead of opening one per request.
	maxDialsPerHost = 16
)

// bufSet is a request's working memory. A connection holds one only while busy,
// so idle keep-alive connections cost a socket and a small struct, not buffers.
type bufSet struct {
	br  *bufio.Reader
	bw  *bufio.Writer
	buf []byte
}

var bufSets = sync.Pool{New: func() any {
	return &bufSet{
		br:  bufio.NewReaderSize(nil, readBufSize),
		bw:  bufio.NewWriterSize(nil, writeBufSize),
		buf: make([]byte, copyBufSize),
	}
}}

// conn is one keep-alive connection to a backend.
type conn struct {
	nc     net.Conn
	fd     int             // socket descriptor for the idle peek; -1: none
	rc     syscall.RawConn // the socket, for waits without a buffer; nil: none
	pool   *hostPool
	idleAt time.Time
	reused bool       // taken from the idle list (may be dead)
	w      connWriter // what bw writes to: bounded, cancellable writes
	*bufSet
}

func newConn(nc net.Conn, p *hostPool) *conn {
	c := &conn{nc: nc, fd: -1, pool: p}
	c.w.c = c
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			_ = rc.Control(func(fd uintptr) { c.fd = int(fd) })
			c.rc = rc
		}
	}
	return c
}

func (c *conn) attachBufs() {
	c.bufSet = bufSets.Get().(*bufSet)
	c.br.Reset(c.nc)
	c.bw.Reset(&c.w)
}

func (c *conn) releaseBufs() {
	if c.bufSet == nil {
		return
	}
	c.br.Reset(nil)
	c.bw.Reset(nil)
	bufSets.Put(c.bufSet)
	c.bufSet = nil
}

// close drops the connection for good.
func (c *conn) close() {
	c.releaseBufs()
	_ = c.nc.Close()
}

// hostPool is the LIFO idle list of one backend address. LIFO keeps the hottest
// connections in use and lets the cold ones age out.
type hostPool struct {
	t    *Transport
	addr string

	mu         sync.Mutex
	idle       []*conn // oldest first
	timer      *time.Timer
	timerArmed bool
	dialing    int           // dials in flight
	wake       chan struct{} // closed when a connection comes back or a dial ends; nil: nobody waits
}

// get returns an idle connection or dials a new one. The connection carries buffers.
func (p *hostPool) get(ctx context.Context) (*conn, error) {
	for {
		if c := p.takeIdle(); c != nil {
			c.attachBufs()
			return c, nil
		}
		p.mu.Lock()
		if p.dialing < maxDialsPerHost {
			p.dialing++
			p.mu.Unlock()
			c, err := p.dial(ctx)
			p.mu.Lock()
			p.dialing--
			p.wakeLocked()
			p.mu.Unlock()
			return c, err
		}
		if p.wake == nil {
			p.wake = make(chan struct{})
		}
		wake := p.wake
		p.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// wakeLocked lets the requests waiting for a connection look again.
func (p *hostPool) wakeLocked() {
	if p.wake != nil {
		close(p.wake)
		p.wake = nil
	}
}

func (p *hostPool) dial(ctx context.Context) (*conn, error) {
	if err := ctx.Err(); err != nil {
		// The client is gone already (a reset HTTP/2 stream): a connection
		// dialed now would only be closed again.
		return nil, err
	}
	// A dial is not abandoned when the client leaves meanwhile: the backend
	// has accepted by then, and the connection is worth pooling (as net/http
	// does). The dial timeout still applies.
	nc, err := p.t.dialer.DialContext(context.WithoutCancel(ctx), "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	c := newConn(nc, p)
	c.attachBufs()
	if err := ctx.Err(); err != nil {
		p.put(c)
		return nil, err
	}
	return c, nil
}

func (p *hostPool) takeIdle() *conn {
	for {
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			return nil
		}
		c := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()

		if to := p.t.idleConnTimeout; to > 0 && time.Since(c.idleAt) > to {
			c.close()
			continue
		}
		// Whatever arrived while the connection sat idle, however briefly, is
		// not an answer to the request we are about to send: a late body after
		// a HEAD, 204 or 304, bytes past a Content-Length, or a close. Such a
		// connection is out of sync and never reused.
		if !c.alive() {
			c.close()
			continue
		}
		c.reused = true
		return c
	}
}

// put returns a healthy connection whose exchange completed cleanly.
func (p *hostPool) put(c *conn) {
	if c.br.Buffered() > 0 {
		// The backend sent bytes we did not ask for: the stream is out of sync.
		c.close()
		return
	}
	c.releaseBufs()
	c.idleAt = time.Now()
	p.mu.Lock()
	if p.t.maxIdlePerHost < 0 || len(p.idle) >= p.t.maxIdlePerHost || p.t.closed.Load() {
		p.mu.Unlock()
		_ = c.nc.Close()
		return
	}
	p.idle = append(p.idle, c)
	p.wakeLocked()
	if to := p.t.idleConnTimeout; to > 0 && !p.timerArmed {
		p.timerArmed = true
		if p.timer == nil {
			p.timer = time.AfterFunc(to, p.reap)
		} else {
			p.timer.Reset(to)
		}
	}
	p.mu.Unlock()
}

// reap closes connections idle longer than idleConnTimeout; it runs on a timer
// armed only while the pool holds idle connections.
func (p *hostPool) reap() {
	to := p.t.idleConnTimeout
	now := time.Now()
	p.mu.Lock()
	i := 0
	for i < len(p.idle) && now.Sub(p.idle[i].idleAt) >= to {
		i++
	}
	expired := make([]*conn, i)
	copy(expired, p.idle[:i])
	rest := copy(p.idle, p.idle[i:])
	clear(p.idle[rest:])
	p.idle = p.idle[:rest]
	if rest > 0 {
		p.timer.Reset(p.idle[0].idleAt.Add(to).Sub(now))
	} else {
		p.timerArmed = false
	}
	p.mu.Unlock()
	for _, c := range expired {
		_ = c.nc.Close()
	}
}

func (p *hostPool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	if p.timer != nil {
		p.timer.Stop()
		p.timerArmed = false
	}
	p.mu.Unlock()
	for _, c := range idle {
		_ = c.nc.Close()
	}
}

func (p *hostPool) idleCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}
