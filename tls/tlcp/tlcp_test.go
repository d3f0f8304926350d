package tlcp

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// testPKI is made once: SM2 key generation is cheap but not free.
var (
	pkiOnce sync.Once
	pki     *PKI
	pki2    *PKI // another CA: its client certificate must be refused
)

func testPKI(t testing.TB) (*PKI, *PKI) {
	pkiOnce.Do(func() {
		var err error
		if pki, err = GeneratePKI("test CA", []string{"sm.example.com", "127.0.0.1"}, "client one", 24*time.Hour); err != nil {
			panic(err)
		}
		if pki2, err = GeneratePKI("other CA", []string{"sm.example.com"}, "intruder", 24*time.Hour); err != nil {
			panic(err)
		}
	})
	return pki, pki2
}

func pair(t testing.TB, certPEM, keyPEM []byte) *Certificate {
	t.Helper()
	c, err := X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pool(t testing.TB, pems ...[]byte) *smx509.CertPool {
	p := smx509.NewCertPool()
	for _, b := range pems {
		if !p.AppendCertsFromPEM(b) {
			t.Fatal("bad CA PEM")
		}
	}
	return p
}

func serverConfig(t testing.TB, p *PKI) *Config {
	return &Config{
		SignCertificate: pair(t, p.SignCert, p.SignKey),
		EncCertificate:  pair(t, p.EncCert, p.EncKey),
		ClientCAs:       pool(t, p.CACert),
		SessionCache:    NewSessionCache(16, time.Hour),
	}
}

func clientConfig(t testing.TB, p *PKI) *Config {
	return &Config{RootCAs: pool(t, p.CACert), ServerName: "sm.example.com"}
}

// pipePair runs a server and a client handshake over a TCP loopback pair
// (a real socket: both sides write before reading).
func handshakePair(t *testing.T, scfg, ccfg *Config) (*Conn, *Conn, error, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var srv *Conn
	var serr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			serr = err
			return
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		srv = Server(c, scfg)
		serr = srv.Handshake()
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
	cli := Client(raw, ccfg)
	cerr := cli.Handshake()
	if cerr != nil {
		_ = raw.Close()
	}
	<-done
	if serr != nil && srv != nil {
		_ = srv.Close()
	}
	t.Cleanup(func() {
		_ = cli.Close()
		if srv != nil {
			_ = srv.Close()
		}
	})
	return srv, cli, serr, cerr
}

func echoCheck(t *testing.T, a, b *Conn, size int) {
	t.Helper()
	msg := make([]byte, size)
	_, _ = rand.Read(msg)
	errc := make(chan error, 1)
	go func() {
		buf := make([]byte, size)
		if _, err := io.ReadFull(b, buf); err != nil {
			errc <- err
			return
		}
		_, err := b.Write(buf)
		errc <- err
	}()
	if _, err := a.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, size)
	if _, err := io.ReadFull(a, got); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("echo differs")
	}
}

func TestSuitesOneWay(t *testing.T) {
	p, _ := testPKI(t)
	for _, id := range []uint16{ECC_SM4_CBC_SM3, ECC_SM4_GCM_SM3} {
		t.Run(CipherSuiteName(id), func(t *testing.T) {
			ccfg := clientConfig(t, p)
			ccfg.CipherSuites = []uint16{id}
			srv, cli, serr, cerr := handshakePair(t, serverConfig(t, p), ccfg)
			if serr != nil || cerr != nil {
				t.Fatalf("server %v, client %v", serr, cerr)
			}
			if st := cli.ConnectionState(); st.CipherSuite != id || st.DidResume || len(st.PeerCertificates) < 2 {
				t.Fatalf("client state %+v", st)
			}
			if st := srv.ConnectionState(); st.ServerName != "sm.example.com" || len(st.PeerCertificates) != 0 {
				t.Fatalf("server state %+v", st)
			}
			for _, n := range []int{1, 1000, maxPlaintext, 3*maxPlaintext + 7} {
				echoCheck(t, cli, srv, n)
				echoCheck(t, srv, cli, n)
			}
		})
	}
}

