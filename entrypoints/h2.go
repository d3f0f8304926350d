package entrypoints

import (
	"context"
	ctls "crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"

	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/entrypoints/connreg"
)

// h2MaxReadFrameSize is the largest frame a client may send. x/net's
// default (1 MiB) lets every connection grow a 1 MiB read buffer it keeps
// for its life; 16 KiB is the size every client must assume before our
// SETTINGS arrive, so no client can need more.
const h2MaxReadFrameSize = 16 << 10

// h2Server serves every HTTP/2 connection of an entrypoint — h2 after TLS
// ALPN, h2c with prior knowledge, h2c after "Upgrade: h2c" — with
// golang.org/x/net/http2's server, each connection behind a frame guard
// (h2guard.go). It tracks its connections itself for graceful shutdown.
//
// x/net's server is deprecated in favour of net/http's, but net/http serves
// h2 only on a bare *tls.Conn (it type-asserts it), so a wrapped
// connection — the guard — could not be served with Request.TLS set.
// x/net's ServeConn takes any net.Conn (and, from Go 1.27, runs on
// net/http's own implementation underneath).
//
//nolint:staticcheck // x/net's server: see above
type h2Server struct {
	name    string
	reg     *connreg.Registry
	srv     *http2.Server
	base    *http.Server // timeouts and header limit for x/net; its Shutdown sends GOAWAY everywhere
	handler http.Handler
	// prefaceTimeout bounds the wait for the client preface after the
	// TLS handshake (or the h2c hand-off): respondingTimeouts.readTimeout.
	prefaceTimeout time.Duration
	// transport.keepAliveMaxRequests / keepAliveMaxTime: past either, the
	// response carries "Connection: close", which x/net turns into GOAWAY
	// (as Traefik does for HTTP/2).
	maxRequests int64
	maxTime     time.Duration

	mu     sync.Mutex
	conns  map[*h2Guard]struct{}
	closed bool
	wg     sync.WaitGroup
}

// newH2Server applies entryPoints.<n>.http2.* (Traefik's names), the
// responding timeouts and http.maxHeaderBytes (the header list limit, as
// for HTTP/1).
//
//nolint:staticcheck // x/net's server: see h2Server
func newH2Server(name string, cfg *static.EntryPoint, h http.Handler, reg *connreg.Registry) *h2Server {
	rt := cfg.Transport.RespondingTimeouts
	h2cfg := cfg.HTTP2
	if h2cfg == nil {
		h2cfg = &static.HTTP2Config{}
		h2cfg.SetDefaults()
	}
	base := &http.Server{
		Handler:        h,
		ReadTimeout:    time.Duration(rt.ReadTimeout),  // per stream: the request body
		WriteTimeout:   time.Duration(rt.WriteTimeout), // per stream: the response
		MaxHeaderBytes: cfg.HTTP.MaxHeaderBytes,        // SETTINGS_MAX_HEADER_LIST_SIZE (plus 32 bytes a field, x/net's unit)
		ErrorLog:       slog.NewLogLogger(slog.Default().Handler(), slog.LevelDebug),
		ConnState:      h2ConnState, // x/net reports streams 0 → 1 (active) and back (idle)
	}
	srv := &http2.Server{
		MaxConcurrentStreams:      uint32(max(h2cfg.MaxConcurrentStreams, 0)),
		MaxDecoderHeaderTableSize: uint32(max(h2cfg.MaxDecoderHeaderTableSize, 0)),
		MaxEncoderHeaderTableSize: uint32(max(h2cfg.MaxEncoderHeaderTableSize, 0)),
		MaxReadFrameSize:          h2MaxReadFrameSize,
		// PING liveness (off by default: it arms a timer per connection
		// that fires every readIdleTimeout while the connection is idle).
		ReadIdleTimeout: time.Duration(h2cfg.ReadIdleTimeout),
		PingTimeout:     time.Duration(h2cfg.PingTimeout),
	}
	// ConfigureServer registers the graceful shutdown of every connection
	// (GOAWAY, then close once their streams end) on base.Shutdown. base
	// never serves a listener.
	_ = http2.ConfigureServer(base, srv)
	// ConfigureServer falls back to the read timeout when no idle timeout
	// is set; ours is exactly respondingTimeouts.idleTimeout (0: none).
	srv.IdleTimeout = time.Duration(rt.IdleTimeout)
	if d := time.Duration(rt.WriteTimeout); d > 0 {
		h = h2FlushDeadline{next: h, d: d}
	}
	return &h2Server{
		name:           name,
		reg:            reg,
		srv:            srv,
		base:           base,
		handler:        h,
		prefaceTimeout: time.Duration(rt.ReadTimeout),
		maxRequests:    int64(max(cfg.Transport.KeepAliveMaxRequests, 0)),
		maxTime:        max(time.Duration(cfg.Transport.KeepAliveMaxTime), 0),
		conns:          map[*h2Guard]struct{}{},
	}
}

