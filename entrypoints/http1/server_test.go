package http1

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func startServer(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = s.Close() })
	return ln.Addr().String()
}

func echo() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		fmt.Fprintf(w, "%s %s %s host=%s len=%d body=%s", r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.ContentLength, b)
	})
}

func TestClientRoundTrips(t *testing.T) {
	addr := startServer(t, &Server{Handler: echo()})
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	for i := range 20 {
		var body io.Reader
		method := http.MethodGet
		if i%2 == 1 {
			method, body = http.MethodPost, strings.NewReader(strings.Repeat("x", i*1000))
		}
		req, _ := http.NewRequest(method, "http://"+addr+"/p/a?q="+fmt.Sprint(i), body)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := fmt.Sprintf("%s /p/a q=%d host=%s", method, i, addr)
		if resp.StatusCode != 200 || !strings.HasPrefix(string(b), want) || resp.Header.Get("X-Method") != method {
			t.Fatalf("%d: %d %q", i, resp.StatusCode, b)
		}
	}
}

func TestChunkedRequestAndResponse(t *testing.T) {
	addr := startServer(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Trailer", "X-Sum")
		for i := 0; i < 3; i++ {
			_, _ = w.Write(b)
			w.(http.Flusher).Flush()
		}
		w.Header().Set("X-Sum", fmt.Sprint(3*len(b)))
	})})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_, _ = io.WriteString(nc, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "abcdeabcdeabcde" || resp.Trailer.Get("X-Sum") != "15" || len(resp.TransferEncoding) == 0 {
		t.Fatalf("%q %v %v", b, resp.Trailer, resp.TransferEncoding)
	}
}

func TestParkAndResume(t *testing.T) {
	s := &Server{Handler: echo(), ParkAfter: 50 * time.Millisecond, IdleTimeout: 2 * time.Second}
	addr := startServer(t, s)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	for i := 0; i < 3; i++ {
		_, _ = io.WriteString(nc, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(resp.Body)
		time.Sleep(200 * time.Millisecond)
		if p := s.getParker(); p != nil && p.parked() != 1 {
			t.Fatalf("round %d: parked %d, want 1", i, p.parked())
		}
	}
	// The idle timeout still applies to a parked connection.
	time.Sleep(3500 * time.Millisecond)
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("connection still open after the idle timeout")
	}
}

func TestShutdownWaitsForActive(t *testing.T) {
	release := make(chan struct{})
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		_, _ = io.WriteString(w, "done")
	})}
	addr := startServer(t, s)
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	time.Sleep(100 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	time.Sleep(100 * time.Millisecond)
	close(release)
	if g := <-got; g != "done" {
		t.Fatalf("got %q", g)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestContextCanceledWhenClientLeaves(t *testing.T) {
	canceled := make(chan struct{})
	addr := startServer(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			close(canceled)
		case <-time.After(5 * time.Second):
		}
	})})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(nc, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	time.Sleep(100 * time.Millisecond)
	nc.Close()
	select {
	case <-canceled:
	case <-time.After(4 * time.Second):
		t.Fatal("context not canceled")
	}
}

// BenchmarkKeepAlive: one keep-alive connection, GET → 1 KiB with a
// Content-Length, the way the proxy answers (allocations are the server's:
// the client side reuses its buffers).
func BenchmarkKeepAlive(b *testing.B) {
	body := []byte(strings.Repeat("x", 1024))
	addr := startServerB(b, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Length"] = []string{"1024"}
		h["Content-Type"] = []string{"text/plain"}
		_, _ = w.Write(body)
	})})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	req := []byte("GET /bench HTTP/1.1\r\nHost: bench.test\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	br := bufio.NewReaderSize(nc, 8192)
	readResp := func() {
		n := -1
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				b.Fatal(err)
			}
			if len(line) <= 2 {
				break
			}
			if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
				n = 0
				for _, c := range v {
					if c >= '0' && c <= '9' {
						n = n*10 + int(c-'0')
					}
				}
			}
		}
		if _, err := br.Discard(n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := nc.Write(req); err != nil {
			b.Fatal(err)
		}
		readResp()
	}
}

func startServerB(b *testing.B, s *Server) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	b.Cleanup(func() { _ = s.Close() })
	return ln.Addr().String()
}

// A keep-alive connection that has just been answered when the shutdown
// begins is not cut: the request its client sends a moment later is
// answered, with Connection: close, and only then is the connection
// closed. One idle for longer than drainIdleGrace is closed.
func TestShutdownSparesJustIdleConnections(t *testing.T) {
	s := &Server{Handler: echo()}
	addr := startServer(t, s)
	dial := func() (net.Conn, *bufio.Reader) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		br := bufio.NewReader(nc)
		_, _ = io.WriteString(nc, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nc, br
	}
	busy, busyR := dial()
	sleepy, _ := dial()

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	time.Sleep(100 * time.Millisecond) // the shutdown has begun
	_, _ = io.WriteString(busy, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(busyR, nil)
	if err != nil {
		t.Fatalf("the request sent just after the shutdown began was cut: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !resp.Close {
		t.Fatalf("status %d, Connection: close %v", resp.StatusCode, resp.Close)
	}
	_ = sleepy.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := sleepy.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("the idle connection was not closed: %d %v", n, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return")
	}
}
