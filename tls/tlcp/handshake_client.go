package tlcp

import (
	"bytes"
	"crypto/x509"
	"io"
	"net"
	"slices"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// clientHandshake runs the client side of §6.4.3 or §6.4.4 (c.in and
// c.out held).
func (c *Conn) clientHandshake() error {
	cfg := c.config
	if cfg.ServerName == "" && !cfg.InsecureSkipVerify {
		return fail(alertInternalError, "either ServerName or InsecureSkipVerify must be set")
	}
	key := cfg.SessionKey
	if key == "" {
		key = cfg.ServerName
	}
	var sess *session
	if cfg.SessionCache != nil && key != "" {
		sess = cfg.SessionCache.get(key, cfg.time())
	}
	ch := &clientHello{
		vers:         VersionTLCP,
		random:       newRandom(cfg, c.rand()),
		cipherSuites: cfg.suites(),
		compression:  []uint8{0},
	}
	if net.ParseIP(cfg.ServerName) == nil {
		ch.serverName = cfg.ServerName
	}
	if sess != nil {
		ch.sessionID = sess.id
	}
	th := sm3.New()
	m := ch.marshal()
	th.Write(m)
	if err := c.writeRecordLocked(recordHandshake, m); err != nil {
		return err
	}

	msg, err := c.readHandshake()
	if err != nil {
		return err
	}
	if msg[0] != typeServerHello {
		return fail(alertUnexpectedMessage, "handshake message %d instead of ServerHello", msg[0])
	}
	sh, ok := parseServerHello(msg)
	if !ok {
		return fail(alertDecodeError, "malformed ServerHello")
	}
	if sh.vers != VersionTLCP {
		return fail(alertProtocolVersion, "server version %#04x", sh.vers)
	}
	if !slices.Contains(ch.cipherSuites, sh.cipherSuite) || suites[sh.cipherSuite] == nil {
		return fail(alertIllegalParameter, "server chose suite %s, not offered", CipherSuiteName(sh.cipherSuite))
	}
	if sh.compression != 0 {
		return fail(alertIllegalParameter, "server chose compression %d", sh.compression)
	}
	th.Write(msg)
	s := suites[sh.cipherSuite]

	if sess != nil && bytes.Equal(sh.sessionID, sess.id) {
		if sh.cipherSuite != sess.suite {
			return fail(alertIllegalParameter, "resumed session with another suite")
		}
		if err := c.establish(s, sess.master, ch.random, sh.random); err != nil {
			return err
		}
		if err := c.readFinished(sess.master, "server finished", th); err != nil {
			return err
		}
		if err := c.writeFinished(sess.master, "client finished", th); err != nil {
			return err
		}
		c.state.CipherSuite, c.state.DidResume, c.state.PeerCertificates = s.id, true, sess.peer
		c.state.ServerName = cfg.ServerName
		return nil
	}
	if sess != nil {
		cfg.SessionCache.delete(key)
	}

	// Server flight.
	if msg, err = c.readHandshake(); err != nil {
		return err
	}
	if msg[0] != typeCertificate {
		return fail(alertUnexpectedMessage, "handshake message %d instead of Certificate", msg[0])
	}
	raw, ok := parseCertificate(msg)
	if !ok {
		return fail(alertDecodeError, "malformed server Certificate")
	}
	th.Write(msg)
	peer, err := c.verifyServerCerts(raw)
	if err != nil {
		return err
	}
	if msg, err = c.readHandshake(); err != nil {
		return err
	}
	if msg[0] != typeServerKeyExchange {
		return fail(alertUnexpectedMessage, "handshake message %d instead of ServerKeyExchange", msg[0])
	}
	sig, ok := parseOpaque16(msg)
	if !ok {
		return fail(alertDecodeError, "malformed ServerKeyExchange")
	}
	if !verifySM2(peer[0], sig, ch.random, sh.random, u24Prefixed(raw[1])) {
		return fail(alertDecryptError, "ServerKeyExchange signature invalid")
	}
	th.Write(msg)
	if msg, err = c.readHandshake(); err != nil {
		return err
	}
	requested := false
	if msg[0] == typeCertificateRequest {
		if _, _, ok := parseCertificateRequest(msg); !ok {
			return fail(alertDecodeError, "malformed CertificateRequest")
		}
		requested = true
		th.Write(msg)
		if msg, err = c.readHandshake(); err != nil {
			return err
		}
	}
	if msg[0] != typeServerHelloDone || len(msg) != 4 {
		return fail(alertUnexpectedMessage, "handshake message %d instead of ServerHelloDone", msg[0])
	}
	th.Write(msg)

	// Client flight.
	var flight []byte
	add := func(m []byte) {
		th.Write(m)
		flight = append(flight, m...)
	}
	own := cfg.SignCertificate
	if requested {
		if own != nil {
			add(marshalCertificate(own.Certificate))
		} else {
			add(marshalCertificate(nil))
		}
	}
	pre := make([]byte, preMasterLen)
	pre[0], pre[1] = byte(VersionTLCP>>8), byte(VersionTLCP&0xff)
	if _, err := io.ReadFull(c.rand(), pre[2:]); err != nil {
		return err
	}
	// §6.4.5.7: the pre-master secret encrypted with the server's
	// encryption certificate, SM2 ciphertext in the ASN.1 form of
	// GB/T 35276 (C1, C3, C2).
	ct, err := sm2.Encrypt(c.rand(), peer[1].PublicKey.(*ecdsaPublicKey), pre, sm2.ASN1EncrypterOpts)
	if err != nil {
		return &localError{a: alertInternalError, err: err}
	}
	add(marshalOpaque16(typeClientKeyExchange, ct))
	if requested && own != nil {
		sig, err := signSM2(own.PrivateKey, c.rand(), th.Sum(nil))
		if err != nil {
			return &localError{a: alertInternalError, err: err}
		}
		add(marshalOpaque16(typeCertificateVerify, sig))
	}
	if err := c.writeRecordLocked(recordHandshake, flight); err != nil {
		return err
	}
	master := masterSecret(pre, ch.random, sh.random)
	if err := c.establish(s, master, ch.random, sh.random); err != nil {
		return err
	}
	if err := c.writeFinished(master, "client finished", th); err != nil {
		return err
	}
	if err := c.readFinished(master, "server finished", th); err != nil {
		return err
	}
	c.state.CipherSuite, c.state.PeerCertificates, c.state.ServerName = s.id, peer, cfg.ServerName
	if cfg.SessionCache != nil && key != "" && len(sh.sessionID) > 0 {
		cfg.SessionCache.put(key, &session{id: sh.sessionID, master: master, suite: s.id, peer: peer, created: cfg.time()})
	}
	return nil
}

// verifyServerCerts parses [sign, enc, CA...] (§6.4.5.3) and verifies
// both leaves unless InsecureSkipVerify; the signing certificate must
// name ServerName.
func (c *Conn) verifyServerCerts(raw [][]byte) ([]*smx509.Certificate, error) {
	cfg := c.config
	if len(raw) < 2 {
		return nil, fail(alertBadCertificate, "server sent %d certificate(s), TLCP needs a signing and an encryption certificate", len(raw))
	}
	certs := make([]*smx509.Certificate, len(raw))
	for i, b := range raw {
		crt, err := smx509.ParseCertificate(b)
		if err != nil {
			return nil, fail(alertBadCertificate, "server certificate %d: %v", i, err)
		}
		certs[i] = crt
	}
	for i := range 2 {
		if !isSM2(certs[i].PublicKey) {
			return nil, fail(alertUnsupportedCertificate, "server certificate %d key is %T, not SM2", i, certs[i].PublicKey)
		}
	}
	if ku := certs[1].KeyUsage; ku != 0 && ku&(x509.KeyUsageKeyEncipherment|x509.KeyUsageDataEncipherment|x509.KeyUsageKeyAgreement) == 0 {
		return nil, fail(alertBadCertificate, "server encryption certificate's key usage does not allow encipherment")
	}
	if cfg.InsecureSkipVerify {
		return certs, nil
	}
	inter := smx509.NewCertPool()
	for _, ic := range certs[2:] {
		inter.AddCert(ic)
	}
	roots := cfg.RootCAs
	if roots == nil {
		roots = smx509.NewCertPool()
	}
	chains, err := certs[0].Verify(smx509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: cfg.ServerName, CurrentTime: cfg.time()})
	if err != nil {
		return nil, fail(alertBadCertificate, "server signing certificate: %v", err)
	}
	if _, err := certs[1].Verify(smx509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: cfg.time(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fail(alertBadCertificate, "server encryption certificate: %v", err)
	}
	c.state.VerifiedChains = chains
	return certs, nil
}