// h2KeepAlive counts one connection's requests and age for
// keepAliveMaxRequests / keepAliveMaxTime; only entrypoints that set one
// pay for it (one small allocation a connection).
type h2KeepAlive struct {
	next  http.Handler
	max   int64
	until time.Time // zero: no time limit
	n     atomic.Int64
}

func (k *h2KeepAlive) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if n := k.n.Add(1); (k.max > 0 && n >= k.max) || (!k.until.IsZero() && time.Now().After(k.until)) {
		w.Header()["Connection"] = []string{"close"}
	}
	k.next.ServeHTTP(w, r)
}

// serve is the connServer side: an HTTP/2 connection the classifier
// placed (h2 after ALPN, h2c with prior knowledge), served on this
// goroutine to its end.
func (s *h2Server) serve(cc classified) {
	raw := cc.conn
	if tc, ok := raw.(*ctls.Conn); ok {
		raw = tc.NetConn()
	}
	defer s.reg.Remove(cc.entry)
	s.serveH2(cc.conn, raw, nil, nil, cc.entry)
}

func (s *h2Server) closeAll() { s.closeConns() }

// serveH2 runs one HTTP/2 connection to its end. c is what the server
// reads and writes (a *tls.Conn for h2); raw is the socket under it,
// closed directly when the guard gives up on the connection. upgrade and
// settings come from an "Upgrade: h2c" request. e is the connection's
// registry entry (removed by the caller).
//
//nolint:staticcheck // x/net's server: see h2Server
func (s *h2Server) serveH2(c, raw net.Conn, upgrade *http.Request, settings []byte, e *connreg.Entry) {
	if e != nil {
		e.SetProtocol(connreg.ProtoHTTP2)
		e.SetState(connreg.StateActive)
	}
	g := newH2Guard(c, raw, s.name)
	g.entry = e
	if !s.track(g, true) {
		_ = c.Close()
		return
	}
	defer s.track(g, false)
	if s.prefaceTimeout > 0 {
		// Lifted by the guard as soon as the preface is in.
		_ = c.SetReadDeadline(time.Now().Add(s.prefaceTimeout))
		g.deadline = true
	}
	handler := s.handler
	if s.maxRequests > 0 || s.maxTime > 0 {
		k := &h2KeepAlive{next: s.handler, max: s.maxRequests}
		if s.maxTime > 0 {
			k.until = time.Now().Add(s.maxTime)
		}
		handler = k
	}
	var conn net.Conn = g
	if tc, ok := c.(*ctls.Conn); ok {
		conn = &h2TLSGuard{h2Guard: g, tc: tc}
	}
	// A copy of the shared server per connection (same settings, same
	// graceful-shutdown registry) so that x/net reports the client's
	// stream errors to this connection's guard.
	srv := *s.srv
	srv.CountError = g.countError
	srv.ServeConn(conn, &http2.ServeConnOpts{
		BaseConfig:     s.base,
		Handler:        handler,
		UpgradeRequest: upgrade,
		Settings:       settings,
	})
	_ = c.Close()
}

func (s *h2Server) track(g *h2Guard, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.closed {
			return false
		}
		s.conns[g] = struct{}{}
		s.wg.Add(1)
		return true
	}
	delete(s.conns, g)
	s.wg.Done()
	return true
}

// shutdown sends GOAWAY on every connection, waits for their streams to
// end until ctx does, then closes what is left.
func (s *h2Server) shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	_ = s.base.Shutdown(ctx) // runs x/net's graceful shutdown hook; base has no connections of its own
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.closeConns()
	<-done
	return ctx.Err()
}

// closeConns closes every connection at once.
func (s *h2Server) closeConns() {
	s.mu.Lock()
	s.closed = true
	for g := range s.conns {
		_ = g.raw.Close()
	}
	s.mu.Unlock()
}

// h2ConnState records in the registry whether an HTTP/2 connection has
// streams open (x/net calls it on the connection it was given: a guard).
func h2ConnState(c net.Conn, st http.ConnState) {
	var g *h2Guard
	switch t := c.(type) {
	case *h2Guard:
		g = t
	case *h2TLSGuard:
		g = t.h2Guard
	default:
		return
	}
	if g.entry == nil {
		return
	}
	switch st {
	case http.StateActive:
		g.entry.SetState(connreg.StateActive)
	case http.StateIdle:
		g.entry.SetState(connreg.StateIdle)
	}
}

// h2TLSGuard is the guard of an h2 connection: x/net learns the TLS state
// (Request.TLS) from ConnectionState, which a clear connection must not have.
type h2TLSGuard struct {
	*h2Guard
	tc *ctls.Conn
}

func (g *h2TLSGuard) ConnectionState() ctls.ConnectionState { return g.tc.ConnectionState() }