func TestServerPrefersGCM(t *testing.T) {
	p, _ := testPKI(t)
	ccfg := clientConfig(t, p)
	ccfg.CipherSuites = []uint16{ECC_SM4_CBC_SM3, ECC_SM4_GCM_SM3}
	_, cli, serr, cerr := handshakePair(t, serverConfig(t, p), ccfg)
	if serr != nil || cerr != nil {
		t.Fatal(serr, cerr)
	}
	if got := cli.ConnectionState().CipherSuite; got != ECC_SM4_GCM_SM3 {
		t.Fatalf("suite %s", CipherSuiteName(got))
	}
}

func TestNoCommonSuite(t *testing.T) {
	p, _ := testPKI(t)
	scfg := serverConfig(t, p)
	scfg.CipherSuites = []uint16{ECC_SM4_GCM_SM3}
	ccfg := clientConfig(t, p)
	ccfg.CipherSuites = []uint16{ECC_SM4_CBC_SM3}
	_, _, serr, cerr := handshakePair(t, scfg, ccfg)
	if serr == nil || cerr == nil || !strings.Contains(serr.Error(), "no cipher suite in common") {
		t.Fatalf("server %v, client %v", serr, cerr)
	}
	var ra RemoteAlertError
	if !errors.As(cerr, &ra) || alert(ra.Alert) != alertHandshakeFailure {
		t.Fatalf("client error %v", cerr)
	}
}

func TestClientAuth(t *testing.T) {
	p, other := testPKI(t)
	good := pair(t, p.ClientCert, p.ClientKey)
	bad := pair(t, other.ClientCert, other.ClientKey)
	cases := []struct {
		auth    tls.ClientAuthType
		cert    *Certificate
		ok      bool
		peerLen int
	}{
		{tls.NoClientCert, good, true, 0},
		{tls.RequestClientCert, nil, true, 0},
		{tls.RequestClientCert, bad, true, 1},
		{tls.RequireAnyClientCert, nil, false, 0},
		{tls.RequireAnyClientCert, bad, true, 1},
		{tls.VerifyClientCertIfGiven, nil, true, 0},
		{tls.VerifyClientCertIfGiven, good, true, 1},
		{tls.VerifyClientCertIfGiven, bad, false, 0},
		{tls.RequireAndVerifyClientCert, nil, false, 0},
		{tls.RequireAndVerifyClientCert, bad, false, 0},
		{tls.RequireAndVerifyClientCert, good, true, 1},
	}
	for _, tc := range cases {
		name := tc.auth.String() + "/"
		switch tc.cert {
		case nil:
			name += "none"
		case good:
			name += "good"
		default:
			name += "bad"
		}
		t.Run(name, func(t *testing.T) {
			scfg := serverConfig(t, p)
			scfg.ClientAuth = tc.auth
			ccfg := clientConfig(t, p)
			ccfg.SignCertificate = tc.cert
			srv, cli, serr, cerr := handshakePair(t, scfg, ccfg)
			if tc.ok {
				if serr != nil || cerr != nil {
					t.Fatalf("server %v, client %v", serr, cerr)
				}
				if n := len(srv.ConnectionState().PeerCertificates); n != tc.peerLen {
					t.Fatalf("server sees %d client certificates", n)
				}
				echoCheck(t, cli, srv, 100)
				return
			}
			if serr == nil {
				t.Fatal("server accepted")
			}
			// The client may finish its side before it reads the alert;
			// its first read then fails.
			if cerr == nil {
				if _, err := cli.Read(make([]byte, 1)); err == nil {
					t.Fatal("client read after a refused handshake")
				}
			}
		})
	}
}

