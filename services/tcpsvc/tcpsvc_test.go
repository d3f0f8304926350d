package tcpsvc

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/internal/tcphandler"
)

func TestWRR(t *testing.T) {
	for _, tc := range []struct {
		weights []int
		want    []int // picks per handler over sum(weights)*10 picks
	}{
		{[]int{1, 1}, []int{10, 10}},
		{[]int{3, 1}, []int{30, 10}},
		{[]int{2, 0, 1}, []int{20, 0, 10}},
		{[]int{100, 200}, []int{100, 200}},
		{[]int{0, 0}, []int{0, 0}},
	} {
		counts := make([]int, len(tc.weights))
		var hs []tcphandler.Handler
		for i := range tc.weights {
			hs = append(hs, tcphandler.HandlerFunc(func(c net.Conn) { counts[i]++ }))
		}
		w := NewWRR(hs, tc.weights)
		total := 0
		for _, x := range tc.want {
			total += x
		}
		if total == 0 {
			c1, c2 := net.Pipe()
			w.ServeTCP(c1) // closes it: nothing to pick
			c2.Close()
			continue
		}
		for range total {
			w.ServeTCP(nil)
		}
		for i := range counts {
			if counts[i] != tc.want[i] {
				t.Errorf("weights %v: counts %v, want %v", tc.weights, counts, tc.want)
				break
			}
		}
	}
}

// TestServerHalfClose: the client half-closes, the backend still answers,
// and the answer reaches the client.
func TestServerHalfClose(t *testing.T) {
	back, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	go func() {
		c, err := back.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c) // until the client's FIN
		time.Sleep(20 * time.Millisecond)
		c.Write(append([]byte("echo:"), b...))
	}()
	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer front.Close()
	srv := &Server{Address: back.Addr().String(), T: &Transport{DialTimeout: time.Second, TerminationDelay: -1}}
	go func() {
		c, err := front.Accept()
		if err != nil {
			return
		}
		srv.ServeTCP(c)
	}()
	c, err := net.Dial("tcp", front.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("ping"))
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "echo:ping" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestServerDialFailureCloses(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	srv := &Server{Address: addr, T: &Transport{DialTimeout: time.Second}}
	c1, c2 := net.Pipe()
	go srv.ServeTCP(c1)
	c2.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c2.Read(make([]byte, 1)); err == nil {
		t.Fatal("client connection not closed on dial failure")
	}
}
