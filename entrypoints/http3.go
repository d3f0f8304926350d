package entrypoints

import (
	"context"
	ctls "crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/entrypoints/connreg"
	sytls "github.com/switchyard-proxy/switchyard/tls"
)

// http3Server serves HTTP/3 on the UDP port of a TCP entrypoint with the
// same TLS selection and routing table as the TCP side. Its QUIC
// connections are in the entrypoint's registry (protocol http3: new until
// the handshake completes, then active while a request runs, idle
// otherwise, draining once a shutdown sent GOAWAY); graceful shutdown is
// one of the entrypoint's servers'.
type http3Server struct {
	srv  *http3.Server
	pc   net.PacketConn
	reg  *connreg.Registry
	done chan struct{} // closed when accepting has ended (or never began)
	stop chan struct{} // closed by shutdown

	serving sync.Map // *quic.Conn → *h3Conn, until ServeQUICConn picks it up (ConnContext)

	mu      sync.Mutex
	stopped bool
	tr      *quic.Transport     // nil until the accept gate opens
	ln      *quic.EarlyListener // nil until the accept gate opens
}

// quicDefaultHandshakeIdle and quicDefaultIdle are quic-go's defaults; the
// responding timeouts only ever shorten them.
const (
	quicDefaultHandshakeIdle = 5 * time.Second
	quicDefaultIdle          = 30 * time.Second
)

// quicConfig applies the entrypoint's limits to QUIC: as many concurrent
// request streams as http2.maxConcurrentStreams, the handshake bounded by
// readTimeout and an idle connection by idleTimeout (each only when
// shorter than quic-go's default), no 0-RTT (replayable requests would
// reach backends that cannot tell).
//
// quic-go enforces RFC 9000's anti-amplification limit itself: before a
// client's address is validated the server sends at most 3 bytes for
// every byte received (integration/http3_hardening_test.go checks it).
func quicConfig(cfg *static.EntryPoint) *quic.Config {
	rt := cfg.Transport.RespondingTimeouts
	c := &quic.Config{
		HandshakeIdleTimeout: quicDefaultHandshakeIdle,
		MaxIdleTimeout:       quicDefaultIdle,
		MaxIncomingStreams:   250,
		Allow0RTT:            false,
	}
	if h2 := cfg.HTTP2; h2 != nil && h2.MaxConcurrentStreams > 0 {
		c.MaxIncomingStreams = int64(h2.MaxConcurrentStreams)
	}
	if d := time.Duration(rt.ReadTimeout); d > 0 && d < c.HandshakeIdleTimeout {
		c.HandshakeIdleTimeout = d
	}
	if d := time.Duration(rt.IdleTimeout); d > 0 && d < c.MaxIdleTimeout {
		c.MaxIdleTimeout = d
	}
	return c
}

// startHTTP3 listens on UDP at the TCP listener's address (same port, so
// ":0" in tests works too) and serves h with the current TLS configs. In a
// process started by an upgrade, the QUIC transport (which reads the
// socket) starts only when the accept gate opens, so the previous process
// keeps all of the shared socket's packets until then.
func (ep *HTTPEntryPoint) startHTTP3(ctx context.Context, h http.Handler) error {
	tcpAddr := ep.ln.Addr().(*net.TCPAddr)
	pc, err := listenUDP(ctx, ep.Name, tcpAddr.String(), ep.Config.ReusePort)
	if err != nil {
		return fmt.Errorf("entrypoint %q: http3: %w", ep.Name, err)
	}
	tlsConf := &ctls.Config{
		MinVersion: ctls.VersionTLS13,
		GetConfigForClient: func(hello *ctls.ClientHelloInfo) (*ctls.Config, error) {
			cfg := ep.current.Load().TLS.Select(normalizeSNI(hello.ServerName))
			if cfg == nil {
				cfg = fallbackTLS()
			}
			return cfg, nil
		},
	}
	tlsConf = http3.ConfigureTLSConfig(tlsConf)
	s := &http3Server{
		pc:   pc,
		reg:  ep.reg,
		done: make(chan struct{}),
		stop: make(chan struct{}),
	}
	s.srv = &http3.Server{
		Handler:        s.track(h),
		TLSConfig:      tlsConf,
		MaxHeaderBytes: ep.Config.HTTP.MaxHeaderBytes,
		IdleTimeout:    time.Duration(ep.Config.Transport.RespondingTimeouts.IdleTimeout),
		Logger:         slog.Default(),
		ConnContext: func(ctx context.Context, c *quic.Conn) context.Context {
			if hc, ok := s.serving.LoadAndDelete(c); ok {
				ctx = context.WithValue(ctx, h3ConnKey{}, hc)
			}
			return ctx
		},
	}
	listen := func() error {
		tr := &quic.Transport{Conn: pc}
		if ep.Config.HTTP3 != nil && ep.Config.HTTP3.ValidateAddress {
			// A Retry round trip before any handshake work: a spoofed source
			// gets one small packet and nothing else.
			tr.VerifySourceAddress = func(net.Addr) bool { return true }
		}
		ln, err := tr.ListenEarly(tlsConf, quicConfig(ep.Config))
		if err != nil {
			return fmt.Errorf("entrypoint %q: http3: %w", ep.Name, err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.stopped {
			_ = ln.Close()
			_ = tr.Close()
			return http.ErrServerClosed
		}
		s.tr, s.ln = tr, ln
		return nil
	}
	serve := func() {
		defer close(s.done)
		s.accept(ep.Name)
	}
	ep.h3 = s
	select {
	case <-acceptGate():
		if err := listen(); err != nil {
			ep.h3 = nil
			_ = pc.Close()
			return err
		}
		go serve()
	default:
		go func() {
			select {
			case <-acceptGate():
			case <-s.stop:
				close(s.done)
				return
			}
			if err := listen(); err != nil {
				if !errors.Is(err, http.ErrServerClosed) {
					slog.Error("http3 not started", "entrypoint", ep.Name, "error", err)
				}
				close(s.done)
				return
			}
			serve()
		}()
	}
	slog.Info("http3 started", "entrypoint", ep.Name, "address", pc.LocalAddr().String())
	return nil
}

// accept takes QUIC connections until shutdown, each registered and
// served on its own goroutine.
func (s *http3Server) accept(name string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		qc, err := s.ln.Accept(ctx)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, quic.ErrServerClosed) {
				slog.Debug("http3 stopped accepting", "entrypoint", name, "error", err)
			}
			return
		}
		hc := &h3Conn{qc: qc, e: connreg.NewEntry(nil, connreg.ProtoHTTP3, connreg.StateNew)}
		if !s.reg.Add(hc.e) {
			_ = qc.CloseWithError(quic.ApplicationErrorCode(http3.ErrCodeNoError), "") // shutting down
			continue
		}
		hc.e.SetOwner(hc)
		go s.serve(hc)
	}
}

