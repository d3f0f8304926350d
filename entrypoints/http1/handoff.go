package http1

import (
	"context"
	"net"

	"github.com/switchyard-proxy/switchyard/entrypoints/connreg"

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

// Detach gives the connection up for an upgrade hand-off
// (connreg.Detacher): a tunnel served by a relay stops at a clean point; a
// parked cleartext keep-alive connection with nothing to read leaves the
// poller. Anything else (a request in flight, an idle connection not
// parked yet, TLS) is not movable and drains.
func (c *conn) Detach(ctx context.Context) (*connreg.Detached, error) {
	switch c.state.Load() {
	case stHijacked:
		t := c.tun
		if t == nil {
			return nil, connreg.ErrNotMovable
		}
		h := t.held.Load()
		if h == nil {
			return nil, connreg.ErrNotMovable
		}
		d, err := connreg.DetachRelay(ctx, h.r, connreg.ProtoHTTP1, connreg.StateTunnel)
		if err != nil {
			return nil, err
		}
		d.Service = h.service
		return d, nil
	case stParked:
		if c.tc != nil {
			return nil, connreg.ErrNotMovable
		}
		p := c.srv.parker
		if p == nil || !c.takeParked(p) {
			return nil, connreg.ErrNotMovable
		}
		return &connreg.Detached{
			Client: c.nc, Protocol: connreg.ProtoHTTP1, State: connreg.StateIdle, DelayLeft: -1,
			Release: func(moved bool) { c.releaseParked(p, moved) },
		}, nil
	}
	return nil, connreg.ErrNotMovable
}

// MoveIdle offers send every parked connection without TLS that has
// nothing to read (a byte waiting means it is not idle; a closed one goes
// its own way). send gets the connection as accepted; when it returns true
// the connection has been sent, and is forgotten and closed here (a close,
// not a shutdown: the copy that was sent keeps the socket open).
// Otherwise it goes back to the poller. It returns how many were sent.
// (An entrypoint moves its connections through its registry instead.)
func (s *Server) MoveIdle(send func(nc net.Conn) bool) int {
	p := s.parker
	if p == nil {
		return 0
	}
	p.mu.Lock()
	cands := make([]*conn, 0, len(p.conns))
	for _, c := range p.conns {
		if c.tc == nil && c.tst == nil {
			cands = append(cands, c)
		}
	}
	p.mu.Unlock()
	moved := 0
	for _, c := range cands {
		if !c.takeParked(p) {
			continue
		}
		ok := send(c.nc)
		c.releaseParked(p, ok)
		if ok {
			moved++
		}
	}
	return moved
}

// takeParked takes a parked connection out of the poller for a move, if
// nothing waits to be read on it; it stays out (state parking: nobody
// else closes the socket) until releaseParked.
func (c *conn) takeParked(p *parker) bool {
	if !p.take(c.fd, c) {
		return false // the poller or the sweep has it
	}
	if !c.state.CompareAndSwap(stParked, stParking) {
		c.finish() // closed meanwhile: its closer left it to us
		return false
	}
	if !peekIdle(c) {
		c.releaseParked(p, false) // a request (or the client's FIN) came
		return false
	}
	return true
}

// releaseParked ends a takeParked: moved, the connection is forgotten and
// its socket closed here (the copy sent keeps it open); otherwise it goes
// back to the poller.
func (c *conn) releaseParked(p *parker, moved bool) {
	if moved {
		c.state.Store(stClosed)
		c.finish()
		return
	}
	if err := p.add(c); err != nil {
		c.state.Store(stClosed)
		c.finish()
		return
	}
	if !c.state.CompareAndSwap(stParking, stParked) {
		p.remove(c)
		c.finish()
	}
}
