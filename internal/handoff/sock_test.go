//go:build unix

package handoff

import (
	ctls "crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
)

type wrapped struct{ net.Conn }

func (w wrapped) NetConn() net.Conn { return w.Conn }

// TestDupAdopt: a socket found under wrappers moves by dup; closing the
// original does not end the connection; TLS refuses to move.
func TestDupAdopt(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peerc := make(chan net.Conn, 1)
	go func() { c, _ := ln.Accept(); peerc <- c }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer := <-peerc
	defer peer.Close()

	if _, err := Socket(ctls.Client(wrapped{c}, &ctls.Config{})); !errors.Is(err, ErrTLS) {
		t.Fatalf("TLS: %v", err)
	}
	if !Movable(wrapped{wrapped{c}}) {
		t.Fatal("not movable under wrappers")
	}
	f, err := Dup(wrapped{c})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close() // no FIN: the duplicate holds the socket
	nc, err := Adopt(f)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte("still here")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(peer, buf); err != nil || string(buf) != "still here" {
		t.Fatalf("peer read %q, %v", buf, err)
	}
}
