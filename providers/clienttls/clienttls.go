// Package clienttls builds the client TLS configuration of providers that
// talk to a server (KV stores, the HTTP provider) from Traefik's
// tls {ca, cert, key, insecureSkipVerify} options.
package clienttls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/switchyard-proxy/switchyard/config/static"
)

// Config returns nil for nil options. Files are read now, so that a typo
// fails at startup rather than at the first connection.
func Config(c *static.ClientTLS) (*tls.Config, error) {
	if c == nil {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // the user's explicit choice
	if c.CA != "" {
		pem, err := os.ReadFile(c.CA)
		if err != nil {
			return nil, fmt.Errorf("tls.ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca: %s: no PEM certificate", c.CA)
		}
		conf.RootCAs = pool
	}
	if (c.Cert == "") != (c.Key == "") {
		return nil, errors.New("tls: cert and key must be given together")
	}
	if c.Cert != "" {
		pair, err := tls.LoadX509KeyPair(c.Cert, c.Key)
		if err != nil {
			return nil, fmt.Errorf("tls.cert/tls.key: %w", err)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	return conf, nil
}
