package tlcp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// Purpose is what a certificate of a TLCP pair is for.
type Purpose int

const (
	PurposeSign Purpose = iota // signing certificate
	PurposeEnc                 // encryption certificate
)

func (p Purpose) String() string {
	if p == PurposeEnc {
		return "encryption"
	}
	return "signing"
}

// X509KeyPair parses a PEM certificate chain (leaf first) and its PEM
// private key (PKCS #8, or SEC 1 "EC PRIVATE KEY"/"SM2 PRIVATE KEY") and
// checks both are SM2 and belong together. Errors say what is wrong, not
// the PEM.
func X509KeyPair(certPEM, keyPEM []byte) (*Certificate, error) {
	out := &Certificate{}
	rest := certPEM
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			out.Certificate = append(out.Certificate, b.Bytes)
		}
	}
	if len(out.Certificate) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block found")
	}
	leaf, err := smx509.ParseCertificate(out.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("parsing certificate: %w", err)
	}
	if !isSM2(leaf.PublicKey) {
		return nil, fmt.Errorf("certificate %q has a %s key, not SM2 (TLCP needs SM2 certificates)", leaf.Subject.CommonName, keyKind(leaf.PublicKey))
	}
	out.Leaf = leaf
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, err
	}
	pub := leaf.PublicKey.(*ecdsa.PublicKey)
	if !key.PublicKey.Equal(pub) {
		return nil, fmt.Errorf("private key does not match certificate %q", leaf.Subject.CommonName)
	}
	out.PrivateKey = key
	return out, nil
}

func parseKey(keyPEM []byte) (*sm2.PrivateKey, error) {
	rest := keyPEM
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("no PEM private key block found")
		}
		switch b.Type {
		case "PRIVATE KEY":
			k, err := smx509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parsing PKCS #8 key: %w", err)
			}
			sk, ok := k.(*sm2.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("private key is %s, not SM2", keyKind(publicOf(k)))
			}
			return sk, nil
		case "EC PRIVATE KEY", "SM2 PRIVATE KEY":
			k, err := smx509.ParseECPrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parsing EC key: %w", err)
			}
			if k.Curve != sm2.P256() {
				return nil, fmt.Errorf("private key is EC %s, not SM2", k.Curve.Params().Name)
			}
			return new(sm2.PrivateKey).FromECPrivateKey(k)
		case "RSA PRIVATE KEY":
			return nil, errors.New("private key is RSA, not SM2")
		}
	}
}

func publicOf(k any) any {
	if s, ok := k.(crypto.Signer); ok {
		return s.Public()
	}
	return k
}

func keyKind(pub any) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == sm2.P256() {
			return "SM2"
		}
		return "ECDSA " + k.Curve.Params().Name
	case nil:
		return "no"
	}
	return fmt.Sprintf("%T", pub)
}

// CheckPurpose reports whether the leaf's key usage fits its place in the
// pair (an absent key usage extension fits both).
func (c *Certificate) CheckPurpose(p Purpose) error {
	ku := c.Leaf.KeyUsage
	if ku == 0 {
		return nil
	}
	switch p {
	case PurposeSign:
		if ku&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
			return fmt.Errorf("certificate %q key usage does not allow signing", c.Leaf.Subject.CommonName)
		}
	case PurposeEnc:
		if ku&(x509.KeyUsageKeyEncipherment|x509.KeyUsageDataEncipherment|x509.KeyUsageKeyAgreement) == 0 {
			return fmt.Errorf("certificate %q key usage does not allow encipherment", c.Leaf.Subject.CommonName)
		}
	}
	return nil
}
