package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// getFrom sends GET url from the loopback address ip (127.0.0.0/8).
func getFrom(t *testing.T, ip, url string) (int, string) {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext:       func(ctx context.Context, n, a string) (net.Conn, error) { return d.DialContext(ctx, n, a) },
		DisableKeepAlives: true,
	}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s from %s: %v", url, ip, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServiceFidelity covers the service options of issue 18 §3 through
// the binary: the highestRandomWeight service, failover.errors and
// http.services.<n>.middlewares.
func TestServiceFidelity(t *testing.T) {
	t.Parallel()
	main := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.HasSuffix(r.URL.Path, "/fail") {
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "main failed")
			return
		}
		fmt.Fprintf(w, "main %s", b)
	})
	fb := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "fallback %s", b)
	})
	rule := func(p string) string { return "PathPrefix(`" + p + "`)" }
	e := startMW(t, "", `
http:
  routers:
    hrw: {rule: "`+rule("/hrw")+`", service: hrw}
    fo: {rule: "`+rule("/fo")+`", service: fo}
    mw: {rule: "`+rule("/mw")+`", service: withmw}
  middlewares:
    strip: {stripPrefix: {prefixes: ["/mw"]}}
    tag: {headers: {customRequestHeaders: {X-Service-Middleware: "yes"}}}
  services:
    hrw:
      highestRandomWeight:
        services: [{name: a}, {name: b}]
    a: {loadBalancer: {servers: [{url: "<% backend "a" %>"}]}}
    b: {loadBalancer: {servers: [{url: "<% backend "b" %>"}]}}
    fo:
      failover:
        service: main
        fallback: fb
        errors: {status: ["500-504"], maxRequestBodyBytes: 16}
    main: {loadBalancer: {servers: [{url: "<% url "main" %>"}]}}
    fb: {loadBalancer: {servers: [{url: "<% url "fb" %>"}]}}
    withmw:
      middlewares: [strip, tag]
      loadBalancer: {servers: [{url: "<% backend "m" %>"}]}
`, func(e *Env) {
		e.SetURL("main", startHandler(t, main))
		e.SetURL("fb", startHandler(t, fb))
	})
	web := e.URL("web")

	t.Run("highestRandomWeight", func(t *testing.T) {
		seen := map[string]int{}
		for i := 2; i < 22; i++ {
			ip := fmt.Sprintf("127.0.0.%d", i)
			code, body := getFrom(t, ip, web+"/hrw")
			first := backendName(body)
			if code != 200 || first == "" {
				t.Fatalf("from %s: %d %q", ip, code, body)
			}
			for range 2 {
				if _, again := getFrom(t, ip, web+"/hrw"); backendName(again) != first {
					t.Fatalf("client %s moved from %s to %s", ip, first, backendName(again))
				}
			}
			seen[first]++
		}
		if len(seen) != 2 {
			t.Errorf("20 client IPs reached %v: want both children", seen)
		}
	})
	t.Run("failover.errors", func(t *testing.T) {
		if r := do(t, request{method: "PUT", url: web + "/fo/ok", body: "x"}); r.Status != 200 || r.Body != "main x" {
			t.Errorf("main answers: %d %q", r.Status, r.Body)
		}
		if r := do(t, request{method: "PUT", url: web + "/fo/fail", body: "again"}); r.Status != 200 || r.Body != "fallback again" {
			t.Errorf("502 of main goes to the fallback with the body: %d %q", r.Status, r.Body)
		}
		if r := do(t, request{method: "PUT", url: web + "/fo/fail", body: strings.Repeat("y", 17)}); r.Status != 413 {
			t.Errorf("body over maxRequestBodyBytes: %d %q", r.Status, r.Body)
		}
		raw := e.WaitAPI(15*time.Second, "failover service", func(rd *Rawdata) bool { _, ok := rd.Services["fo@file"]; return ok })
		if s := raw.Services["fo@file"]; s.Status != "enabled" {
			t.Errorf("failover without health checks on main, with errors: %+v", s)
		}
	})
	t.Run("service middlewares", func(t *testing.T) {
		r := get(t, e, "/mw/x", nil)
		if r.Status != 200 || backendName(r.Body) != "m" || !strings.Contains(r.Body, "GET /x ") || !strings.Contains(r.Body, "X-Service-Middleware: yes") {
			t.Errorf("service middlewares not applied: %d %s", r.Status, r.Body)
		}
		raw := e.WaitAPI(15*time.Second, "middleware used by the service", func(rd *Rawdata) bool {
			return len(rd.Middlewares["strip@file"].UsedBy) > 0
		})
		if u := raw.Middlewares["strip@file"].UsedBy; len(u) != 1 || u[0] != "withmw@file" {
			t.Errorf("strip usedBy %v", u)
		}
	})
}

// TestServersTransportTLSFidelity: minVersion, maxVersion and cipherSuites
// of http.serversTransports bound the handshake with a real HTTPS backend
// (TLS 1.2 at most); a bad value disables the services using it.
func TestServersTransportTLSFidelity(t *testing.T) {
	t.Parallel()
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%x %s", r.TLS.Version, tls.CipherSuiteName(r.TLS.CipherSuite))
	}))
	be.TLS = &tls.Config{MaxVersion: tls.VersionTLS12}
	be.StartTLS()
	t.Cleanup(be.Close)
	rule := func(p string) string { return "PathPrefix(`" + p + "`)" }
	e := startMW(t, "", `
http:
  routers:
    tls12: {rule: "`+rule("/tls12")+`", service: tls12}
    tls13: {rule: "`+rule("/tls13")+`", service: tls13}
    cipher: {rule: "`+rule("/cipher")+`", service: cipher}
    bad: {rule: "`+rule("/bad")+`", service: bad}
  serversTransports:
    max12: {insecureSkipVerify: true, minVersion: VersionTLS12, maxVersion: VersionTLS12}
    min13: {insecureSkipVerify: true, minVersion: VersionTLS13}
    chacha: {insecureSkipVerify: true, cipherSuites: [TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256]}
    badver: {insecureSkipVerify: true, minVersion: TLS1.3}
  services:
    tls12: {loadBalancer: {serversTransport: max12, servers: [{url: "<% url "be" %>"}]}}
    tls13: {loadBalancer: {serversTransport: min13, servers: [{url: "<% url "be" %>"}]}}
    cipher: {loadBalancer: {serversTransport: chacha, servers: [{url: "<% url "be" %>"}]}}
    bad: {loadBalancer: {serversTransport: badver, servers: [{url: "<% url "be" %>"}]}}
`, func(e *Env) { e.SetURL("be", be.URL) })
	if r := get(t, e, "/tls12", nil); r.Status != 200 || !strings.HasPrefix(r.Body, "303 ") {
		t.Errorf("maxVersion TLS 1.2: %d %q", r.Status, r.Body)
	}
	if r := get(t, e, "/tls13", nil); r.Status != 502 {
		t.Errorf("minVersion TLS 1.3 against a TLS 1.2 server: %d %q", r.Status, r.Body)
	}
	if r := get(t, e, "/cipher", nil); r.Status != 200 || r.Body != "303 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" {
		t.Errorf("cipherSuites: %d %q", r.Status, r.Body)
	}
	raw := e.WaitAPI(15*time.Second, "service bad@file disabled", func(rd *Rawdata) bool { return rd.Services["bad@file"].Status == "disabled" })
	if s := raw.Services["bad@file"]; !strings.Contains(strings.Join(s.Error, " "), `minVersion: unknown TLS version "TLS1.3"`) {
		t.Errorf("bad minVersion: %+v", s)
	}
}