func TestResumption(t *testing.T) {
	p, _ := testPKI(t)
	for _, id := range []uint16{ECC_SM4_CBC_SM3, ECC_SM4_GCM_SM3} {
		t.Run(CipherSuiteName(id), func(t *testing.T) {
			scfg := serverConfig(t, p)
			scfg.ClientAuth = tls.RequireAndVerifyClientCert
			ccfg := clientConfig(t, p)
			ccfg.CipherSuites = []uint16{id}
			ccfg.SignCertificate = pair(t, p.ClientCert, p.ClientKey)
			ccfg.SessionCache = NewSessionCache(4, time.Hour)
			_, c1, serr, cerr := handshakePair(t, scfg, ccfg)
			if serr != nil || cerr != nil || c1.ConnectionState().DidResume {
				t.Fatal(serr, cerr)
			}
			s2, c2, serr, cerr := handshakePair(t, scfg, ccfg)
			if serr != nil || cerr != nil {
				t.Fatal(serr, cerr)
			}
			if !c2.ConnectionState().DidResume || !s2.ConnectionState().DidResume {
				t.Fatal("second handshake not resumed")
			}
			if len(s2.ConnectionState().PeerCertificates) != 1 || len(c2.ConnectionState().PeerCertificates) < 2 {
				t.Fatal("resumed session lost the certificates")
			}
			echoCheck(t, c2, s2, 5000)

			// A server that forgot the session runs a full handshake.
			scfg2 := serverConfig(t, p)
			s3, c3, serr, cerr := handshakePair(t, scfg2, ccfg)
			if serr != nil || cerr != nil || c3.ConnectionState().DidResume {
				t.Fatal(serr, cerr)
			}
			echoCheck(t, s3, c3, 10)
		})
	}
}

func TestResumptionNeedsCertWhenRequired(t *testing.T) {
	p, _ := testPKI(t)
	scfg := serverConfig(t, p)
	ccfg := clientConfig(t, p)
	ccfg.SessionCache = NewSessionCache(4, time.Hour)
	if _, _, serr, cerr := handshakePair(t, scfg, ccfg); serr != nil || cerr != nil {
		t.Fatal(serr, cerr)
	}
	// Now the server requires a certificate: the cached session (none)
	// must not be resumed, and the client without one is refused.
	scfg2 := *scfg
	scfg2.ClientAuth = tls.RequireAnyClientCert
	_, _, serr, _ := handshakePair(t, &scfg2, ccfg)
	if serr == nil || !strings.Contains(serr.Error(), "required") {
		t.Fatalf("server %v", serr)
	}
}

func TestServerIdentityChecked(t *testing.T) {
	p, other := testPKI(t)
	ccfg := clientConfig(t, other) // trusts the other CA only
	_, _, _, cerr := handshakePair(t, serverConfig(t, p), ccfg)
	if cerr == nil || !strings.Contains(cerr.Error(), "signing certificate") {
		t.Fatalf("client %v", cerr)
	}
	ccfg = clientConfig(t, p)
	ccfg.ServerName = "wrong.example.com"
	_, _, _, cerr = handshakePair(t, serverConfig(t, p), ccfg)
	if cerr == nil {
		t.Fatal("wrong name accepted")
	}
	ccfg.InsecureSkipVerify = true
	if _, _, serr, cerr := handshakePair(t, serverConfig(t, p), ccfg); serr != nil || cerr != nil {
		t.Fatal(serr, cerr)
	}
}

func TestEncCertSwapRefused(t *testing.T) {
	// A server whose encryption key is not the one in its certificate
	// (a forged or mixed pair) fails at Finished, not silently.
	p, other := testPKI(t)
	scfg := serverConfig(t, p)
	enc := *scfg.EncCertificate
	enc.PrivateKey = pair(t, other.EncCert, other.EncKey).PrivateKey
	scfg.EncCertificate = &enc
	_, _, serr, cerr := handshakePair(t, scfg, clientConfig(t, p))
	if serr == nil && cerr == nil {
		t.Fatal("mismatched encryption key accepted")
	}
}

