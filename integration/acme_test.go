package integration

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// ACME end to end against Pebble (Let's Encrypt's test CA, built once by
// integration/pebble/build.sh). Pebble's validation authority resolves
// every name to 127.0.0.1 through an in-test DNS server and validates on
// Switchyard's entrypoints: httpPort = web (HTTP-01), tlsPort = websecure
// (TLS-ALPN-01). Nothing is always-valid: the challenges really run.

var (
	pebbleOnce sync.Once
	pebbleBin  string
	pebbleErr  error
)

func requirePebble(t testing.TB) string {
	t.Helper()
	pebbleOnce.Do(func() {
		pebbleBin, pebbleErr = cachedBuild(filepath.Join(repoRoot, "integration", "pebble", "build.sh"))
	})
	if pebbleErr != nil {
		t.Skipf("no Pebble: %v", pebbleErr)
	}
	return pebbleBin
}

// startLoopbackDNS answers every A query with 127.0.0.1 (UDP and TCP).
func startLoopbackDNS(t testing.TB) string {
	t.Helper()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		for _, q := range r.Question {
			if q.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: net.IPv4(127, 0, 0, 1)})
			}
		}
		_ = w.WriteMsg(m)
	})
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	us := &dns.Server{PacketConn: pc, Handler: h}
	ts := &dns.Server{Listener: ln, Handler: h}
	go func() { _ = us.ActivateAndServe() }()
	go func() { _ = ts.ActivateAndServe() }()
	t.Cleanup(func() { _ = us.Shutdown(); _ = ts.Shutdown() })
	return addr
}

// pebble is a running Pebble with its HTTPS trust root (caFile) and the
// root of the certificates it issues (issued).
type pebble struct {
	dir    string
	mgmt   string
	caFile string
	issued *x509.CertPool
	https  *http.Client
}

// startPebble runs Pebble validating HTTP-01 on httpPort and TLS-ALPN-01
// on tlsPort, issuing certificates valid validity.
func startPebble(t *testing.T, e *Env, httpPort, tlsPort int, validity time.Duration) *pebble {
	t.Helper()
	bin := requirePebble(t)
	dnsAddr := startLoopbackDNS(t)
	dir := filepath.Join(e.Dir, "pebble")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ca := newCA(t, "pebble listener CA")
	c, k := ca.issue(t, "localhost", []string{"localhost", "127.0.0.1"}, false)
	writePair(t, dir, "listener", c, k)
	p := &pebble{dir: dir, caFile: writeFile(t, dir, "ca.pem", ca.PEM), mgmt: e.Addr("pebble-mgmt")}
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress":                  e.Addr("pebble"),
		"managementListenAddress":        p.mgmt,
		"certificate":                    filepath.Join(dir, "listener.crt"),
		"privateKey":                     filepath.Join(dir, "listener.key"),
		"httpPort":                       httpPort,
		"tlsPort":                        tlsPort,
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
		"retryAfter":                     map[string]int{"authz": 1, "order": 1},
		"profiles": map[string]any{"default": map[string]any{
			"description": "test", "validityPeriod": int(validity.Seconds()),
		}},
	}}
	b, _ := json.Marshal(conf)
	cfg := writeFile(t, dir, "pebble.json", string(b))
	env := []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0"}
	startProc(t, dir, env, bin, "-config", cfg, "-dnsserver", dnsAddr)

	p.https = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{RootCAs: ca.pool()}}}
	e.waitFor(30*time.Second, "pebble management API", func() bool {
		resp, err := p.https.Get("https://" + p.mgmt + "/roots/0")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return false
		}
		p.issued = x509.NewCertPool()
		return p.issued.AppendCertsFromPEM(body)
	})
	return p
}

