package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// recorderBackend answers with what reached it: method, target, the
// framing headers and the body.
func recorderBackend(t testing.TB) string {
	return startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		fmt.Fprintf(w, "method=%s uri=%s host=%s cl=%d te=%v hcl=%q hte=%q body=%q err=%v",
			r.Method, r.RequestURI, r.Host, r.ContentLength, r.TransferEncoding,
			r.Header.Get("Content-Length"), r.Header.Get("Transfer-Encoding"), b, err != nil)
	}))
}

func limitsEnv(t *testing.T, transport string, extra ...string) *Env {
	t.Helper()
	e := newEnv(t)
	e.SetURL("target", recorderBackend(t))
	e.WriteDynamic("yml", tunnelDynamic)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
    transport:
`+transport+`
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`+strings.Join(extra, ""))
	e.Start()
	e.WaitRouters("app@file")
	return e
}

// rawRound writes req on c and reads one response.
func rawRound(t *testing.T, c net.Conn, br *bufio.Reader, req string) (*http.Response, string) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatalf("write: %v", err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// expectEOF: the server closed the connection (nothing more to read).
func expectEOF(t *testing.T, c net.Conn, br *bufio.Reader) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := br.ReadByte(); err == nil || isTimeoutErr(err) {
		t.Fatalf("connection still open (read %q, %v)", b, err)
	}
}

const getReq = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n"

func TestKeepAliveMaxRequests(t *testing.T) {
	t.Parallel()
	e := limitsEnv(t, "      keepAliveMaxRequests: 3")
	c, err := net.Dial("tcp", e.Addr("web"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := 1; i <= 3; i++ {
		resp, _ := rawRound(t, c, br, getReq)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
		if resp.Close != (i == 3) {
			t.Fatalf("request %d: Connection: close = %v", i, resp.Close)
		}
	}
	expectEOF(t, c, br)
}

func TestKeepAliveMaxTime(t *testing.T) {
	t.Parallel()
	e := limitsEnv(t, "      keepAliveMaxTime: 3s")
	c, err := net.Dial("tcp", e.Addr("web"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	if resp, _ := rawRound(t, c, br, getReq); resp.StatusCode != 200 || resp.Close {
		t.Fatalf("first: %d close=%v", resp.StatusCode, resp.Close)
	}
	time.Sleep(3300 * time.Millisecond)
	if resp, _ := rawRound(t, c, br, getReq); resp.StatusCode != 200 || !resp.Close {
		t.Fatalf("after keepAliveMaxTime: %d close=%v", resp.StatusCode, resp.Close)
	}
	expectEOF(t, c, br)
}

// TestMaxConnsPerIP: transport.maxConnsPerIP (Switchyard extension) closes
// the excess connections of one address at accept; a slot comes back when
// a connection closes.
func TestMaxConnsPerIP(t *testing.T) {
	t.Parallel()
	e := limitsEnv(t, "      maxConnsPerIP: 3", "metrics:\n  prometheus: {}\n")
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for i := range 3 {
		c, err := net.Dial("tcp", e.Addr("web"))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		if resp, _ := rawRound(t, c, bufio.NewReader(c), getReq); resp.StatusCode != 200 {
			t.Fatalf("conn %d: %d", i, resp.StatusCode)
		}
	}
	extra, err := net.Dial("tcp", e.Addr("web"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(extra, getReq)
	ebr := bufio.NewReader(extra)
	expectEOF(t, extra, ebr)
	extra.Close()

	e.waitFor(5*time.Second, "refusal counted", func() bool {
		r, err := tryDo(request{url: e.URL("traefik") + "/metrics"})
		return err == nil && strings.Contains(r.Body, `switchyard_entrypoint_connections_refused_total{entrypoint="web",reason="maxConnsPerIP"} 1`)
	})

	held[0].Close()
	held = held[1:]
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", e.Addr("web"))
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, getReq)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil && resp.StatusCode == 200 {
			held = append(held, c)
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("a freed slot was never given back")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCLAndTEClosesThroughBinary: chunked wins over Content-Length, the
// backend sees only the chunked body, and the connection closes after the
// response, which says so (RFC 9112 §6.1): a request smuggled behind the
// body is never answered.
func TestCLAndTEClosesThroughBinary(t *testing.T) {
	t.Parallel()
	e := limitsEnv(t, "      keepAliveMaxRequests: 0")
	c, err := net.Dial("tcp", e.Addr("web"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	resp, body := rawRound(t, c, br, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n")
	if resp.StatusCode != 200 || !resp.Close {
		t.Fatalf("status %d, Connection: close %v", resp.StatusCode, resp.Close)
	}
	if !strings.Contains(body, `body="abc"`) || !strings.Contains(body, `hcl=""`) || strings.Contains(body, "smuggled") {
		t.Fatalf("backend saw %s", body)
	}
	expectEOF(t, c, br)
}
