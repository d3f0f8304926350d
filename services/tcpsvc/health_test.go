package tcpsvc

import (
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// listen answers "ping" with reply() and otherwise writes name.
func listen(t *testing.T, name string, reply func() string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 4)
				if _, err := io.ReadFull(c, buf); err != nil {
					return
				}
				if string(buf) == "ping" {
					io.WriteString(c, reply())
					return
				}
				io.WriteString(c, name)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestHealthCheckOnce(t *testing.T) {
	addr := listen(t, "x", func() string { return "pong" })
	tr := &Transport{DialTimeout: time.Second}
	s := &Server{Address: addr, T: tr}
	hc := HealthCheck{Send: "ping", Expect: "pong"}
	hc.Defaults()
	if err := hc.Check(s); err != nil {
		t.Fatalf("healthy: %v", err)
	}
	hc.Expect = "pang"
	if err := hc.Check(s); err == nil {
		t.Fatal("wrong reply accepted")
	}
	// port overrides the server's port.
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	closed := &Server{Address: "127.0.0.1:1", T: tr}
	hc = HealthCheck{Port: p}
	hc.Defaults()
	if err := hc.Check(closed); err != nil {
		t.Fatalf("check on port %d: %v", p, err)
	}
	hc.Port = 0
	if err := hc.Check(closed); err == nil {
		t.Fatal("closed port passed")
	}
}

func TestCheckedEjectsAndRestores(t *testing.T) {
	var bUp atomic.Bool
	bUp.Store(true)
	reply := func(up *atomic.Bool) func() string {
		return func() string {
			if up.Load() {
				return "pong"
			}
			return "nope"
		}
	}
	var aUp atomic.Bool
	aUp.Store(true)
	tr := &Transport{DialTimeout: time.Second, TerminationDelay: time.Second}
	a := &Server{Address: listen(t, "a", reply(&aUp)), T: tr}
	b := &Server{Address: listen(t, "b", reply(&bUp)), T: tr}
	var events atomic.Int32
	c := NewChecked([]*Server{a, b}, []int{1, 1},
		HealthCheck{Send: "ping", Expect: "pong", Interval: 20 * time.Millisecond, Timeout: time.Second},
		func(string, bool) { events.Add(1) })
	c.Start()
	defer c.Stop()

	served := func() map[string]int {
		out := map[string]int{}
		for range 4 {
			cl, sv := net.Pipe()
			go c.ServeTCP(sv)
			_ = cl.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(cl, "data")
			got, _ := io.ReadAll(cl)
			cl.Close()
			out[string(got)]++
		}
		return out
	}
	waitStatus := func(addr string, up bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for c.Status()[addr] != up {
			if time.Now().After(deadline) {
				t.Fatalf("%s: want up=%v, status %v", addr, up, c.Status())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if got := served(); got["a"] != 2 || got["b"] != 2 {
		t.Fatalf("both up: %v", got)
	}
	bUp.Store(false)
	waitStatus(b.Address, false)
	if got := served(); got["a"] != 4 {
		t.Fatalf("b down: %v", got)
	}
	bUp.Store(true)
	waitStatus(b.Address, true)
	if got := served(); got["b"] == 0 {
		t.Fatalf("b back: %v", got)
	}
	if events.Load() != 2 {
		t.Fatalf("want 2 transitions, got %d", events.Load())
	}
}
