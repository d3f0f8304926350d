package tcpsvc

import (
	ctls "crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"slices"
)

// RequirePeerURI makes cfg accept a backend only when its certificate has
// the URI SAN uri (tcp.serversTransports.<n>.tls.peerCertURI): the chain is
// verified against cfg.RootCAs (the system roots when nil) without a host
// name, unless cfg.InsecureSkipVerify, and the URI is required either way.
// cfg's own host name check is turned off; its ServerName is still sent as SNI.
func RequirePeerURI(cfg *ctls.Config, uri string) {
	roots, insecure := cfg.RootCAs, cfg.InsecureSkipVerify
	cfg.InsecureSkipVerify = true
	cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		return verifyPeerURI(raw, roots, uri, insecure)
	}
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
