package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	stls "github.com/switchyard-proxy/switchyard/tls"
	"github.com/switchyard-proxy/switchyard/tls/tlcp"
)

// Go's net/http default when MaxIdleConnsPerHost is zero.
const defaultMaxIdleConnsPerHost = 2

// Transport is the upstream side of one serversTransport: the HTTP/1.1 connection
// pools for plain http:// backends, and the standard library transports used for
// https:// (HTTP/1.1 or HTTP/2 over TLS) and h2c:// backends. It is shared by every
// proxy handler using that serversTransport and is meant to outlive config reloads
// while its configuration hash is unchanged. Creating one starts nothing.
type Transport struct {
	dialer                net.Dialer
	responseHeaderTimeout time.Duration
	idleConnTimeout       time.Duration
	readTimeout           time.Duration // response body read without progress; 0: none
	writeTimeout          time.Duration // request write without progress; 0: none
	maxIdlePerHost        int           // < 0: no keep-alive pooling

	mu     sync.Mutex
	pools  map[string]*hostPool
	closed atomic.Bool

	std  *http.Transport // https://, and http:// when an environment proxy applies
	tlcp *tlcp.Config    // non-nil: https:// is TLCP (serversTransport tlcp)
	h2c  *http.Transport // h2c:// (unencrypted HTTP/2 with prior knowledge only)
}

// NewTransport builds a Transport from a serversTransport configuration. A nil cfg
// means Traefik's defaults.
func NewTransport(cfg *dynamic.ServersTransport) (*Transport, error) {
	if cfg == nil {
		cfg = &dynamic.ServersTransport{}
		cfg.SetDefaults()
	}
	ft := cfg.ForwardingTimeouts
	if ft == nil {
		ft = &dynamic.ForwardingTimeouts{}
		ft.SetDefaults()
	}

	t := &Transport{
		dialer: net.Dialer{
			Timeout:   time.Duration(ft.DialTimeout),
			KeepAlive: 15 * time.Second,
		},
		responseHeaderTimeout: time.Duration(ft.ResponseHeaderTimeout),
		idleConnTimeout:       time.Duration(ft.IdleConnTimeout),
		readTimeout:           time.Duration(ft.ReadTimeout),
		writeTimeout:          time.Duration(ft.WriteTimeout),
		maxIdlePerHost:        cfg.MaxIdleConnsPerHost,
		pools:                 make(map[string]*hostPool),
	}
	if t.maxIdlePerHost == 0 {
		t.maxIdlePerHost = defaultMaxIdleConnsPerHost
	}

	tlsConfig, err := buildTLSConfig(cfg)
	if err != nil {
		return nil, err
	}
	tlcpConfig, err := buildTLCPConfig(cfg)
	if err != nil {
		return nil, err
	}

	t.std = &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           t.dialStd,
		MaxIdleConnsPerHost:   cfg.MaxIdleConnsPerHost,
		IdleConnTimeout:       t.idleConnTimeout,
		ResponseHeaderTimeout: t.responseHeaderTimeout,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ReadBufferSize:        64 << 10,
		WriteBufferSize:       64 << 10,
		TLSClientConfig:       tlsConfig,
	}
	// readIdleTimeout/pingTimeout keep their Traefik (x/net/http2) meaning: a PING is sent
	// after that long without frames (0: never), and the connection is
	// closed when its answer takes longer than pingTimeout.
	h2cfg := &http.HTTP2Config{
		SendPingTimeout: time.Duration(ft.ReadIdleTimeout),
		PingTimeout:     time.Duration(ft.PingTimeout),
	}
	if tlcpConfig != nil {
		// https:// backends speak TLCP: HTTP/1.1 only (no ALPN).
		t.tlcp = tlcpConfig
		t.std.DialTLSContext = t.dialTLCP
		t.std.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	} else if cfg.DisableHTTP2 {
		// A non-nil empty map turns HTTP/2 off.
		t.std.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	} else {
		// Set explicitly: a custom DialContext/TLSClientConfig would
		// otherwise leave HTTP/2 off.
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetHTTP2(true)
		t.std.Protocols = &p
		t.std.HTTP2 = h2cfg
	}

	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	t.h2c = &http.Transport{
		Protocols:       &h2c,
		DialContext:     t.dialStd,
		IdleConnTimeout: t.idleConnTimeout,
		HTTP2:           h2cfg,
	}
	return t, nil
}

// Close closes every idle connection and makes the pools drop connections as they
// come back from in-flight requests. Handlers still referencing t keep working
// (dialing fresh connections) so a late request on an old routing table is served.
func (t *Transport) Close() {
	t.closed.Store(true)
	t.mu.Lock()
	pools := make([]*hostPool, 0, len(t.pools))
	for _, p := range t.pools {
		pools = append(pools, p)
	}
	t.mu.Unlock()
	for _, p := range pools {
		p.closeIdle()
	}
	t.std.CloseIdleConnections()
	t.h2c.CloseIdleConnections()
}

// dialStd dials for the net/http transports: with a writeTimeout, every
// write on the connection (below TLS) must complete within it, so a backend
// that stops reading cannot hold a write forever there either.
func (t *Transport) dialStd(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := t.dialer.DialContext(ctx, network, addr)
	if err != nil || t.writeTimeout <= 0 {
		return c, err
	}
	return &writeBoundConn{Conn: c, timeout: t.writeTimeout}, nil
}

