package entrypoints

import (
	ctls "crypto/tls"
	"io"
	"net"
	"testing"
	"time"
)

// TestReadHelloReplays: the ClientHello is parsed for SNI and ALPN, and
// every byte read is replayed, so a real handshake still succeeds.
func TestReadHelloReplays(t *testing.T) {
	cliConn, srvConn := net.Pipe()
	defer cliConn.Close()
	go func() {
		c := ctls.Client(cliConn, &ctls.Config{ServerName: "Example.TEST", NextProtos: []string{"h2", "x"}, InsecureSkipVerify: true})
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if err := c.Handshake(); err == nil {
			io.WriteString(c, "after handshake")
			c.Close()
		}
	}()
	bp := peekPool.Get().(*[]byte)
	buf := (*bp)[:peekSize]
	n, err := srvConn.Read(buf)
	if err != nil || buf[0] != 0x16 {
		t.Fatalf("first read: %v %x", err, buf[:1])
	}
	*bp = buf[:n]
	h, ok := readHello(srvConn, bp)
	if !ok || h.sni != "Example.TEST" || len(h.alpn) != 2 || h.alpn[1] != "x" {
		t.Fatalf("hello %+v ok=%v", h, ok)
	}
	if normalizeSNI(h.sni) != "example.test" {
		t.Fatal("normalizeSNI")
	}
	pc := &prefixConn{Conn: srvConn, buf: bp, data: *bp}
	cfg := fallbackTLS()
	s := ctls.Server(pc, cfg)
	s.SetDeadline(time.Now().Add(5 * time.Second))
	if err := s.Handshake(); err != nil {
		t.Fatalf("handshake after peek: %v", err)
	}
	got, _ := io.ReadAll(s)
	if string(got) != "after handshake" {
		t.Fatalf("got %q", got)
	}
}

func TestPrefixConnWriteTo(t *testing.T) {
	a, b := net.Pipe()
	go func() { b.Write([]byte(" world")); b.Close() }()
	bp := peekPool.Get().(*[]byte)
	*bp = append((*bp)[:0], "hello"...)
	pc := &prefixConn{Conn: a, buf: bp, data: *bp}
	var out []byte
	w := writerFunc(func(p []byte) (int, error) { out = append(out, p...); return len(p), nil })
	if _, err := pc.WriteTo(w); err != nil {
		t.Fatal(err)
	}
	if string(out) != "hello world" {
		t.Fatalf("got %q", out)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// FuzzReadHello: arbitrary first bytes never panic or hang the peek, and
// whatever was read is replayed unchanged.
func FuzzReadHello(f *testing.F) {
	f.Add([]byte{0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00})
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte{0x16})
	f.Fuzz(func(t *testing.T, in []byte) {
		a, b := net.Pipe()
		go func() { b.Write(in); b.Close() }()
		a.SetDeadline(time.Now().Add(2 * time.Second))
		bp := peekPool.Get().(*[]byte)
		*bp = (*bp)[:0]
		readHello(a, bp)
		if len(*bp) > len(in) || string(*bp) != string(in[:len(*bp)]) {
			t.Fatalf("recorded %x, sent %x", *bp, in)
		}
		a.Close()
	})
}
