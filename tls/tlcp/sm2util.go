package tlcp

import (
	"crypto"
	"crypto/ecdsa"
	"encoding/binary"
	"errors"
	"io"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

type ecdsaPublicKey = ecdsa.PublicKey

// gmSign asks an SM2 signer for Z_A-prefixed SM3 signing of a raw
// message (GB/T 32918.2 with the default user ID, as §6.4.5.4 requires).
var gmSign = sm2.NewSM2SignerOption(true, nil)

func isSM2(pub any) bool {
	k, ok := pub.(*ecdsa.PublicKey)
	return ok && k.Curve == sm2.P256()
}

// signSM2 signs the concatenation of parts.
func signSM2(key any, rand io.Reader, parts ...[]byte) ([]byte, error) {
	s, ok := key.(crypto.Signer)
	if !ok || !isSM2(s.Public()) {
		return nil, errors.New("tlcp: signing key is not an SM2 key")
	}
	return s.Sign(rand, concat(parts...), gmSign)
}

// verifySM2 checks an ASN.1 SM2 signature of the concatenation of parts
// by crt's key.
func verifySM2(crt *smx509.Certificate, sig []byte, parts ...[]byte) bool {
	pub, ok := crt.PublicKey.(*ecdsa.PublicKey)
	if !ok || !isSM2(pub) {
		return false
	}
	return sm2.VerifyASN1WithSM2(pub, nil, concat(parts...), sig)
}

// decryptSM2 opens an ASN.1 SM2 ciphertext with the encryption key.
func decryptSM2(key any, rand io.Reader, ct []byte) ([]byte, error) {
	d, ok := key.(crypto.Decrypter)
	if !ok || !isSM2(d.Public()) {
		return nil, errors.New("tlcp: encryption key is not an SM2 key")
	}
	return d.Decrypt(rand, ct, sm2.ASN1DecrypterOpts)
}

func concat(parts ...[]byte) []byte {
	if len(parts) == 1 {
		return parts[0]
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func u24Prefixed(b []byte) []byte {
	out := make([]byte, 3+len(b))
	out[0], out[1], out[2] = byte(len(b)>>16), byte(len(b)>>8), byte(len(b))
	copy(out[3:], b)
	return out
}

// newRandom: gmt_unix_time(4) + 28 random bytes (§6.4.5.2.1).
func newRandom(cfg *Config, rand io.Reader) []byte {
	r := make([]byte, randomLen)
	binary.BigEndian.PutUint32(r, uint32(cfg.time().Unix()))
	if _, err := io.ReadFull(rand, r[4:]); err != nil {
		panic("tlcp: random source failed: " + err.Error())
	}
	return r
}

// session is what resumption needs (§6.4.4).
type session struct {
	id      []byte
	master  []byte
	suite   uint16
	peer    []*smx509.Certificate
	created time.Time
}
