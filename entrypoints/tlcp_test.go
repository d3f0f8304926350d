package entrypoints

import (
	"net"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/tls/tlcp"
)

// A TLCP ClientHello is parsed by the same reader as TLS (server name
// for routing) and recognised by the sniffer.
func TestPeekTLCPHello(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	go func() {
		c := tlcp.Client(b, &tlcp.Config{ServerName: "sm.example.com"})
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_ = c.Handshake()
		_ = b.Close()
	}()
	bp := peekPool.Get().(*[]byte)
	buf := (*bp)[:peekSize]
	_ = a.SetDeadline(time.Now().Add(5 * time.Second))
	n, err := a.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	*bp = buf[:n]
	h, ok := readHello(a, bp)
	if !ok || h.sni != "sm.example.com" {
		t.Fatalf("hello %+v ok=%v", h, ok)
	}
	if is, _ := tlcp.Sniff(*bp); !is {
		t.Fatal("not recognised as TLCP")
	}
}
