package tlcp

import (
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"hash"
	"io"
	"slices"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// serverHandshake runs the server side of §6.4.3 (full) or §6.4.4
// (resumed); c.in and c.out are held.
func (c *Conn) serverHandshake() error {
	cfg := c.config
	msg, err := c.readHandshake()
	if err != nil {
		return err
	}
	if msg[0] != typeClientHello {
		return fail(alertUnexpectedMessage, "handshake message %d instead of ClientHello", msg[0])
	}
	ch, ok := parseClientHello(msg)
	if !ok {
		return fail(alertDecodeError, "malformed ClientHello")
	}
	if ch.vers != VersionTLCP {
		return fail(alertProtocolVersion, "client version %#04x", ch.vers)
	}
	if !slices.Contains(ch.compression, 0) {
		return fail(alertHandshakeFailure, "client offers no null compression")
	}
	s := pickSuite(cfg.suites(), ch.cipherSuites)
	if s == nil {
		return fail(alertHandshakeFailure, "no cipher suite in common (client offers %s)", suiteList(ch.cipherSuites))
	}
	c.state.ServerName = ch.serverName
	th := sm3.New()
	th.Write(msg)
	hello := &serverHello{vers: VersionTLCP, random: newRandom(cfg, c.rand())}

	if cache := cfg.SessionCache; cache != nil && len(ch.sessionID) > 0 {
		if sess := cache.get(string(ch.sessionID), cfg.time()); sess != nil && c.canResume(sess, ch) {
			return c.serverResume(sess, ch, hello, th)
		}
	}

	sign, enc := cfg.SignCertificate, cfg.EncCertificate
	if cfg.GetCertificates != nil {
		if sign, enc, err = cfg.GetCertificates(&ClientHelloInfo{ServerName: ch.serverName, CipherSuites: ch.cipherSuites}); err != nil {
			return &localError{a: alertHandshakeFailure, err: err}
		}
	}
	if sign == nil || enc == nil || len(sign.Certificate) == 0 || len(enc.Certificate) == 0 {
		return fail(alertHandshakeFailure, "no SM2 signing and encryption certificate pair for %q", ch.serverName)
	}
	if cfg.SessionCache != nil {
		hello.sessionID = make([]byte, 32)
		if _, err := io.ReadFull(c.rand(), hello.sessionID); err != nil {
			return err
		}
	}
	hello.cipherSuite = s.id

	// Server flight: ServerHello, Certificate (sign, enc, CA chain),
	// ServerKeyExchange, CertificateRequest, ServerHelloDone, in one write.
	var flight []byte
	add := func(m []byte) {
		th.Write(m)
		flight = append(flight, m...)
	}
	add(hello.marshal())
	certs := append([][]byte{sign.Certificate[0], enc.Certificate[0]}, sign.Certificate[1:]...)
	add(marshalCertificate(certs))
	// §6.4.5.4: the signature covers both randoms and the encryption
	// certificate (with its 3-byte length), binding it to the signer.
	sig, err := signSM2(sign.PrivateKey, c.rand(), ch.random, hello.random, u24Prefixed(enc.Certificate[0]))
	if err != nil {
		return &localError{a: alertInternalError, err: err}
	}
	add(marshalOpaque16(typeServerKeyExchange, sig))
	if cfg.ClientAuth >= tls.RequestClientCert {
		var cas [][]byte
		if cfg.ClientCAs != nil {
			cas = cfg.ClientCAs.Subjects() //nolint:staticcheck // DER names for the request, no system pool here
		}
		add(marshalCertificateRequest([]uint8{certTypeECDSASign}, cas))
	}
	add(marshalEmpty(typeServerHelloDone))
	if err := c.writeRecordLocked(recordHandshake, flight); err != nil {
		return err
	}

	// Client flight: [Certificate], ClientKeyExchange, [CertificateVerify].
	var peer []*smx509.Certificate
	if cfg.ClientAuth >= tls.RequestClientCert {
		if msg, err = c.readHandshake(); err != nil {
			return err
		}
		if msg[0] != typeCertificate {
			return fail(alertUnexpectedMessage, "handshake message %d instead of Certificate", msg[0])
		}
		raw, ok := parseCertificate(msg)
		if !ok {
			return fail(alertDecodeError, "malformed client Certificate")
		}
		th.Write(msg)
		if peer, err = c.verifyClientCerts(raw); err != nil {
			return err
		}
	}
	if msg, err = c.readHandshake(); err != nil {
		return err
	}
	if msg[0] != typeClientKeyExchange {
		return fail(alertUnexpectedMessage, "handshake message %d instead of ClientKeyExchange", msg[0])
	}
	ct, ok := parseOpaque16(msg)
	if !ok {
		return fail(alertDecodeError, "malformed ClientKeyExchange")
	}
	th.Write(msg)
	pre, err := decryptSM2(enc.PrivateKey, c.rand(), ct)
	if err != nil || len(pre) != preMasterLen {
		// A bad ciphertext gets a random secret: the handshake then fails
		// at Finished, the same way as any other mismatch.
		pre = make([]byte, preMasterLen)
		if _, err := io.ReadFull(c.rand(), pre); err != nil {
			return err
		}
	}
	if len(peer) > 0 {
		if msg, err = c.readHandshake(); err != nil {
			return err
		}
		if msg[0] != typeCertificateVerify {
			return fail(alertUnexpectedMessage, "handshake message %d instead of CertificateVerify", msg[0])
		}
		sig, ok := parseOpaque16(msg)
		if !ok {
			return fail(alertDecodeError, "malformed CertificateVerify")
		}
		// §6.4.5.8: an SM2 signature over SM3 of the messages so far.
		if !verifySM2(peer[0], sig, th.Sum(nil)) {
			return fail(alertDecryptError, "client CertificateVerify signature invalid")
		}
		th.Write(msg)
	}

	master := masterSecret(pre, ch.random, hello.random)
	if err := c.establish(s, master, ch.random, hello.random); err != nil {
		return err
	}
	if err := c.readFinished(master, "client finished", th); err != nil {
		return err
	}
	if err := c.writeFinished(master, "server finished", th); err != nil {
		return err
	}
	c.state.CipherSuite = s.id
	c.state.PeerCertificates = peer
	if cfg.SessionCache != nil {
		cfg.SessionCache.put(string(hello.sessionID), &session{id: hello.sessionID, master: master, suite: s.id, peer: peer, created: cfg.time()})
	}
	return nil
}

// canResume: the client still offers the session's suite, we still allow
// it, and the session meets today's client-auth requirement.
func (c *Conn) canResume(sess *session, ch *clientHello) bool {
	if !slices.Contains(ch.cipherSuites, sess.suite) || !slices.Contains(c.config.suites(), sess.suite) {
		return false
	}
	if c.config.ClientAuth >= tls.RequireAnyClientCert && len(sess.peer) == 0 {
		return false
	}
	return true
}

// serverResume: §6.4.4, ServerHello with the client's session ID, then
// ChangeCipherSpec and Finished first from the server.
func (c *Conn) serverResume(sess *session, ch *clientHello, hello *serverHello, th hash.Hash) error {
	hello.sessionID = ch.sessionID
	hello.cipherSuite = sess.suite
	m := hello.marshal()
	th.Write(m)
	if err := c.writeRecordLocked(recordHandshake, m); err != nil {
		return err
	}
	if err := c.establish(suites[sess.suite], sess.master, ch.random, hello.random); err != nil {
		return err
	}
	if err := c.writeFinished(sess.master, "server finished", th); err != nil {
		return err
	}
	if err := c.readFinished(sess.master, "client finished", th); err != nil {
		return err
	}
	c.state.CipherSuite = sess.suite
	c.state.DidResume = true
	c.state.PeerCertificates = sess.peer
	return nil
}

// verifyClientCerts checks the client's chain as cfg.ClientAuth asks.
func (c *Conn) verifyClientCerts(raw [][]byte) ([]*smx509.Certificate, error) {
	cfg := c.config
	if len(raw) == 0 {
		if cfg.ClientAuth >= tls.RequireAnyClientCert && cfg.ClientAuth != tls.VerifyClientCertIfGiven {
			return nil, fail(alertBadCertificate, "client sent no certificate and one is required")
		}
		return nil, nil
	}
	certs := make([]*smx509.Certificate, len(raw))
	for i, b := range raw {
		crt, err := smx509.ParseCertificate(b)
		if err != nil {
			return nil, fail(alertBadCertificate, "client certificate: %v", err)
		}
		certs[i] = crt
	}
	if !isSM2(certs[0].PublicKey) {
		return nil, fail(alertUnsupportedCertificate, "client certificate key is %T, not SM2", certs[0].PublicKey)
	}
	if cfg.ClientAuth >= tls.VerifyClientCertIfGiven && cfg.ClientAuth != tls.RequireAnyClientCert {
		opts := smx509.VerifyOptions{
			Roots:         cfg.ClientCAs,
			CurrentTime:   cfg.time(),
			Intermediates: smx509.NewCertPool(),
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		if opts.Roots == nil {
			opts.Roots = smx509.NewCertPool()
		}
		for _, ic := range certs[1:] {
			opts.Intermediates.AddCert(ic)
		}
		chains, err := certs[0].Verify(opts)
		if err != nil {
			return nil, fail(alertBadCertificate, "client certificate: %v", err)
		}
		c.state.VerifiedChains = chains
	}
	return certs, nil
}

// establish prepares both directions' ciphers; they take effect at the
// ChangeCipherSpec each way.
func (c *Conn) establish(s *suite, master, clientRandom, serverRandom []byte) error {
	cMAC, sMAC, cKey, sKey, cIV, sIV := keyBlock(s, master, clientRandom, serverRandom)
	cc, err := newRecordCipher(s, cMAC, cKey, cIV)
	if err != nil {
		return err
	}
	sc, err := newRecordCipher(s, sMAC, sKey, sIV)
	if err != nil {
		return err
	}
	if c.isClient {
		c.out.next, c.in.next = cc, sc
	} else {
		c.out.next, c.in.next = sc, cc
	}
	return nil
}

// writeFinished sends ChangeCipherSpec and Finished (§6.4.5.10).
func (c *Conn) writeFinished(master []byte, label string, th hash.Hash) error {
	if err := c.writeRecordLocked(recordChangeCipherSpec, []byte{1}); err != nil {
		return err
	}
	m := marshalFinished(finished(master, label, th.Sum(nil)))
	th.Write(m)
	return c.writeRecordLocked(recordHandshake, m)
}

// readFinished reads the peer's ChangeCipherSpec and Finished and checks
// it against the transcript.
func (c *Conn) readFinished(master []byte, label string, th hash.Hash) error {
	if err := c.readChangeCipherSpec(); err != nil {
		return err
	}
	want := finished(master, label, th.Sum(nil))
	msg, err := c.readHandshake()
	if err != nil {
		return err
	}
	if msg[0] != typeFinished {
		return fail(alertUnexpectedMessage, "handshake message %d instead of Finished", msg[0])
	}
	if len(msg) != 4+finishedLen || subtle.ConstantTimeCompare(msg[4:], want) != 1 {
		return fail(alertDecryptError, "peer's Finished does not match")
	}
	th.Write(msg)
	return nil
}

func pickSuite(ours, theirs []uint16) *suite {
	for _, id := range ours {
		if slices.Contains(theirs, id) {
			if s := suites[id]; s != nil {
				return s
			}
		}
	}
	return nil
}

func suiteList(ids []uint16) string {
	out := make([]byte, 0, 8*len(ids))
	for i, id := range ids {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, CipherSuiteName(id)...)
	}
	return string(out)
}
