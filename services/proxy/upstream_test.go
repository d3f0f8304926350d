package proxy

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"golang.org/x/net/websocket"
)

func TestWebSocketEcho(t *testing.T) {
	be := newBackend(t, websocket.Handler(func(ws *websocket.Conn) {
		for {
			var msg string
			if websocket.Message.Receive(ws, &msg) != nil || websocket.Message.Send(ws, msg) != nil {
				return
			}
		}
	}).ServeHTTP)
	srv, _ := front(t, be.URL, newTestTransport(t), defaultOpts())
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/echo"
	ws, err := websocket.Dial(wsURL, "", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for _, msg := range []string{"hello", strings.Repeat("big", 50000), "bye"} {
		if err := websocket.Message.Send(ws, msg); err != nil {
			t.Fatal(err)
		}
		var got string
		_ = ws.SetReadDeadline(time.Now().Add(3 * time.Second))
		if err := websocket.Message.Receive(ws, &got); err != nil {
			t.Fatal(err)
		}
		if got != msg {
			t.Fatalf("echo of %d bytes returned %d bytes", len(msg), len(got))
		}
	}
}

func TestUpgradeHalfClose(t *testing.T) {
	// The backend echoes until the client half-closes, then says goodbye and closes.
	addr, _ := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if req.Header.Get("Upgrade") != "echo" {
			_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
			return
		}
		// "early" travels with the 101: the proxy must relay bytes read past the head.
		_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\nX-Up: 1\r\n\r\nearly:")
		_, _ = io.Copy(c, br)
		_, _ = io.WriteString(c, ":bye")
	})
	srv, _ := front(t, addr, newTestTransport(t), defaultOpts())
	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("X-Up") != "1" || res.Header.Get("Upgrade") != "echo" {
		t.Fatalf("got %d %v", res.StatusCode, res.Header)
	}
	_, _ = io.WriteString(c, "ping")
	_ = c.(*net.TCPConn).CloseWrite()
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if string(rest) != "early:ping:bye" {
		t.Errorf("tunnel carried %q", rest)
	}
}

func TestUpgradeProtocolMismatch(t *testing.T) {
	addr, _ := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: other\r\n\r\n")
	})
	srv, _ := front(t, addr, newTestTransport(t), defaultOpts())
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	res, err := client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d", res.StatusCode)
	}
}

func certPEM(srv *httptest.Server) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
}

func TestHTTPSBackend(t *testing.T) {
	proto := make(chan string, 10)
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto <- r.Proto
		_, _ = io.WriteString(w, "secure")
	}))
	be.EnableHTTP2 = true
	be.StartTLS()
	t.Cleanup(be.Close)

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, []byte(certPEM(be)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		cfg    func(*dynamic.ServersTransport)
		status int
		proto  string
	}{
		{"rootCAs inline", func(c *dynamic.ServersTransport) {
			c.RootCAs = []dynamic.FileOrContent{dynamic.FileOrContent(certPEM(be))}
		}, 200, "HTTP/2.0"},
		{"rootCAs file", func(c *dynamic.ServersTransport) { c.RootCAs = []dynamic.FileOrContent{dynamic.FileOrContent(caFile)} }, 200, "HTTP/2.0"},
		{"insecureSkipVerify", func(c *dynamic.ServersTransport) { c.InsecureSkipVerify = true }, 200, "HTTP/2.0"},
		{"disableHTTP2", func(c *dynamic.ServersTransport) { c.InsecureSkipVerify = true; c.DisableHTTP2 = true }, 200, "HTTP/1.1"},
		{"unknown CA", func(c *dynamic.ServersTransport) {}, http.StatusBadGateway, ""},
		{"wrong serverName", func(c *dynamic.ServersTransport) {
			c.RootCAs = []dynamic.FileOrContent{dynamic.FileOrContent(certPEM(be))}
			c.ServerName = "other.test"
		}, http.StatusBadGateway, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := front(t, be.URL, newTestTransport(t, tc.cfg), defaultOpts())
			res, err := client(t).Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d %q", res.StatusCode, b)
			}
			if tc.proto != "" {
				if p := <-proto; p != tc.proto || string(b) != "secure" {
					t.Errorf("backend saw %s, body %q", p, b)
				}
			}
		})
	}
}

