package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// httpsReply is one HTTPS exchange as a test sees it.
type httpsReply struct {
	Status int
	Body   string
	Proto  int    // 1 or 2
	PeerCN string // subject CN of the served certificate
	PeerDN []string
}

// httpsGet sends GET https://host/path to addr with SNI host. cfg may set
// roots, client certificates and versions; h2 offers HTTP/2.
func httpsGet(addr, host, path string, cfg *tls.Config, h2 bool) (httpsReply, error) {
	if cfg == nil {
		cfg = &tls.Config{InsecureSkipVerify: true}
	}
	cfg = cfg.Clone()
	cfg.ServerName = host
	tr := &http.Transport{
		TLSClientConfig:   cfg,
		ForceAttemptHTTP2: h2,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", addr)
		},
	}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	u := "https://" + host + path
	if host == "" {
		u = "https://" + addr + path
	}
	resp, err := c.Get(u)
	if err != nil {
		return httpsReply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return httpsReply{}, err
	}
	r := httpsReply{Status: resp.StatusCode, Body: string(b), Proto: resp.ProtoMajor}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		leaf := resp.TLS.PeerCertificates[0]
		r.PeerCN = leaf.Subject.CommonName
		r.PeerDN = leaf.DNSNames
	}
	return r, nil
}

func mustHTTPS(t *testing.T, addr, host, path string, cfg *tls.Config, h2 bool) httpsReply {
	t.Helper()
	r, err := httpsGet(addr, host, path, cfg, h2)
	if err != nil {
		t.Fatalf("https %s%s via %s: %v", host, path, addr, err)
	}
	return r
}

// tlsEnv writes certificates for a.test, *.wild.test and a client CA, and
// a dynamic file with a TLS router, a plain router and TLS options.
func tlsEnv(t *testing.T) (*Env, *testCA, *testCA) {
	t.Helper()
	e := newEnv(t)
	ca := newCA(t, "switchyard test CA")
	other := newCA(t, "wrong CA")
	ac, ak := ca.issue(t, "a.test", []string{"a.test"}, false)
	writePair(t, e.Dir, "a", ac, ak)
	wc, wk := ca.issue(t, "wild", []string{"*.wild.test"}, false)
	writePair(t, e.Dir, "wild", wc, wk)
	writeFile(t, e.Dir, "ca.pem", ca.PEM)
	e.SetURL("tlsback", startWhoami(t, "tls-backend"))
	e.SetURL("plainback", startWhoami(t, "plain-backend"))
	return e, ca, other
}

const tlsDynamic = `
http:
  routers:
    secure:
      rule: 'Host(` + "`a.test`" + `) || HostRegexp(` + "`^.+\\.wild\\.test$`" + `)'

      service: tlsback
      tls: {}
    plain:
      rule: "PathPrefix(` + "`/`" + `)"
      service: plainback
    strict:
      rule: "Host(` + "`strict.test`" + `)"
      service: tlsback
      tls:
        options: strict
    mtls:
      rule: "Host(` + "`mtls.test`" + `)"
      service: tlsback
      tls:
        options: mtls
    modern:
      rule: "Host(` + "`modern.test`" + `)"
      service: tlsback
      tls:
        options: modern
    badopts:
      rule: "Host(` + "`bad.test`" + `)"
      service: tlsback
      tls:
        options: badcipher
    badca:
      rule: "Host(` + "`badca.test`" + `)"
      service: tlsback
      tls:
        options: badca
  services:
    tlsback:
      loadBalancer:
        servers:
          - url: "<% url "tlsback" %>"
    plainback:
      loadBalancer:
        servers:
          - url: "<% url "plainback" %>"
tls:
  certificates:
    - certFile: "<% dir %>/a.crt"
      keyFile: "<% dir %>/a.key"
    - certFile: "<% dir %>/wild.crt"
      keyFile: "<% dir %>/wild.key"
    - certFile: "<% dir %>/a.crt"
      keyFile: "<% dir %>/wild.key"
  options:
    strict:
      sniStrict: true
    modern:
      minVersion: VersionTLS13
    mtls:
      clientAuth:
        caFiles: ["<% dir %>/ca.pem"]
        clientAuthType: RequireAndVerifyClientCert
    badcipher:
      cipherSuites: ["TLS_NOT_A_SUITE"]
    badca:
      clientAuth:
        caFiles: ["<% dir %>/a.key"]
        clientAuthType: RequireAndVerifyClientCert
`

