package http1

import (
	"net"

	"github.com/switchyard-proxy/switchyard/internal/relay"
)

// Live hand-off on a binary upgrade (see docs/operations.md, "Which
// connections move"): a tunnel whose relay was handed to it can be
// stopped and moved by the entrypoint; an idle cleartext keep-alive
// connection parked in the poller can be sent as it is.

// heldRelay is the relay serving a tunnel, set by the proxy.
type heldRelay struct {
	r       *relay.Relay
	service string
}

// HoldRelay records the relay that serves the tunnel (relay.Holder).
func (t *tunnel) HoldRelay(r *relay.Relay, service string) {
	if t.ping != nil {
		// Its frame position would not travel: it drains instead.
		return
	}
	t.held.Store(&heldRelay{r: r, service: service})
}

// NetConn is the connection under the tunnel (a TLS one keeps it here).
func (t *tunnel) NetConn() net.Conn { return t.Conn }

// Drained lets a relay read the socket under the tunnel directly, holding
// no buffer while the tunnel is idle (relay.Drainer): the tunnel buffers
// nothing itself (what the engine read ahead went to the handler with the
// hijack). The relay reports activity with Touch.
func (t *tunnel) Drained() (net.Conn, bool) { return t.Conn, true }

// Touch records activity for the idle bound (relay.Toucher).
func (t *tunnel) Touch() { t.touch() }

// TunnelRelay is a tunnel whose relay can be detached.
type TunnelRelay struct {
	Client  net.Conn // the tunnel, as the handler sees it
	Relay   *relay.Relay
	Service string
}

// RelayedTunnels returns the open tunnels served by a relay.
func (s *Server) RelayedTunnels() []TunnelRelay {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TunnelRelay, 0, len(s.tunnels))
	for t := range s.tunnels {
		if h := t.held.Load(); h != nil {
			out = append(out, TunnelRelay{Client: t, Relay: h.r, Service: h.service})
		}
	}
	return out
}

// MoveIdle offers send every parked connection without TLS that has
// nothing to read (a byte waiting means it is not idle; a closed one goes
// its own way). send gets the connection as accepted; when it returns true
// the connection has been sent, and is forgotten and closed here (a close,
// not a shutdown: the copy that was sent keeps the socket open).
// Otherwise it goes back to the poller. It returns how many were sent.
func (s *Server) MoveIdle(send func(nc net.Conn) bool) int {
	p := s.parker
	if p == nil {
		return 0
	}
	p.mu.Lock()
	cands := make([]*conn, 0, len(p.conns))
	for _, c := range p.conns {
		if c.tc == nil {
			cands = append(cands, c)
		}
	}
	p.mu.Unlock()
	moved := 0
	for _, c := range cands {
		if s.moveParked(p, c, send) {
			moved++
		}
	}
	return moved
}

func (s *Server) moveParked(p *parker, c *conn, send func(net.Conn) bool) bool {
	// Out of the poller first, so no goroutine resumes it meanwhile;
	// parking: Close leaves the socket to us while we decide.
	if !p.take(c.fd, c) {
		return false // the poller or the sweep has it
	}
	if !c.state.CompareAndSwap(stParked, stParking) {
		c.finish() // closed meanwhile: its closer left it to us
		return false
	}
	if peekIdle(c) && send(c.nc) {
		c.state.Store(stClosed)
		c.finish()
		return true
	}
	// Not idle after all, or not sent: back to the poller.
	if err := p.add(c); err != nil {
		c.state.Store(stClosed)
		c.finish()
		return false
	}
	if !c.state.CompareAndSwap(stParking, stParked) {
		p.remove(c)
		c.finish()
	}
	return false
}
