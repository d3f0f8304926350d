package integration

import (
	"testing"

	"github.com/emmansun/gmsm/smx509"
)

// tlcpCertPool wraps an SM2-capable pool.
type tlcpCertPool struct{ Pool *smx509.CertPool }

func newTLCPCertPool(t *testing.T, pemCA []byte) *tlcpCertPool {
	p := smx509.NewCertPool()
	if !p.AppendCertsFromPEM(pemCA) {
		t.Fatal("bad SM2 CA PEM")
	}
	return &tlcpCertPool{Pool: p}
}
