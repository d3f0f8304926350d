package integration

import (
	ctls "crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// Cases found by the fuzz targets (docs/fuzzing.md), checked through the
// real binary.

// TestFuzzFoundProxyV2WithoutAddress: a PROXY v2 header with the PROXY
// command and an unspecified transport (no addresses) from a trusted peer,
// followed by a ClientHello and a hang-up. go-proxyproto reported a nil
// RemoteAddr for it, and the TLS-handshake error log dereferenced it: the
// process crashed (FuzzProxyProtocol). It must keep serving.
func TestFuzzFoundProxyV2WithoutAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.SetURL("back", startWhoami(t, "pp-noaddr"))
	e.DynPath = e.Dir + "/dynamic.yml"
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
    proxyProtocol:
      trustedIPs: ["127.0.0.1/32"]
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
      entryPoints: [web]
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

	// A ClientHello as crypto/tls's client writes it.
	var hello strings.Builder
	_ = ctls.Client(fuzzFoundHelloSink{&hello}, &ctls.Config{ServerName: "a.test", InsecureSkipVerify: true}).Handshake()

	sig := "\r\n\r\n\x00\r\nQUIT\n"
	// Version 2, PROXY command, each address family with an unspecified
	// transport and the length that family's addresses take.
	noAddr := []string{
		sig + "\x21\x00\x00\x00",
		sig + "\x21\x10\x00\x0c" + strings.Repeat("\x01", 12),
		sig + "\x21\x20\x00\x24" + strings.Repeat("\x01", 36),
		sig + "\x21\x30\x00\xd8" + strings.Repeat("\x01", 216),
	}
	for _, header := range noAddr {
		c, err := net.Dial("tcp", e.Addr("web"))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(c, header+hello.String())
		_ = c.Close()
	}
	// Each is served (the peer's address kept) or refused, never hung.
	for _, prefix := range noAddr {
		start := time.Now()
		out := fuzzFoundRoundTrip(t, e.Addr("web"), prefix+"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if d := time.Since(start); d > 8*time.Second || out != "" && !strings.Contains(out, "200 OK") {
			t.Fatalf("address-less PROXY header %q: after %v: %q", prefix, d, out)
		}
	}
	if out := fuzzFoundRoundTrip(t, e.Addr("web"), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); !strings.Contains(out, "200 OK") {
		t.Fatalf("after address-less PROXY headers: %q\nstderr:\n%s", out, e.Proc.Stderr())
	}
	if e.Proc.Exited() {
		t.Fatalf("switchyard exited:\n%s", e.Proc.Stderr())
	}
}

func fuzzFoundRoundTrip(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(c, req)
	b, _ := io.ReadAll(c)
	return string(b)
}

// fuzzFoundHelloSink records what a TLS client writes; its reads fail, ending the
// handshake after the ClientHello.
type fuzzFoundHelloSink struct{ w *strings.Builder }

func (h fuzzFoundHelloSink) Read([]byte) (int, error)         { return 0, io.EOF }
func (h fuzzFoundHelloSink) Write(p []byte) (int, error)      { return h.w.Write(p) }
func (h fuzzFoundHelloSink) Close() error                     { return nil }
func (h fuzzFoundHelloSink) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (h fuzzFoundHelloSink) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (h fuzzFoundHelloSink) SetDeadline(time.Time) error      { return nil }
func (h fuzzFoundHelloSink) SetReadDeadline(time.Time) error  { return nil }
func (h fuzzFoundHelloSink) SetWriteDeadline(time.Time) error { return nil }
