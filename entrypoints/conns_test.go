package entrypoints

import (
	"net"
	"slices"
	"testing"

	"github.com/switchyard-proxy/switchyard/entrypoints/connreg"
)

// TestTCPConnsView: the hand-off's view of the registry lists the TCP
// routers' connections (the relay holder where there is one) and nothing
// else; adding stops once the registry is closed. (The registry's own
// close races are tested in entrypoints/connreg.)
func TestTCPConnsView(t *testing.T) {
	reg := connreg.New()
	s := tcpConns{reg}
	a, b := net.Pipe()
	defer b.Close()
	pc := &prefixConn{Conn: a}
	e, ok := s.add(pc, connreg.ProtoTCP, connreg.StateTCP)
	if !ok {
		t.Fatal("add refused")
	}
	c, d := net.Pipe()
	defer d.Close()
	tlsTerminated := connreg.NewEntry(c, connreg.ProtoTCP, connreg.StateTCP)
	reg.Add(tlsTerminated)
	reg.Add(connreg.NewEntry(c, connreg.ProtoHTTP1, connreg.StateIdle))
	got := s.snapshot()
	if len(got) != 2 || !slices.Contains(got, net.Conn(pc)) || !slices.Contains(got, c) {
		t.Fatalf("snapshot %v", got)
	}
	done := reg.Close()
	if _, ok := s.add(&prefixConn{Conn: a}, connreg.ProtoTCP, connreg.StateTCP); ok {
		t.Fatal("add accepted after close")
	}
	reg.Remove(e)
	reg.Remove(tlsTerminated)
	select {
	case <-done:
		t.Fatal("done with an HTTP/1 connection left")
	default:
	}
}

func TestIPLimit(t *testing.T) {
	l := &ipLimit{max: 2}
	a := addrIP(&net.TCPAddr{IP: net.ParseIP("10.0.0.1")})
	b := addrIP(&net.TCPAddr{IP: net.ParseIP("::ffff:10.0.0.2")})
	if !l.acquire(a) || !l.acquire(a) || l.acquire(a) { //nolint:staticcheck // three calls on purpose: acquire takes a slot
		t.Fatal("a: want two slots")
	}
	if !l.acquire(b) {
		t.Fatal("b is another address")
	}
	l.release(a)
	if !l.acquire(a) {
		t.Fatal("a released slot not given back")
	}
	if l.rejected.Load() != 1 {
		t.Fatalf("rejected %d, want 1", l.rejected.Load())
	}
}
