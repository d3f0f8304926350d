package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

type svcTestCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newSvcTestCA(t *testing.T) *svcTestCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &svcTestCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a leaf certificate and key (PEM) signed by the CA.
func (ca *svcTestCA) issue(t *testing.T, cn string, dns []string, uris []string, ips []net.IP, usage x509.ExtKeyUsage) ([]byte, []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var us []*url.URL
	for _, u := range uris {
		pu, _ := url.Parse(u)
		us = append(us, pu)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: dns, URIs: us, IPAddresses: ips, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// TestServicesServersTransports checks serversTransport options against real
// TLS backends: serverName, rootCAs, client certificates (mTLS), peerCertURI,
// disableHTTP2, insecureSkipVerify, responseHeaderTimeout, the static
// default, and that a transport's connections survive an unrelated reload.
func TestServicesServersTransports(t *testing.T) {
	t.Parallel()
	ca := newSvcTestCA(t)
	srvCert, srvKey := ca.issue(t, "backend", []string{"backend.internal"}, []string{"spiffe://example.org/api"}, []net.IP{net.ParseIP("127.0.0.1")}, x509.ExtKeyUsageServerAuth)
	cliCert, cliKey := ca.issue(t, "switchyard", nil, nil, nil, x509.ExtKeyUsageClientAuth)
	pair, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.pem)

	var mtlsConns atomic.Int64
	start := func(clientAuth tls.ClientAuthType, conns *atomic.Int64) string {
		s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "Name: tls\nProto: %s\n", r.Proto)
		}))
		s.EnableHTTP2 = true
		s.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: clientAuth, ClientCAs: pool}
		if conns != nil {
			s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
				if st == http.StateNew {
					conns.Add(1)
				}
			}
		}
		s.StartTLS()
		t.Cleanup(s.Close)
		return s.URL
	}
	mtls := start(tls.RequireAndVerifyClientCert, &mtlsConns)
	plain := start(tls.NoClientCert, nil)
	slow := startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	}))

	e := newEnv(t)
	write := func(name string, data []byte) string {
		p := filepath.Join(e.Dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	e.SetURL("ca", write("ca.pem", ca.pem))
	e.SetURL("cert", write("client.pem", cliCert))
	e.SetURL("key", write("client-key.pem", cliKey))
	e.SetURL("mtls", mtls)
	e.SetURL("plain", plain)
	e.SetURL("slow", slow)
	e.SetURL("extra", "")
	routes := []string{"good", "h1", "nocert", "wronguri", "wrongname", "insecure", "slow", "default"}
	dyn := `
http:
  routers:
<% url "extra" %>`
	for _, r := range routes {
		dyn += fmt.Sprintf("    %s: {rule: \"PathPrefix(`/%s`)\", service: %s}\n", r, r, r)
	}
	dyn += `
  services:
    good: {loadBalancer: {serversTransport: full, servers: [{url: "<% url "mtls" %>"}]}}
    h1: {loadBalancer: {serversTransport: h1, servers: [{url: "<% url "mtls" %>"}]}}
    nocert: {loadBalancer: {serversTransport: nocert, servers: [{url: "<% url "mtls" %>"}]}}
    wronguri: {loadBalancer: {serversTransport: wronguri, servers: [{url: "<% url "mtls" %>"}]}}
    wrongname: {loadBalancer: {serversTransport: wrongname, servers: [{url: "<% url "mtls" %>"}]}}
    insecure: {loadBalancer: {serversTransport: insecure, servers: [{url: "<% url "mtls" %>"}]}}
    slow: {loadBalancer: {serversTransport: slow, servers: [{url: "<% url "slow" %>"}]}}
    default: {loadBalancer: {servers: [{url: "<% url "plain" %>"}]}}
  serversTransports:
    full: &full
      serverName: backend.internal
      rootCAs: ["<% url "ca" %>"]
      certificates: [{certFile: "<% url "cert" %>", keyFile: "<% url "key" %>"}]
      peerCertURI: spiffe://example.org/api
    h1:
      serverName: backend.internal
      rootCAs: ["<% url "ca" %>"]
      certificates: [{certFile: "<% url "cert" %>", keyFile: "<% url "key" %>"}]
      disableHTTP2: true
    nocert:
      serverName: backend.internal
      rootCAs: ["<% url "ca" %>"]
    wronguri:
      serverName: backend.internal
      rootCAs: ["<% url "ca" %>"]
      certificates: [{certFile: "<% url "cert" %>", keyFile: "<% url "key" %>"}]
      peerCertURI: spiffe://example.org/other
    wrongname:
      serverName: other.internal
      rootCAs: ["<% url "ca" %>"]
      certificates: [{certFile: "<% url "cert" %>", keyFile: "<% url "key" %>"}]
    insecure:
      insecureSkipVerify: true
      certificates: [{certFile: "<% url "cert" %>", keyFile: "<% url "key" %>"}]
    slow:
      forwardingTimeouts: {responseHeaderTimeout: 200ms}
`
	e.WriteDynamic("yml", dyn)
	e.WriteStatic("yml", staticYAML+`
serversTransport:
  rootCAs: ["<% url "ca" %>"]
`)
	e.Start()
	e.WaitRouters("good@file", "default@file")
	e.WaitListening(e.Addr("web"))

	for _, tc := range []struct {
		path   string
		status int
		proto  string
	}{
		{"/good", 200, "HTTP/2.0"},
		{"/h1", 200, "HTTP/1.1"},
		{"/nocert", 502, ""},
		{"/wronguri", 502, ""},
		{"/wrongname", 502, ""},
		{"/insecure", 200, "HTTP/2.0"},
		{"/slow", 504, ""},
		{"/default", 200, "HTTP/2.0"},
	} {
		rep := do(t, request{url: e.URL("web") + tc.path})
		if rep.Status != tc.status || (tc.proto != "" && !strings.Contains(rep.Body, "Proto: "+tc.proto)) {
			t.Errorf("%s: %d %q, want %d %s", tc.path, rep.Status, rep.Body, tc.status, tc.proto)
		}
	}

	// An unrelated reload keeps the transport and its HTTP/2 connection.
	for range 5 {
		do(t, request{url: e.URL("web") + "/good"})
	}
	before := mtlsConns.Load()
	e.SetURL("extra", `    other: {rule: "PathPrefix(`+"`/other`"+`)", service: good}`+"\n")
	e.WriteDynamic("yml", dyn)
	e.WaitRouters("other@file")
	for range 5 {
		if rep := do(t, request{url: e.URL("web") + "/good"}); rep.Status != 200 {
			t.Fatalf("after reload: %d", rep.Status)
		}
	}
	if after := mtlsConns.Load(); after != before {
		t.Errorf("backend saw %d new connections after an unrelated reload", after-before)
	}
}

// TestServicesTransportIdleTimeout: forwardingTimeouts.idleConnTimeout closes
// pooled backend connections; without it they are reused.
func TestServicesTransportIdleTimeout(t *testing.T) {
	t.Parallel()
	var conns atomic.Int64
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "Name: idle\n")
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	e := newEnv(t)
	e.SetURL("b", s.URL)
	e.WriteDynamic("yml", `
http:
  routers:
    short: {rule: "PathPrefix(`+"`/short`"+`)", service: short}
    long: {rule: "PathPrefix(`+"`/long`"+`)", service: long}
  services:
    short: {loadBalancer: {serversTransport: short, servers: [{url: "<% url "b" %>"}]}}
    long: {loadBalancer: {serversTransport: long, servers: [{url: "<% url "b" %>"}]}}
  serversTransports:
    short: {forwardingTimeouts: {idleConnTimeout: 100ms}}
    long: {maxIdleConnsPerHost: 4}
`)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	e.WaitRouters("short@file", "long@file")
	e.WaitListening(e.Addr("web"))
	for _, tc := range []struct {
		path string
		want int64
	}{{"/long", 1}, {"/short", 2}} {
		before := conns.Load()
		do(t, request{url: e.URL("web") + tc.path})
		time.Sleep(600 * time.Millisecond)
		do(t, request{url: e.URL("web") + tc.path})
		if got := conns.Load() - before; got != tc.want {
			t.Errorf("%s: %d backend connections for two requests 600ms apart, want %d", tc.path, got, tc.want)
		}
	}
}

