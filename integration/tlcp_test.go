package integration

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tjfoc/gmsm/gmtls"
	tjx509 "github.com/tjfoc/gmsm/x509"

	"github.com/switchyard-proxy/switchyard/tls/tlcp"
)

// TLCP (GB/T 38636) beside TLS on one port, through the binary, with two
// client implementations: ours (tls/tlcp) and tjfoc's gmtls, which shares
// no code with the server.

// smPKI is what `switchyard sm-cert` wrote into dir.
type smPKI struct {
	dir              string
	client           *tlcp.Certificate
	pool             *tlcpPool
	caPEM, clientPEM []byte
	clientKeyPEM     []byte
}

type tlcpPool = tlcpCertPool

func makeSMPKI(t *testing.T, dir, hosts string) *smPKI {
	t.Helper()
	code, out := runCmd(t, dir, nil, 30*time.Second, "sm-cert", "--dir="+filepath.Join(dir, "sm"), "--hosts="+hosts, "--client=sm client")
	if code != 0 {
		t.Fatalf("sm-cert: %d\n%s", code, out)
	}
	p := &smPKI{dir: filepath.Join(dir, "sm")}
	read := func(n string) []byte {
		b, err := os.ReadFile(filepath.Join(p.dir, n))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var err error
	if p.client, err = tlcp.X509KeyPair(read("client.crt"), read("client.key")); err != nil {
		t.Fatal(err)
	}
	p.caPEM, p.clientPEM, p.clientKeyPEM = read("ca.crt"), read("client.crt"), read("client.key")
	p.pool = newTLCPCertPool(t, p.caPEM)
	return p
}

func (p *smPKI) path(n string) string { return filepath.Join(p.dir, n) }

// tlcpGet sends one HTTP/1.1 request on c and returns the response body.
func tlcpGet(c net.Conn, host, path string) (int, string, error) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host); err != nil {
		return 0, "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func ourTLCPDial(addr string, cfg *tlcp.Config) (*tlcp.Conn, error) {
	return tlcp.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
}

