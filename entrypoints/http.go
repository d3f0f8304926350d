// Package entrypoints owns listeners and servers: it accepts connections,
// serves HTTP on them with the current routing table, and shuts down
// gracefully. A table swap never touches a connection.
package entrypoints

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/entrypoints/connreg"
	"github.com/switchyard-proxy/switchyard/entrypoints/http1"
	"github.com/switchyard-proxy/switchyard/routers/tcpmux"
	sytls "github.com/switchyard-proxy/switchyard/tls"
)

// Routing is everything an entrypoint needs from one configuration
// generation. It is swapped as a whole with one atomic store.
type Routing struct {
	// HTTP serves requests that arrived without TLS, HTTPS those that
	// arrived over TLS (routers with a tls section, or every router when
	// the entrypoint has http.tls defaults).
	HTTP, HTTPS http.Handler
	// TCP routes connections before the HTTP side sees them; nil or empty
	// when the entrypoint has no TCP router.
	TCP *tcpmux.Muxer
	// TLS picks the server config of the HTTPS side by server name.
	TLS *sytls.Selector
	// TCPOnly: no HTTP router uses the entrypoint, so a connection that
	// only TCP routers without TLS can take is routed without waiting
	// for the client's first bytes (server-first protocols).
	TCPOnly bool
}

// HTTPEntryPoint serves one TCP entrypoint: TCP routers, TLS termination
// (SNI, mTLS), HTTP/1.1 and HTTP/2 (h2 over TLS, h2c in clear).
type HTTPEntryPoint struct {
	Name   string
	Config *static.EntryPoint

	current atomic.Pointer[Routing]
	h1      *http1.Server // HTTP/1.x
	h2      *h2Server     // HTTP/2: h2 over TLS and h2c (h2.go)
	ln      net.Listener
	wrap    func(http.Handler) http.Handler
	h3      *http3Server

	peekTimeout time.Duration
	// reg holds every connection from accept to close, whatever serves
	// it: graceful shutdown, the hand-off and the API's counts read it.
	reg      *connreg.Registry
	tcp      tcpServer // TCP routers' connections
	tcpConns tcpConns  // the registry as the hand-off sees it
	ipLimit  *ipLimit  // transport.maxConnsPerIP; nil: no limit

	closed atomic.Bool
}

// NewHTTP prepares an entrypoint; wrap adds the per-entrypoint layers that
// do not change with the routing table (forwarded headers, access log).
func NewHTTP(name string, cfg *static.EntryPoint, wrap func(http.Handler) http.Handler) *HTTPEntryPoint {
	reg := connreg.New()
	ep := &HTTPEntryPoint{Name: name, Config: cfg, wrap: wrap, reg: reg, tcp: tcpServer{reg}, tcpConns: tcpConns{reg}}
	if cfg.Transport != nil && cfg.Transport.MaxConnsPerIP > 0 {
		ep.ipLimit = &ipLimit{max: cfg.Transport.MaxConnsPerIP}
	}
	nf := http.NotFoundHandler()
	ep.current.Store(&Routing{HTTP: nf, HTTPS: nf})
	return ep
}

// SetHandler swaps the plain HTTP handler atomically, keeping the rest.
func (ep *HTTPEntryPoint) SetHandler(h http.Handler) {
	r := *ep.current.Load()
	r.HTTP = h
	ep.current.Store(&r)
}

// SetRouting swaps the whole routing state atomically; requests and
// connections already running finish on the state they started with.
func (ep *HTTPEntryPoint) SetRouting(r Routing) {
	if r.HTTP == nil {
		r.HTTP = http.NotFoundHandler()
	}
	if r.HTTPS == nil {
		r.HTTPS = http.NotFoundHandler()
	}
	ep.current.Store(&r)
}