func TestTLSTermination(t *testing.T) {
	t.Parallel()
	e, ca, _ := tlsEnv(t)
	e.WriteDynamic("yml", tlsDynamic)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	rd := e.WaitRouters("secure@file", "plain@file", "badopts@file", "badca@file")
	e.WaitListening(e.Addr("web"))
	addr := e.Addr("web")
	verify := &tls.Config{RootCAs: ca.pool()}

	t.Run("exact SNI, verified, HTTP/2 by ALPN", func(t *testing.T) {
		r := mustHTTPS(t, addr, "a.test", "/", verify, true)
		if r.Status != 200 || backendName(r.Body) != "tls-backend" || r.Proto != 2 {
			t.Fatalf("got %d proto %d body %q", r.Status, r.Proto, r.Body)
		}
	})
	t.Run("HTTP/1.1 over TLS", func(t *testing.T) {
		r := mustHTTPS(t, addr, "a.test", "/", verify, false)
		if r.Status != 200 || r.Proto != 1 {
			t.Fatalf("got %d proto %d", r.Status, r.Proto)
		}
	})
	t.Run("wildcard certificate", func(t *testing.T) {
		r := mustHTTPS(t, addr, "x.wild.test", "/", verify, true)
		if r.Status != 200 || backendName(r.Body) != "tls-backend" {
			t.Fatalf("got %d %q", r.Status, r.Body)
		}
	})
	t.Run("upper-case SNI", func(t *testing.T) {
		r := mustHTTPS(t, addr, "A.TEST", "/", verify, true)
		if r.Status != 200 {
			t.Fatalf("got %d", r.Status)
		}
	})
	t.Run("unknown SNI gets the default certificate and 404", func(t *testing.T) {
		r := mustHTTPS(t, addr, "unknown.test", "/", nil, true)
		if r.PeerCN != "SWITCHYARD DEFAULT CERT" || r.Status != 404 {
			t.Fatalf("got CN %q status %d", r.PeerCN, r.Status)
		}
	})
	t.Run("no SNI gets the default certificate", func(t *testing.T) {
		r := mustHTTPS(t, addr, "", "/", nil, true)
		if r.PeerCN != "SWITCHYARD DEFAULT CERT" {
			t.Fatalf("got CN %q", r.PeerCN)
		}
	})
	t.Run("plain HTTP on the same port reaches only plain routers", func(t *testing.T) {
		r := do(t, request{url: e.URL("web") + "/", host: "a.test"})
		if r.Status != 200 || backendName(r.Body) != "plain-backend" {
			t.Fatalf("got %d %q", r.Status, r.Body)
		}
	})
	t.Run("sniStrict rejects unknown names", func(t *testing.T) {
		// strict.test has no certificate: the handshake fails.
		if _, err := httpsGet(addr, "strict.test", "/", nil, true); err == nil {
			t.Fatal("handshake succeeded with sniStrict and no certificate")
		}
	})
	t.Run("minVersion TLS 1.3", func(t *testing.T) {
		old := &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12}
		if _, err := httpsGet(addr, "modern.test", "/", old, true); err == nil {
			t.Fatal("TLS 1.2 client accepted by minVersion VersionTLS13")
		}
		r := mustHTTPS(t, addr, "modern.test", "/", nil, true)
		if r.Status != 200 {
			t.Fatalf("got %d", r.Status)
		}
	})
	t.Run("bad options disable only their router", func(t *testing.T) {
		ri := rd.Routers["badopts@file"]
		if ri.Status != "disabled" || !strings.Contains(strings.Join(ri.Error, " "), "TLS_NOT_A_SUITE") {
			t.Fatalf("badopts: %+v", ri)
		}
		ri = rd.Routers["badca@file"]
		if ri.Status != "disabled" || !strings.Contains(strings.Join(ri.Error, " "), "no certificate found") {
			t.Fatalf("badca: %+v", ri)
		}
		if rd.Routers["secure@file"].Status != "enabled" {
			t.Fatalf("secure: %+v", rd.Routers["secure@file"])
		}
	})
}

