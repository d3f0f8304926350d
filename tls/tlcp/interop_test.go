package tlcp

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tjfoc/gmsm/gmtls"
	tjx509 "github.com/tjfoc/gmsm/x509"
)

// Interop with github.com/tjfoc/gmsm/gmtls, an independent TLCP
// implementation (CBC suites only): its client against our server, our
// client against its server.

func tjPair(t *testing.T, certPEM, keyPEM []byte) gmtls.Certificate {
	t.Helper()
	c, err := gmtls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatalf("tjfoc cannot load our PEM: %v", err)
	}
	return c
}

func tjPool(t *testing.T, pemCA []byte) *tjx509.CertPool {
	p := tjx509.NewCertPool()
	if !p.AppendCertsFromPEM(pemCA) {
		t.Fatal("tjfoc cannot read our CA")
	}
	return p
}

// serveOnce accepts connections with our server and echoes one line.
func serveEcho(t *testing.T, cfg *Config) (addr string, results chan *Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	results = make(chan *Conn, 8)
	go func() {
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
				c := Server(raw, cfg)
				defer c.Close()
				if err := c.Handshake(); err != nil {
					results <- nil
					return
				}
				results <- c
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), results
}

func tjRoundTrip(t *testing.T, c *gmtls.Conn, size int) {
	t.Helper()
	msg := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
	go func() { _, _ = c.Write(msg) }()
	got := make([]byte, size)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("echo differs")
	}
}

func TestInteropTjfocClientOurServer(t *testing.T) {
	p, other := testPKI(t)
	for _, auth := range []tls.ClientAuthType{tls.NoClientCert, tls.RequireAndVerifyClientCert} {
		t.Run(auth.String(), func(t *testing.T) {
			scfg := serverConfig(t, p)
			scfg.ClientAuth = auth
			addr, results := serveEcho(t, scfg)
			ccfg := &gmtls.Config{
				GMSupport:          &gmtls.GMSupport{},
				RootCAs:            tjPool(t, p.CACert),
				ServerName:         "sm.example.com",
				ClientSessionCache: gmtls.NewLRUClientSessionCache(4),
			}
			if auth != tls.NoClientCert {
				ccfg.Certificates = []gmtls.Certificate{tjPair(t, p.ClientCert, p.ClientKey)}
			}
			for i := range 2 {
				c, err := gmtls.Dial("tcp", addr, ccfg)
				if err != nil {
					t.Fatalf("dial %d: %v", i, err)
				}
				srv := <-results
				if srv == nil {
					t.Fatal("our server failed the handshake")
				}
				st := srv.ConnectionState()
				if st.CipherSuite != ECC_SM4_CBC_SM3 {
					t.Fatalf("suite %s", CipherSuiteName(st.CipherSuite))
				}
				if auth != tls.NoClientCert && len(st.PeerCertificates) != 1 {
					t.Fatal("client certificate not seen")
				}
				if i == 1 && !st.DidResume {
					t.Log("tjfoc did not resume") // its GM client may not offer the cached ID
				}
				tjRoundTrip(t, c, 40000)
				_ = c.Close()
			}
			if auth == tls.NoClientCert {
				return
			}
			// A certificate from another CA is refused.
			bad := &gmtls.Config{
				GMSupport:    &gmtls.GMSupport{},
				RootCAs:      ccfg.RootCAs,
				ServerName:   ccfg.ServerName,
				Certificates: []gmtls.Certificate{tjPair(t, other.ClientCert, other.ClientKey)},
			}
			c, err := gmtls.Dial("tcp", addr, bad)
			if err == nil {
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				_, err = c.Read(make([]byte, 1))
				_ = c.Close()
			}
			if err == nil {
				t.Fatal("wrong client certificate accepted")
			}
			if srv := <-results; srv != nil {
				t.Fatal("our server completed a handshake with a wrong certificate")
			}
		})
	}
}

func TestInteropOurClientTjfocServer(t *testing.T) {
	p, _ := testPKI(t)
	for _, auth := range []gmtls.ClientAuthType{gmtls.NoClientCert, gmtls.RequireAndVerifyClientCert} {
		t.Run(strings.ReplaceAll(tls.ClientAuthType(auth).String(), " ", ""), func(t *testing.T) {
			scfg := &gmtls.Config{
				GMSupport:    &gmtls.GMSupport{},
				Certificates: []gmtls.Certificate{tjPair(t, p.SignCert, p.SignKey), tjPair(t, p.EncCert, p.EncKey)},
				ClientAuth:   auth,
				ClientCAs:    tjPool(t, p.CACert),
			}
			ln, err := gmtls.Listen("tcp", "127.0.0.1:0", scfg)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						defer c.Close()
						_, _ = io.Copy(c, c)
					}()
				}
			}()
			ccfg := clientConfig(t, p)
			ccfg.CipherSuites = []uint16{ECC_SM4_CBC_SM3}
			ccfg.SessionCache = NewSessionCache(4, time.Hour)
			if auth != gmtls.NoClientCert {
				ccfg.SignCertificate = pair(t, p.ClientCert, p.ClientKey)
			}
			for i := range 2 {
				c, err := DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", ln.Addr().String(), ccfg)
				if err != nil {
					t.Fatalf("dial %d: %v", i, err)
				}
				if i == 1 && !c.ConnectionState().DidResume {
					t.Log("tjfoc server did not resume")
				}
				msg := bytes.Repeat([]byte("x"), 70000)
				go func() { _, _ = c.Write(msg) }()
				got := make([]byte, len(msg))
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("echo: %v", err)
				}
				_ = c.Close()
			}
		})
	}
}
