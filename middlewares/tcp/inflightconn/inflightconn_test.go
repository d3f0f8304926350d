package inflightconn

import (
	"net"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

type fakeConn struct {
	net.Conn
	addr net.Addr
}

func (f fakeConn) RemoteAddr() net.Addr { return f.addr }

func TestLimiter(t *testing.T) {
	if _, err := New(&dynamic.TCPInFlightConn{}); err == nil {
		t.Error("amount 0 accepted")
	}
	l, err := New(&dynamic.TCPInFlightConn{Amount: 2})
	if err != nil {
		t.Fatal(err)
	}
	a := fakeConn{addr: &net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 1}}
	b := fakeConn{addr: &net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 2}}
	other := fakeConn{addr: &net.TCPAddr{IP: net.ParseIP("10.0.0.2"), Port: 1}}
	r1, ok1 := l.Acquire(a)
	_, ok2 := l.Acquire(b)
	_, ok3 := l.Acquire(a)
	_, ok4 := l.Acquire(other)
	if !ok1 || !ok2 || ok3 || !ok4 {
		t.Fatalf("%v %v %v %v", ok1, ok2, ok3, ok4)
	}
	r1()
	r1() // a second release is ignored
	if l.InFlight("10.0.0.1") != 1 {
		t.Fatalf("in flight %d", l.InFlight("10.0.0.1"))
	}
	if _, ok := l.Acquire(a); !ok {
		t.Fatal("slot not released")
	}
}
