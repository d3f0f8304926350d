// Package http1 is Switchyard's HTTP/1.x server engine. It serves a
// standard http.Handler, so every middleware and the proxy run unchanged,
// but it does per connection what net/http does per request: one bufio
// pair reused across requests, no background-read goroutine, no context
// tree, no header sorting, the Date header formatted once per second.
// An idle keep-alive connection gives back its goroutine and buffers and
// waits in the server's poller (see park_linux.go), which is what lets a
// gateway hold hundreds of thousands of idle TLS connections.
//
// HTTP/2 (h2 over TLS, h2c) stays on net/http: the entrypoint routes those
// connections there before this engine sees them.
package http1

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-proxy/switchyard/entrypoints/connreg"
)

// Server serves HTTP/1.0 and HTTP/1.1 on connections it is given.
type Server struct {
	Handler http.Handler
	// ReadTimeout bounds reading one request, head and body; 0 means none.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response; 0 means none.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a keep-alive
	// connection; 0 falls back to ReadTimeout, and both 0 means none.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers; 0 means
	// http.DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// ParkAfter is how long an idle connection keeps its goroutine and
	// buffers before it is parked in the poller; 0 means one second, a
	// negative value never parks.
	ParkAfter time.Duration
	// TunnelIdleTimeout closes a hijacked connection (WebSocket, any
	// 101 Switching Protocols) that carried no byte either way for that
	// long; 0 means never. Tunnels are closed by Close, so at the end of
	// a graceful Shutdown.
	TunnelIdleTimeout time.Duration
	// WebSocketPingInterval, when positive, pings the client of a
	// WebSocket tunnel that sent nothing for that long, and closes the
	// tunnel when nothing comes back within WebSocketPingTimeout
	// (wsping.go).
	WebSocketPingInterval, WebSocketPingTimeout time.Duration
	// KeepAliveMaxRequests closes a connection after that many requests
	// (the last response says "Connection: close"); 0 means no limit.
	KeepAliveMaxRequests int
	// KeepAliveMaxTime closes a connection once it is that old, after
	// the response in flight (which says "Connection: close"); 0 means
	// no limit.
	KeepAliveMaxTime time.Duration
	// Logger receives handler panics and connection errors; nil means
	// slog.Default().
	Logger *slog.Logger
	// Registry, when set, holds every connection the server serves, with
	// its state (active, idle — parked included —, tunnel): ServeConn adds
	// it, ServeConnEntry takes the entry the entrypoint added at accept.
	// The engine sets itself as the entry's owner and removes the entry
	// when the connection closes. A state change is one atomic store.
	Registry *connreg.Registry

	mu        sync.Mutex
	conns     map[*conn]struct{}
	listeners map[net.Listener]struct{}
	closing   atomic.Bool
	parker    *parker
	parkOnce  sync.Once

	tunnels     map[*tunnel]struct{}
	tunSweeping bool
	tunDone     chan struct{}
}

// Serve accepts connections on l and serves each on its own goroutine
// until l fails or the server shuts down (then http.ErrServerClosed).
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	if s.closing.Load() {
		// Shutdown or Close ran before this listener was known to them.
		_ = l.Close()
		return http.ErrServerClosed
	}
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if s.closing.Load() {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		go s.ServeConn(c)
	}
}

// ServeConn serves c until it closes, is hijacked or the server shuts
// down. It may return early with the connection still open: an idle
// connection is parked and served again on a new goroutine when the
// client sends its next request.
func (s *Server) ServeConn(nc net.Conn) {
	c := s.newConn(nc, nil)
	if c == nil {
		return
	}
	c.serve(true)
}

// ServeConnEntry is ServeConn for a connection already in s.Registry as
// e (added by the entrypoint when it accepted the connection): the engine
// owns e from now on and removes it once the connection is closed.
func (s *Server) ServeConnEntry(nc net.Conn, e *connreg.Entry) {
	c := s.newConn(nc, e)
	if c == nil {
		return
	}
	c.serve(true)
}

// Shutdown stops the listeners given to Serve, closes idle and parked
// connections, and waits for active ones to finish their response, until
// ctx ends (then the rest are closed and ctx's error returned).
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.closeListeners()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.closeIdle() == 0 {
			s.stopParker()
			return nil
		}
		select {
		case <-ctx.Done():
			_ = s.Close()
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.closing.Store(true)
	s.closeListeners()
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.kill()
	}
	s.stopParker()
	return nil
}

// stopParker ends the poller's goroutines once no connection is left.
func (s *Server) stopParker() {
	s.parkOnce.Do(func() {}) // no poller may start after this
	if s.parker != nil {
		s.parker.close()
	}
	s.mu.Lock()
	if s.tunDone != nil {
		close(s.tunDone)
		s.tunDone = nil
	}
	s.mu.Unlock()
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for l := range s.listeners {
		_ = l.Close()
	}
}

// drainIdleGrace: during a graceful shutdown, a keep-alive connection is
// closed only once it has been idle this long. A client often sends its
// next request the moment it reads a response; closing in that window
// would cut the request (nginx and net/http do; HAProxy's
// idle-close-on-response does not). Meanwhile a request that arrives is
// answered with Connection: close.
const drainIdleGrace = time.Second

// closeIdle closes connections waiting for a request (idle for at least
// drainIdleGrace) and wakes those blocked reading one; it returns how many
// connections remain.
func (s *Server) closeIdle() int {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	now := time.Now()
	for _, c := range conns {
		c.closeIfIdle(now, drainIdleGrace)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) track(c *conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.closing.Load() {
			return false
		}
		if s.conns == nil {
			s.conns = map[*conn]struct{}{}
		}
		s.conns[c] = struct{}{}
		return true
	}
	delete(s.conns, c)
	return true
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) maxHeaderBytes() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes
	}
	return http.DefaultMaxHeaderBytes
}

func (s *Server) idleTimeout() time.Duration {
	if s.IdleTimeout != 0 {
		return s.IdleTimeout
	}
	return s.ReadTimeout
}

func (s *Server) parkAfter() time.Duration {
	switch {
	case s.ParkAfter < 0:
		return -1
	case s.ParkAfter == 0:
		return time.Second
	}
	return s.ParkAfter
}

// getParker starts the poller on first use; nil where parking is not
// available (not Linux, or epoll failed).
func (s *Server) getParker() *parker {
	s.parkOnce.Do(func() {
		p, err := newParker(s)
		if err != nil {
			s.logger().Debug("idle connections will keep their goroutine", "error", err)
			return
		}
		s.parker = p
	})
	return s.parker
}