func TestMTLS(t *testing.T) {
	t.Parallel()
	e, ca, other := tlsEnv(t)
	e.WriteDynamic("yml", tlsDynamic)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	e.WaitRouters("mtls@file")
	e.WaitListening(e.Addr("web"))
	addr := e.Addr("web")

	goodC, goodK := ca.issue(t, "client", nil, true)
	good, err := tls.X509KeyPair([]byte(goodC), []byte(goodK))
	if err != nil {
		t.Fatal(err)
	}
	badC, badK := other.issue(t, "intruder", nil, true)
	bad, _ := tls.X509KeyPair([]byte(badC), []byte(badK))

	if _, err := httpsGet(addr, "mtls.test", "/", nil, true); err == nil {
		t.Error("no client certificate: accepted")
	}
	if _, err := httpsGet(addr, "mtls.test", "/", &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{bad}}, true); err == nil {
		t.Error("certificate from the wrong CA: accepted")
	}
	r := mustHTTPS(t, addr, "mtls.test", "/", &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{good}}, true)
	if r.Status != 200 || backendName(r.Body) != "tls-backend" {
		t.Fatalf("good client certificate: %d %q", r.Status, r.Body)
	}
	// Other hosts on the same entrypoint do not ask for a certificate.
	if r := mustHTTPS(t, addr, "a.test", "/", nil, true); r.Status != 200 {
		t.Fatalf("a.test: %d", r.Status)
	}

	// curl --cert, when curl is installed.
	if _, err := exec.LookPath("curl"); err == nil {
		dir := t.TempDir()
		cp, kp := writePair(t, dir, "client", goodC, goodK)
		out, err := exec.Command("curl", "-sk", "--http2", "--cert", cp, "--key", kp,
			"--resolve", "mtls.test:"+fmt.Sprint(e.Port("web"))+":127.0.0.1",
			"-o", "/dev/null", "-w", "%{http_code} %{http_version}",
			"https://mtls.test:"+fmt.Sprint(e.Port("web"))+"/").CombinedOutput()
		if err != nil || string(out) != "200 2" {
			t.Fatalf("curl --cert: %v %q", err, out)
		}
	}
}

func TestTLSCertificateHotReload(t *testing.T) {
	t.Parallel()
	e, ca, _ := tlsEnv(t)
	dyn := `
http:
  routers:
    secure:
      rule: "Host(` + "`a.test`" + `)"
      service: tlsback
      tls: {}
  services:
    tlsback:
      loadBalancer:
        servers:
          - url: "<% url "tlsback" %>"
tls:
  certificates:
    - certFile: "<% dir %>/a.crt"
      keyFile: "<% dir %>/a.key"
`
	e.WriteDynamic("yml", dyn)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	e.WaitRouters("secure@file")
	e.WaitListening(e.Addr("web"))
	addr := e.Addr("web")

	// An open HTTP/2 connection keeps working across the certificate swap.
	cfg := &tls.Config{RootCAs: ca.pool(), ServerName: "a.test"}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		}}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	get := func() (*http.Response, error) {
		resp, err := cl.Get("https://a.test/")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	resp, err := get()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("before: %v", err)
	}
	first := resp.TLS.PeerCertificates[0].SerialNumber

	nc, nk := ca.issue(t, "a.test renewed", []string{"a.test"}, false)
	writePair(t, e.Dir, "b", nc, nk)
	e.WriteDynamic("yml", strings.ReplaceAll(dyn, "/a.", "/b."))

	e.waitFor(10*time.Second, "renewed certificate served", func() bool {
		r, err := httpsGet(addr, "a.test", "/", &tls.Config{RootCAs: ca.pool()}, true)
		return err == nil && r.PeerCN == "a.test renewed"
	})
	resp, err = get()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("old connection after reload: %v", err)
	}
	if resp.TLS.PeerCertificates[0].SerialNumber.Cmp(first) != 0 {
		t.Fatal("the kept-alive connection was replaced: reload dropped it")
	}
}

