// Package entrypoints owns listeners and servers: it accepts connections,
// serves HTTP on them with the current routing table, and shuts down
// gracefully. A table swap never touches a connection.
package entrypoints

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-proxy/switchyard/config/static"
)

// handlerBox lets an atomic.Pointer hold an interface value.
type handlerBox struct{ h http.Handler }

// HTTPEntryPoint serves HTTP/1.1 and cleartext HTTP/2 on one listener.
type HTTPEntryPoint struct {
	Name   string
	Config *static.EntryPoint

	current atomic.Pointer[handlerBox]
	server  *http.Server
	ln      net.Listener
	wrap    func(http.Handler) http.Handler

	mu     sync.Mutex
	served chan struct{}
}

// NewHTTP prepares an entrypoint; wrap adds the per-entrypoint layers that
// do not change with the routing table (forwarded headers, access log).
func NewHTTP(name string, cfg *static.EntryPoint, wrap func(http.Handler) http.Handler) *HTTPEntryPoint {
	ep := &HTTPEntryPoint{Name: name, Config: cfg, wrap: wrap}
	ep.current.Store(&handlerBox{h: http.NotFoundHandler()})
	return ep
}

// SetHandler swaps the routing handler atomically; requests already
// running finish on the handler they started with.
func (ep *HTTPEntryPoint) SetHandler(h http.Handler) {
	ep.current.Store(&handlerBox{h: h})
}

// ServeHTTP is the root of every request on this entrypoint: one atomic load.
func (ep *HTTPEntryPoint) route(w http.ResponseWriter, r *http.Request) {
	ep.current.Load().h.ServeHTTP(w, r)
}

// Start listens and serves in the background.
func (ep *HTTPEntryPoint) Start(ctx context.Context) error {
	ln, err := Listen(ctx, ep.Name, ep.Config)
	if err != nil {
		return err
	}
	ep.ln = ln

	var root http.Handler = http.HandlerFunc(ep.route)
	if ep.Config.HTTP.SanitizePath == nil || *ep.Config.HTTP.SanitizePath {
		root = sanitizePath(root)
	}
	if ep.wrap != nil {
		root = ep.wrap(root)
	}

	rt := ep.Config.Transport.RespondingTimeouts
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	ep.server = &http.Server{
		Handler:           root,
		ReadTimeout:       time.Duration(rt.ReadTimeout),
		WriteTimeout:      time.Duration(rt.WriteTimeout),
		IdleTimeout:       time.Duration(rt.IdleTimeout),
		MaxHeaderBytes:    ep.Config.HTTP.MaxHeaderBytes,
		Protocols:         protocols,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelDebug),
		DisableGeneralOptionsHandler: true,
	}
	if h2 := ep.Config.HTTP2; h2 != nil {
		ep.server.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: int(h2.MaxConcurrentStreams)}
	}
	ep.served = make(chan struct{})
	go func() {
		defer close(ep.served)
		if err := ep.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("entrypoint stopped", "entrypoint", ep.Name, "error", err)
		}
	}()
	slog.Info("entrypoint started", "entrypoint", ep.Name, "address", ln.Addr().String())
	return nil
}

// Addr is the bound address (useful with ":0").
func (ep *HTTPEntryPoint) Addr() net.Addr {
	if ep.ln == nil {
		return nil
	}
	return ep.ln.Addr()
}

// Shutdown stops accepting, then waits for in-flight requests until ctx
// ends, after which remaining connections are closed.
func (ep *HTTPEntryPoint) Shutdown(ctx context.Context) error {
	if ep.server == nil {
		return nil
	}
	err := ep.server.Shutdown(ctx)
	if err != nil {
		slog.Warn("grace period over, closing remaining connections", "entrypoint", ep.Name)
		_ = ep.server.Close()
	}
	<-ep.served
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
