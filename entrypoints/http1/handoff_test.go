//go:build linux

package http1

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func serverNamed(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, name)
	})
}

// dupTo serves a copy of nc's socket on s, as a new process would.
func dupTo(t *testing.T, s *Server, nc net.Conn) bool {
	tc := nc.(*net.TCPConn)
	rc, _ := tc.SyscallConn()
	var nfd int
	var err error
	_ = rc.Control(func(fd uintptr) { nfd, err = syscall.Dup(int(fd)) })
	if err != nil {
		t.Error(err)
		return false
	}
	f := os.NewFile(uintptr(nfd), "moved")
	c, err := net.FileConn(f)
	_ = f.Close()
	if err != nil {
		t.Error(err)
		return false
	}
	go s.ServeConn(c)
	return true
}

func get(t *testing.T, c net.Conn, br *bufio.Reader) string {
	t.Helper()
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(b)
}

// TestMoveIdle: parked cleartext keep-alive connections move to another
// server and are served there; one with a request waiting does not.
func TestMoveIdle(t *testing.T) {
	old := &Server{Handler: serverNamed("old"), ParkAfter: time.Millisecond}
	addr := startServer(t, old)
	next := &Server{Handler: serverNamed("new"), ParkAfter: time.Millisecond}
	t.Cleanup(func() { _ = next.Close() })

	const n = 20
	conns := make([]net.Conn, n)
	brs := make([]*bufio.Reader, n)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i], brs[i] = c, bufio.NewReader(c)
		if got := get(t, c, brs[i]); got != "old" {
			t.Fatalf("first answer %q", got)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for old.parker == nil || old.parker.parked() < n {
		if time.Now().After(deadline) {
			t.Fatal("connections not parked")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The last one has a request waiting: not idle, it stays.
	_, _ = io.WriteString(conns[n-1], "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(50 * time.Millisecond)

	moved := old.MoveIdle(func(nc net.Conn) bool { return dupTo(t, next, nc) })
	if moved < n-1 || moved > n {
		t.Fatalf("moved %d of %d", moved, n-1)
	}
	for i := range n - 1 {
		if got := get(t, conns[i], brs[i]); got != "new" {
			t.Fatalf("conn %d after the move: %q", i, got)
		}
	}
	resp, err := http.ReadResponse(brs[n-1], nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains("old new", string(b)) {
		t.Fatalf("busy conn answered %q", b)
	}
}