// route is the root of every request on this entrypoint: one atomic load.
func (ep *HTTPEntryPoint) route(w http.ResponseWriter, r *http.Request) {
	cur := ep.current.Load()
	if r.TLS != nil {
		// A Host whose TLS options differ from those the handshake used
		// (its SNI) would bypass them, e.g. mTLS: 421, as Traefik.
		if cur.TLS != nil && cur.TLS.Select(normalizeSNI(r.TLS.ServerName)) != cur.TLS.Select(normalizeSNI(hostOnly(r.Host))) {
			http.Error(w, http.StatusText(http.StatusMisdirectedRequest), http.StatusMisdirectedRequest)
			return
		}
		cur.HTTPS.ServeHTTP(w, r)
		return
	}
	cur.HTTP.ServeHTTP(w, r)
}

// Start listens and serves in the background.
func (ep *HTTPEntryPoint) Start(ctx context.Context) error {
	ln, err := Listen(ctx, ep.Name, ep.Config)
	if err != nil {
		return err
	}
	if pp := ep.Config.ProxyProtocol; pp != nil {
		if ln, err = withProxyProtocol(ln, pp); err != nil {
			_ = ln.Close()
			return fmt.Errorf("entrypoint %q: proxyProtocol: %w", ep.Name, err)
		}
	}
	ep.ln = ln

	var root http.Handler = http.HandlerFunc(ep.route)
	if ep.Config.HTTP.SanitizePath == nil || *ep.Config.HTTP.SanitizePath {
		root = sanitizePath(root)
	}
	if ep.Config.HTTP.EncodeQuerySemicolons {
		root = encodeQuerySemicolons(root)
	}
	if f := newEncodedFilter(ep.Config.HTTP.EncodedCharacters); f != nil {
		root = rejectEncoded(root, f) // before the path is cleaned or routed
	}
	if ep.Config.HTTP3 != nil {
		root = ep.altSvc(root)
	}
	if ep.wrap != nil {
		root = ep.wrap(root)
	}
	ep.h2 = newH2Server(ep.Name, ep.Config, root, ep.reg)
	root = ep.h2.h2cUpgrade(root)

	rt := ep.Config.Transport.RespondingTimeouts
	// The wait for a client's first bytes is bounded like the first
	// request would be; an idle connection costs no buffer meanwhile.
	ep.peekTimeout = time.Duration(rt.ReadTimeout)
	if ep.peekTimeout <= 0 {
		ep.peekTimeout = time.Duration(rt.IdleTimeout)
	}
	tr := ep.Config.Transport
	ep.h1 = &http1.Server{
		Handler:        root,
		ReadTimeout:    time.Duration(rt.ReadTimeout),
		WriteTimeout:   time.Duration(rt.WriteTimeout),
		IdleTimeout:    time.Duration(rt.IdleTimeout),
		MaxHeaderBytes: ep.Config.HTTP.MaxHeaderBytes,
		// Traefik has no idle bound for upgraded connections; ours is
		// the keep-alive one (documented in docs/configuration.md).
		TunnelIdleTimeout:    time.Duration(rt.IdleTimeout),
		KeepAliveMaxRequests: tr.KeepAliveMaxRequests,
		KeepAliveMaxTime:     time.Duration(tr.KeepAliveMaxTime),
		Registry:             ep.reg,
	}
	ep.h1.WebSocketPingInterval, ep.h1.WebSocketPingTimeout = tr.WebSocketPing.Effective()

	if ep.Config.HTTP3 != nil {
		if err := ep.startHTTP3(ctx, root); err != nil {
			_ = ln.Close()
			return err
		}
	}
	go ep.acceptLoop()
	slog.Info("entrypoint started", "entrypoint", ep.Name, "address", ln.Addr().String())
	return nil
}

// RefusedByIPLimit counts the connections closed at accept because their
// address held transport.maxConnsPerIP already (0 without the option).
func (ep *HTTPEntryPoint) RefusedByIPLimit() uint64 {
	if l := ep.ipLimit; l != nil {
		return l.rejected.Load()
	}
	return 0
}

