package entrypoints

import (
	"io"
	"net"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/internal/relay"
)

// TestPPConnDrained: once the PROXY header and the bytes read with it are
// consumed, the wrapper lets a relay read the socket itself (so an idle
// TCP router's connection or tunnel holds no relay buffer), and not
// before (those bytes would be lost to a hand-off).
func TestPPConnDrained(t *testing.T) {
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := withProxyProtocol(tl, &static.ProxyConfig{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", tl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "PROXY TCP4 192.0.2.7 192.0.2.8 1111 2222\r\nhello")
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	d, ok := sc.(relay.Drainer)
	if !ok {
		t.Fatalf("%T is not a relay.Drainer", sc)
	}
	if got := sc.RemoteAddr().String(); got != "192.0.2.7:1111" {
		t.Fatalf("remote %s", got)
	}
	if _, drained := d.Drained(); drained {
		t.Fatal("drained before the bytes read with the header were")
	}
	buf := make([]byte, peekSize)
	n, err := sc.Read(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q %v", buf[:n], err)
	}
	under, drained := d.Drained()
	if !drained {
		t.Fatal("not drained after a full read")
	}
	if _, ok := under.(*net.TCPConn); !ok {
		t.Fatalf("drains to %T, want the TCP socket", under)
	}
}
