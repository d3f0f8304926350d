package sockpeek

import (
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"
)

func TestPeek(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no non-blocking peek")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	rc, _ := server.(syscall.Conn).SyscallConn()

	if got := Peek(rc); got != Empty {
		t.Fatalf("fresh: %v, want Empty", got)
	}
	_, _ = client.Write([]byte("x"))
	waitFor(t, rc, Data)
	var b [1]byte
	_, _ = server.Read(b[:]) // consume it
	_ = client.Close()
	waitFor(t, rc, Closed)
	if Peek(nil) != Unknown {
		t.Fatal("nil RawConn: want Unknown")
	}
}

func waitFor(t *testing.T, rc syscall.RawConn, want State) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if Peek(rc) == want {
			return
		}
	}
	t.Fatalf("state %v never reached", want)
}
