package tls

import (
	"crypto/ecdsa"
	ctls "crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/tls/tlcp"
)

// TLCPPair is an SM2 dual certificate: signing and encryption.
type TLCPPair struct {
	Sign, Enc *tlcp.Certificate
}

// TLCPStore indexes SM2 dual certificates by the names of their signing
// certificate, as Store does for ordinary ones.
type TLCPStore struct {
	exact   map[string]*TLCPPair
	wild    map[string]*TLCPPair
	Default *TLCPPair
	n       int
}

func newTLCPStore() *TLCPStore {
	return &TLCPStore{exact: map[string]*TLCPPair{}, wild: map[string]*TLCPPair{}}
}

// Len is the number of pairs added (the default not counted twice).
func (s *TLCPStore) Len() int { return s.n }

// Add indexes p; the first pair for a name keeps it.
func (s *TLCPStore) Add(p *TLCPPair) {
	s.n++
	for _, n := range Names(p.Sign.Leaf.ToX509()) {
		if parent, ok := strings.CutPrefix(n, "*."); ok {
			if _, dup := s.wild[parent]; !dup {
				s.wild[parent] = p
			}
			continue
		}
		if _, dup := s.exact[n]; !dup {
			s.exact[n] = p
		}
	}
}

// Match returns the pair for a server name, or nil.
func (s *TLCPStore) Match(name string) *TLCPPair {
	name = normalize(name)
	if p, ok := s.exact[name]; ok {
		return p
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		if p, ok := s.wild[name[i+1:]]; ok {
			return p
		}
	}
	return nil
}

// LoadTLCP loads an SM2 dual certificate: certFile/keyFile sign,
// encCertFile/encKeyFile encrypt. Errors name the key at fault.
func LoadTLCP(c dynamic.Certificate) (*TLCPPair, error) {
	for _, f := range []struct {
		key string
		v   dynamic.FileOrContent
	}{{"certFile", c.CertFile}, {"keyFile", c.KeyFile}, {"encCertFile", c.EncCertFile}, {"encKeyFile", c.EncKeyFile}} {
		if f.v == "" {
			return nil, fmt.Errorf("%s: missing (an SM2 dual certificate needs certFile, keyFile, encCertFile and encKeyFile)", f.key)
		}
	}
	sign, err := loadSM2(c.CertFile, c.KeyFile, "certFile", "keyFile", tlcp.PurposeSign)
	if err != nil {
		return nil, err
	}
	enc, err := loadSM2(c.EncCertFile, c.EncKeyFile, "encCertFile", "encKeyFile", tlcp.PurposeEnc)
	if err != nil {
		return nil, err
	}
	return &TLCPPair{Sign: sign, Enc: enc}, nil
}

func loadSM2(certF, keyF dynamic.FileOrContent, certKey, keyKey string, p tlcp.Purpose) (*tlcp.Certificate, error) {
	certPEM, err := Read(certF)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certKey, err)
	}
	keyPEM, err := Read(keyF)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyKey, err)
	}
	if !isSM2PEM(certPEM) {
		return nil, fmt.Errorf("%s: certificate %s is not an SM2 certificate (the %s slot of a TLCP pair needs SM2)", certKey, describe(certF), p)
	}
	crt, err := tlcp.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s/%s %s: %w", certKey, keyKey, describe(certF), err)
	}
	if err := crt.CheckPurpose(p); err != nil {
		return nil, fmt.Errorf("%s: %w", certKey, err)
	}
	if time.Now().After(crt.Leaf.NotAfter) {
		return nil, fmt.Errorf("%s: certificate %s expired on %s", certKey, describe(certF), crt.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return crt, nil
}

// isSM2PEM: the first certificate of a PEM bundle has an SM2 key.
func isSM2PEM(certPEM []byte) bool {
	for rest := certPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return false
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := smx509.ParseCertificate(b.Bytes)
		if err != nil {
			return false
		}
		k, ok := c.PublicKey.(*ecdsa.PublicKey)
		return ok && k.Curve == sm2.P256()
	}
}

var tlcpClientAuth = clientAuthTypes

// buildTLCP compiles an option set's tlcp section (nil when disabled).
func buildTLCP(o dynamic.TLSOptions, store *TLCPStore) (*tlcp.Config, error) {
	t := o.TLCP
	if t == nil || !t.Enabled {
		return nil, nil
	}
	cfg := &tlcp.Config{SessionCache: tlcp.NewSessionCache(0, 0)}
	var errs []error
	for _, name := range t.CipherSuites {
		id, ok := tlcp.CipherSuiteByName(name)
		if !ok {
			errs = append(errs, fmt.Errorf("tlcp.cipherSuites: unknown TLCP cipher suite %q (known: ECC_SM4_GCM_SM3, ECC_SM4_CBC_SM3)", name))
			continue
		}
		cfg.CipherSuites = append(cfg.CipherSuites, id)
	}
	ca := o.ClientAuth
	key := "clientAuth"
	if t.ClientAuth != nil {
		ca, key = *t.ClientAuth, "tlcp.clientAuth"
	}
	typ, ok := tlcpClientAuth[ca.ClientAuthType]
	if !ok {
		errs = append(errs, fmt.Errorf("%s.clientAuthType: unknown type %q", key, ca.ClientAuthType))
	}
	cfg.ClientAuth = typ
	if len(ca.CAFiles) > 0 {
		pool := smx509.NewCertPool()
		for _, f := range ca.CAFiles {
			b, err := Read(f)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.caFiles: %w", key, err))
				continue
			}
			if !pool.AppendCertsFromPEM(b) {
				errs = append(errs, fmt.Errorf("%s.caFiles: no certificate found in %s", key, describe(f)))
			}
		}
		cfg.ClientCAs = pool
	} else if typ == ctls.VerifyClientCertIfGiven || typ == ctls.RequireAndVerifyClientCert {
		errs = append(errs, fmt.Errorf("%s: %s needs caFiles", key, ca.ClientAuthType))
	}
	if store.Len() == 0 && store.Default == nil {
		errs = append(errs, errors.New("tlcp: enabled, but no certificate in tls.certificates or the default store has an SM2 encryption pair (encCertFile/encKeyFile)"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	strict := o.SniStrict
	cfg.GetCertificates = func(h *tlcp.ClientHelloInfo) (*tlcp.Certificate, *tlcp.Certificate, error) {
		p := store.Match(h.ServerName)
		if p == nil {
			if strict {
				return nil, nil, fmt.Errorf("strict SNI enabled: no SM2 certificate for %q", h.ServerName)
			}
			p = store.Default
		}
		if p == nil {
			return nil, nil, fmt.Errorf("no SM2 dual certificate for %q and no default one", h.ServerName)
		}
		return p.Sign, p.Enc, nil
	}
	return cfg, nil
}
