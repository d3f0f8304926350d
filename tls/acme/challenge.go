package acme

import (
	"strings"

	"github.com/go-acme/lego/v4/challenge/tlsalpn01"
)

// httpProvider publishes HTTP-01 key authorizations to HTTPHandler.
type httpProvider struct{ m *Manager }

func (p httpProvider) Present(_, token, keyAuth string) error {
	p.m.httpTokens.Store(token, keyAuth)
	return nil
}

func (p httpProvider) CleanUp(_, token, _ string) error {
	p.m.httpTokens.Delete(token)
	return nil
}

// alpnProvider publishes TLS-ALPN-01 certificates to the handshake path
// (sytls.Store.Dynamic.Challenge).
type alpnProvider struct{ m *Manager }

func (p alpnProvider) Present(domain, _, keyAuth string) error {
	c, err := tlsalpn01.ChallengeCert(domain, keyAuth)
	if err != nil {
		return err
	}
	p.m.alpnCerts.Store(strings.ToLower(domain), c)
	return nil
}

func (p alpnProvider) CleanUp(domain, _, _ string) error {
	p.m.alpnCerts.Delete(strings.ToLower(domain))
	return nil
}