// writeBoundConn gives each Write a deadline of timeout.
type writeBoundConn struct {
	net.Conn
	timeout time.Duration
}

func (c *writeBoundConn) Write(p []byte) (int, error) {
	_ = c.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(p)
}

// CloseWrite keeps half-close working for upgraded connections.
func (c *writeBoundConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// pool returns the connection pool of one backend address, creating it once.
func (t *Transport) pool(addr string) *hostPool {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.pools[addr]
	if p == nil {
		p = &hostPool{t: t, addr: addr}
		t.pools[addr] = p
	}
	return p
}

func buildTLSConfig(cfg *dynamic.ServersTransport) (*tls.Config, error) {
	tc := &tls.Config{
		ServerName:         cfg.ServerName,
		InsecureSkipVerify: cfg.InsecureSkipVerify,
	}
	if cfg.TLCP != nil && cfg.TLCP.Enabled {
		return tc, nil // SM2 CAs and certificates: buildTLCPConfig
	}
	if len(cfg.RootCAs) > 0 {
		pool := x509.NewCertPool()
		for i, ca := range cfg.RootCAs {
			pem, err := readFileOrContent(ca)
			if err != nil {
				return nil, fmt.Errorf("servers transport: rootCAs[%d]: %w", i, err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("servers transport: rootCAs[%d]: no PEM certificate found", i)
			}
		}
		tc.RootCAs = pool
	}
	for i, c := range cfg.Certificates {
		if c.IsTLCP() {
			return nil, fmt.Errorf("servers transport: certificates[%d].encCertFile: an SM2 dual certificate needs tlcp.enabled", i)
		}
		certPEM, err := readFileOrContent(c.CertFile)
		if err != nil {
			return nil, fmt.Errorf("servers transport: certificates[%d]: certFile: %w", i, err)
		}
		keyPEM, err := readFileOrContent(c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("servers transport: certificates[%d]: keyFile: %w", i, err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("servers transport: certificates[%d]: %w", i, err)
		}
		tc.Certificates = append(tc.Certificates, pair)
	}
	if cfg.MinVersion != "" {
		v, ok := stls.Version(cfg.MinVersion)
		if !ok {
			return nil, fmt.Errorf("servers transport: minVersion: unknown TLS version %q (VersionTLS10 to VersionTLS13)", cfg.MinVersion)
		}
		tc.MinVersion = v
	}
	if cfg.MaxVersion != "" {
		v, ok := stls.Version(cfg.MaxVersion)
		if !ok {
			return nil, fmt.Errorf("servers transport: maxVersion: unknown TLS version %q (VersionTLS10 to VersionTLS13)", cfg.MaxVersion)
		}
		tc.MaxVersion = v
	}
	if tc.MaxVersion != 0 && tc.MinVersion > tc.MaxVersion {
		return nil, fmt.Errorf("servers transport: minVersion %s is above maxVersion %s", cfg.MinVersion, cfg.MaxVersion)
	}
	for i, name := range cfg.CipherSuites {
		id, ok := stls.CipherSuite(name)
		if !ok {
			return nil, fmt.Errorf("servers transport: cipherSuites[%d]: unknown cipher suite %q", i, name)
		}
		tc.CipherSuites = append(tc.CipherSuites, id)
	}
	if cfg.PeerCertURI != "" {
		// Verify the chain ourselves (without a host name) and require the URI SAN.
		uri, roots, insecure := cfg.PeerCertURI, tc.RootCAs, cfg.InsecureSkipVerify
		tc.InsecureSkipVerify = true
		tc.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyPeerURI(raw, roots, uri, insecure)
		}
	}
	return tc, nil
}

func verifyPeerURI(raw [][]byte, roots *x509.CertPool, uri string, insecure bool) error {
	if len(raw) == 0 {
		return errors.New("no peer certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, b := range raw {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return fmt.Errorf("parse peer certificate: %w", err)
		}
		certs[i] = c
	}
	if !insecure {
		inter := x509.NewCertPool()
		for _, c := range certs[1:] {
			inter.AddCert(c)
		}
		if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter}); err != nil {
			return err
		}
	}
	if !slices.ContainsFunc(certs[0].URIs, func(u *url.URL) bool { return u.String() == uri }) {
		return fmt.Errorf("peer certificate has no URI SAN %q", uri)
	}
	return nil
}

// readFileOrContent reads a path if it names an existing file, else takes the value as PEM.
func readFileOrContent(f dynamic.FileOrContent) ([]byte, error) {
	s := string(f)
	if s == "" {
		return nil, errors.New("empty value")
	}
	if _, err := os.Stat(s); err == nil {
		return os.ReadFile(s)
	}
	return []byte(s), nil
}

// RoundTripper is the standard round tripper of this transport for a scheme
// (h2c for "h2c", otherwise the http/https transport with this transport's TLS
// settings): health checks use it so they see what the proxy sees.
func (t *Transport) RoundTripper(scheme string) http.RoundTripper {
	if scheme == "h2c" {
		return t.h2c
	}
	return t.std
}
