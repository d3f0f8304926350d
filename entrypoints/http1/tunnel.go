package http1

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-proxy/switchyard/entrypoints/connreg"
)

// tunnel is a hijacked connection (WebSocket, any 101, h2c upgrade). It
// stays in the server's connection set, in state hijacked, until the
// handler closes it; Close (so the end of a graceful shutdown) closes it,
// and one that carries no byte either way for TunnelIdleTimeout is closed
// too. Closing it cancels the request's context, which is how the
// handler learns that the tunnel ended (the proxy then closes the backend
// side).
type tunnel struct {
	net.Conn
	c    *conn
	ctx  *reqContext
	last atomic.Int64 // unix nanoseconds of the last byte read or written
	once sync.Once
	held atomic.Pointer[heldRelay] // the relay serving it, for a hand-off
	ping *wsPinger                 // WebSocket ping liveness; nil: off
}

func (t *tunnel) touch() { t.last.Store(time.Now().UnixNano()) }

func (t *tunnel) Read(b []byte) (int, error) {
	n, err := t.Conn.Read(b)
	if n > 0 {
		t.touch()
		t.TouchRead()
	}
	return n, err
}

func (t *tunnel) Write(b []byte) (int, error) {
	var (
		n   int
		err error
	)
	if t.ping != nil {
		n, err = t.ping.write(b)
	} else {
		n, err = t.Conn.Write(b)
	}
	if n > 0 {
		t.touch()
	}
	return n, err
}

// TouchRead records bytes read from the client (relay.ReadToucher): what
// answers a WebSocket ping.
func (t *tunnel) TouchRead() {
	if t.ping != nil {
		t.ping.heardFrom()
	}
}

// Close closes the socket, forgets the tunnel and cancels the request's
// context; later calls do nothing.
func (t *tunnel) Close() error {
	t.once.Do(func() {
		if t.ping != nil {
			t.ping.stop()
		}
		t.c.state.Store(stClosed)
		t.c.finish()
		s := t.c.srv
		s.mu.Lock()
		delete(s.tunnels, t)
		s.mu.Unlock()
		t.ctx.cancel()
	})
	return nil
}

// CloseWrite half-closes when the socket can (the proxy's relay uses it).
func (t *tunnel) CloseWrite() error {
	if cw, ok := t.Conn.(closeWriter); ok {
		return cw.CloseWrite()
	}
	return nil
}

// addTunnel registers a hijacked connection and starts the idle sweep on
// the first one.
func (s *Server) addTunnel(t *tunnel) {
	t.touch()
	s.mu.Lock()
	if s.tunnels == nil {
		s.tunnels = map[*tunnel]struct{}{}
	}
	s.tunnels[t] = struct{}{}
	start := s.TunnelIdleTimeout > 0 && !s.tunSweeping
	if start {
		s.tunSweeping = true
		s.tunDone = make(chan struct{})
	}
	done := s.tunDone
	s.mu.Unlock()
	if start {
		go s.sweepTunnels(done)
	}
}

// sweepTunnels closes tunnels idle for TunnelIdleTimeout, checking a few
// times per timeout (at most once a second); it ends with the server.
func (s *Server) sweepTunnels(done chan struct{}) {
	idle := s.TunnelIdleTimeout
	every := min(max(idle/4, 50*time.Millisecond), time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	var expired []*tunnel
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		limit := time.Now().Add(-idle).UnixNano()
		s.mu.Lock()
		for tn := range s.tunnels {
			if tn.last.Load() < limit {
				expired = append(expired, tn)
			}
		}
		s.mu.Unlock()
		for i, tn := range expired {
			s.logger().Debug("http: closing idle tunnel", "remote", tn.c.remoteAddr, "idle", idle.String())
			_ = tn.Close()
			expired[i] = nil
		}
		expired = expired[:0]
	}
}

// Tunnels counts the hijacked connections still open (tests, metrics).
func (s *Server) Tunnels() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tunnels)
}

// EntryOf is the registry entry of a connection the engine handed to a
// handler (Hijack), nil if it is not one or the server has no registry.
// The h2c upgrade uses it to record that the connection now speaks HTTP/2.
func EntryOf(nc net.Conn) *connreg.Entry {
	if t, ok := nc.(*tunnel); ok {
		return t.c.entry
	}
	return nil
}
