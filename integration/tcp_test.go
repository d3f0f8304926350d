package integration

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	proxyproto "github.com/pires/go-proxyproto"
)

// startTCPEcho starts a TCP backend that reads until the client half-closes,
// then answers "name|<PROXY source or ->|<data>" and closes. With tlsCert
// it speaks TLS; with pp it expects a PROXY protocol header.
func startTCPEcho(t testing.TB, name string, tlsCert *tls.Certificate, pp bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if pp {
		ln = &proxyproto.Listener{Listener: ln}
	}
	if tlsCert != nil {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*tlsCert}})
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				data, _ := io.ReadAll(c)
				src := "-"
				if pc, ok := c.(*proxyproto.Conn); ok && pc.ProxyHeader() != nil {
					src = pc.RemoteAddr().String()
				}
				fmt.Fprintf(c, "%s|%s|%s", name, src, data)
			}()
		}
	}()
	return ln.Addr().String()
}

// tcpExchange writes msg, half-closes, and returns everything read back.
func tcpExchange(c net.Conn, msg string) (string, error) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		return "", err
	}
	switch cw := c.(type) {
	case *net.TCPConn:
		_ = cw.CloseWrite()
	case *tls.Conn:
		_ = cw.CloseWrite()
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

func TestTCPRouters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca := newCA(t, "tcp CA")
	pc, pk := ca.issue(t, "pass.test", []string{"pass.test"}, false)
	passCert, err := tls.X509KeyPair([]byte(pc), []byte(pk))
	if err != nil {
		t.Fatal(err)
	}
	tc, tk := ca.issue(t, "term.test", []string{"term.test"}, false)
	writePair(t, e.Dir, "term", tc, tk)

	e.SetURL("plain1", startTCPEcho(t, "plain1", nil, false))
	e.SetURL("plain2", startTCPEcho(t, "plain2", nil, false))
	e.SetURL("pass", startTCPEcho(t, "pass", &passCert, false))
	e.SetURL("term", startTCPEcho(t, "term", nil, false))
	e.SetURL("pp", startTCPEcho(t, "pp", nil, true))
	e.SetURL("http", startWhoami(t, "http-backend"))

	e.DynPath = e.Dir + "/dynamic.yml"
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  tcp:
    address: "<% addr "tcp" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
log:
  level: DEBUG
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.WriteDynamic("yml", `
http:
  routers:
    web:
      entryPoints: [web]
      rule: "PathPrefix(`+"`/`"+`)"
      service: http
  services:
    http:
      loadBalancer:
        servers:
          - url: "<% url "http" %>"
tcp:
  routers:
    catchall:
      entryPoints: [tcp]
      rule: "HostSNI(`+"`*`"+`)"
      service: weighted
    passthrough:
      entryPoints: [web, tcp]
      rule: "HostSNI(`+"`pass.test`"+`)"
      service: pass
      tls:
        passthrough: true
    terminate:
      entryPoints: [web]
      rule: "HostSNI(`+"`term.test`"+`) && ALPN(`+"`x-echo`"+`)"
      service: term
      tls: {}
    proxied:
      entryPoints: [web]
      rule: "HostSNIRegexp(`+"`^pp[.]`"+`) || (HostSNI(`+"`other.test`"+`) && !ClientIP(`+"`127.0.0.1`"+`))"
      service: pp
      tls: {}
    denied:
      entryPoints: [web]
      rule: "HostSNI(`+"`denied.test`"+`)"
      service: pass
      middlewares: [deny-local, limit]
      tls:
        passthrough: true
    badrule:
      entryPoints: [tcp]
      rule: "HostSNI(`+"`x.test`"+`)"
      service: pass
    bad-service:
      entryPoints: [tcp]
      rule: "HostSNI(`+"`*`"+`) && ClientIP(`+"`10.0.0.0/8`"+`)"
      service: nothere
  middlewares:
    deny-local:
      ipDenyList:
        sourceRange: ["127.0.0.1/32"]
    limit:
      inFlightConn:
        amount: 10
  services:
    weighted:
      weighted:
        services:
          - name: plain1
            weight: 3
          - name: plain2
            weight: 1
    plain1:
      loadBalancer:
        servers:
          - address: "<% url "plain1" %>"
    plain2:
      loadBalancer:
        servers:
          - address: "<% url "plain2" %>"
    pass:
      loadBalancer:
        servers:
          - address: "<% url "pass" %>"
    term:
      loadBalancer:
        servers:
          - address: "<% url "term" %>"
    pp:
      loadBalancer:
        proxyProtocol:
          version: 2
        servers:
          - address: "<% url "pp" %>"
tls:
  certificates:
    - certFile: "<% dir %>/term.crt"
      keyFile: "<% dir %>/term.key"
`)
	e.Start()
	e.WaitRouters("web@file")
	e.WaitListening(e.Addr("web"))
	e.WaitListening(e.Addr("tcp"))
	tcpAPI := func() map[string]map[string]any {
		var raw struct {
			TCPRouters map[string]map[string]any `json:"tcpRouters"`
		}
		e.waitFor(10*time.Second, "tcp routers in the API", func() bool {
			return getJSON(e.URL("traefik")+"/api/rawdata", &raw) == nil && len(raw.TCPRouters) > 0
		})
		return raw.TCPRouters
	}

	t.Run("catch-all non-TLS router, weighted 3:1, half-close", func(t *testing.T) {
		counts := map[string]int{}
		for i := range 8 {
			c, err := net.Dial("tcp", e.Addr("tcp"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := tcpExchange(c, fmt.Sprintf("hello %d", i))
			c.Close()
			if err != nil {
				t.Fatal(err)
			}
			name, rest, _ := strings.Cut(got, "|")
			if !strings.HasSuffix(rest, fmt.Sprintf("hello %d", i)) {
				t.Fatalf("reply %q", got)
			}
			counts[name]++
		}
		if counts["plain1"] != 6 || counts["plain2"] != 2 {
			t.Fatalf("weights 3:1 gave %v", counts)
		}
	})
	t.Run("TLS passthrough keeps the backend's certificate", func(t *testing.T) {
		for _, ep := range []string{"web", "tcp"} {
			c, err := tlsDial(e.Addr(ep), &tls.Config{ServerName: "pass.test", RootCAs: ca.pool()})
			if err != nil {
				t.Fatalf("%s: %v", ep, err)
			}
			got, err := tcpExchange(c, "secret")
			c.Close()
			if err != nil || got != "pass|-|secret" {
				t.Fatalf("%s: %q %v", ep, got, err)
			}
		}
	})
	t.Run("TLS termination with ALPN rule", func(t *testing.T) {
		c, err := tlsDial(e.Addr("web"), &tls.Config{ServerName: "term.test", RootCAs: ca.pool(), NextProtos: []string{"x-echo"}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := tcpExchange(c, "clear")
		c.Close()
		if err != nil || got != "term|-|clear" {
			t.Fatalf("%q %v", got, err)
		}
		// Without the ALPN protocol the HTTP side answers (404 over TLS).
		r := mustHTTPS(t, e.Addr("web"), "term.test", "/", &tls.Config{RootCAs: ca.pool()}, true)
		if r.Status != 404 {
			t.Fatalf("term.test over HTTPS: %d", r.Status)
		}
	})
	t.Run("PROXY protocol v2 to the backend", func(t *testing.T) {
		c, err := tlsDial(e.Addr("web"), &tls.Config{ServerName: "pp.test", InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		local := c.LocalAddr().String()
		got, err := tcpExchange(c, "x")
		c.Close()
		if err != nil || got != "pp|"+local+"|x" {
			t.Fatalf("%q %v (client %s)", got, err, local)
		}
	})
	t.Run("ipDenyList middleware closes the connection", func(t *testing.T) {
		c, err := tlsDial(e.Addr("web"), &tls.Config{ServerName: "denied.test", InsecureSkipVerify: true})
		if err == nil {
			c.Close()
			t.Fatal("denied client completed a handshake")
		}
	})
	t.Run("HTTP and TCP routers on one entrypoint", func(t *testing.T) {
		r := do(t, request{url: e.URL("web") + "/"})
		if r.Status != 200 || backendName(r.Body) != "http-backend" {
			t.Fatalf("%d %q", r.Status, r.Body)
		}
	})
	t.Run("errors on objects", func(t *testing.T) {
		rs := tcpAPI()
		if st := rs["badrule@file"]["status"]; st != "disabled" {
			t.Fatalf("badrule: %v", rs["badrule@file"])
		}
		if st := rs["bad-service@file"]["status"]; st != "disabled" {
			t.Fatalf("bad-service: %v", rs["bad-service@file"])
		}
		if st := rs["catchall@file"]["status"]; st != "enabled" {
			t.Fatalf("catchall: %v", rs["catchall@file"])
		}
	})
}

// TestProxyProtocolIn: an entrypoint trusting 127.0.0.1 takes the client
// address from PROXY v1 and v2 headers.
func TestProxyProtocolIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.SetURL("back", startWhoami(t, "pp-in"))
	e.DynPath = e.Dir + "/dynamic.yml"
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
    proxyProtocol:
      trustedIPs: ["127.0.0.1/32"]
  untrusted:
    address: "<% addr "untrusted" %>"
    proxyProtocol:
      trustedIPs: ["10.0.0.1"]
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.WriteDynamic("yml", `
http:
  routers:
    app:
      entryPoints: [web, untrusted]
      rule: "PathPrefix(`+"`/`"+`)"
      service: back
  services:
    back:
      loadBalancer:
        servers:
          - url: "<% url "back" %>"
`)
	e.Start()
	e.WaitRouters("app@file")
	e.WaitListening(e.Addr("web"))

	send := func(addr string, version byte) string {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		src := &net.TCPAddr{IP: net.ParseIP("203.0.113.7"), Port: 4242}
		h := proxyproto.HeaderProxyFromAddrs(version, src, c.RemoteAddr())
		if _, err := h.WriteTo(c); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(bufio.NewReader(c))
		return string(b)
	}
	for _, v := range []byte{1, 2} {
		if out := send(e.Addr("web"), v); !strings.Contains(out, "RemoteAddr: ") || !strings.Contains(out, "X-Forwarded-For: 203.0.113.7") {
			t.Fatalf("v%d trusted: client address not taken from the header:\n%s", v, out)
		}
		if out := send(e.Addr("untrusted"), v); strings.Contains(out, "203.0.113.7") || !strings.Contains(out, "200 OK") {
			t.Fatalf("v%d untrusted: header used or request failed:\n%s", v, out)
		}
	}
}

// getJSON decodes GET url into out.
func getJSON(url string, out any) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// TestTCPBackendMTLS: a TCP serversTransport presents a client certificate
// and checks the backend against a root CA and server name.
func TestTCPBackendMTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca := newCA(t, "backend CA")
	sc, sk := ca.issue(t, "backend.internal", []string{"backend.internal"}, false)
	srvCert, _ := tls.X509KeyPair([]byte(sc), []byte(sk))
	cc, ck := ca.issue(t, "proxy", nil, true)
	writePair(t, e.Dir, "client", cc, ck)
	writeFile(t, e.Dir, "ca.pem", ca.PEM)

	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{srvCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.pool(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := c.(*tls.Conn)
				_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
				if err := tc.Handshake(); err != nil {
					return
				}
				fmt.Fprintf(c, "hello %s", tc.ConnectionState().PeerCertificates[0].Subject.CommonName)
			}()
		}
	}()
	e.SetURL("back", ln.Addr().String())
	e.DynPath = e.Dir + "/dynamic.yml"
	e.WriteStatic("yml", `
entryPoints:
  tcp:
    address: "<% addr "tcp" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.WriteDynamic("yml", `
tcp:
  routers:
    app:
      entryPoints: [tcp]
      rule: "HostSNI(`+"`*`"+`)"
      service: back
  services:
    back:
      loadBalancer:
        serversTransport: mtls
        servers:
          - address: "<% url "back" %>"
  serversTransports:
    mtls:
      dialTimeout: 2s
      tls:
        serverName: backend.internal
        rootCAs: ["<% dir %>/ca.pem"]
        certificates:
          - certFile: "<% dir %>/client.crt"
            keyFile: "<% dir %>/client.key"
`)
	e.Start()
	var raw struct {
		TCPRouters map[string]map[string]any `json:"tcpRouters"`
	}
	e.waitFor(10*time.Second, "tcp router", func() bool {
		return getJSON(e.URL("traefik")+"/api/rawdata", &raw) == nil && len(raw.TCPRouters) > 0
	})
	e.WaitListening(e.Addr("tcp"))
	c, err := net.Dial("tcp", e.Addr("tcp"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	got, _ := io.ReadAll(c)
	if string(got) != "hello proxy" {
		t.Fatalf("got %q", got)
	}
}
