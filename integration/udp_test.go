package integration

import (
	"net"
	"testing"
	"time"
)

// startUDPEcho answers each datagram with "name:" + datagram.
func startUDPEcho(t testing.TB, name string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(append([]byte(name+":"), buf[:n]...), from)
		}
	}()
	return pc.LocalAddr().String()
}

func udpAsk(t *testing.T, c net.Conn, msg string) string {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("udp read: %v", err)
	}
	return string(buf[:n])
}

func TestUDPRouters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.SetURL("a", startUDPEcho(t, "a"))
	e.SetURL("b", startUDPEcho(t, "b"))
	e.DynPath = e.Dir + "/dynamic.yml"
	e.WriteStatic("yml", `
entryPoints:
  dns:
    address: "<% addr "dns" %>/udp"
    udp:
      timeout: 300ms
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.WriteDynamic("yml", `
udp:
  routers:
    dns:
      entryPoints: [dns]
      service: both
    second:
      entryPoints: [dns]
      service: a
  services:
    both:
      weighted:
        services:
          - name: a
            weight: 2
          - name: b
            weight: 1
    a:
      loadBalancer:
        servers:
          - address: "<% url "a" %>"
    b:
      loadBalancer:
        servers:
          - address: "<% url "b" %>"
`)
	e.Start()
	var raw struct {
		UDPRouters map[string]map[string]any `json:"udpRouters"`
	}
	e.waitFor(10*time.Second, "udp routers in the API", func() bool {
		return getJSON(e.URL("traefik")+"/api/rawdata", &raw) == nil && len(raw.UDPRouters) == 2
	})
	if raw.UDPRouters["second@file"]["status"] != "disabled" || raw.UDPRouters["dns@file"]["status"] != "enabled" {
		t.Fatalf("udp routers: %v", raw.UDPRouters)
	}

	dial := func() net.Conn {
		c, err := net.Dial("udp", e.Addr("dns"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	c1, c2, c3 := dial(), dial(), dial()
	// Smooth WRR 2:1 over new sessions: a, b, a.
	got := []string{udpAsk(t, c1, "1"), udpAsk(t, c2, "2"), udpAsk(t, c3, "3")}
	want := []string{"a:1", "b:2", "a:3"}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("sessions: got %v, want %v", got, want)
		}
	}
	// Session affinity: the same client stays on its backend.
	for range 5 {
		if r := udpAsk(t, c2, "again"); r != "b:again" {
			t.Fatalf("affinity lost: %q", r)
		}
	}
	// After the idle timeout the session is gone: the next datagram opens
	// a new session on the next backend in the order a,b,a | a,b,a: c2,
	// which was on b, now lands on a.
	time.Sleep(900 * time.Millisecond)
	if r := udpAsk(t, c2, "late"); r != "a:late" {
		t.Fatalf("after idle timeout: %q", r)
	}
}
