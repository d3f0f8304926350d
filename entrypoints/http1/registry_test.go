package http1

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/entrypoints/connreg"
)

// waitCounts polls the registry until want holds.
func waitCounts(t *testing.T, r *connreg.Registry, what string, want func(connreg.Counts) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := r.Counts()
		if want(c) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: counts %+v", what, c)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRegistryStates: the engine reports active, idle (parked too) and
// tunnel into the registry and removes the entry when the connection ends.
func TestRegistryStates(t *testing.T) {
	reg := connreg.New()
	release := make(chan struct{})
	s := &Server{Registry: reg, ParkAfter: 20 * time.Millisecond, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			<-release
		case "/ws":
			c, rw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
			_ = rw.Flush()
			_, _ = io.Copy(c, rw) // echo until the client closes
			_ = c.Close()
		}
	})}
	addr := startServer(t, s)
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		return c, bufio.NewReader(c)
	}
	// idle: one request, then nothing (parked after 20 ms).
	idle, ibr := dial()
	_, _ = io.WriteString(idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, err := http.ReadResponse(ibr, nil); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	// active: a request the handler holds.
	active, _ := dial()
	_, _ = io.WriteString(active, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	// tunnel.
	tun, tbr := dial()
	_, _ = io.WriteString(tun, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
	if resp, err := http.ReadResponse(tbr, nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v", err)
	}
	waitCounts(t, reg, "idle, active, tunnel", func(c connreg.Counts) bool {
		return c.Total == 3 && c.ByState[connreg.StateIdle] == 1 && c.ByState[connreg.StateActive] == 1 &&
			c.ByState[connreg.StateTunnel] == 1 && c.ByProtocol[connreg.ProtoHTTP1] == 3
	})
	// Parked connections are still there, idle.
	time.Sleep(60 * time.Millisecond)
	if c := reg.Counts(); c.ByState[connreg.StateIdle] != 1 {
		t.Fatalf("after parking: %+v", c)
	}
	close(release)
	waitCounts(t, reg, "active done", func(c connreg.Counts) bool {
		return c.ByState[connreg.StateIdle] == 2 && c.ByState[connreg.StateTunnel] == 1
	})
	_ = idle.Close()
	_ = active.Close()
	_ = tun.Close()
	waitCounts(t, reg, "all closed", func(c connreg.Counts) bool { return c.Total == 0 })
}

// TestRegistryCloseAll: the registry's CloseAll ends parked connections
// through the engine (owner), which removes them.
func TestRegistryCloseAll(t *testing.T) {
	reg := connreg.New()
	s := &Server{Registry: reg, ParkAfter: time.Millisecond, Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	addr := startServer(t, s)
	var conns []net.Conn
	for range 5 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	waitCounts(t, reg, "idle", func(c connreg.Counts) bool { return c.ByState[connreg.StateIdle] == 5 })
	time.Sleep(20 * time.Millisecond) // parked
	done := reg.Close()
	reg.CloseAll()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("not emptied: %+v", reg.Counts())
	}
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || strings.Contains(err.Error(), "timeout") {
			t.Fatalf("connection not closed: %v", err)
		}
	}
}
