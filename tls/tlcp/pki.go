package tlcp

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// PKI is a small SM2 PKI for trying TLCP: a CA, the server's signing and
// encryption pairs, and a client signing pair, all PEM.
type PKI struct {
	CACert, CAKey         []byte
	SignCert, SignKey     []byte
	EncCert, EncKey       []byte
	ClientCert, ClientKey []byte
}

// GeneratePKI makes a test PKI: server certificates for hosts (DNS names
// or IP addresses), a client certificate with CommonName clientCN, each
// valid for validity. Keys are PKCS #8.
func GeneratePKI(caCN string, hosts []string, clientCN string, validity time.Duration) (*PKI, error) {
	now, end := time.Now().Add(-time.Hour), time.Now().Add(validity)
	caKey, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: caCN, Organization: []string{"Switchyard test"}},
		NotBefore:             now,
		NotAfter:              end,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := smx509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	ca, err := smx509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	p := &PKI{CACert: pemOf("CERTIFICATE", caDER)}
	if p.CAKey, err = keyPEM(caKey); err != nil {
		return nil, err
	}
	issue := func(cn string, hosts []string, ku x509.KeyUsage, eku []x509.ExtKeyUsage) (certPEM, kPEM []byte, err error) {
		k, err := sm2.GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		t := &x509.Certificate{
			SerialNumber: serial(),
			Subject:      pkix.Name{CommonName: cn, Organization: []string{"Switchyard test"}},
			NotBefore:    now,
			NotAfter:     end,
			KeyUsage:     ku,
			ExtKeyUsage:  eku,
		}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				t.IPAddresses = append(t.IPAddresses, ip)
			} else {
				t.DNSNames = append(t.DNSNames, h)
			}
		}
		der, err := smx509.CreateCertificate(rand.Reader, t, ca.ToX509(), k.Public(), caKey)
		if err != nil {
			return nil, nil, fmt.Errorf("certificate %q: %w", cn, err)
		}
		kp, err := keyPEM(k)
		return pemOf("CERTIFICATE", der), kp, err
	}
	cn := "tlcp server"
	if len(hosts) > 0 {
		cn = hosts[0]
	}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	if p.SignCert, p.SignKey, err = issue(cn+" (sign)", hosts, x509.KeyUsageDigitalSignature, both); err != nil {
		return nil, err
	}
	if p.EncCert, p.EncKey, err = issue(cn+" (enc)", hosts, x509.KeyUsageKeyEncipherment|x509.KeyUsageDataEncipherment|x509.KeyUsageKeyAgreement, both); err != nil {
		return nil, err
	}
	if p.ClientCert, p.ClientKey, err = issue(clientCN, nil, x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}); err != nil {
		return nil, err
	}
	return p, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n.Add(n, big.NewInt(1))
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func keyPEM(k *sm2.PrivateKey) ([]byte, error) {
	der, err := smx509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pemOf("PRIVATE KEY", der), nil
}
