// Package tlcp implements TLCP, the Transport Layer Cryptography Protocol
// of GB/T 38636-2020 (formerly GM/T 0024-2014, "国密 SSL"): a TLS 1.1-like
// record and handshake protocol on SM2 (signatures, key transport), SM3
// (hash, HMAC, PRF) and SM4 (CBC, GCM), with a server holding two SM2
// certificates, one to sign and one to encrypt.
//
// Section numbers in comments refer to GB/T 38636-2020. Implemented: the
// ECC key exchange (§6.4.5.2, suites ECC_SM4_CBC_SM3 0xE013 and
// ECC_SM4_GCM_SM3 0xE053), session-ID resumption (§6.4.4), client
// authentication with an SM2 certificate (§6.4.5.5, §6.4.5.8), server and
// client. Not implemented: ECDHE (SM2 key agreement), IBC, IBSDH, RSA and
// SM1 suites.
package tlcp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// VersionTLCP is the protocol version of GB/T 38636 (§6.3.2: major 1,
// minor 1), in the record header and the hello messages.
const VersionTLCP uint16 = 0x0101

// Cipher suites (§6.4.5.2.1, Table 2).
const (
	ECC_SM4_CBC_SM3 uint16 = 0xE013 //nolint:revive // the standard's names
	ECC_SM4_GCM_SM3 uint16 = 0xE053 //nolint:revive
)

// CipherSuiteName names a suite as the standard does.
func CipherSuiteName(id uint16) string {
	switch id {
	case ECC_SM4_CBC_SM3:
		return "ECC_SM4_CBC_SM3"
	case ECC_SM4_GCM_SM3:
		return "ECC_SM4_GCM_SM3"
	}
	return fmt.Sprintf("0x%04X", id)
}

// CipherSuiteByName is the inverse of CipherSuiteName for the suites
// implemented here (the TLS-style ECC_SM2_WITH_SM4_SM3 alias included).
func CipherSuiteByName(name string) (uint16, bool) {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "ECC_SM4_CBC_SM3", "ECC_SM2_WITH_SM4_SM3", "ECC_SM4_SM3":
		return ECC_SM4_CBC_SM3, true
	case "ECC_SM4_GCM_SM3":
		return ECC_SM4_GCM_SM3, true
	}
	return 0, false
}

// DefaultCipherSuites in server preference order: GCM first.
var DefaultCipherSuites = []uint16{ECC_SM4_GCM_SM3, ECC_SM4_CBC_SM3}

// Record content types (§6.3.3.1).
const (
	recordChangeCipherSpec uint8 = 20
	recordAlert            uint8 = 21
	recordHandshake        uint8 = 22
	recordApplicationData  uint8 = 23
)

// Handshake message types (§6.4.5.1).
const (
	typeClientHello        uint8 = 1
	typeServerHello        uint8 = 2
	typeCertificate        uint8 = 11
	typeServerKeyExchange  uint8 = 12
	typeCertificateRequest uint8 = 13
	typeServerHelloDone    uint8 = 14
	typeCertificateVerify  uint8 = 15
	typeClientKeyExchange  uint8 = 16
	typeFinished           uint8 = 20
)

// Certificate types of a CertificateRequest (§6.4.5.5).
const (
	certTypeRSASign   uint8 = 1
	certTypeECDSASign uint8 = 64
	certTypeIBC       uint8 = 80
)

const (
	maxPlaintext     = 1 << 14 // §6.3.3.1
	maxCiphertext    = maxPlaintext + 2048
	maxHandshakeSize = 64 << 10 // our bound for one handshake message
	recordHeaderLen  = 5
	masterSecretLen  = 48
	finishedLen      = 12 // §6.4.5.10
	preMasterLen     = 48 // §6.4.5.7: version(2) + random(46)
	randomLen        = 32
	maxSessionIDLen  = 32
)

// Certificate is one SM2 certificate chain (leaf first) and its key.
type Certificate struct {
	Certificate [][]byte // DER, leaf first
	PrivateKey  any      // *sm2.PrivateKey or another crypto.Signer/Decrypter on SM2
	Leaf        *smx509.Certificate
}

// ClientHelloInfo is what a server learns from a ClientHello before it
// picks its certificates.
type ClientHelloInfo struct {
	ServerName   string
	CipherSuites []uint16
}

