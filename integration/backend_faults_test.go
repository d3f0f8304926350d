package integration

// Backend faults through the binary (issue 13, must-hold 5): resets in the
// middle of a response, hangs before and after the head, invalid HTTP,
// keep-alive connections closed at the moment of reuse, backends that never
// read a request body. The client gets a clean 502/504 or a truncated and
// closed response, never a complete-looking or foreign one; requests are
// retried only when safe; goroutines and fds come back to their baseline.

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// faultStatic is staticYAML with a serversTransport whose read and write
// timeouts are short enough for a test.
const faultDynamic = `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
  services:
    app:
      loadBalancer:
        serversTransport: short
        servers:
          - url: "<% url "target" %>"
  serversTransports:
    short:
      forwardingTimeouts:
        responseHeaderTimeout: 2s
        readTimeout: 2s
        writeTimeout: 2s
`

func startFaultEnv(t *testing.T, backend string, dynamic string) (*Env, *debugProc) {
	t.Helper()
	e := newEnv(t)
	e.SetURL("target", backend)
	e.WriteDynamic("yml", dynamic)
	e.WriteStatic("yml", staticYAML)
	d := e.StartDebug()
	e.WaitRouters("app@file")
	e.WaitListening(e.Addr("web"))
	return e, d
}

// resetConn closes c with a TCP RST.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func TestBackendFaults(t *testing.T) {
	t.Parallel()
	var seen atomic.Int64 // requests on /reuse-close
	be := startScriptBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			switch req.URL.Path {
			case "/reset-cl":
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"+strings.Repeat("a", 5000))
				time.Sleep(100 * time.Millisecond)
				resetConn(c)
				return
			case "/reset-chunked":
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
				time.Sleep(100 * time.Millisecond)
				resetConn(c)
				return
			case "/fin-cl": // a clean close before Content-Length
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
				return
			case "/reset-before-head":
				resetConn(c)
				return
			case "/hang-before-head":
				time.Sleep(5 * time.Second)
				return
			case "/hang-after-head":
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
				time.Sleep(6 * time.Second)
				return
			case "/hang-after-head-chunked":
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
				time.Sleep(6 * time.Second)
				return
			case "/garbage":
				_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.2\r\n\r\n")
				return
			case "/reuse-close":
				// One answer per connection; the next request on it is read
				// and the connection closed without an answer, as a backend
				// whose keep-alive timer fired at that very moment.
				seen.Add(1)
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				if req2, err := http.ReadRequest(br); err == nil {
					_, _ = io.Copy(io.Discard, req2.Body)
					seen.Add(1)
				}
				return
			default:
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}
		}
	})
	e, d := startFaultEnv(t, be.URL(), faultDynamic)
	cl := freshClient()
	// Warm up, then take the baseline.
	for range 3 {
		if rep, err := tryDoWith(cl, e.URL("web")+"/warm"); err != nil || rep.Status != 200 {
			t.Fatalf("warm-up: %v %d", err, rep.Status)
		}
	}
	time.Sleep(300 * time.Millisecond)
	baseG, baseFD := d.goroutines(), d.fds()

	get := func(path string) (int, string, error, time.Duration) { //nolint:staticcheck // reads as the call site uses it
		start := time.Now()
		res, err := cl.Get(e.URL("web") + path)
		if err != nil {
			return 0, "", err, time.Since(start)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode, string(b), err, time.Since(start)
	}
	for _, tc := range []struct {
		path   string
		status int // 0: truncated (a read error after the head)
		body   string
		max    time.Duration
	}{
		{"/reset-cl", 0, "", 10 * time.Second},
		{"/reset-chunked", 0, "", 10 * time.Second},
		{"/fin-cl", 0, "", 10 * time.Second},
		{"/reset-before-head", 502, "Bad Gateway", 10 * time.Second},
		{"/hang-before-head", 504, "Gateway Timeout", 4500 * time.Millisecond}, // responseHeaderTimeout 2s
		{"/hang-after-head", 0, "", 5500 * time.Millisecond},                   // readTimeout 2s
		{"/hang-after-head-chunked", 0, "", 5500 * time.Millisecond},
		{"/garbage", 502, "Bad Gateway", 10 * time.Second},
	} {
		st, body, err, took := get(tc.path)
		switch {
		case tc.status == 0 && err == nil:
			t.Errorf("%s: complete-looking %d %q, want a truncated, closed response", tc.path, st, body)
		case tc.status != 0 && (err != nil || st != tc.status || body != tc.body):
			t.Errorf("%s: %d %q %v, want %d %q", tc.path, st, body, err, tc.status, tc.body)
		}
		if took > tc.max {
			t.Errorf("%s: took %v, want at most %v", tc.path, took, tc.max)
		}
		// The next client is served normally.
		if st, body, err, _ := get("/after"); err != nil || st != 200 || body != "ok" {
			t.Errorf("after %s: %d %q %v", tc.path, st, body, err)
		}
	}

	// Keep-alive closed by the backend at the moment of reuse: a GET is
	// retried on a new connection, a POST whose body was sent is not.
	if st, body, err, _ := get("/reuse-close"); err != nil || st != 200 || body != "ok" {
		t.Fatalf("reuse-close 1: %d %q %v", st, body, err)
	}
	if st, body, err, _ := get("/reuse-close"); err != nil || st != 200 || body != "ok" {
		t.Errorf("GET on a connection closed at reuse: %d %q %v, want a transparent retry", st, body, err)
	}
	res, err := cl.Post(e.URL("web")+"/reuse-close", "text/plain", strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadGateway {
		t.Errorf("POST on a connection closed at reuse: %d %q, want 502 (not replayed)", res.StatusCode, b)
	}
	if n := seen.Load(); n != 4 {
		t.Errorf("backend saw %d /reuse-close requests, want 4 (the POST once)", n)
	}
	d.settles(t, baseG, baseFD, 4, 20*time.Second)
}

// TestBackendNeverReadsBody is defect 2 of issue 13: a backend that reads a
// request head and never its body must not pin the handler and both
// connections. Over HTTP/1.1 the write is cut after writeTimeout (2 s here);
// over HTTP/2 the client's reset is noticed within a second, long before the
// default 60 s writeTimeout.
func TestBackendNeverReadsBody(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var closedByProxy, heads atomic.Int64
	be := startScriptBackend(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if req.URL.Path == "/warm" {
			_, _ = io.Copy(io.Discard, req.Body)
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
			return
		}
		heads.Add(1)
		<-release
		// Now read: a connection the proxy closed ends (EOF or reset)
		// after what was buffered; one it still holds would time out.
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = io.Copy(io.Discard, c)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			closedByProxy.Add(1)
		}
	})
	for _, h2 := range []bool{false, true} {
		name := "http1"
		dyn := faultDynamic
		if h2 {
			name = "h2c"
			dyn = strings.Replace(faultDynamic, "writeTimeout: 2s", "writeTimeout: 60s", 1)
		}
		t.Run(name, func(t *testing.T) {
			e, d := startFaultEnv(t, be.URL(), dyn)
			if rep, err := tryDoWith(freshClient(), e.URL("web")+"/warm"); err != nil || rep.Status != 200 {
				t.Fatalf("warm-up: %v %d", err, rep.Status)
			}
			time.Sleep(300 * time.Millisecond)
			baseG, baseFD := d.goroutines(), d.fds()
			before := heads.Load()

			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			closeClient := func() {}
			if !h2 {
				c, err := net.Dial("tcp", e.Addr("web"))
				if err != nil {
					t.Fatal(err)
				}
				go func() {
					_, err := fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 1<<30)
					buf := make([]byte, 64<<10)
					for err == nil && ctx.Err() == nil {
						_ = c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
						_, err = c.Write(buf)
						var ne net.Error
						if errors.As(err, &ne) && ne.Timeout() {
							err = nil
						}
					}
					resetConn(c) // the client goes away
					done <- err
				}()
			} else {
				var conn net.Conn
				dial := func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
					c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
					conn = c
					return c, err
				}
				tr := &http2.Transport{AllowHTTP: true, DialTLSContext: dial} //nolint:staticcheck // h2c with prior knowledge on a conn the test holds
				closeClient = func() {
					tr.CloseIdleConnections() //nolint:staticcheck // see above
					if conn != nil {
						conn.Close()
					}
				}
				pr, pw := io.Pipe()
				go func() {
					buf := make([]byte, 64<<10)
					for {
						if _, err := pw.Write(buf); err != nil {
							return
						}
					}
				}()
				req, _ := http.NewRequestWithContext(ctx, "POST", e.URL("web")+"/upload", pr)
				go func() {
					res, err := tr.RoundTrip(req) //nolint:staticcheck // see above
					if err == nil {
						res.Body.Close()
					}
					pw.CloseWithError(io.ErrClosedPipe)
					done <- err
				}()
			}
			// The backend has the head and stops reading; the upload stalls.
			e.waitFor(10*time.Second, "backend got the request head", func() bool { return heads.Load() > before })
			time.Sleep(1500 * time.Millisecond)
			start := time.Now()
			cancel() // the client goes away
			<-done
			closeClient()
			d.settles(t, baseG, baseFD, 2, 15*time.Second)
			if took := time.Since(start); h2 && took > 10*time.Second {
				t.Errorf("h2 client reset noticed after %v", took)
			}
		})
	}
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for closedByProxy.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := closedByProxy.Load(); n != 2 {
		t.Errorf("%d of 2 stalled backend connections were closed by the proxy", n)
	}
}