// acmeWait is Env.waitFor failing t (a subtest), not the parent test.
func acmeWait(t *testing.T, e *Env, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if e.Proc != nil && e.Proc.Exited() {
			t.Fatalf("%s: switchyard exited (%v)", msg, e.Proc.err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %v", msg, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// peerChain completes a handshake with SNI host and returns the chain
// the server sent.
func peerChain(addr, host string) ([]*x509.Certificate, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{ServerName: host, InsecureSkipVerify: true})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates, nil
}

// verifiedBy checks chain against roots for host.
func verifiedBy(chain []*x509.Certificate, host string, roots *x509.CertPool) error {
	if len(chain) == 0 {
		return fmt.Errorf("no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter})
	return err
}

// waitIssued waits until host is served a certificate that chains to
// Pebble's root (and differs from notSerial when given); returns the leaf.
func waitIssued(t *testing.T, e *Env, p *pebble, host, notSerial string) *x509.Certificate {
	t.Helper()
	var leaf *x509.Certificate
	acmeWait(t, e, 60*time.Second, "certificate for "+host+" issued by Pebble", func() bool {
		chain, err := peerChain(e.Addr("websecure"), host)
		if err != nil || verifiedBy(chain, host, p.issued) != nil {
			return false
		}
		if chain[0].SerialNumber.String() == notSerial {
			return false
		}
		leaf = chain[0]
		return true
	})
	return leaf
}

type acmeStorage map[string]struct {
	Account *struct {
		Email        string
		Registration *struct {
			URI string `json:"uri"`
		}
	}
	Certificates []struct {
		Domain struct {
			Main string   `json:"main"`
			SANs []string `json:"sans"`
		} `json:"domain"`
		Certificate []byte `json:"certificate"`
		Key         []byte `json:"key"`
	}
}

func readStorage(t *testing.T, path string) acmeStorage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s acmeStorage
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("acme.json: %v\n%s", err, b)
	}
	return s
}

// storedSerial is the serial of the first stored certificate whose main
// name is main.
func (s acmeStorage) storedSerial(resolver, main string) string {
	for _, c := range s[resolver].Certificates {
		if c.Domain.Main != main {
			continue
		}
		blk, _ := pem.Decode(c.Certificate)
		if blk == nil {
			return ""
		}
		leaf, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return ""
		}
		return leaf.SerialNumber.String()
	}
	return ""
}

const acmeStatic = `
entryPoints:
  web:
    address: "<% addr "web" %>"
  websecure:
    address: "<% addr "websecure" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
certificatesResolvers:
  alpn:
    acme:
      email: ops@example.com
      storage: "<% dir %>/acme.json"
      caServer: "<% url "pebble" %>"
      keyType: EC256
      caCertificates: ["<% dir %>/pebble/ca.pem"]
      tlsChallenge: {}
  plain:
    acme:
      email: ops@example.com
      storage: "<% dir %>/acme.json"
      caServer: "<% url "pebble" %>"
      keyType: RSA2048
      caCertificates: ["<% dir %>/pebble/ca.pem"]
      httpChallenge:
        entryPoint: web
`

const acmeDynamic = `
http:
  routers:
    alpn:
      rule: "Host(` + "`alpn.example.com`" + `)"
      entryPoints: [websecure]
      service: back
      tls:
        certResolver: alpn
    viahttp:
      rule: "Host(` + "`http.example.com`" + `) || Host(` + "`www.http.example.com`" + `)"
      entryPoints: [websecure]
      service: back
      tls:
        certResolver: plain
    catchall:
      rule: "PathPrefix(` + "`/`" + `)"
      entryPoints: [web]
      service: back
    unknown:
      rule: "Host(` + "`nope.example.com`" + `)"
      entryPoints: [websecure]
      service: back
      tls:
        certResolver: missing
  services:
    back:
      loadBalancer:
        servers:
          - url: "<% url "back" %>"
`

func TestACME(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Certificates valid 10 days: under the default 30-day renewal
	// threshold, so the renewal step only has to shorten the check interval.
	p := startPebble(t, e, e.Port("web"), e.Port("websecure"), 10*24*time.Hour)
	e.SetURL("pebble", "https://"+e.Addr("pebble")+"/dir")
	e.SetURL("back", startWhoami(t, "acme-backend"))
	e.WriteDynamic("yml", acmeDynamic)
	e.WriteStatic("yml", acmeStatic)
	storage := filepath.Join(e.Dir, "acme.json")

	e.Start()
	rd := e.WaitRouters("alpn@file", "viahttp@file", "unknown@file")
	if errs := rd.Routers["unknown@file"].Error; len(errs) == 0 || !strings.Contains(errs[0], `certResolver "missing"`) {
		t.Errorf("router with an unknown resolver: errors %q", errs)
	}

	var alpnSerial, httpSerial string
	t.Run("TLS-ALPN-01: obtained, served, verified", func(t *testing.T) {
		leaf := waitIssued(t, e, p, "alpn.example.com", "")
		alpnSerial = leaf.SerialNumber.String()
		if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok {
			t.Errorf("keyType EC256: got %T", leaf.PublicKey)
		}
		r := mustHTTPS(t, e.Addr("websecure"), "alpn.example.com", "/", &tls.Config{RootCAs: p.issued}, true)
		if r.Status != 200 || backendName(r.Body) != "acme-backend" {
			t.Fatalf("got %d %q", r.Status, r.Body)
		}
	})
	t.Run("HTTP-01: one certificate for the rule's hosts", func(t *testing.T) {
		leaf := waitIssued(t, e, p, "http.example.com", "")
		httpSerial = leaf.SerialNumber.String()
		if err := leaf.VerifyHostname("www.http.example.com"); err != nil {
			t.Fatalf("SAN: %v (names %v)", err, leaf.DNSNames)
		}
		if _, ok := leaf.PublicKey.(*rsa.PublicKey); !ok {
			t.Errorf("keyType RSA2048: got %T", leaf.PublicKey)
		}
		r := mustHTTPS(t, e.Addr("websecure"), "www.http.example.com", "/", &tls.Config{RootCAs: p.issued}, false)
		if r.Status != 200 {
			t.Fatalf("got %d", r.Status)
		}
	})
	t.Run("challenge path on the HTTP entrypoint wins over a catch-all router", func(t *testing.T) {
		r := do(t, request{url: e.URL("web") + "/.well-known/acme-challenge/unknown-token"})
		if r.Status != 404 {
			t.Fatalf("unknown token: got %d %q", r.Status, r.Body)
		}
		if r := do(t, request{url: e.URL("web") + "/x"}); r.Status != 200 {
			t.Fatalf("catch-all: got %d", r.Status)
		}
	})
	t.Run("stored in acme.json (Traefik shape, 0600)", func(t *testing.T) {
		st := readStorage(t, storage)
		for res, main := range map[string]string{"alpn": "alpn.example.com", "plain": "http.example.com"} {
			if st[res].Account == nil || st[res].Account.Email != "ops@example.com" || st[res].Account.Registration == nil || st[res].Account.Registration.URI == "" {
				t.Errorf("%s: account not stored: %+v", res, st[res].Account)
			}
			if got := st.storedSerial(res, main); got == "" {
				t.Errorf("%s: no stored certificate for %s", res, main)
			}
		}
		if st.storedSerial("alpn", "alpn.example.com") != alpnSerial || st.storedSerial("plain", "http.example.com") != httpSerial {
			t.Errorf("stored serials differ from served ones")
		}
		if fi, err := os.Stat(storage); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("storage mode: %v %v", fi.Mode(), err)
		}
	})
	t.Run("API lists the certificates with issuer and resolver", func(t *testing.T) {
		var certs []map[string]any
		acmeWait(t, e, 20*time.Second, "ACME certificates in /api/tls/certificates", func() bool {
			resp, err := client.Get(e.URL("traefik") + "/api/tls/certificates")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			certs = nil
			if json.NewDecoder(resp.Body).Decode(&certs) != nil {
				return false
			}
			n := 0
			for _, c := range certs {
				if c["resolver"] == "alpn" || c["resolver"] == "plain" {
					n++
				}
			}
			return n == 2
		})
		for _, c := range certs {
			if iss, _ := c["issuer"].(string); !strings.Contains(strings.ToLower(iss), "pebble") {
				t.Errorf("issuer %q", iss)
			}
			if _, ok := c["notAfter"].(string); !ok {
				t.Errorf("notAfter missing: %v", c)
			}
		}
	})

	e.Proc.Stop()
	before, _ := os.ReadFile(storage)
	t.Run("restart: stored certificates served at once, no new order", func(t *testing.T) {
		e.Start()
		e.WaitRouters("alpn@file", "viahttp@file")
		for host, serial := range map[string]string{"alpn.example.com": alpnSerial, "http.example.com": httpSerial} {
			chain, err := peerChain(e.Addr("websecure"), host)
			if err != nil {
				t.Fatal(err)
			}
			if got := chain[0].SerialNumber.String(); got != serial {
				t.Errorf("%s: serial %s after restart, want the stored %s", host, got, serial)
			}
		}
		time.Sleep(500 * time.Millisecond) // a wrongly started order would rewrite the file
		if after, _ := os.ReadFile(storage); !bytes.Equal(before, after) {
			t.Errorf("acme.json rewritten after restart")
		}
	})
	e.Proc.Stop()

	t.Run("renewal: a certificate inside the renewal window is replaced, hot", func(t *testing.T) {
		e.StartWithEnv([]string{"SWITCHYARD_ACME_CHECK_INTERVAL=1s"})
		e.WaitRouters("alpn@file")
		leaf := waitIssued(t, e, p, "alpn.example.com", alpnSerial)
		if !leaf.NotAfter.After(time.Now().Add(9 * 24 * time.Hour)) {
			t.Errorf("renewed certificate expires %s", leaf.NotAfter)
		}
		acmeWait(t, e, 20*time.Second, "renewed certificate stored", func() bool {
			b, err := os.ReadFile(storage)
			if err != nil {
				return false
			}
			var st acmeStorage
			return json.Unmarshal(b, &st) == nil && st.storedSerial("alpn", "alpn.example.com") != alpnSerial
		})
	})
}

// TestACMEDocs runs `switchyard check` on the static + dynamic example of
// docs/acme.md (storage moved into the test dir).
func TestACMEDocs(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	page, err := os.ReadFile(filepath.Join(repoRoot, "docs", "acme.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, part := range strings.Split(string(page), "```yaml\n")[1:] {
		blocks = append(blocks, strings.SplitN(part, "```", 2)[0])
	}
	if len(blocks) < 2 {
		t.Fatalf("want 2 yaml blocks, got %d", len(blocks))
	}
	e := newEnv(t)
	dyn := writeFile(t, e.Dir, "dyn.yml", blocks[1])
	static := strings.ReplaceAll(blocks[0], "/data/acme.json", filepath.Join(e.Dir, "acme.json")) +
		"providers:\n  file:\n    filename: " + dyn + "\n"
	e.StatPath = writeFile(t, e.Dir, "static.yml", static)
	code, out := runCmd(t, e.Dir, nil, 20*time.Second, "check", "--configFile="+e.StatPath)
	if code != 0 || !strings.Contains(out, "2 routers") {
		t.Fatalf("check: exit %d\n%s", code, out)
	}
}