func tjDial(t *testing.T, addr, sni string, p *smPKI, withCert bool) (*gmtls.Conn, error) {
	t.Helper()
	pool := tjx509.NewCertPool()
	pool.AppendCertsFromPEM(p.caPEM)
	cfg := &gmtls.Config{GMSupport: &gmtls.GMSupport{}, RootCAs: pool, ServerName: sni}
	if withCert {
		c, err := gmtls.X509KeyPair(p.clientPEM, p.clientKeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []gmtls.Certificate{c}
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	return gmtls.DialWithDialer(d, "tcp", addr, cfg)
}

const tlcpStatic = `
entryPoints:
  websecure:
    address: "<% addr "websecure" %>"
  tcpsm:
    address: "<% addr "tcpsm" %>"
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
    watch: true
`

func tlcpDynamic(p *smPKI, tlsCert, tlsKey, echo string, enabled bool, other string) string {
	return fmt.Sprintf(`
http:
  routers:
    web:
      rule: "Host(`+"`sm.example.com`"+`)"
      entryPoints: [websecure]
      service: whoami
      tls: {}
    mtls:
      rule: "Host(`+"`mtls.example.com`"+`)"
      entryPoints: [websecure]
      service: whoami
      tls:
        options: mutual
  services:
    whoami:
      loadBalancer:
        servers:
          - url: "<%% backend "sm" %%>"
tcp:
  routers:
    bysni:
      rule: "HostSNI(`+"`tcp.example.com`"+`)"
      entryPoints: [websecure]
      service: echo
      tls: {}
    any:
      rule: "HostSNI(`+"`*`"+`)"
      entryPoints: [tcpsm]
      service: echo
      tls:
        options: mutual
  services:
    echo:
      loadBalancer:
        servers:
          - address: "%s"
tls:
  certificates:
    - certFile: %s
      keyFile: %s
      encCertFile: %s
      encKeyFile: %s
    - certFile: %s
      keyFile: %s
  options:
    default:
      tlcp:
        enabled: %v
    mutual:
      tlcp:
        enabled: true
        clientAuth:
          caFiles: [%s]
          clientAuthType: RequireAndVerifyClientCert
%s`, echo, p.path("sign.crt"), p.path("sign.key"), p.path("enc.crt"), p.path("enc.key"), tlsCert, tlsKey, enabled, p.path("ca.crt"), other)
}

func TestTLCPEntryPoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := makeSMPKI(t, e.Dir, "sm.example.com,mtls.example.com,tcp.example.com,127.0.0.1")
	ca := newCA(t, "tls CA")
	cp, kp := ca.issue(t, "sm.example.com", []string{"sm.example.com", "mtls.example.com"}, false)
	tlsCert, tlsKey := writePair(t, e.Dir, "ecdsa", cp, kp)
	echo := startTCPEcho(t, "echo", nil, false)
	e.WriteDynamic("yml", tlcpDynamic(p, tlsCert, tlsKey, echo, true, ""))
	e.WriteStatic("yml", tlcpStatic)
	e.Start()
	e.WaitRouters("web@file", "mtls@file")
	e.WaitListening(e.Addr("websecure"))
	addr := e.Addr("websecure")
	base := &tlcp.Config{RootCAs: p.pool.Pool, ServerName: "sm.example.com"}

	t.Run("suites", func(t *testing.T) {
		for _, id := range []uint16{tlcp.ECC_SM4_GCM_SM3, tlcp.ECC_SM4_CBC_SM3} {
			cfg := *base
			cfg.CipherSuites = []uint16{id}
			c, err := ourTLCPDial(addr, &cfg)
			if err != nil {
				t.Fatalf("%s: %v", tlcp.CipherSuiteName(id), err)
			}
			if got := c.ConnectionState().CipherSuite; got != id {
				t.Fatalf("suite %s", tlcp.CipherSuiteName(got))
			}
			for i := range 2 { // keep-alive: two requests on one connection
				code, body, err := tlcpGet(c, "sm.example.com", fmt.Sprintf("/r%d", i))
				if err != nil || code != 200 || backendName(body) != "sm" || !strings.Contains(body, "X-Forwarded-Proto: https") {
					t.Fatalf("%s: %d %v\n%s", tlcp.CipherSuiteName(id), code, err, body)
				}
			}
			_ = c.Close()
		}
	})

	t.Run("tjfoc client", func(t *testing.T) {
		c, err := tjDial(t, addr, "sm.example.com", p, false)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		code, body, err := tlcpGet(c, "sm.example.com", "/tj")
		if err != nil || code != 200 || backendName(body) != "sm" {
			t.Fatalf("%d %v\n%s", code, err, body)
		}
	})

	t.Run("resumption", func(t *testing.T) {
		cfg := *base
		cfg.SessionCache = tlcp.NewSessionCache(4, time.Minute)
		for i := range 2 {
			c, err := ourTLCPDial(addr, &cfg)
			if err != nil {
				t.Fatal(err)
			}
			if resumed := c.ConnectionState().DidResume; resumed != (i == 1) {
				t.Fatalf("connection %d resumed=%v", i, resumed)
			}
			if code, _, err := tlcpGet(c, "sm.example.com", "/"); err != nil || code != 200 {
				t.Fatal(code, err)
			}
			_ = c.Close()
		}
	})

	t.Run("mutual auth", func(t *testing.T) {
		cfg := *base
		cfg.ServerName = "mtls.example.com"
		// No certificate: refused.
		if c, err := ourTLCPDial(addr, &cfg); err == nil {
			if _, _, err := tlcpGet(c, "mtls.example.com", "/"); err == nil {
				t.Fatal("served without a client certificate")
			}
			_ = c.Close()
		}
		// A certificate from another CA: refused.
		other, err := tlcp.GeneratePKI("other CA", []string{"x"}, "intruder", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		bad := cfg
		if bad.SignCertificate, err = tlcp.X509KeyPair(other.ClientCert, other.ClientKey); err != nil {
			t.Fatal(err)
		}
		if c, err := ourTLCPDial(addr, &bad); err == nil {
			if _, _, err := tlcpGet(c, "mtls.example.com", "/"); err == nil {
				t.Fatal("served with a foreign client certificate")
			}
			_ = c.Close()
		}
		// The right one, from both clients.
		good := cfg
		good.SignCertificate = p.client
		good.SessionCache = tlcp.NewSessionCache(4, time.Minute)
		for i := range 2 {
			c, err := ourTLCPDial(addr, &good)
			if err != nil {
				t.Fatal(err)
			}
			if i == 1 && !c.ConnectionState().DidResume {
				t.Fatal("mutual session not resumed")
			}
			if code, body, err := tlcpGet(c, "mtls.example.com", "/"); err != nil || code != 200 {
				t.Fatalf("%d %v %s", code, err, body)
			}
			_ = c.Close()
		}
		// tjfoc sends no server name, so the default options apply to
		// it: mTLS for an HTTP host would be 421 (as for TLS). Its
		// mutual auth is checked on the HostSNI(*) TCP router below.
		tc, err := tjDial(t, addr, "mtls.example.com", p, true)
		if err != nil {
			t.Fatal(err)
		}
		if code, _, err := tlcpGet(tc, "mtls.example.com", "/"); err != nil || code != http.StatusMisdirectedRequest {
			t.Fatal(code, err)
		}
		_ = tc.Close()
	})

	t.Run("TLS 1.3 on the same port", func(t *testing.T) {
		c, err := tlsDial(addr, &tls.Config{ServerName: "sm.example.com", RootCAs: ca.pool(), MinVersion: tls.VersionTLS13, NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if v := c.ConnectionState().Version; v != tls.VersionTLS13 {
			t.Fatalf("version %x", v)
		}
		if code, body, err := tlcpGet(c, "sm.example.com", "/"); err != nil || code != 200 || backendName(body) != "sm" {
			t.Fatal(code, err, body)
		}
	})

	t.Run("TCP routers", func(t *testing.T) {
		// HostSNI on the shared port, and HostSNI(*) for a client
		// sending no server name (an IP address) on another.
		cfg := *base
		cfg.ServerName = "tcp.example.com"
		c, err := ourTLCPDial(addr, &cfg)
		if err != nil {
			t.Fatal(err)
		}
		out, err := tlcpExchange(c, "over tlcp")
		if err != nil || out != "echo|-|over tlcp" {
			t.Fatalf("%q %v", out, err)
		}
		// tcpsm: HostSNI(*) with the mutual options.
		cfg.ServerName = "127.0.0.1"
		cfg.SignCertificate = p.client
		c, err = ourTLCPDial(e.Addr("tcpsm"), &cfg)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := tlcpExchange(c, "no sni"); err != nil || out != "echo|-|no sni" {
			t.Fatalf("%q %v", out, err)
		}
		if tj, err := tjDial(t, e.Addr("tcpsm"), "127.0.0.1", p, false); err == nil {
			_ = tj.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := tj.Read(make([]byte, 1)); err == nil {
				t.Fatal("tjfoc without a client certificate served")
			}
			_ = tj.Close()
		}
		tj, err := tjDial(t, e.Addr("tcpsm"), "127.0.0.1", p, true)
		if err != nil {
			t.Fatal(err)
		}
		_ = tj.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.WriteString(tj, "tj")
		_ = tj.CloseWrite()
		b, _ := io.ReadAll(tj)
		if string(b) != "echo|-|tj" {
			t.Fatalf("tjfoc over TCP router: %q", b)
		}
	})

	t.Run("bad ClientHellos", func(t *testing.T) {
		// Garbage and cut hellos while good clients keep being served.
		var wg sync.WaitGroup
		stop := make(chan struct{})
		errs := make(chan error, 100)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := ourTLCPDial(addr, base)
				if err != nil {
					errs <- err
					return
				}
				if code, _, err := tlcpGet(c, "sm.example.com", "/"); err != nil || code != 200 {
					errs <- fmt.Errorf("good client: %d %v", code, err)
				}
				_ = c.Close()
			}
		}()
		hello := tlcpHelloBytes(t)
		bad := [][]byte{
			hello[:3], hello[:11], hello[:len(hello)/2],
			{22, 1, 1, 0xff, 0xff, 1, 0, 0xff, 0xff, 1, 1},
			append(append([]byte{}, hello...), 0x17, 1, 1, 0, 5, 1, 2, 3, 4, 5),
			[]byte("\x16\x01\x01garbage garbage garbage garbage"),
		}
		var bw sync.WaitGroup
		for round := range 4 {
			for _, b := range bad {
				bw.Add(1)
				go func() {
					defer bw.Done()
					c, err := net.DialTimeout("tcp", addr, 2*time.Second)
					if err != nil {
						errs <- err
						return
					}
					defer c.Close()
					_, _ = c.Write(b)
					if round%2 == 0 { // cut; else left hanging until our deadline
						_ = c.(*net.TCPConn).CloseWrite()
					}
					_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
					_, _ = io.Copy(io.Discard, c)
				}()
			}
		}
		bw.Wait()
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if e.Proc.Exited() {
			t.Fatal("switchyard exited")
		}
	})

	t.Run("hot reload", func(t *testing.T) {
		// TLCP off in the default options: a TLCP client is refused,
		// TLS still served; back on: served again.
		e.WriteDynamic("yml", tlcpDynamic(p, tlsCert, tlsKey, echo, false, ""))
		e.waitFor(10*time.Second, "TLCP refused", func() bool {
			c, err := ourTLCPDial(addr, base)
			if err != nil {
				return true
			}
			_ = c.Close()
			return false
		})
		e.WriteDynamic("yml", tlcpDynamic(p, tlsCert, tlsKey, echo, true, ""))
		e.waitFor(10*time.Second, "TLCP served again", func() bool {
			c, err := ourTLCPDial(addr, base)
			if err != nil {
				return false
			}
			defer c.Close()
			code, _, err := tlcpGet(c, "sm.example.com", "/")
			return err == nil && code == 200
		})
	})
}

// tlcpExchange is tcpExchange for a TLCP connection (close_notify as the
// half-close).
func tlcpExchange(c *tlcp.Conn, msg string) (string, error) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		return "", err
	}
	_ = c.CloseWrite()
	b, err := io.ReadAll(c)
	_ = c.Close()
	return string(b), err
}

