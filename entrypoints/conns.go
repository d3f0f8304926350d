package entrypoints

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// tcpConns is the set of connections owned by TCP routers. Shutdown first
// closes it to new connections, so nothing is added once the wait for the
// others has begun, then waits for it to empty, then closes the rest.
// (The HTTP/1 engine keeps its own set, with each connection's state:
// active, idle, parked, tunnel.)
type tcpConns struct {
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	empty  chan struct{} // closed once closed and empty
}

// add registers c; false once the entrypoint is shutting down.
func (s *tcpConns) add(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *tcpConns) remove(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if s.closed && len(s.conns) == 0 && s.empty != nil {
		close(s.empty)
		s.empty = nil
	}
}

// close refuses new connections and returns a channel closed once the
// set is empty.
func (s *tcpConns) close() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	ch := make(chan struct{})
	if len(s.conns) == 0 {
		close(ch)
	} else {
		s.empty = ch
	}
	return ch
}

// snapshot lists the connections open now.
func (s *tcpConns) snapshot() []net.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	return conns
}

// closeAll closes every connection still open.
func (s *tcpConns) closeAll() {
	s.mu.Lock()
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// ipLimit bounds the connections one client address holds open at once
// (transport.maxConnsPerIP, a Switchyard extension). Only entrypoints
// that set it pay for it: their connections are wrapped so that closing
// one gives its slot back.
type ipLimit struct {
	max      int
	mu       sync.Mutex
	n        map[netip.Addr]int
	rejected atomic.Uint64
}

// acquire takes a slot for ip; false when ip holds max already.
func (l *ipLimit) acquire(ip netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[ip] >= l.max {
		l.rejected.Add(1)
		return false
	}
	if l.n == nil {
		l.n = map[netip.Addr]int{}
	}
	l.n[ip]++
	return true
}

// force takes a slot even past the limit (a connection adopted from the
// old process on an upgrade was admitted there).
func (l *ipLimit) force(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == nil {
		l.n = map[netip.Addr]int{}
	}
	l.n[ip]++
}

func (l *ipLimit) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[ip] <= 1 {
		delete(l.n, ip)
	} else {
		l.n[ip]--
	}
}

// limitedConn gives its slot back when closed, once.
type limitedConn struct {
	net.Conn
	l    *ipLimit
	ip   netip.Addr
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}

// NetConn lets the HTTP/1 engine find the socket (to park idle
// connections); CloseWrite half-closes for TCP routers and the engine.
func (c *limitedConn) NetConn() net.Conn { return c.Conn }
func (c *limitedConn) CloseWrite() error { return closeWrite(c.Conn) }
