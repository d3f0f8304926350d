package passtlsclientcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func testCert(t *testing.T) *x509.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject: pkix.Name{Country: []string{"FR"}, Organization: []string{"Cheese"}, OrganizationalUnit: []string{"Dev"}, CommonName: "client.example.com",
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, Value: "org"}}},
		NotBefore:      time.Unix(1700000000, 0),
		NotAfter:       time.Unix(1800000000, 0),
		DNSNames:       []string{"a.example.com"},
		EmailAddresses: []string{"t@example.org"},
		IPAddresses:    []net.IP{net.ParseIP("10.0.1.2")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestPass(t *testing.T) {
	cert := testCert(t)
	tests := []struct {
		desc     string
		cfg      *dynamic.PassTLSClientCert
		tls      bool
		wantPEM  bool
		wantInfo string // unescaped
	}{
		{"no TLS: spoofed headers removed", &dynamic.PassTLSClientCert{PEM: true}, false, false, ""},
		{"pem", &dynamic.PassTLSClientCert{PEM: true}, true, true, ""},
		{"empty SAN and subject left out", &dynamic.PassTLSClientCert{Info: &dynamic.TLSClientCertificateInfo{
			NotAfter: true, Subject: &dynamic.TLSClientCertificateSubjectDNInfo{Locality: true}}}, true, false, `NA="1800000000"`},
		{"info", &dynamic.PassTLSClientCert{Info: &dynamic.TLSClientCertificateInfo{
			NotAfter: true, NotBefore: true, Sans: true, SerialNumber: true,
			Subject: &dynamic.TLSClientCertificateSubjectDNInfo{Country: true, Organization: true, OrganizationalUnit: true, CommonName: true, DomainComponent: true},
			Issuer:  &dynamic.TLSClientCertificateIssuerDNInfo{CommonName: true},
		}}, true, false,
			`Subject="DC=org,C=FR,O=Cheese,OU=Dev,CN=client.example.com";Issuer="CN=client.example.com";SerialNumber="42";NB="1700000000";NA="1800000000";SAN="a.example.com,t@example.org,10.0.1.2"`},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			wrap, err := Setup(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var got http.Header
			h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set(HeaderPEM, "spoofed")
			req.Header.Set(HeaderInfo, "spoofed")
			req.TLS = nil
			if tc.tls {
				// A fake connection state, as the TLS entrypoint will give.
				req.TLS = &tls.ConnectionState{HandshakeComplete: true, PeerCertificates: []*x509.Certificate{cert}}
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if pem := got.Get(HeaderPEM); (pem != "") != tc.wantPEM || pem == "spoofed" {
				t.Errorf("pem header %q", pem)
			} else if tc.wantPEM {
				if pem != base64.StdEncoding.EncodeToString(cert.Raw) {
					t.Errorf("pem %q", pem)
				}
			}
			info, _ := url.QueryUnescape(got.Get(HeaderInfo))
			if info != tc.wantInfo {
				t.Errorf("info\n got %s\nwant %s", info, tc.wantInfo)
			}
		})
	}
}

func TestNGINXHeaders(t *testing.T) {
	c := testCert(t)
	h, _ := Setup(&dynamic.PassTLSClientCert{PEM: true, NGINXHeaders: true})
	var got http.Header
	srv := h(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	for _, tc := range []struct {
		desc   string
		state  *tls.ConnectionState
		verify string
		cert   bool
	}{
		{"verified", &tls.ConnectionState{PeerCertificates: []*x509.Certificate{c}, VerifiedChains: [][]*x509.Certificate{{c}}}, "SUCCESS", true},
		{"not verified", &tls.ConnectionState{PeerCertificates: []*x509.Certificate{c}}, "FAILED:certificate not verified", true},
		{"no certificate", &tls.ConnectionState{}, "NONE", false},
		{"plain HTTP: spoofed headers removed", nil, "", false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.TLS = tc.state
		r.Header.Set(HeaderNGINXVerify, "SUCCESS")
		r.Header.Set(HeaderNGINXCert, "forged")
		srv.ServeHTTP(httptest.NewRecorder(), r)
		if v := got.Get(HeaderNGINXVerify); v != tc.verify {
			t.Errorf("%s: verify %q, want %q", tc.desc, v, tc.verify)
		}
		pemText, err := url.QueryUnescape(got.Get(HeaderNGINXCert))
		if tc.cert != (err == nil && pemText != "") || tc.cert && pemText[:27] != "-----BEGIN CERTIFICATE-----" {
			t.Errorf("%s: cert %q", tc.desc, got.Get(HeaderNGINXCert))
		}
		if tc.cert && got.Get(HeaderNGINXSubjectDN) != c.Subject.String() {
			t.Errorf("%s: subject %q", tc.desc, got.Get(HeaderNGINXSubjectDN))
		}
	}
}