// serve serves one QUIC connection until it closes; its entry goes with
// it.
func (s *http3Server) serve(hc *h3Conn) {
	defer s.reg.Remove(hc.e)
	select {
	case <-hc.qc.HandshakeComplete():
		hc.e.SetState(connreg.StateIdle)
	case <-hc.qc.Context().Done():
		return
	}
	s.serving.Store(hc.qc, hc)
	if err := s.srv.ServeQUICConn(hc.qc); err != nil && !errors.Is(err, http.ErrServerClosed) {
		slog.Debug("http3 connection ended", "remote", hc.qc.RemoteAddr().String(), "error", err)
	}
	s.serving.Delete(hc.qc)
	// ServeQUICConn leaves closing the connection to its caller.
	_ = hc.qc.CloseWithError(quic.ApplicationErrorCode(http3.ErrCodeNoError), "")
}

// h3ConnKey finds a request's connection in its context.
type h3ConnKey struct{}

// h3Conn is one QUIC connection in the registry; its state follows the
// requests it runs.
type h3Conn struct {
	qc     *quic.Conn
	e      *connreg.Entry
	active atomic.Int32
}

// Abort closes the connection (connreg.Owner: the end of the grace
// period).
func (hc *h3Conn) Abort() {
	_ = hc.qc.CloseWithError(quic.ApplicationErrorCode(http3.ErrCodeNoError), "")
}

// track reports each request's start and end to its connection's entry.
// Whoever stores a state checks the count again after: the last store
// matches the count whatever the interleaving.
func (s *http3Server) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hc, _ := r.Context().Value(h3ConnKey{}).(*h3Conn)
		if hc == nil {
			h.ServeHTTP(w, r)
			return
		}
		hc.active.Add(1)
		hc.e.SetState(connreg.StateActive)
		defer func() {
			if hc.active.Add(-1) == 0 {
				hc.e.SetState(connreg.StateIdle)
				if hc.active.Load() > 0 {
					hc.e.SetState(connreg.StateActive)
				}
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// shutdown stops accepting, sends GOAWAY on every connection and lets
// in-flight requests finish until ctx ends; then the connections left are
// closed. The socket is closed at the end.
func (s *http3Server) shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.stopped {
		s.stopped = true
		close(s.stop)
	}
	ln, tr := s.ln, s.tr
	s.mu.Unlock()
	<-s.done
	var err error
	if ln != nil {
		_ = ln.Close() // no new connection; those open live on
		done := make(chan error, 1)
		go func() { done <- s.srv.Shutdown(ctx) }()
		select {
		case err = <-done:
		case <-ctx.Done():
			// quic-go's Close, at the end of the grace period, waits for
			// every handler to return: do not hang the process's exit on
			// one; closing the transport ends every connection left.
			select {
			case err = <-done:
			case <-time.After(time.Second):
				err = ctx.Err()
			}
		}
		_ = tr.Close()
	}
	_ = s.pc.Close()
	return err
}

// closeAll closes every connection now.
func (s *http3Server) closeAll() { _ = s.srv.Close() }

// altSvc advertises HTTP/3 on responses sent over TLS (TCP).
func (ep *HTTPEntryPoint) altSvc(next http.Handler) http.Handler {
	port := 0
	if ep.Config.HTTP3 != nil {
		port = ep.Config.HTTP3.AdvertisedPort
	}
	if port == 0 {
		if a, ok := ep.ln.Addr().(*net.TCPAddr); ok {
			port = a.Port
		}
	}
	value := []string{`h3=":` + strconv.Itoa(port) + `"; ma=2592000`}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && r.ProtoMajor < 3 {
			w.Header()["Alt-Svc"] = value
		}
		next.ServeHTTP(w, r)
	})
}

var (
	fallbackOnce sync.Once
	fallbackCfg  *ctls.Config
)

// fallbackTLS serves the generated default certificate before the first
// configuration arrives.
func fallbackTLS() *ctls.Config {
	fallbackOnce.Do(func() {
		fallbackCfg, _ = sytls.BuildOptions(dynamic.TLSOptions{}, sytls.NewStore())
	})
	return fallbackCfg
}
