package tlcp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"testing"
	"time"
)

// Benchmarks beside TLS 1.3 ECDHE-P256 on the same machine:
//   go test -run X -bench . -benchtime 2s ./tls/tlcp
// Handshakes are full (no resumption) over loopback TCP; throughput is
// one direction, 16 KiB writes.

func p256Config(b *testing.B) (*tls.Config, *tls.Config) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench"}, DNSNames: []string{"sm.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		b.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	srv := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: k, Leaf: leaf}}, MinVersion: tls.VersionTLS13,
		CurvePreferences: []tls.CurveID{tls.CurveP256}, SessionTicketsDisabled: true}
	cli := &tls.Config{RootCAs: pool, ServerName: "sm.example.com", CurvePreferences: []tls.CurveID{tls.CurveP256}, CipherSuites: nil}
	return srv, cli
}

type conner interface {
	net.Conn
	Handshake() error
}

func benchPair(b *testing.B, server func(net.Conn) conner, client func(net.Conn) conner) (conner, conner) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan conner, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			ch <- nil
			return
		}
		s := server(c)
		if err := s.Handshake(); err != nil {
			ch <- nil
			return
		}
		ch <- s
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	c := client(raw)
	if err := c.Handshake(); err != nil {
		b.Fatal(err)
	}
	s := <-ch
	if s == nil {
		b.Fatal("server handshake failed")
	}
	return s, c
}

func benchHandshakes(b *testing.B, server func(net.Conn) conner, client func(net.Conn) conner) {
	b.ReportAllocs()
	for b.Loop() {
		s, c := benchPair(b, server, client)
		_ = c.Close()
		_ = s.Close()
	}
}

func benchThroughput(b *testing.B, server func(net.Conn) conner, client func(net.Conn) conner) {
	s, c := benchPair(b, server, client)
	defer s.Close()
	defer c.Close()
	buf := make([]byte, 16<<10)
	b.SetBytes(int64(len(buf)))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(io.Discard, s)
	}()
	for b.Loop() {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	_ = c.Close()
	<-done
}

func tlcpSides(b *testing.B, suite uint16) (func(net.Conn) conner, func(net.Conn) conner) {
	p, _ := testPKI(b)
	scfg := serverConfig(b, p)
	scfg.SessionCache = nil
	ccfg := clientConfig(b, p)
	ccfg.CipherSuites = []uint16{suite}
	return func(c net.Conn) conner { return Server(c, scfg) }, func(c net.Conn) conner { return Client(c, ccfg) }
}

func tls13Sides(b *testing.B) (func(net.Conn) conner, func(net.Conn) conner) {
	srv, cli := p256Config(b)
	return func(c net.Conn) conner { return tls.Server(c, srv) }, func(c net.Conn) conner { return tls.Client(c, cli) }
}

func BenchmarkHandshakeTLCP_ECC_SM4_GCM_SM3(b *testing.B) {
	s, c := tlcpSides(b, ECC_SM4_GCM_SM3)
	benchHandshakes(b, s, c)
}

func BenchmarkHandshakeTLS13_ECDHE_P256(b *testing.B) {
	s, c := tls13Sides(b)
	benchHandshakes(b, s, c)
}

func BenchmarkThroughputTLCP_SM4_GCM(b *testing.B) {
	s, c := tlcpSides(b, ECC_SM4_GCM_SM3)
	benchThroughput(b, s, c)
}

func BenchmarkThroughputTLCP_SM4_CBC(b *testing.B) {
	s, c := tlcpSides(b, ECC_SM4_CBC_SM3)
	benchThroughput(b, s, c)
}

func BenchmarkThroughputTLS13_AES128GCM(b *testing.B) {
	s, c := tls13Sides(b)
	benchThroughput(b, s, c)
}