// Config configures a client or a server. A Config may be shared by many
// connections and must not be changed once in use.
type Config struct {
	// SignCertificate and EncCertificate are the server's dual
	// certificates (§6.4.5.3), or the client's certificate (only the
	// signing one is used by the ECC suites).
	SignCertificate *Certificate
	EncCertificate  *Certificate
	// GetCertificates, if set, picks the server's pair per ClientHello.
	GetCertificates func(*ClientHelloInfo) (sign, enc *Certificate, err error)

	// CipherSuites allowed, in preference order (server side: the
	// server's order wins). Empty: DefaultCipherSuites.
	CipherSuites []uint16

	// ClientAuth and ClientCAs: as crypto/tls (server side).
	ClientAuth tls.ClientAuthType
	ClientCAs  *smx509.CertPool

	// RootCAs, ServerName, InsecureSkipVerify: as crypto/tls (client).
	RootCAs            *smx509.CertPool
	ServerName         string
	InsecureSkipVerify bool

	// SessionCache holds resumable sessions: by session ID on a server,
	// by SessionKey (default ServerName) on a client. Nil: no resumption.
	SessionCache *SessionCache
	SessionKey   string

	Rand io.Reader        // nil: crypto/rand
	Time func() time.Time // nil: time.Now
}

func (c *Config) time() time.Time {
	if c.Time != nil {
		return c.Time()
	}
	return time.Now()
}

func (c *Config) suites() []uint16 {
	if len(c.CipherSuites) > 0 {
		return c.CipherSuites
	}
	return DefaultCipherSuites
}

// ConnectionState describes an established connection.
type ConnectionState struct {
	Version           uint16
	HandshakeComplete bool
	DidResume         bool
	CipherSuite       uint16
	ServerName        string
	PeerCertificates  []*smx509.Certificate // sign (and, from a server, enc) leaf first
	VerifiedChains    [][]*smx509.Certificate
}

// Alerts (§6.3.4.2, Table 1).
type alert uint8

const (
	alertCloseNotify            alert = 0
	alertUnexpectedMessage      alert = 10
	alertBadRecordMAC           alert = 20
	alertRecordOverflow         alert = 22
	alertHandshakeFailure       alert = 40
	alertBadCertificate         alert = 42
	alertUnsupportedCertificate alert = 43
	alertCertificateExpired     alert = 45
	alertCertificateUnknown     alert = 46
	alertIllegalParameter       alert = 47
	alertUnknownCA              alert = 48
	alertDecodeError            alert = 50
	alertDecryptError           alert = 51
	alertProtocolVersion        alert = 70
	alertInsufficientSecurity   alert = 71
	alertInternalError          alert = 80
	alertNoRenegotiation        alert = 100
)

var alertText = map[alert]string{
	alertCloseNotify:            "close notify",
	alertUnexpectedMessage:      "unexpected message",
	alertBadRecordMAC:           "bad record MAC",
	alertRecordOverflow:         "record overflow",
	alertHandshakeFailure:       "handshake failure",
	alertBadCertificate:         "bad certificate",
	alertUnsupportedCertificate: "unsupported certificate",
	alertCertificateExpired:     "certificate expired",
	alertCertificateUnknown:     "certificate unknown",
	alertIllegalParameter:       "illegal parameter",
	alertUnknownCA:              "unknown certificate authority",
	alertDecodeError:            "decode error",
	alertDecryptError:           "decrypt error",
	alertProtocolVersion:        "protocol version not supported",
	alertInsufficientSecurity:   "insufficient security level",
	alertInternalError:          "internal error",
	alertNoRenegotiation:        "no renegotiation",
}

func (a alert) String() string {
	if s, ok := alertText[a]; ok {
		return "tlcp: " + s
	}
	return fmt.Sprintf("tlcp: alert(%d)", uint8(a))
}

func (a alert) Error() string { return a.String() }

// localError is a failure we detected: the alert to send and why.
type localError struct {
	a   alert
	err error
}

func (e *localError) Error() string {
	if e.err == nil {
		return e.a.String()
	}
	return e.a.String() + ": " + e.err.Error()
}

func (e *localError) Unwrap() error { return e.err }

func fail(a alert, format string, args ...any) error {
	return &localError{a: a, err: fmt.Errorf(format, args...)}
}

// RemoteAlertError is a fatal alert the peer sent.
type RemoteAlertError struct{ Alert uint8 }

func (e RemoteAlertError) Error() string { return "remote error: " + alert(e.Alert).String() }

var errClosed = errors.New("tlcp: use of closed connection")