// Addr is the bound address (useful with ":0").
func (ep *HTTPEntryPoint) Addr() net.Addr {
	if ep.ln == nil {
		return nil
	}
	return ep.ln.Addr()
}

// StopAccepting closes this process's listener and nothing else: on a
// binary upgrade the new process holds the same socket and accepts from
// it, so no connection is refused. Shutdown then drains.
//
// Unlike Shutdown it does not mark the entrypoint closed: a connection the
// accept loop took just before is served, not dropped.
func (ep *HTTPEntryPoint) StopAccepting() {
	if ep.ln == nil {
		return
	}
	_ = ep.ln.Close()
}

// Connections counts the entrypoint's connections now, by protocol and
// state (computed on demand from the registry).
func (ep *HTTPEntryPoint) Connections() connreg.Counts { return ep.reg.Counts() }

// Registry is the entrypoint's connection registry.
func (ep *HTTPEntryPoint) Registry() *connreg.Registry { return ep.reg }

// servers are the entrypoint's protocol servers, HTTP/3 (which takes
// its connections from its own UDP socket) included, as the shutdown sees
// them.
func (ep *HTTPEntryPoint) servers() []stopper {
	out := []stopper{h1Server{ep.h1}, ep.h2, ep.tcp}
	if ep.h3 != nil {
		out = append(out, ep.h3)
	}
	return out
}

// Shutdown stops accepting, then lets every connection finish until ctx
// ends, after which remaining connections are closed. The registry
// decides when everything is over: its Close refuses connections from
// now on and reports when the last one is gone.
func (ep *HTTPEntryPoint) Shutdown(ctx context.Context) error {
	if ep.h1 == nil {
		return nil
	}
	ep.closed.Store(true)
	_ = ep.ln.Close()
	empty := ep.reg.Close()
	// Connections still being classified have no request in flight: a
	// client that connected and sent nothing yet is closed (its server
	// would refuse it anyway once it spoke). Every other one is draining
	// from now on (the API and the connections gauge show it).
	ep.reg.Range(func(e *connreg.Entry) bool {
		if e.Protocol() == connreg.ProtoUnknown && e.State() == connreg.StateNew {
			_ = e.Conn().Close()
		}
		e.SetDraining()
		return true
	})
	// Each server ends its own gracefully (HTTP/1: idle connections
	// closed; HTTP/2 and HTTP/3: GOAWAY), in parallel.
	srvs := ep.servers()
	errs := make(chan error, len(srvs))
	for _, s := range srvs {
		go func() { errs <- s.shutdown(ctx) }()
	}
	var err error
	for range srvs {
		if e := <-errs; err == nil {
			err = e
		}
	}
	select {
	case <-empty:
		return err
	case <-ctx.Done():
	}
	slog.Warn("grace period over, closing remaining connections", "entrypoint", ep.Name, "open", ep.reg.Len())
	for _, s := range srvs {
		s.closeAll()
	}
	ep.reg.CloseAll()
	select {
	case <-empty:
	case <-time.After(5 * time.Second):
		// A server that does not return its connections is a bug; do
		// not hang the process's exit on it.
		slog.Error("connections left after closing", "entrypoint", ep.Name, "open", ep.reg.Len())
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// sanitizePath cleans "/./", "/../" and "//" out of the request path as
// Traefik does, without touching the common case.
func sanitizePath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if needsClean(p) {
			c := path.Clean(p)
			if strings.HasSuffix(p, "/") && c != "/" {
				c += "/"
			}
			r.URL.Path = c
			if r.URL.RawPath != "" {
				r.URL.RawPath = ""
			}
		}
		next.ServeHTTP(w, r)
	})
}

func needsClean(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	return strings.Contains(p, "//") || strings.Contains(p, "/./") || strings.Contains(p, "/../") ||
		strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")
}

// hostOnly drops the port of a Host header ("a:443", "[::1]:443").
func hostOnly(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}
