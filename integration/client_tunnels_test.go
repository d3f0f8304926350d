package integration

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tunnelBackend answers an upgrade with 101 and echoes every byte of the
// tunnel; it never closes on its own. closed receives when the proxy
// closed the backend side.
func tunnelBackend(t *testing.T) (url string, closed chan struct{}) {
	closed = make(chan struct{}, 8)
	url = startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			_, _ = io.WriteString(w, "plain")
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		buf := make([]byte, 512)
		for {
			n, err := brw.Read(buf)
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		closed <- struct{}{}
	}))
	return url, closed
}

// openTunnel upgrades a raw connection through the proxy.
func openTunnel(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	_ = c.SetDeadline(time.Time{})
	return c, br
}

// echoOnce sends b through the tunnel and reads it back.
func echoOnce(c net.Conn, br *bufio.Reader, b string) error {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, b); err != nil {
		return err
	}
	got := make([]byte, len(b))
	if _, err := io.ReadFull(br, got); err != nil {
		return err
	}
	if string(got) != b {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// waitClosed waits for the server to close c; it returns when it did.
func waitClosed(t *testing.T, c net.Conn, br *bufio.Reader, within time.Duration) time.Time {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(within))
	_, err := br.ReadByte()
	if err == nil || isTimeoutErr(err) {
		t.Fatalf("tunnel still open after %v (err %v)", within, err)
	}
	return time.Now()
}

func isTimeoutErr(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

const tunnelDynamic = `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% url "target" %>"
`

// TestTunnelClosedAtGraceTimeOut: a WebSocket whose peers never close
// keeps working during the grace period, is closed (both sides) when
// transport.lifeCycle.graceTimeOut ends, and the process exits.
func TestTunnelClosedAtGraceTimeOut(t *testing.T) {
	t.Parallel()
	backend, backClosed := tunnelBackend(t)
	e := newEnv(t)
	e.SetURL("target", backend)
	e.WriteDynamic("yml", tunnelDynamic)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
    transport:
      lifeCycle:
        graceTimeOut: 3s
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("app@file")
	c, br := openTunnel(t, e.Addr("web"))
	if err := echoOnce(c, br, "hello"); err != nil {
		t.Fatalf("tunnel: %v", err)
	}
	sigAt := time.Now()
	e.Proc.Signal(syscall.SIGTERM)
	time.Sleep(time.Second)
	if err := echoOnce(c, br, "still"); err != nil {
		t.Fatalf("tunnel cut during the grace period: %v", err)
	}
	at := waitClosed(t, c, br, 20*time.Second)
	if d := at.Sub(sigAt); d < 2500*time.Millisecond {
		t.Errorf("tunnel closed %v after SIGTERM, before graceTimeOut (3s)", d)
	}
	select {
	case <-backClosed:
	case <-time.After(10 * time.Second):
		t.Fatal("backend side of the tunnel never closed")
	}
	if code := e.Proc.Wait(20 * time.Second); code < 0 {
		t.Fatal("process did not exit")
	}
}

// TestTunnelIdleBound: a tunnel is bound by
// transport.respondingTimeouts.idleTimeout of silence in both directions;
// one that carries traffic is never cut.
func TestTunnelIdleBound(t *testing.T) {
	t.Parallel()
	backend, backClosed := tunnelBackend(t)
	e := newEnv(t)
	e.SetURL("target", backend)
	e.WriteDynamic("yml", tunnelDynamic)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
    transport:
      respondingTimeouts:
        idleTimeout: 3s
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("app@file")
	c, br := openTunnel(t, e.Addr("web"))
	// Active for twice the idle timeout: never cut.
	for i := range 12 {
		if err := echoOnce(c, br, strings.Repeat("x", i+1)); err != nil {
			t.Fatalf("active tunnel cut after %d exchanges: %v", i, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	silentAt := time.Now()
	at := waitClosed(t, c, br, 15*time.Second)
	if d := at.Sub(silentAt); d < 2500*time.Millisecond {
		t.Errorf("idle tunnel closed after %v of silence, before idleTimeout (3s)", d)
	}
	select {
	case <-backClosed:
	case <-time.After(10 * time.Second):
		t.Fatal("backend side of the idle tunnel never closed")
	}
}
