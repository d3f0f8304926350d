package http1

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"testing"
	"time"
	"unsafe"
)

func shrinkTestConfig(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: []string{"example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// TestShrinkTLS: after a handshake and a record, crypto/tls's receive
// buffers hold capacity (the ClientHello's size); shrinkTLS drops it and
// the connection reads the next records as before.
func TestShrinkTLS(t *testing.T) {
	if tlsBuffers.raw == 0 {
		t.Fatal("crypto/tls's rawInput/input/hand not found: shrinkTLS is disabled on this Go release")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // throwaway test certificate
		defer tc.Close()
		for _, m := range []string{"first", "second", "third"} {
			if _, err := tc.Write([]byte(m)); err != nil {
				return
			}
			var b [1]byte
			if _, err := tc.Read(b[:]); err != nil { // wait for the server's turn
				return
			}
		}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Server(c, shrinkTestConfig(t))
	defer tc.Close()
	rawCap := func() int {
		return (*bytes.Buffer)(unsafe.Add(unsafe.Pointer(tc), tlsBuffers.raw)).Cap()
	}
	for i, want := range []string{"first", "second", "third"} {
		b := make([]byte, len(want))
		if _, err := io.ReadFull(tc, b); err != nil || string(b) != want {
			t.Fatalf("record %d: %q %v", i, b, err)
		}
		if i == 0 && rawCap() == 0 {
			t.Fatal("rawInput holds no capacity after the handshake: nothing to test")
		}
		shrinkTLS(tc)
		if n := rawCap(); n != 0 {
			t.Fatalf("record %d: rawInput keeps %d bytes after shrinkTLS", i, n)
		}
		if _, err := tc.Write([]byte{'k'}); err != nil {
			t.Fatal(err)
		}
	}
}
