package entrypoints

import (
	"context"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/static"
)

// socketFile duplicates a listener's socket as a handed-over file would be.
func socketFile(t *testing.T, ln net.Listener) *os.File {
	t.Helper()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestHandOverAdoptsTheSameSocket(t *testing.T) {
	orig, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	addr := orig.Addr().String()

	HandOver("ho-same", "tcp", socketFile(t, orig))
	ln, err := Listen(context.Background(), "ho-same", &static.EntryPoint{Address: addr})
	if err != nil {
		t.Fatalf("adopting: %v", err)
	}
	defer ln.Close()
	if ln.Addr().String() != addr {
		t.Fatalf("adopted %s, want %s", ln.Addr(), addr)
	}
	// The original closes; the adopted copy keeps the socket: a client
	// still connects and is accepted by the new listener.
	_ = orig.Close()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("connect after the original closed: %v", err)
	}
	defer c.Close()
	_ = ln.(interface{ SetDeadline(time.Time) error }).SetDeadline(time.Now().Add(2 * time.Second))
	ac, err := ln.Accept()
	if err != nil {
		t.Fatalf("accept on the adopted socket: %v", err)
	}
	_ = ac.Close()

	socks, err := ListeningSockets()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range socks {
		if s.EntryPoint == "ho-same" && s.Network == "tcp" {
			found = s.Address == addr
		}
		_ = s.File.Close()
	}
	if !found {
		t.Errorf("ListeningSockets lacks ho-same/tcp at %s: %+v", addr, socks)
	}
}

func TestHandOverRefusesAnotherAddress(t *testing.T) {
	orig, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	want := other.Addr().String()
	_ = other.Close() // a free port for the entrypoint's new address

	HandOver("ho-moved", "tcp", socketFile(t, orig))
	ln, err := Listen(context.Background(), "ho-moved", &static.EntryPoint{Address: want})
	if err != nil {
		t.Fatalf("binding the new address: %v", err)
	}
	defer ln.Close()
	if ln.Addr().String() != want {
		t.Fatalf("listening on %s, want the new address %s", ln.Addr(), want)
	}
}

func TestBoundAt(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	f := socketFile(t, ln)
	defer f.Close()
	for addr, want := range map[string]bool{
		"127.0.0.1:" + port: true,
		"localhost:" + port: true, // a host name: the port decides
		"127.0.0.1:0":       true,
		"127.0.0.2:" + port: false,
		":" + port:          false, // the wildcard address was asked for
		"127.0.0.1:1":       false,
		"garbage":           false,
	} {
		if _, got := boundAt(f, addr); got != want {
			t.Errorf("boundAt(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestAcceptGate(t *testing.T) {
	select {
	case <-acceptGate():
	default:
		t.Fatal("the gate is closed by default")
	}
	HoldAccepting()
	g := acceptGate()
	select {
	case <-g:
		t.Fatal("HoldAccepting did not hold")
	default:
	}
	StartAccepting()
	StartAccepting() // twice is harmless
	select {
	case <-g:
	case <-time.After(time.Second):
		t.Fatal("StartAccepting did not release")
	}
}