func TestTLSBadCertificate(t *testing.T) {
	t.Parallel()
	e, ca, _ := tlsEnv(t)
	bc, _ := ca.issue(t, "b.test", []string{"b.test"}, false)
	_, otherKey := ca.issue(t, "x", []string{"x"}, false)
	writePair(t, e.Dir, "mismatch", bc, otherKey)
	e.WriteDynamic("yml", `
http:
  routers:
    secure:
      rule: "Host(`+"`a.test`"+`) || Host(`+"`b.test`"+`)"
      service: tlsback
      tls: {}
  services:
    tlsback:
      loadBalancer:
        servers:
          - url: "<% url "tlsback" %>"
tls:
  certificates:
    - certFile: "<% dir %>/mismatch.crt"
      keyFile: "<% dir %>/mismatch.key"
    - certFile: "<% dir %>/missing.crt"
      keyFile: "<% dir %>/missing.key"
    - certFile: "<% dir %>/a.crt"
      keyFile: "<% dir %>/a.key"
`)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	e.WaitRouters("secure@file")
	e.WaitListening(e.Addr("web"))
	r := mustHTTPS(t, e.Addr("web"), "a.test", "/", &tls.Config{RootCAs: ca.pool()}, true)
	if r.Status != 200 {
		t.Fatalf("a.test: %d", r.Status)
	}
	r = mustHTTPS(t, e.Addr("web"), "b.test", "/", nil, true)
	if r.PeerCN != "SWITCHYARD DEFAULT CERT" {
		t.Fatalf("b.test (bad pair) served %q", r.PeerCN)
	}
	out := e.Proc.Output() + e.Proc.Stderr()
	if !strings.Contains(out, "missing.crt") || !strings.Contains(out, "private key does not match") {
		t.Fatalf("errors not reported:\n%s", out)
	}
}

// TestTLSEntryPointDefaults: entryPoints.<n>.http.tls makes every router
// of the entrypoint TLS-only.
func TestTLSEntryPointDefaults(t *testing.T) {
	t.Parallel()
	e, ca, _ := tlsEnv(t)
	e.WriteDynamic("yml", `
http:
  routers:
    app:
      rule: "Host(`+"`a.test`"+`)"
      service: tlsback
  services:
    tlsback:
      loadBalancer:
        servers:
          - url: "<% url "tlsback" %>"
tls:
  certificates:
    - certFile: "<% dir %>/a.crt"
      keyFile: "<% dir %>/a.key"
`)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
    http:
      tls: {}
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
    watch: true
`)
	e.Start()
	e.WaitRouters("app@file")
	e.WaitListening(e.Addr("web"))
	if r := mustHTTPS(t, e.Addr("web"), "a.test", "/", &tls.Config{RootCAs: ca.pool()}, true); r.Status != 200 {
		t.Fatalf("https: %d", r.Status)
	}
	if r := do(t, request{url: e.URL("web") + "/", host: "a.test"}); r.Status != 404 {
		t.Fatalf("plain http on a TLS-default entrypoint: %d", r.Status)
	}
}

// TestTLSOptionsConflict: two routers for one host asking for different
// TLS options get the default options and a warning, as in Traefik.
func TestTLSOptionsConflict(t *testing.T) {
	t.Parallel()
	e, _, _ := tlsEnv(t)
	e.WriteDynamic("yml", `
http:
  routers:
    one:
      rule: "Host(`+"`a.test`"+`) && Path(`+"`/one`"+`)"
      service: tlsback
      tls:
        options: modern
    two:
      rule: "Host(`+"`a.test`"+`) && Path(`+"`/two`"+`)"
      service: tlsback
      tls:
        options: default
  services:
    tlsback:
      loadBalancer:
        servers:
          - url: "<% url "tlsback" %>"
tls:
  options:
    modern:
      minVersion: VersionTLS13
`)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	rd := e.WaitRouters("one@file", "two@file")
	e.WaitListening(e.Addr("web"))
	for _, n := range []string{"one@file", "two@file"} {
		ri := rd.Routers[n]
		if ri.Status != "warning" || !strings.Contains(strings.Join(ri.Error, " "), "different TLS options") {
			t.Fatalf("%s: %+v", n, ri)
		}
	}
	// Default options apply: a TLS 1.2 client is accepted.
	r := mustHTTPS(t, e.Addr("web"), "a.test", "/one", &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12}, true)
	if r.Status != 200 {
		t.Fatalf("got %d", r.Status)
	}
}

// TestTLSMisdirected: a client that handshakes for a host without client
// authentication cannot reach an mTLS host by changing the Host header.
func TestTLSMisdirected(t *testing.T) {
	t.Parallel()
	e, _, _ := tlsEnv(t)
	e.WriteDynamic("yml", tlsDynamic)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	e.WaitRouters("mtls@file", "secure@file")
	e.WaitListening(e.Addr("web"))
	cfg := &tls.Config{InsecureSkipVerify: true, ServerName: "a.test"}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("GET", "https://"+e.Addr("web")+"/", nil)
	req.Host = "mtls.test"
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("Host mtls.test over an a.test handshake: %d, want 421", resp.StatusCode)
	}
	// Same options on both sides: served.
	req.Host = "x.wild.test"
	resp, err = (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("Host x.wild.test over an a.test handshake: %d", resp.StatusCode)
	}
}
