package tlcp

import (
	"net"
	"testing"
	"time"
)

func helloRecord() []byte {
	ch := (&clientHello{vers: VersionTLCP, random: make([]byte, 32), sessionID: []byte{1, 2, 3}, cipherSuites: DefaultCipherSuites, compression: []uint8{0}, serverName: "sm.example.com"}).marshal()
	return append([]byte{recordHandshake, 1, 1, byte(len(ch) >> 8), byte(len(ch))}, ch...)
}

// FuzzSniff: the classifier's test on a connection's first bytes never
// panics, never claims TLCP for a prefix it cannot judge, and agrees with
// itself on longer input.
func FuzzSniff(f *testing.F) {
	f.Add(helloRecord())
	f.Add([]byte{22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3})
	f.Add([]byte{22, 1, 1})
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ok, more := Sniff(b)
		if ok && more {
			t.Fatal("both TLCP and undecided")
		}
		if more && len(b) >= 11 {
			t.Fatal("undecided with 11 bytes")
		}
		if ok {
			if ok2, _ := Sniff(append(b[:len(b):len(b)], 0, 0, 0)); !ok2 {
				t.Fatal("longer input changed the answer")
			}
		}
	})
}

// FuzzClientHello: any bytes as a ClientHello message parse or fail
// without panicking, and a parsed hello re-marshals to a parsable one.
func FuzzClientHello(f *testing.F) {
	f.Add(helloRecord()[5:])
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 4 {
			return
		}
		m, ok := parseClientHello(b)
		if !ok {
			return
		}
		if len(m.random) != randomLen {
			t.Fatal("random length")
		}
		if _, ok := parseClientHello(m.marshal()); !ok {
			t.Fatal("re-marshalled hello does not parse")
		}
	})
}

// FuzzServerHandshake: a server fed arbitrary client bytes fails cleanly.
func FuzzServerHandshake(f *testing.F) {
	p, _ := testPKI(f)
	cfg := serverConfig(f, p)
	f.Add(helloRecord())
	f.Add(append(helloRecord(), 20, 1, 1, 0, 1, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, c := net.Pipe()
		go func() {
			_, _ = c.Write(b)
			_ = c.Close()
		}()
		go func() { // drain what the server writes
			buf := make([]byte, 4096)
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
			}
		}()
		_ = a.SetDeadline(time.Now().Add(2 * time.Second))
		if err := Server(a, cfg).Handshake(); err == nil {
			t.Fatal("handshake completed on fuzz input")
		}
		_ = a.Close()
	})
}