// tlcpHelloBytes records the first flight of our TLCP client.
func tlcpHelloBytes(t *testing.T) []byte {
	a, b := net.Pipe()
	go func() {
		c := tlcp.Client(b, &tlcp.Config{ServerName: "sm.example.com"})
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		_ = c.Handshake()
		_ = b.Close()
	}()
	buf := make([]byte, 4096)
	_ = a.SetDeadline(time.Now().Add(2 * time.Second))
	n, err := a.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	_ = a.Close()
	return buf[:n]
}

func TestTLCPConfigErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := makeSMPKI(t, e.Dir, "sm.example.com")
	ca := newCA(t, "tls CA")
	cp, kp := ca.issue(t, "p256.example.com", []string{"p256.example.com"}, false)
	ecCert, ecKey := writePair(t, e.Dir, "ecdsa", cp, kp)
	e.WriteDynamic("yml", fmt.Sprintf(`
http:
  routers:
    web:
      rule: "Host(`+"`sm.example.com`"+`)"
      service: noop@internal
      tls: {}
tls:
  certificates:
    - certFile: %s
      keyFile: %s
      encCertFile: %s
      encKeyFile: %s
    - certFile: %s
      keyFile: %s
      encCertFile: %s
    - certFile: %s
      keyFile: %s
  options:
    default:
      tlcp:
        enabled: true
    broken:
      tlcp:
        enabled: true
        cipherSuites: [TLS_AES_128_GCM_SHA256]
`, ecCert, ecKey, p.path("enc.crt"), p.path("enc.key"), // non-SM cert in the sign slot
		p.path("sign.crt"), p.path("sign.key"), p.path("enc.crt"), // enc pair without its key
		p.path("client.crt"), p.path("client.key"))) // an SM2 cert without its enc pair
	e.WriteStatic("yml", `
entryPoints:
  websecure:
    address: "<% addr "websecure" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("web@file")
	for _, want := range []string{
		"tls certificate #0: certFile: certificate",
		"is not an SM2 certificate (the signing slot of a TLCP pair needs SM2)",
		"tls certificate #1: encKeyFile: missing",
		"tls certificate #2: certFile: certificate",
		"is an SM2 certificate: TLCP needs its encryption pair too (set encCertFile and encKeyFile)",
		`tls options \"broken@file\": tlcp.cipherSuites: unknown TLCP cipher suite \"TLS_AES_128_GCM_SHA256\"`,
	} {
		e.waitFor(10*time.Second, "log: "+want, func() bool { return strings.Contains(e.Proc.Output()+e.Proc.Stderr(), want) })
	}
	// The default options still enable TLCP, but no valid pair exists.
	if c, err := ourTLCPDial(e.Addr("websecure"), &tlcp.Config{InsecureSkipVerify: true, ServerName: "sm.example.com"}); err == nil {
		_ = c.Close()
		t.Fatal("TLCP served without a valid dual certificate")
	}
	if e.Proc.Exited() {
		t.Fatal("switchyard exited")
	}
}