// TestBackendFaultsHTTPS: readTimeout and writeTimeout also bound https://
// backends (net/http's transport): a body that stalls after the head is
// aborted, an upload the backend never reads is cut, nothing is left behind.
func TestBackendFaultsHTTPS(t *testing.T) {
	t.Parallel()
	certPEM, keyPEM := selfSigned(t)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	defer close(release)
	be := startScriptBackendOn(t, tls.NewListener(raw, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}),
		func(c net.Conn, br *bufio.Reader) {
			for {
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				switch req.URL.Path {
				case "/hang-after-head":
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
					select {
					case <-release:
					case <-time.After(8 * time.Second):
					}
					return
				case "/upload":
					select { // never reads the body
					case <-release:
					case <-time.After(20 * time.Second):
					}
					return
				default:
					_, _ = io.Copy(io.Discard, req.Body)
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				}
			}
		})
	dyn := strings.Replace(faultDynamic, "serversTransports:\n    short:\n", "serversTransports:\n    short:\n      insecureSkipVerify: true\n", 1)
	e, d := startFaultEnv(t, "https://"+be.ln.Addr().String(), dyn)
	cl := freshClient()
	if rep, err := tryDoWith(cl, e.URL("web")+"/warm"); err != nil || rep.Status != 200 {
		t.Fatalf("warm-up: %v %d %q", err, rep.Status, rep.Body)
	}
	time.Sleep(300 * time.Millisecond)
	baseG, baseFD := d.goroutines(), d.fds()

	start := time.Now()
	res, err := cl.Get(e.URL("web") + "/hang-after-head")
	if err == nil {
		var b []byte
		b, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			t.Errorf("stalled body: complete-looking %d %q, want a truncated response", res.StatusCode, b)
		}
	}
	if took := time.Since(start); took > 6*time.Second {
		t.Errorf("stalled body ended after %v, want about readTimeout (2s)", took)
	}

	c, err := net.Dial("tcp", e.Addr("web"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start = time.Now()
	go func() {
		_, err := fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 1<<30)
		buf := make([]byte, 64<<10)
		for err == nil {
			_, err = c.Write(buf)
		}
	}()
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	got, _ := bufio.NewReader(c).ReadString('\n')
	if !strings.HasPrefix(got, "HTTP/1.1 504") && !strings.HasPrefix(got, "HTTP/1.1 502") {
		t.Errorf("upload to a backend that never reads: %q after %v, want 504 (or 502) after writeTimeout", got, time.Since(start))
	}
	resetConn(c)
	d.settles(t, baseG, baseFD, 2, 15*time.Second)
}
