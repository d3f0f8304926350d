package tlcp

import (
	"golang.org/x/crypto/cryptobyte"
)

// Handshake messages (§6.4.5). Each marshal returns the message with its
// 4-byte header; each parse takes it with the header.

func handshakeMsg(typ uint8, body func(b *cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	b.AddUint8(typ)
	b.AddUint24LengthPrefixed(body)
	return b.BytesOrPanic()
}

// clientHello (§6.4.5.2.1). Extensions are optional; server_name (RFC
// 6066) is the one read and sent here.
type clientHello struct {
	vers         uint16
	random       []byte
	sessionID    []byte
	cipherSuites []uint16
	compression  []uint8
	serverName   string
}

func (m *clientHello) marshal() []byte {
	return handshakeMsg(typeClientHello, func(b *cryptobyte.Builder) {
		b.AddUint16(m.vers)
		b.AddBytes(m.random)
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.sessionID) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, s := range m.cipherSuites {
				b.AddUint16(s)
			}
		})
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.compression) })
		if m.serverName != "" {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint16(0) // server_name
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						b.AddUint8(0) // host_name
						b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(m.serverName)) })
					})
				})
			})
		}
	})
}

func parseClientHello(msg []byte) (*clientHello, bool) {
	s := cryptobyte.String(msg[4:])
	m := &clientHello{}
	var sid, suites, comp cryptobyte.String
	if !s.ReadUint16(&m.vers) || !s.ReadBytes(&m.random, randomLen) ||
		!s.ReadUint8LengthPrefixed(&sid) || len(sid) > maxSessionIDLen ||
		!s.ReadUint16LengthPrefixed(&suites) || len(suites) < 2 || len(suites)%2 != 0 ||
		!s.ReadUint8LengthPrefixed(&comp) || len(comp) < 1 {
		return nil, false
	}
	m.sessionID = append([]byte(nil), sid...)
	m.compression = append([]uint8(nil), comp...)
	for !suites.Empty() {
		var id uint16
		suites.ReadUint16(&id)
		m.cipherSuites = append(m.cipherSuites, id)
	}
	if s.Empty() {
		return m, true
	}
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return nil, false
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return nil, false
		}
		if typ != 0 {
			continue
		}
		var names cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&names) || !data.Empty() {
			return nil, false
		}
		for !names.Empty() {
			var nt uint8
			var name cryptobyte.String
			if !names.ReadUint8(&nt) || !names.ReadUint16LengthPrefixed(&name) {
				return nil, false
			}
			if nt == 0 && m.serverName == "" {
				m.serverName = string(name)
			}
		}
	}
	return m, true
}

// serverHello (§6.4.5.2.2); no extensions are sent.
type serverHello struct {
	vers        uint16
	random      []byte
	sessionID   []byte
	cipherSuite uint16
	compression uint8
}

func (m *serverHello) marshal() []byte {
	return handshakeMsg(typeServerHello, func(b *cryptobyte.Builder) {
		b.AddUint16(m.vers)
		b.AddBytes(m.random)
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.sessionID) })
		b.AddUint16(m.cipherSuite)
		b.AddUint8(m.compression)
	})
}

func parseServerHello(msg []byte) (*serverHello, bool) {
	s := cryptobyte.String(msg[4:])
	m := &serverHello{}
	var sid cryptobyte.String
	if !s.ReadUint16(&m.vers) || !s.ReadBytes(&m.random, randomLen) ||
		!s.ReadUint8LengthPrefixed(&sid) || len(sid) > maxSessionIDLen ||
		!s.ReadUint16(&m.cipherSuite) || !s.ReadUint8(&m.compression) {
		return nil, false
	}
	m.sessionID = append([]byte(nil), sid...)
	if !s.Empty() { // extensions: accepted, none understood
		var exts cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
			return nil, false
		}
	}
	return m, true
}

// certificateMsg (§6.4.5.3): a server sends its signing certificate, then
// its encryption certificate, then CA certificates.
func marshalCertificate(certs [][]byte) []byte {
	return handshakeMsg(typeCertificate, func(b *cryptobyte.Builder) {
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, c := range certs {
				b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(c) })
			}
		})
	})
}

func parseCertificate(msg []byte) ([][]byte, bool) {
	s := cryptobyte.String(msg[4:])
	var list cryptobyte.String
	if !s.ReadUint24LengthPrefixed(&list) || !s.Empty() {
		return nil, false
	}
	var certs [][]byte
	for !list.Empty() {
		var c cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&c) || len(c) == 0 {
			return nil, false
		}
		certs = append(certs, append([]byte(nil), c...))
	}
	return certs, true
}

// opaque16 is a message whose body is one opaque<0..2^16-1>: the ECC
// ServerKeyExchange signature (§6.4.5.4), the ECC ClientKeyExchange
// ciphertext (§6.4.5.7) and CertificateVerify's signature (§6.4.5.8).
func marshalOpaque16(typ uint8, data []byte) []byte {
	return handshakeMsg(typ, func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(data) })
	})
}

func parseOpaque16(msg []byte) ([]byte, bool) {
	s := cryptobyte.String(msg[4:])
	var d cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&d) || !s.Empty() || len(d) == 0 {
		return nil, false
	}
	return d, true
}

// certificateRequest (§6.4.5.5): certificate types and acceptable CA
// names (DER distinguished names).
func marshalCertificateRequest(types []uint8, cas [][]byte) []byte {
	return handshakeMsg(typeCertificateRequest, func(b *cryptobyte.Builder) {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(types) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, ca := range cas {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ca) })
			}
		})
	})
}

func parseCertificateRequest(msg []byte) (types []uint8, cas [][]byte, ok bool) {
	s := cryptobyte.String(msg[4:])
	var t, list cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&t) || len(t) == 0 || !s.ReadUint16LengthPrefixed(&list) || !s.Empty() {
		return nil, nil, false
	}
	for !list.Empty() {
		var dn cryptobyte.String
		if !list.ReadUint16LengthPrefixed(&dn) {
			return nil, nil, false
		}
		cas = append(cas, dn)
	}
	return t, cas, true
}

func marshalEmpty(typ uint8) []byte { return []byte{typ, 0, 0, 0} }

func marshalFinished(verify []byte) []byte {
	return handshakeMsg(typeFinished, func(b *cryptobyte.Builder) { b.AddBytes(verify) })
}
