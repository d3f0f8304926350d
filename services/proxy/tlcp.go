package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	sytls "github.com/switchyard-proxy/switchyard/tls"
	"github.com/switchyard-proxy/switchyard/tls/tlcp"
)

// buildTLCPConfig is the TLCP client side of a serversTransport with
// tlcp.enabled (nil otherwise).
func buildTLCPConfig(cfg *dynamic.ServersTransport) (*tlcp.Config, error) {
	if cfg.TLCP == nil || !cfg.TLCP.Enabled {
		return nil, nil
	}
	tc := &tlcp.Config{
		ServerName:         cfg.ServerName,
		InsecureSkipVerify: cfg.InsecureSkipVerify,
		SessionCache:       tlcp.NewSessionCache(256, 0),
	}
	for _, name := range cfg.TLCP.CipherSuites {
		id, ok := tlcp.CipherSuiteByName(name)
		if !ok {
			return nil, fmt.Errorf("servers transport: tlcp.cipherSuites: unknown TLCP cipher suite %q (known: ECC_SM4_GCM_SM3, ECC_SM4_CBC_SM3)", name)
		}
		tc.CipherSuites = append(tc.CipherSuites, id)
	}
	if cfg.PeerCertURI != "" {
		return nil, errors.New("servers transport: peerCertURI: not supported with tlcp")
	}
	// The TLS version and suite keys have no meaning for TLCP (one version,
	// its own suites): refuse them rather than silently ignore them.
	switch {
	case cfg.MinVersion != "":
		return nil, errors.New("servers transport: minVersion: not supported with tlcp (TLCP has one version; choose suites with tlcp.cipherSuites)")
	case cfg.MaxVersion != "":
		return nil, errors.New("servers transport: maxVersion: not supported with tlcp (TLCP has one version; choose suites with tlcp.cipherSuites)")
	case len(cfg.CipherSuites) > 0:
		return nil, errors.New("servers transport: cipherSuites: not supported with tlcp (use tlcp.cipherSuites)")
	}
	if len(cfg.RootCAs) > 0 {
		pool := smx509.NewCertPool()
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
		if i > 0 {
			return nil, fmt.Errorf("servers transport: certificates[%d]: tlcp takes one client certificate", i)
		}
		if c.IsTLCP() {
			p, err := sytls.LoadTLCP(c)
			if err != nil {
				return nil, fmt.Errorf("servers transport: certificates[%d]: %w", i, err)
			}
			tc.SignCertificate, tc.EncCertificate = p.Sign, p.Enc
			continue
		}
		certPEM, err := readFileOrContent(c.CertFile)
		if err != nil {
			return nil, fmt.Errorf("servers transport: certificates[%d]: certFile: %w", i, err)
		}
		keyPEM, err := readFileOrContent(c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("servers transport: certificates[%d]: keyFile: %w", i, err)
		}
		crt, err := tlcp.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("servers transport: certificates[%d]: %w", i, err)
		}
		tc.SignCertificate = crt
	}
	return tc, nil
}

// dialTLCP dials an https:// backend with TLCP; the server name is the
// transport's serverName or the backend's host.
func (t *Transport) dialTLCP(ctx context.Context, network, addr string) (net.Conn, error) {
	raw, err := t.dialStd(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cfg := *t.tlcp
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	cfg.SessionKey = addr + "|" + cfg.ServerName
	c := tlcp.Client(raw, &cfg)
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(10 * time.Second)
	}
	_ = c.SetDeadline(dl)
	if err := c.Handshake(); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("tlcp handshake with %s: %w", addr, err)
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}
