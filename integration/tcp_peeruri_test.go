package integration

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"testing"
	"time"
)

// TestTCPPeerCertURI: tcp.serversTransports.<n>.tls.peerCertURI accepts a
// TLS backend only when its certificate (chained to rootCAs) carries that
// URI SAN; a backend without it, or with another one, is refused.
func TestTCPPeerCertURI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca := newSvcTestCA(t)
	writeFile(t, e.Dir, "ca.pem", string(ca.pem))
	backend := func(uris []string) string {
		c, k := ca.issue(t, "db", []string{"db.internal"}, uris, []net.IP{net.ParseIP("127.0.0.1")}, x509.ExtKeyUsageServerAuth)
		cert, err := tls.X509KeyPair(c, k)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
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
					_ = c.SetDeadline(time.Now().Add(5 * time.Second))
					if c.(*tls.Conn).Handshake() == nil {
						_, _ = io.WriteString(c, "hello")
					}
				}()
			}
		}()
		return ln.Addr().String()
	}
	e.SetURL("good", backend([]string{"spiffe://example.org/db"}))
	e.SetURL("other", backend([]string{"spiffe://example.org/other"}))
	e.SetURL("none", backend(nil))
	e.DynPath = e.Dir + "/dynamic.yml"
	e.WriteStatic("yml", `
entryPoints:
  good:
    address: "<% addr "good" %>"
  other:
    address: "<% addr "other" %>"
  none:
    address: "<% addr "none" %>"
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
    good:
      entryPoints: [good]
      rule: "HostSNI(`+"`*`"+`)"
      service: good
    other:
      entryPoints: [other]
      rule: "HostSNI(`+"`*`"+`)"
      service: other
    none:
      entryPoints: [none]
      rule: "HostSNI(`+"`*`"+`)"
      service: none
  services:
    good:
      loadBalancer:
        serversTransport: spiffe
        servers: [{address: "<% url "good" %>"}]
    other:
      loadBalancer:
        serversTransport: spiffe
        servers: [{address: "<% url "other" %>"}]
    none:
      loadBalancer:
        serversTransport: spiffe
        servers: [{address: "<% url "none" %>"}]
  serversTransports:
    spiffe:
      dialTimeout: 2s
      tls:
        rootCAs: ["<% dir %>/ca.pem"]
        peerCertURI: "spiffe://example.org/db"
`)
	e.Start()
	var raw struct {
		TCPRouters map[string]map[string]any `json:"tcpRouters"`
	}
	e.waitFor(10*time.Second, "tcp routers", func() bool {
		return getJSON(e.URL("traefik")+"/api/rawdata", &raw) == nil && len(raw.TCPRouters) == 3
	})
	for _, ep := range []string{"good", "other", "none"} {
		e.WaitListening(e.Addr(ep))
		c, err := net.Dial("tcp", e.Addr(ep))
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		got, _ := io.ReadAll(c)
		c.Close()
		want := ""
		if ep == "good" {
			want = "hello"
		}
		if string(got) != want {
			t.Errorf("%s backend: got %q, want %q", ep, got, want)
		}
	}
	if out := e.Proc.Output(); !containsFold(out, "no URI SAN") {
		t.Logf("log does not name the URI SAN refusal (debug level off?)")
	}
}
