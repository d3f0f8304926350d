package tls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	ctls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"sync"
	"time"
)

// Store holds certificates indexed by the names they serve.
type Store struct {
	exact map[string]*ctls.Certificate
	// wild is keyed by the parent domain: "*.example.com" → "example.com".
	wild map[string]*ctls.Certificate
	// Default is served when nothing matches (and SNI is not strict).
	Default *ctls.Certificate
	certs   []*ctls.Certificate
	// Dynamic, when set before the store is served, adds certificates
	// that change without a rebuild (ACME) and TLS-ALPN-01 answers.
	Dynamic CertSource
}

// CertSource serves certificates obtained at run time (ACME resolvers).
type CertSource interface {
	// Match returns the certificate for a server name, or nil.
	Match(name string) *ctls.Certificate
	// Challenge returns the TLS-ALPN-01 certificate for name, or nil.
	Challenge(name string) *ctls.Certificate
}

// ACMETLS1 is the ALPN protocol of the TLS-ALPN-01 challenge (RFC 8737).
const ACMETLS1 = "acme-tls/1"

// isChallenge is true for a validation handshake: it offers only acme-tls/1.
func isChallenge(hello *ctls.ClientHelloInfo) bool {
	return len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == ACMETLS1
}

// NewStore returns an empty store whose default is the generated one.
func NewStore() *Store {
	return &Store{
		exact:   map[string]*ctls.Certificate{},
		wild:    map[string]*ctls.Certificate{},
		Default: DefaultCertificate(),
	}
}

// Add indexes cert under every name it serves; the first certificate
// added for a name keeps it.
func (s *Store) Add(cert *ctls.Certificate) {
	s.certs = append(s.certs, cert)
	for _, n := range Names(cert.Leaf) {
		if parent, ok := strings.CutPrefix(n, "*."); ok {
			if _, dup := s.wild[parent]; !dup {
				s.wild[parent] = cert
			}
			continue
		}
		if _, dup := s.exact[n]; !dup {
			s.exact[n] = cert
		}
	}
}

// Len is the number of certificates added.
func (s *Store) Len() int { return len(s.certs) }

// Certificates returns the certificates added, in order.
func (s *Store) Certificates() []*ctls.Certificate { return s.certs }

// Match returns the certificate for a server name, or nil: an exact name
// first, then a wildcard one label up. name may carry upper case and a
// trailing dot; the common lower-case name costs no allocation.
func (s *Store) Match(name string) *ctls.Certificate {
	name = normalize(name)
	if name == "" {
		return nil
	}
	if c, ok := s.exact[name]; ok {
		return c
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		if c, ok := s.wild[name[i+1:]]; ok {
			return c
		}
	}
	return nil
}

// normalize lower-cases and drops one trailing dot, allocating only when
// the name has upper-case letters.
func normalize(name string) string {
	name = strings.TrimSuffix(name, ".")
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(name)
		}
	}
	return name
}

var (
	defaultOnce sync.Once
	defaultCert *ctls.Certificate
)

// DefaultCommonName is the subject of the generated default certificate.
const DefaultCommonName = "SWITCHYARD DEFAULT CERT"

// DefaultCertificate is a self-signed ECDSA P-256 certificate generated
// once per process and served when no certificate matches.
func DefaultCertificate() *ctls.Certificate {
	defaultOnce.Do(func() {
		c, err := generate(DefaultCommonName)
		if err != nil {
			// Key generation from crypto/rand does not fail on Linux;
			// leave nil and let handshakes fail with a clear error.
			return
		}
		defaultCert = c
	})
	return defaultCert
}

func generate(cn string) (*ctls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		DNSNames:              []string{strings.ToLower(strings.ReplaceAll(cn, " ", "-")) + ".invalid"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &ctls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