// blackhole listens with a zero backlog and never accepts: once one
// connection is pending, further dials hang until their timeout.
func blackhole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Skipf("raw socket: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Skipf("bind: %v", err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Skipf("listen: %v", err)
	}
	sa, _ := syscall.Getsockname(fd)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	c, err := net.DialTimeout("tcp", addr, time.Second) // fills the backlog
	if err != nil {
		t.Skipf("fill backlog: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if c2, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
		c2.Close()
		t.Skip("this kernel accepts beyond a zero backlog")
	}
	return "http://" + addr
}

// TestServicesTransportDialTimeout: forwardingTimeouts.dialTimeout bounds the
// connect to a backend that never answers the handshake.
func TestServicesTransportDialTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.SetURL("hole", blackhole(t))
	e.WriteDynamic("yml", `
http:
  routers:
    app: {rule: "PathPrefix(`+"`/`"+`)", service: app}
  services:
    app: {loadBalancer: {serversTransport: quick, servers: [{url: "<% url "hole" %>"}]}}
  serversTransports:
    quick: {forwardingTimeouts: {dialTimeout: 300ms}}
`)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	e.WaitRouters("app@file")
	e.WaitListening(e.Addr("web"))
	start := time.Now()
	rep := do(t, request{url: e.URL("web") + "/"})
	took := time.Since(start)
	if rep.Status != http.StatusGatewayTimeout && rep.Status != http.StatusBadGateway {
		t.Errorf("status %d, want 504 or 502", rep.Status)
	}
	if took > 10*time.Second {
		t.Errorf("answered after %v: dialTimeout 300ms not applied", took)
	}
	t.Logf("dial timeout answered %d after %v", rep.Status, took)
}
