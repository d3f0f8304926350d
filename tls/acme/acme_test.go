package acme

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	ctls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
	sytls "github.com/switchyard-proxy/switchyard/tls"
)

func selfSigned(t *testing.T, names ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(k)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
}

func TestRenewTimings(t *testing.T) {
	tests := []struct {
		hours        int
		renew, check time.Duration
	}{
		{0, 30 * 24 * time.Hour, 24 * time.Hour},
		{2160, 30 * 24 * time.Hour, 24 * time.Hour},
		{24, 8 * time.Hour, 16 * time.Minute},
		{1, 20 * time.Minute, time.Minute},
	}
	for _, tt := range tests {
		r, c := RenewTimings(tt.hours)
		if r != tt.renew || c != tt.check {
			t.Errorf("RenewTimings(%d) = %v, %v; want %v, %v", tt.hours, r, c, tt.renew, tt.check)
		}
	}
}

func TestKeyType(t *testing.T) {
	for _, k := range []string{"", "EC256", "EC384", "RSA2048", "RSA3072", "RSA4096", "RSA8192"} {
		if _, err := keyType(k); err != nil {
			t.Errorf("%q: %v", k, err)
		}
	}
	if _, err := keyType("DSA"); err == nil {
		t.Error("DSA accepted")
	}
}

func TestStorageSharedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "acme.json")
	if rd, err := load(path, "a"); err != nil || rd.Account != nil || len(rd.Certificates) != 0 {
		t.Fatalf("missing file: %+v %v", rd, err)
	}
	c, k := selfSigned(t, "a.example.com")
	if err := save(path, "a", &resolverData{Certificates: []*storedCert{{Domain: Domain{Main: "a.example.com"}, Certificate: c, Key: k, Store: "default"}}}); err != nil {
		t.Fatal(err)
	}
	if err := save(path, "b", &resolverData{Account: &account{Email: "b@example.com"}}); err != nil {
		t.Fatal(err)
	}
	a, err := load(path, "a")
	if err != nil || len(a.Certificates) != 1 || a.Certificates[0].Domain.Main != "a.example.com" {
		t.Fatalf("a: %+v %v", a, err)
	}
	b, err := load(path, "b")
	if err != nil || b.Account == nil || b.Account.Email != "b@example.com" {
		t.Fatalf("b: %+v %v", b, err)
	}
	raw, _ := os.ReadFile(path)
	for _, key := range []string{`"Account"`, `"Certificates"`, `"domain"`, `"main"`, `"certificate"`, `"key"`, `"Store"`} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("storage lacks %s:\n%s", key, raw)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	if err := os.WriteFile(path, []byte("{broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := load(path, "a"); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("corrupt file: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		conf static.ACME
		want string
	}{
		{"no challenge", static.ACME{Storage: filepath.Join(dir, "x.json")}, "needs tlsChallenge or httpChallenge"},
		{"http without entrypoint", static.ACME{Storage: filepath.Join(dir, "x.json"), HTTPChallenge: &static.HTTPChallenge{}}, "entryPoint is required"},
		{"bad key type", static.ACME{Storage: filepath.Join(dir, "x.json"), TLSChallenge: &struct{}{}, KeyType: "X"}, "unknown key type"},
	}
	for _, tt := range tests {
		c := tt.conf
		_, err := New(map[string]static.CertificateResolver{"r": {ACME: &c}}, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "certificatesResolvers.r") {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

// newManager starts a manager whose storage already holds a certificate
// for a.example.com (no ACME server is contacted: nothing is wanted).
func newManager(t *testing.T) *Manager {
	t.Helper()
	path := filepath.Join(t.TempDir(), "acme.json")
	c, k := selfSigned(t, "a.example.com", "*.w.example.com")
	if err := save(path, "le", &resolverData{Certificates: []*storedCert{{Domain: Domain{Main: "a.example.com"}, Certificate: c, Key: k}}}); err != nil {
		t.Fatal(err)
	}
	m, err := New(map[string]static.CertificateResolver{"le": {ACME: &static.ACME{
		Storage: path, CAServer: "https://127.0.0.1:1/dir", TLSChallenge: &struct{}{},
		HTTPChallenge: &static.HTTPChallenge{EntryPoint: "web"},
	}}}, Options{CheckInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func TestServesStoredCertificates(t *testing.T) {
	m := newManager(t)
	if !m.Has("le") || m.Has("other") {
		t.Error("Has")
	}
	for _, n := range []string{"a.example.com", "A.EXAMPLE.COM.", "x.w.example.com"} {
		if m.Match(n) == nil {
			t.Errorf("%s: no certificate", n)
		}
	}
	if m.Match("b.example.com") != nil {
		t.Error("b.example.com matched")
	}
	certs := m.Certificates()
	if len(certs) != 1 || certs[0].Resolver != "le" || !slices.Contains(certs[0].Names, "a.example.com") || certs[0].NotAfter.IsZero() || certs[0].Issuer == "" {
		t.Errorf("Certificates() = %+v", certs)
	}
	// Nothing wanted: no account is created, no error reported.
	m.Sync(nil)
	if errs := m.Errors(); len(errs) != 0 {
		t.Errorf("Errors() = %v", errs)
	}
}

func TestCovers(t *testing.T) {
	c, k := selfSigned(t, "a.example.com", "*.w.example.com")
	lc, err := parse(&storedCert{Certificate: c, Key: k})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ds   []string
		want bool
	}{
		{[]string{"a.example.com"}, true},
		{[]string{"a.example.com", "x.w.example.com"}, true},
		{[]string{"a.example.com", "b.example.com"}, false},
	}
	for _, tt := range tests {
		if got := covers(lc.tls, tt.ds); got != tt.want {
			t.Errorf("covers(%v) = %v", tt.ds, got)
		}
	}
	if got := clean([]string{" B.example.com. ", "a.example.com", "b.example.com", ""}); !slices.Equal(got, []string{"b.example.com", "a.example.com"}) {
		t.Errorf("clean = %v", got)
	}
}

func TestHTTPChallengeHandler(t *testing.T) {
	m := newManager(t)
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	if h := m.HTTPHandler("websecure", next); h == nil {
		t.Fatal("nil handler")
	}
	h := m.HTTPHandler("web", next)
	_ = httpProvider{m}.Present("a.example.com", "tok", "tok.thumb")
	tests := []struct {
		path string
		code int
		body string
	}{
		{"/.well-known/acme-challenge/tok", 200, "tok.thumb"},
		{"/.well-known/acme-challenge/other", 404, ""},
		{"/app", http.StatusTeapot, ""},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "http://a.example.com"+tt.path, nil))
		if rec.Code != tt.code || (tt.body != "" && rec.Body.String() != tt.body) {
			t.Errorf("%s: %d %q", tt.path, rec.Code, rec.Body.String())
		}
	}
	_ = httpProvider{m}.CleanUp("a.example.com", "tok", "")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/acme-challenge/tok", nil))
	if rec.Code != 404 {
		t.Errorf("after CleanUp: %d", rec.Code)
	}
	var nilM *Manager
	if nilM.HTTPHandler("web", next) == nil {
		t.Error("nil manager must return next")
	}
}

// handshake runs a TLS handshake against cfg over a pipe.
func handshake(t *testing.T, cfg *ctls.Config, sni string, protos []string) *x509.Certificate {
	t.Helper()
	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	go func() { _ = ctls.Server(s, cfg).Handshake() }()
	cl := ctls.Client(c, &ctls.Config{ServerName: sni, NextProtos: protos, InsecureSkipVerify: true})
	if err := cl.Handshake(); err != nil {
		t.Fatalf("handshake %s %v: %v", sni, protos, err)
	}
	return cl.ConnectionState().PeerCertificates[0]
}

func TestTLSALPNChallengeOnHandshake(t *testing.T) {
	m := newManager(t)
	set := sytls.Build(&dynamic.TLSConfiguration{})
	set.Store.Dynamic = m
	cfg, err := set.Options("")
	if err != nil {
		t.Fatal(err)
	}
	if err := (alpnProvider{m}).Present("New.example.com", "tok", "tok.thumb"); err != nil {
		t.Fatal(err)
	}
	acmeID := asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 31}
	hasID := func(c *x509.Certificate) bool {
		return slices.ContainsFunc(c.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(acmeID) })
	}
	if c := handshake(t, cfg, "new.example.com", []string{sytls.ACMETLS1}); !hasID(c) {
		t.Error("acme-tls/1 handshake did not get the challenge certificate")
	}
	if c := handshake(t, cfg, "new.example.com", []string{"h2"}); hasID(c) {
		t.Error("a normal handshake got the challenge certificate")
	}
	if c := handshake(t, cfg, "a.example.com", nil); !slices.Contains(c.DNSNames, "a.example.com") {
		t.Errorf("resolver certificate not served: %v", c.DNSNames)
	}
	_ = alpnProvider{m}.CleanUp("new.example.com", "", "")
	if m.Challenge("new.example.com") != nil {
		t.Error("challenge kept after CleanUp")
	}
}
