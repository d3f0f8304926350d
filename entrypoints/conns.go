package entrypoints

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/switchyard-proxy/switchyard/entrypoints/connreg"
)

// tcpConns is the registry seen from the TCP routers' side (the
// upgrade hand-off moves their connections).
type tcpConns struct{ reg *connreg.Registry }

// add registers an adopted relayed connection (a TCP router's, or a
// tunnel); false once shutting down.
func (s tcpConns) add(pc *prefixConn, p connreg.Protocol, st connreg.State) (*connreg.Entry, bool) {
	e := connreg.NewEntry(pc, p, st)
	if !s.reg.Add(e) {
		return nil, false
	}
	e.SetOwner(pc)
	return e, true
}

// snapshot lists the TCP routers' connections open now: the wrapper
// that holds the relay where there is one (cleartext, passthrough), the
// connection as accepted otherwise (TLS terminated here).
func (s tcpConns) snapshot() []net.Conn {
	var conns []net.Conn
	s.reg.Range(func(e *connreg.Entry) bool {
		if e.Protocol() != connreg.ProtoTCP {
			return true
		}
		if pc, ok := e.Owner().(*prefixConn); ok {
			conns = append(conns, pc)
		} else {
			conns = append(conns, e.Conn())
		}
		return true
	})
	return conns
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
