// Package tls compiles the dynamic "tls" section into what a listener
// needs at handshake time: certificate stores with an SNI index (exact
// names in a map, wildcards by parent domain), TLS options turned into
// *crypto/tls.Config values, and a per-entrypoint selector that picks the
// options for a server name. Everything is built once per configuration;
// a handshake does map lookups only.
package tls

import (
	"bytes"
	ctls "crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Read returns the PEM content of a FileOrContent: inline PEM as is,
// anything else read as a file path.
func Read(f dynamic.FileOrContent) ([]byte, error) {
	s := string(f)
	if s == "" {
		return nil, errors.New("empty value")
	}
	if strings.Contains(s, "-----BEGIN") {
		return []byte(s), nil
	}
	b, err := os.ReadFile(s)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Load parses a certificate and its key and fills Leaf.
func Load(c dynamic.Certificate) (*ctls.Certificate, error) {
	certPEM, err := Read(c.CertFile)
	if err != nil {
		return nil, fmt.Errorf("certFile: %w", err)
	}
	keyPEM, err := Read(c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("keyFile: %w", err)
	}
	if isSM2PEM(certPEM) {
		return nil, fmt.Errorf("certFile: certificate %s is an SM2 certificate: TLCP needs its encryption pair too (set encCertFile and encKeyFile)", describe(c.CertFile))
	}
	cert, err := ctls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", describe(c.CertFile), err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("certificate %s: %w", describe(c.CertFile), err)
		}
	}
	return &cert, nil
}

// describe names a certificate source in errors without dumping PEM.
func describe(f dynamic.FileOrContent) string {
	if bytes.Contains([]byte(f), []byte("-----BEGIN")) {
		return "(inline PEM)"
	}
	return fmt.Sprintf("%q", string(f))
}

// Names returns the lower-case names a certificate serves: its DNS SANs
// and IP SANs, or its common name when it has no SAN at all.
func Names(leaf *x509.Certificate) []string {
	var out []string
	for _, n := range leaf.DNSNames {
		out = append(out, strings.ToLower(strings.TrimSuffix(n, ".")))
	}
	for _, ip := range leaf.IPAddresses {
		out = append(out, ip.String())
	}
	if len(out) == 0 && leaf.Subject.CommonName != "" {
		out = append(out, strings.ToLower(leaf.Subject.CommonName))
	}
	return out
}

// CertInfo describes a loaded certificate for the API.
type CertInfo struct {
	Names    []string  `json:"names"`
	NotAfter time.Time `json:"notAfter"`
	Stores   []string  `json:"stores"`
	Issuer   string    `json:"issuer,omitempty"`
}
