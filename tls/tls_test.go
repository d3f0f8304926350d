package tls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	ctls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

var testKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

// selfSigned returns PEM cert and key for names (first one is the CN).
func selfSigned(t testing.TB, cn string, names ...string) (string, string) {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &testKey.PublicKey, testKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(testKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
}

func TestStoreMatch(t *testing.T) {
	s := NewStore()
	add := func(cn string, names ...string) *ctls.Certificate {
		c, k := selfSigned(t, cn, names...)
		cert, err := Load(dynamic.Certificate{CertFile: dynamic.FileOrContent(c), KeyFile: dynamic.FileOrContent(k)})
		if err != nil {
			t.Fatal(err)
		}
		s.Add(cert)
		return cert
	}
	a := add("a", "a.example.com", "alt.example.com")
	w := add("w", "*.example.com")
	cnOnly := add("cn-only.test")
	add("dup", "a.example.com") // first one keeps the name

	for _, tc := range []struct {
		name string
		want *ctls.Certificate
	}{
		{"a.example.com", a},
		{"A.Example.COM", a},
		{"a.example.com.", a},
		{"alt.example.com", a},
		{"x.example.com", w},
		{"x.y.example.com", nil}, // wildcard covers one label
		{"example.com", nil},
		{"cn-only.test", cnOnly},
		{"", nil},
		{"nothing.test", nil},
	} {
		if got := s.Match(tc.name); got != tc.want {
			t.Errorf("Match(%q) = %v, want %v", tc.name, cnOf(got), cnOf(tc.want))
		}
	}
	if s.Default == nil || s.Default.Leaf.Subject.CommonName != DefaultCommonName {
		t.Fatal("no generated default certificate")
	}
}

func cnOf(c *ctls.Certificate) string {
	if c == nil {
		return "<nil>"
	}
	return c.Leaf.Subject.CommonName
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	c, _ := selfSigned(t, "x", "x")
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	kb, _ := x509.MarshalECPrivateKey(otherKey)
	wrong := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
	certPath := filepath.Join(dir, "c.pem")
	os.WriteFile(certPath, []byte(c), 0o644)
	for _, tc := range []struct {
		name string
		cert dynamic.Certificate
		want string
	}{
		{"missing file", dynamic.Certificate{CertFile: "/nonexistent/c.pem", KeyFile: "/nonexistent/k.pem"}, "no such file"},
		{"mismatched key", dynamic.Certificate{CertFile: dynamic.FileOrContent(certPath), KeyFile: dynamic.FileOrContent(wrong)}, "private key does not match"},
		{"empty", dynamic.Certificate{}, "empty value"},
		{"garbage", dynamic.Certificate{CertFile: "-----BEGIN CERTIFICATE-----\nxx", KeyFile: dynamic.FileOrContent(wrong)}, "certificate (inline PEM)"},
	} {
		_, err := Load(tc.cert)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestBuildOptions(t *testing.T) {
	s := NewStore()
	for _, tc := range []struct {
		name string
		o    dynamic.TLSOptions
		err  string
		chk  func(*ctls.Config) bool
	}{
		{"defaults", dynamic.TLSOptions{}, "", func(c *ctls.Config) bool {
			return c.MinVersion == ctls.VersionTLS12 && c.NextProtos[0] == "h2" && c.ClientAuth == ctls.NoClientCert
		}},
		{"versions", dynamic.TLSOptions{MinVersion: "VersionTLS13", MaxVersion: "VersionTLS13"}, "", func(c *ctls.Config) bool {
			return c.MinVersion == ctls.VersionTLS13 && c.MaxVersion == ctls.VersionTLS13
		}},
		{"bad version", dynamic.TLSOptions{MinVersion: "TLS1.2"}, `unknown TLS version "TLS1.2"`, nil},
		{"min above max", dynamic.TLSOptions{MinVersion: "VersionTLS13", MaxVersion: "VersionTLS12"}, "above maxVersion", nil},
		{"ciphers", dynamic.TLSOptions{CipherSuites: []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}}, "", func(c *ctls.Config) bool {
			return len(c.CipherSuites) == 1 && c.CipherSuites[0] == ctls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
		}},
		{"bad cipher", dynamic.TLSOptions{CipherSuites: []string{"TLS_FAKE"}}, `unknown cipher suite "TLS_FAKE"`, nil},
		{"curves", dynamic.TLSOptions{CurvePreferences: []string{"CurveP521", "X25519"}}, "", func(c *ctls.Config) bool {
			return len(c.CurvePreferences) == 2 && c.CurvePreferences[1] == ctls.X25519
		}},
		{"bad curve", dynamic.TLSOptions{CurvePreferences: []string{"P-999"}}, `unknown curve "P-999"`, nil},
		{"alpn", dynamic.TLSOptions{ALPNProtocols: []string{"http/1.1"}}, "", func(c *ctls.Config) bool {
			return len(c.NextProtos) == 1 && c.NextProtos[0] == "http/1.1"
		}},
		{"client auth needs CA", dynamic.TLSOptions{ClientAuth: dynamic.ClientAuth{ClientAuthType: "RequireAndVerifyClientCert"}}, "needs caFiles", nil},
		{"bad client auth type", dynamic.TLSOptions{ClientAuth: dynamic.ClientAuth{ClientAuthType: "Always"}}, `unknown type "Always"`, nil},
		{"bad CA file", dynamic.TLSOptions{ClientAuth: dynamic.ClientAuth{CAFiles: []dynamic.FileOrContent{"/nonexistent/ca.pem"}, ClientAuthType: "RequireAndVerifyClientCert"}}, "no such file", nil},
		{"request cert", dynamic.TLSOptions{ClientAuth: dynamic.ClientAuth{ClientAuthType: "RequestClientCert"}}, "", func(c *ctls.Config) bool {
			return c.ClientAuth == ctls.RequestClientCert
		}},
		{"session tickets", dynamic.TLSOptions{DisableSessionTickets: true}, "", func(c *ctls.Config) bool { return c.SessionTicketsDisabled }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := BuildOptions(tc.o, s)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.chk(c) {
				t.Fatalf("config not as expected: %+v", c)
			}
		})
	}
}

func TestSniStrict(t *testing.T) {
	s := NewStore()
	c, k := selfSigned(t, "a", "a.test")
	cert, _ := Load(dynamic.Certificate{CertFile: dynamic.FileOrContent(c), KeyFile: dynamic.FileOrContent(k)})
	s.Add(cert)
	strict, _ := BuildOptions(dynamic.TLSOptions{SniStrict: true}, s)
	loose, _ := BuildOptions(dynamic.TLSOptions{}, s)
	if got, err := strict.GetCertificate(&ctls.ClientHelloInfo{ServerName: "a.test"}); err != nil || got != cert {
		t.Fatalf("strict, known: %v %v", got, err)
	}
	if _, err := strict.GetCertificate(&ctls.ClientHelloInfo{ServerName: "b.test"}); err == nil {
		t.Fatal("strict, unknown: no error")
	}
	if _, err := strict.GetCertificate(&ctls.ClientHelloInfo{}); err == nil {
		t.Fatal("strict, no SNI: no error")
	}
	if got, _ := loose.GetCertificate(&ctls.ClientHelloInfo{ServerName: "b.test"}); got != s.Default {
		t.Fatal("loose, unknown: not the default")
	}
}

func TestBuildSet(t *testing.T) {
	c, k := selfSigned(t, "a", "a.test")
	conf := &dynamic.TLSConfiguration{
		Certificates: []*dynamic.CertAndStores{
			{Certificate: dynamic.Certificate{CertFile: dynamic.FileOrContent(c), KeyFile: dynamic.FileOrContent(k)}},
			{Certificate: dynamic.Certificate{CertFile: "/nonexistent.pem", KeyFile: "/nonexistent.key"}},
			{Certificate: dynamic.Certificate{CertFile: dynamic.FileOrContent(c), KeyFile: dynamic.FileOrContent(k)}, Stores: []string{"other"}},
		},
		Options: map[string]dynamic.TLSOptions{
			"good@file": {MinVersion: "VersionTLS13"},
			"bad@file":  {CipherSuites: []string{"nope"}},
		},
		Stores: map[string]dynamic.Store{"default": {DefaultCertificate: &dynamic.Certificate{CertFile: dynamic.FileOrContent(c), KeyFile: dynamic.FileOrContent(k)}}},
	}
	s := Build(conf)
	if s.Store.Len() != 1 || s.Store.Default.Leaf.Subject.CommonName != "a" {
		t.Fatalf("store: %d certs, default %q", s.Store.Len(), cnOf(s.Store.Default))
	}
	if len(s.Errors) != 3 { // missing file, other store, bad options
		t.Fatalf("errors: %v", s.Errors)
	}
	if _, err := s.Options("good@file"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Options("good"); err != nil {
		t.Fatalf("unqualified lookup: %v", err)
	}
	if _, err := s.Options("bad@file"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("bad options: %v", err)
	}
	if _, err := s.Options("missing@file"); err == nil || !strings.Contains(err.Error(), "unknown TLS options") {
		t.Fatalf("missing options: %v", err)
	}
	if d, err := s.Options(""); err != nil || d == nil {
		t.Fatalf("default options: %v", err)
	}
}

// TestStoreTenThousand: SNI selection with 10,000 certificates is a map
// hit; building the index stays fast.
func TestStoreTenThousand(t *testing.T) {
	s := NewStore()
	c, k := selfSigned(t, "base", "base.test")
	base, _ := Load(dynamic.Certificate{CertFile: dynamic.FileOrContent(c), KeyFile: dynamic.FileOrContent(k)})
	for i := range 10000 {
		leaf := *base.Leaf
		leaf.DNSNames = []string{fmt.Sprintf("host%d.test", i)}
		s.Add(&ctls.Certificate{Certificate: base.Certificate, PrivateKey: base.PrivateKey, Leaf: &leaf})
	}
	if got := s.Match("host9999.test"); got == nil || got.Leaf.DNSNames[0] != "host9999.test" {
		t.Fatal("host9999.test not found")
	}
	if n := testing.AllocsPerRun(100, func() { s.Match("host5000.test") }); n != 0 {
		t.Fatalf("Match allocates %v times", n)
	}
}

func BenchmarkStoreMatch10000(b *testing.B) {
	s := NewStore()
	c, k := selfSigned(b, "base", "base.test")
	base, _ := Load(dynamic.Certificate{CertFile: dynamic.FileOrContent(c), KeyFile: dynamic.FileOrContent(k)})
	for i := range 10000 {
		leaf := *base.Leaf
		leaf.DNSNames = []string{fmt.Sprintf("host%d.test", i), fmt.Sprintf("*.w%d.test", i)}
		s.Add(&ctls.Certificate{Certificate: base.Certificate, PrivateKey: base.PrivateKey, Leaf: &leaf})
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Match("host7777.test")
		s.Match("x.w7777.test")
	}
}