// TestTLCPBackend: a serversTransport with tlcp bridges a plain HTTP (or
// TLS) client to a TLCP backend that requires an SM2 client certificate
// (sent as a dual pair).
func TestTLCPBackend(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := makeSMPKI(t, e.Dir, "backend.example.com,127.0.0.1")
	sign, err := tlcp.X509KeyPair(mustRead(t, p.path("sign.crt")), mustRead(t, p.path("sign.key")))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := tlcp.X509KeyPair(mustRead(t, p.path("enc.crt")), mustRead(t, p.path("enc.key")))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tlcp.Config{SignCertificate: sign, EncCertificate: enc, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool.Pool, SessionCache: tlcp.NewSessionCache(0, 0)}
	type connKey struct{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cn := "-"
		if c, ok := r.Context().Value(connKey{}).(*tlcp.Conn); ok {
			if pc := c.ConnectionState().PeerCertificates; len(pc) > 0 {
				cn = pc[0].Subject.CommonName
			}
		}
		fmt.Fprintf(w, "tlcp backend %s client=%s", r.URL.Path, cn)
	}), ConnContext: func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, c)
	}}
	go func() { _ = srv.Serve(&tlcpListener{Listener: ln, cfg: cfg}) }()
	t.Cleanup(func() { _ = srv.Close() })

	e.WriteDynamic("yml", fmt.Sprintf(`
http:
  routers:
    bridge:
      rule: "PathPrefix(`+"`/`"+`)"
      entryPoints: [web]
      service: sm
  services:
    sm:
      loadBalancer:
        serversTransport: smtransport
        servers:
          - url: "https://%s"
  serversTransports:
    smtransport:
      serverName: backend.example.com
      rootCAs: [%s]
      certificates:
        - certFile: %s
          keyFile: %s
          encCertFile: %s
          encKeyFile: %s
      tlcp:
        enabled: true
        cipherSuites: [ECC_SM4_GCM_SM3]
`, ln.Addr(), p.path("ca.crt"), p.path("client.crt"), p.path("client.key"), p.path("enc.crt"), p.path("enc.key")))
	e.WriteStatic("yml", staticYAML)
	e.Start()
	e.WaitRouters("bridge@file")
	e.WaitListening(e.Addr("web"))
	for i := range 3 {
		r := do(t, request{url: e.URL("web") + fmt.Sprintf("/x%d", i)})
		if r.Status != 200 || r.Body != fmt.Sprintf("tlcp backend /x%d client=sm client", i) {
			t.Fatalf("%d %q", r.Status, r.Body)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tlcpListener serves TLCP on a TCP listener (the handshake runs on the
// server's connection goroutine, at the first read).
type tlcpListener struct {
	net.Listener
	cfg *tlcp.Config
}

func (l *tlcpListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return tlcp.Server(c, l.cfg), nil
}
