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

	"github.com/quic-go/quic-go/http3"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	sytls "github.com/switchyard-proxy/switchyard/tls"
)

// http3Server serves HTTP/3 on the UDP port of a TCP entrypoint with the
// same TLS selection and routing table as the TCP side.
type http3Server struct {
	srv  *http3.Server
	pc   net.PacketConn
	done chan struct{}
}

// startHTTP3 listens on UDP at the TCP listener's address (same port, so
// ":0" in tests works too) and serves h with the current TLS configs.
func (ep *HTTPEntryPoint) startHTTP3(ctx context.Context, h http.Handler) error {
	tcpAddr := ep.ln.Addr().(*net.TCPAddr)
	lc := net.ListenConfig{}
	if ep.Config.ReusePort {
		lc.Control = reusePort
	}
	pc, err := lc.ListenPacket(ctx, "udp", tcpAddr.String())
	if err != nil {
		return fmt.Errorf("entrypoint %q: http3: listen on udp %s: %w", ep.Name, tcpAddr, err)
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
	s := &http3Server{
		srv: &http3.Server{
			Handler:        h,
			TLSConfig:      http3.ConfigureTLSConfig(tlsConf),
			MaxHeaderBytes: ep.Config.HTTP.MaxHeaderBytes,
			IdleTimeout:    ep.server.IdleTimeout,
			Logger:         slog.Default(),
		},
		pc:   pc,
		done: make(chan struct{}),
	}
	ep.h3 = s
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(pc); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Debug("http3 stopped", "entrypoint", ep.Name, "error", err)
		}
	}()
	slog.Info("http3 started", "entrypoint", ep.Name, "address", pc.LocalAddr().String())
	return nil
}

// shutdown lets in-flight HTTP/3 requests finish until ctx ends.
func (s *http3Server) shutdown(ctx context.Context) {
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
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
