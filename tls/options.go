package tls

import (
	ctls "crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// DefaultALPN is offered when an option set does not list protocols.
var DefaultALPN = []string{"h2", "http/1.1", "acme-tls/1"}

var versions = map[string]uint16{
	"VersionTLS10": ctls.VersionTLS10,
	"VersionTLS11": ctls.VersionTLS11,
	"VersionTLS12": ctls.VersionTLS12,
	"VersionTLS13": ctls.VersionTLS13,
}

var curves = map[string]ctls.CurveID{
	"CurveP256":      ctls.CurveP256,
	"CurveP384":      ctls.CurveP384,
	"CurveP521":      ctls.CurveP521,
	"X25519":         ctls.X25519,
	"X25519MLKEM768": ctls.X25519MLKEM768,
	"secp256r1":      ctls.CurveP256,
	"secp384r1":      ctls.CurveP384,
	"secp521r1":      ctls.CurveP521,
}

var clientAuthTypes = map[string]ctls.ClientAuthType{
	"":                           ctls.NoClientCert,
	"NoClientCert":               ctls.NoClientCert,
	"RequestClientCert":          ctls.RequestClientCert,
	"RequireAnyClientCert":       ctls.RequireAnyClientCert,
	"VerifyClientCertIfGiven":    ctls.VerifyClientCertIfGiven,
	"RequireAndVerifyClientCert": ctls.RequireAndVerifyClientCert,
}

// Version resolves a TLS version name of the configuration
// ("VersionTLS12").
func Version(name string) (uint16, bool) {
	v, ok := versions[name]
	return v, ok
}

// CipherSuite resolves a cipher suite name of the configuration (Go's and
// IANA's: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256").
func CipherSuite(name string) (uint16, bool) { return cipherSuite(name) }

// cipherSuite resolves a Go/IANA cipher suite name.
func cipherSuite(name string) (uint16, bool) {
	for _, s := range ctls.CipherSuites() {
		if s.Name == name {
			return s.ID, true
		}
	}
	for _, s := range ctls.InsecureCipherSuites() {
		if s.Name == name {
			return s.ID, true
		}
	}
	return 0, false
}

// BuildOptions turns one option set into a server config whose
// certificates come from store. The result is shared by every handshake
// and never modified.
func BuildOptions(o dynamic.TLSOptions, store *Store) (*ctls.Config, error) {
	cfg := &ctls.Config{MinVersion: ctls.VersionTLS12}
	var errs []error
	if o.MinVersion != "" {
		v, ok := versions[o.MinVersion]
		if !ok {
			errs = append(errs, fmt.Errorf("minVersion: unknown TLS version %q", o.MinVersion))
		}
		cfg.MinVersion = v
	}
	if o.MaxVersion != "" {
		v, ok := versions[o.MaxVersion]
		if !ok {
			errs = append(errs, fmt.Errorf("maxVersion: unknown TLS version %q", o.MaxVersion))
		}
		cfg.MaxVersion = v
	}
	if cfg.MaxVersion != 0 && cfg.MinVersion > cfg.MaxVersion {
		errs = append(errs, fmt.Errorf("minVersion %s is above maxVersion %s", o.MinVersion, o.MaxVersion))
	}
	for _, name := range o.CipherSuites {
		id, ok := cipherSuite(name)
		if !ok {
			errs = append(errs, fmt.Errorf("cipherSuites: unknown cipher suite %q", name))
			continue
		}
		cfg.CipherSuites = append(cfg.CipherSuites, id)
	}
	for _, name := range o.CurvePreferences {
		id, ok := curves[name]
		if !ok {
			errs = append(errs, fmt.Errorf("curvePreferences: unknown curve %q", name))
			continue
		}
		cfg.CurvePreferences = append(cfg.CurvePreferences, id)
	}
	cfg.NextProtos = DefaultALPN
	if len(o.ALPNProtocols) > 0 {
		cfg.NextProtos = o.ALPNProtocols
	}
	cfg.SessionTicketsDisabled = o.DisableSessionTickets

	ca := o.ClientAuth
	t, ok := clientAuthTypes[ca.ClientAuthType]
	if !ok {
		errs = append(errs, fmt.Errorf("clientAuth.clientAuthType: unknown type %q", ca.ClientAuthType))
	}
	cfg.ClientAuth = t
	if len(ca.CAFiles) > 0 {
		pool := x509.NewCertPool()
		for _, f := range ca.CAFiles {
			pem, err := Read(f)
			if err != nil {
				errs = append(errs, fmt.Errorf("clientAuth.caFiles: %w", err))
				continue
			}
			if !pool.AppendCertsFromPEM(pem) {
				errs = append(errs, fmt.Errorf("clientAuth.caFiles: no certificate found in %s", describe(f)))
			}
		}
		cfg.ClientCAs = pool
	} else if t == ctls.VerifyClientCertIfGiven || t == ctls.RequireAndVerifyClientCert {
		errs = append(errs, fmt.Errorf("clientAuth: %s needs caFiles", ca.ClientAuthType))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	strict := o.SniStrict
	cfg.GetCertificate = func(hello *ctls.ClientHelloInfo) (*ctls.Certificate, error) {
		dyn := store.Dynamic
		if dyn != nil && isChallenge(hello) {
			if c := dyn.Challenge(hello.ServerName); c != nil {
				return c, nil
			}
		}
		if c := store.Match(hello.ServerName); c != nil {
			return c, nil
		}
		if dyn != nil {
			if c := dyn.Match(hello.ServerName); c != nil {
				return c, nil
			}
		}
		if strict {
			return nil, fmt.Errorf("strict SNI enabled: no certificate for %q", hello.ServerName)
		}
		if store.Default == nil {
			return nil, errors.New("no default certificate")
		}
		return store.Default, nil
	}
	return cfg, nil
}

// WithALPN returns cfg offering only protos (used for TCP routers, which
// must not offer h2 to a client talking to a raw TCP backend).
func WithALPN(cfg *ctls.Config, protos []string) *ctls.Config {
	c := cfg.Clone()
	c.NextProtos = protos
	return c
}