func TestCloseNotify(t *testing.T) {
	p, _ := testPKI(t)
	srv, cli, serr, cerr := handshakePair(t, serverConfig(t, p), clientConfig(t, p))
	if serr != nil || cerr != nil {
		t.Fatal(serr, cerr)
	}
	if err := cli.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Read(make([]byte, 10)); err != io.EOF {
		t.Fatalf("read after close_notify: %v", err)
	}
	// The other direction still works.
	go func() { _, _ = srv.Write([]byte("bye")) }()
	buf := make([]byte, 3)
	if _, err := io.ReadFull(cli, buf); err != nil || string(buf) != "bye" {
		t.Fatal(err, string(buf))
	}
}

func TestX509KeyPairErrors(t *testing.T) {
	p, other := testPKI(t)
	if _, err := X509KeyPair(p.SignCert, other.SignKey); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("mismatch: %v", err)
	}
	if _, err := X509KeyPair([]byte("junk"), p.SignKey); err == nil {
		t.Fatal("junk accepted")
	}
	ecCert, ecKey := nonSMPair(t)
	if _, err := X509KeyPair(ecCert, ecKey); err == nil || !strings.Contains(err.Error(), "not SM2") {
		t.Fatalf("ECDSA pair: %v", err)
	}
	if _, err := X509KeyPair(p.SignCert, ecKey); err == nil || !strings.Contains(err.Error(), "not SM2") {
		t.Fatalf("ECDSA key: %v", err)
	}
	enc := pair(t, p.EncCert, p.EncKey)
	if err := enc.CheckPurpose(PurposeSign); err == nil {
		t.Fatal("encryption certificate accepted for signing")
	}
	if err := enc.CheckPurpose(PurposeEnc); err != nil {
		t.Fatal(err)
	}
}

func TestSessionCacheLRU(t *testing.T) {
	c := NewSessionCache(2, time.Minute)
	now := time.Now()
	for _, k := range []string{"a", "b", "c"} {
		c.put(k, &session{created: now})
	}
	if c.Len() != 2 || c.get("a", now) != nil || c.get("c", now) == nil {
		t.Fatal("LRU eviction")
	}
	if c.get("b", now.Add(2*time.Minute)) != nil {
		t.Fatal("expired session returned")
	}
}

func TestSniff(t *testing.T) {
	p, _ := testPKI(t)
	ch := (&clientHello{vers: VersionTLCP, random: make([]byte, 32), cipherSuites: DefaultCipherSuites, compression: []uint8{0}, serverName: "a.b"}).marshal()
	rec := append([]byte{recordHandshake, 1, 1, byte(len(ch) >> 8), byte(len(ch))}, ch...)
	if ok, more := Sniff(rec); !ok || more {
		t.Fatal("TLCP hello not recognised")
	}
	for i := 0; i < 11; i++ {
		if ok, more := Sniff(rec[:i]); ok || !more {
			t.Fatalf("prefix %d: %v %v", i, ok, more)
		}
	}
	tls13 := append([]byte{22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3}, make([]byte, 200)...)
	if ok, more := Sniff(tls13); ok || more {
		t.Fatal("TLS hello taken for TLCP")
	}
	_ = p
}

func TestGarbageAfterHello(t *testing.T) {
	// A server given a bad ClientHello fails cleanly.
	p, _ := testPKI(t)
	for _, in := range [][]byte{
		{22, 1, 1, 0, 5, 1, 0, 0, 1, 0},
		{22, 1, 1, 0, 0},
		{22, 1, 1, 0x40, 1},
		{23, 1, 1, 0, 1, 0},
		{21, 1, 1, 0, 2, 2, 40},
		append([]byte{22, 1, 1, 0, 50, 1, 0, 0, 46, 1, 1}, make([]byte, 44)...),
	} {
		a, b := net.Pipe()
		go func() {
			_, _ = b.Write(in)
			_ = b.Close()
		}()
		_ = a.SetDeadline(time.Now().Add(5 * time.Second))
		if err := Server(a, serverConfig(t, p)).Handshake(); err == nil {
			t.Fatalf("%x accepted", in)
		}
		_ = a.Close()
	}
}
