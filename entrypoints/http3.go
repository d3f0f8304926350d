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
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
	sytls "github.com/switchyard-proxy/switchyard/tls"
)

// http3Server serves HTTP/3 on the UDP port of a TCP entrypoint with the
// same TLS selection and routing table as the TCP side.
type http3Server struct {
	srv  *http3.Server
	pc   net.PacketConn
	done chan struct{} // closed when serving has ended (or never began)
	stop chan struct{} // closed by shutdown

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
		srv: &http3.Server{
			Handler:        h,
			TLSConfig:      tlsConf,
			MaxHeaderBytes: ep.Config.HTTP.MaxHeaderBytes,
			IdleTimeout:    time.Duration(ep.Config.Transport.RespondingTimeouts.IdleTimeout),
			Logger:         slog.Default(),
		},
		pc:   pc,
		done: make(chan struct{}),
		stop: make(chan struct{}),
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
		if err := s.srv.ServeListener(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Debug("http3 stopped", "entrypoint", ep.Name, "error", err)
		}
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

// shutdown lets in-flight HTTP/3 requests finish until ctx ends.
func (s *http3Server) shutdown(ctx context.Context) {
	s.mu.Lock()
	if !s.stopped {
		s.stopped = true
		close(s.stop)
	}
	ln, tr := s.ln, s.tr
	s.mu.Unlock()
	if ln != nil {
		if err := s.srv.Shutdown(ctx); err != nil {
			_ = s.srv.Close()
		}
		_ = ln.Close()
		_ = tr.Close()
	}
	_ = s.pc.Close()
	<-s.done
}

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