func TestHTTPSClientCertificate(t *testing.T) {
	certPEMBytes, keyPEMBytes := selfSigned(t, "client")
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEMBytes)
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	be.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	be.StartTLS()
	t.Cleanup(be.Close)

	tr := newTestTransport(t, func(c *dynamic.ServersTransport) {
		c.RootCAs = []dynamic.FileOrContent{dynamic.FileOrContent(certPEM(be))}
		c.Certificates = []dynamic.Certificate{{CertFile: dynamic.FileOrContent(certPEMBytes), KeyFile: dynamic.FileOrContent(keyPEMBytes)}}
	})
	srv, _ := front(t, be.URL, tr, defaultOpts())
	res, err := client(t).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "client" {
		t.Errorf("got %d %q", res.StatusCode, b)
	}
}

func selfSigned(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

func TestBadTransportConfig(t *testing.T) {
	for name, cfg := range map[string]*dynamic.ServersTransport{
		"rootCA not PEM": {RootCAs: []dynamic.FileOrContent{"not a certificate"}},
		"bad key pair":   {Certificates: []dynamic.Certificate{{CertFile: "x", KeyFile: "y"}}},
	} {
		if _, err := NewTransport(cfg); err == nil {
			t.Errorf("%s: expected an error", name)
		}
	}
}

func TestH2CBackend(t *testing.T) {
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Proto", r.Proto)
		w.Header().Set("X-Host", r.Host)
		_, _ = w.Write(b)
	}))
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	be.Config.Protocols = &protos
	be.Start()
	t.Cleanup(be.Close)
	target := "h2c://" + strings.TrimPrefix(be.URL, "http://")
	srv, _ := front(t, target, newTestTransport(t), defaultOpts())
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("over h2c"))
	req.Host = "app.test"
	res, err := client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "over h2c" || res.Header.Get("X-Proto") != "HTTP/2.0" || res.Header.Get("X-Host") != "app.test" {
		t.Errorf("got %d %q %v", res.StatusCode, b, res.Header)
	}
}

// TestTransportTLSVersionsAndCiphers: minVersion, maxVersion and
// cipherSuites of a serversTransport bound the handshake with the server.
func TestTransportTLSVersionsAndCiphers(t *testing.T) {
	seen := make(chan string, 4)
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- fmt.Sprintf("%x %s", r.TLS.Version, tls.CipherSuiteName(r.TLS.CipherSuite))
	}))
	be.TLS = &tls.Config{MaxVersion: tls.VersionTLS12}
	be.StartTLS()
	t.Cleanup(be.Close)
	for _, tc := range []struct {
		desc   string
		set    func(*dynamic.ServersTransport)
		status int
		want   string
	}{
		{"TLS 1.2 allowed", func(c *dynamic.ServersTransport) { c.MaxVersion = "VersionTLS12" }, 200, "303 "},
		{"TLS 1.3 required", func(c *dynamic.ServersTransport) { c.MinVersion = "VersionTLS13" }, 502, ""},
		{"one cipher", func(c *dynamic.ServersTransport) {
			c.CipherSuites = []string{"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"}
		}, 200, "303 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			tr := newTestTransport(t, func(c *dynamic.ServersTransport) {
				c.RootCAs = []dynamic.FileOrContent{dynamic.FileOrContent(certPEM(be))}
				tc.set(c)
			})
			srv, _ := front(t, be.URL, tr, defaultOpts())
			res, err := client(t).Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d", res.StatusCode)
			}
			if tc.want != "" {
				if got := <-seen; !strings.HasPrefix(got, tc.want) {
					t.Fatalf("handshake %q, want %q", got, tc.want)
				}
			}
		})
	}
	for _, c := range []dynamic.ServersTransport{{MinVersion: "TLS13"}, {MaxVersion: "x"}, {MinVersion: "VersionTLS13", MaxVersion: "VersionTLS12"}, {CipherSuites: []string{"nope"}}} {
		if _, err := NewTransport(&c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
