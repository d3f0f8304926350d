package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestForwardBasics(t *testing.T) {
	var got *http.Request
	var gotBody string
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.Header().Set("X-Backend", "yes")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "hello")
	})
	tr := newTestTransport(t)
	srv, _ := front(t, be.URL, tr, defaultOpts())

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/a/b%2Fc?x=1;y=2", strings.NewReader("payload"))
	req.Host = "example.com"
	req.Header.Set("X-Forwarded-For", "10.0.0.1")
	req.Header.Add("X-Multi", "1")
	req.Header.Add("X-Multi", "2")
	res, err := client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()

	if res.StatusCode != http.StatusCreated || string(body) != "hello" {
		t.Fatalf("got %d %q", res.StatusCode, body)
	}
	if res.Header.Get("X-Backend") != "yes" || len(res.Header["Set-Cookie"]) != 2 {
		t.Errorf("response headers: %v", res.Header)
	}
	if got.Host != "example.com" {
		t.Errorf("Host = %q, want the client's", got.Host)
	}
	if got.RequestURI != "/a/b%2Fc?x=1&y=2" {
		t.Errorf("RequestURI = %q", got.RequestURI)
	}
	if xff := got.Header.Get("X-Forwarded-For"); xff != "10.0.0.1, 127.0.0.1" {
		t.Errorf("X-Forwarded-For = %q", xff)
	}
	if v := got.Header["X-Multi"]; len(v) != 2 || v[0] != "1" || v[1] != "2" {
		t.Errorf("X-Multi = %v", v)
	}
	if gotBody != "payload" || got.ContentLength != 7 {
		t.Errorf("body %q, length %d", gotBody, got.ContentLength)
	}
	if ua := got.Header.Get("User-Agent"); ua != "Go-http-client/1.1" {
		t.Errorf("User-Agent = %q, want the client's", ua)
	}
}

func TestPassHostHeaderFalse(t *testing.T) {
	var host string
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) { host = r.Host })
	srv, _ := front(t, be.URL, newTestTransport(t), Options{PassHostHeader: false})
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Host = "example.com"
	res, err := client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if want := strings.TrimPrefix(be.URL, "http://"); host != want {
		t.Errorf("Host = %q, want %q", host, want)
	}
}

func TestPreservePath(t *testing.T) {
	var uri string
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) { uri = r.RequestURI })
	srv, _ := front(t, be.URL+"/base/", newTestTransport(t), Options{PassHostHeader: true, PreservePath: true})
	res, err := client(t).Get(srv.URL + "/x/y?q=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if uri != "/base/x/y?q=1" {
		t.Errorf("RequestURI = %q", uri)
	}
}

func TestKeepAliveReuse(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write(bytes.Repeat([]byte("x"), 1024))
	})
	tr := newTestTransport(t)
	srv, _ := front(t, be.URL, tr, defaultOpts())
	c := client(t)
	for i := 0; i < 50; i++ {
		var body io.Reader
		if i%2 == 1 {
			body = strings.NewReader("some body")
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, body)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if len(b) != 1024 {
			t.Fatalf("body length %d", len(b))
		}
	}
	if n := be.conns.Load(); n != 1 {
		t.Errorf("backend saw %d connections, want 1", n)
	}
}

func TestConcurrentPoolBounded(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		_, _ = io.WriteString(w, "ok")
	})
	tr := newTestTransport(t)
	srv, _ := front(t, be.URL, tr, defaultOpts())
	c := client(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				res, err := c.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		}()
	}
	wg.Wait()
	if n := be.conns.Load(); n > 8 {
		t.Errorf("backend saw %d connections for 8 concurrent clients", n)
	}
}

func TestConnectionCloseNotReused(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		_, _ = io.WriteString(w, "bye")
	})
	srv, _ := front(t, be.URL, newTestTransport(t), defaultOpts())
	c := client(t)
	for i := 0; i < 3; i++ {
		res, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(b) != "bye" || res.Close {
			t.Fatalf("body %q, client conn closed: %v", b, res.Close)
		}
	}
	if n := be.conns.Load(); n != 3 {
		t.Errorf("backend saw %d connections, want 3", n)
	}
}

func TestChunkedBothWaysWithTrailers(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if len(r.TransferEncoding) == 0 || r.TransferEncoding[0] != "chunked" {
			t.Errorf("request TransferEncoding = %v", r.TransferEncoding)
		}
		b, _ := io.ReadAll(r.Body)
		if r.Trailer.Get("X-Req-Sum") != "abc" {
			t.Errorf("request trailer = %v", r.Trailer)
		}
		w.Header().Set("Trailer", "X-Sum")
		w.WriteHeader(http.StatusOK)
		for i := 0; i < 3; i++ {
			_, _ = w.Write(b)
			w.(http.Flusher).Flush()
		}
		w.Header().Set("X-Sum", "42")
		w.Header().Set(http.TrailerPrefix+"X-Late", "late")
	})
	srv, _ := front(t, be.URL, newTestTransport(t), defaultOpts())

	pr, pw := io.Pipe()
	go func() {
		_, _ = io.WriteString(pw, "chunk-")
		_ = pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, pr)
	req.Trailer = http.Header{"X-Req-Sum": nil}
	go func() {}()
	req.Trailer.Set("X-Req-Sum", "abc")
	res, err := client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "chunk-chunk-chunk-" {
		t.Errorf("body %q", b)
	}
	if res.ContentLength != -1 {
		t.Errorf("ContentLength = %d, want chunked", res.ContentLength)
	}
	if res.Trailer.Get("X-Sum") != "42" || res.Trailer.Get("X-Late") != "late" {
		t.Errorf("trailers = %v", res.Trailer)
	}
}

func TestLargeStreamingBodies(t *testing.T) {
	const size = 32 << 20
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, _ := io.Copy(h, r.Body)
		w.Header().Set("X-Got", fmt.Sprintf("%d %x", n, h.Sum(nil)))
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", fmt.Sprint(size))
		}
		chunk := bytes.Repeat([]byte("0123456789abcdef"), 2048)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	srv, _ := front(t, be.URL, newTestTransport(t), defaultOpts())
	c := client(t)

	for _, q := range []string{"", "?chunked=1"} {
		t.Run("q="+q, func(t *testing.T) {
			src := &patternReader{left: size}
			req, _ := http.NewRequest(http.MethodPut, srv.URL+q, src)
			if q == "" {
				req.ContentLength = size
			}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			n, err := io.Copy(h, res.Body)
			res.Body.Close()
			if err != nil || n != size {
				t.Fatalf("read %d bytes: %v", n, err)
			}
			runtime.ReadMemStats(&after)
			want := fmt.Sprintf("%d %x", size, patternSum(size))
			if got := res.Header.Get("X-Got"); got != want {
				t.Errorf("backend got %q, want %q", got, want)
			}
			// 64 MiB went through; the proxy, client and backend together must
			// stay far below that.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("allocated %d KiB while streaming 2x32 MiB", alloc>>10)
			}
		})
	}
}

// patternReader yields a deterministic byte stream.
type patternReader struct{ left, off int }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n := min(len(b), p.left)
	for i := range n {
		b[i] = byte((p.off + i) % 251)
	}
	p.off += n
	p.left -= n
	return n, nil
}

func patternSum(size int) []byte {
	h := sha256.New()
	_, _ = io.Copy(h, &patternReader{left: size})
	return h.Sum(nil)
}

func TestEventStreamFlushedImmediately(t *testing.T) {
	next := make(chan struct{})
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < 3; i++ {
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
			select {
			case <-next:
			case <-r.Context().Done():
				return
			}
		}
	})
	// A huge interval: only the streaming rule can explain prompt delivery.
	srv, _ := front(t, be.URL, newTestTransport(t), Options{PassHostHeader: true, FlushInterval: time.Hour})
	res, err := client(t).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	for i := 0; i < 3; i++ {
		line, err := readWithin(br, 2*time.Second)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if want := fmt.Sprintf("data: %d\n", i); line != want {
			t.Fatalf("got %q, want %q", line, want)
		}
		_, _ = br.ReadString('\n')
		next <- struct{}{}
	}
}

func TestFlushIntervalWithContentLength(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		prompt   bool
	}{
		{"interval", 30 * time.Millisecond, true},
		{"negative", -1, true},
		{"zero", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "12")
				_, _ = io.WriteString(w, "first\n")
				w.(http.Flusher).Flush()
				select {
				case <-release:
				case <-time.After(5 * time.Second):
				}
				_, _ = io.WriteString(w, "second")
			})
			srv, _ := front(t, be.URL, newTestTransport(t), Options{PassHostHeader: true, FlushInterval: tc.interval})
			c := client(t)
			first := make(chan string, 1)
			go func() {
				res, err := c.Get(srv.URL)
				if err != nil {
					first <- err.Error()
					return
				}
				defer res.Body.Close()
				line, _ := bufio.NewReader(res.Body).ReadString('\n')
				first <- line
			}()
			var line string
			select {
			case line = <-first:
			case <-time.After(500 * time.Millisecond):
			}
			close(release)
			if tc.prompt && line != "first\n" {
				t.Fatalf("first line %q", line)
			}
			if !tc.prompt {
				if line != "" {
					t.Fatalf("first line arrived early although flushInterval is 0")
				}
				<-first
			}
		})
	}
}

// readWithin reads one line or fails after d.
func readWithin(br *bufio.Reader, d time.Duration) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := br.ReadString('\n')
		ch <- res{s, err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-time.After(d):
		return "", fmt.Errorf("nothing within %v", d)
	}
}

func TestBadGatewayOnRefusedDial(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	srv, statuses := front(t, "http://"+addr, newTestTransport(t), defaultOpts())
	res, err := client(t).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadGateway || string(b) != "Bad Gateway" {
		t.Errorf("got %d %q", res.StatusCode, b)
	}
	if st := <-statuses; st != http.StatusBadGateway {
		t.Errorf("recorded %d", st)
	}
}

func TestGatewayTimeoutOnResponseHeaderTimeout(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	srv, _ := front(t, be.URL, newTestTransport(t, withResponseHeaderTimeout(100*time.Millisecond)), defaultOpts())
	start := time.Now()
	res, err := client(t).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("status %d", res.StatusCode)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
}

func TestClientGoneRecords499(t *testing.T) {
	arrived := make(chan struct{})
	backendDone := make(chan struct{})
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done(): // the proxy dropped the connection
			close(backendDone)
		case <-time.After(5 * time.Second):
		}
	})
	srv, statuses := front(t, be.URL, newTestTransport(t), defaultOpts())
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	go func() {
		<-arrived
		cancel()
	}()
	if _, err := client(t).Do(req); err == nil {
		t.Fatal("expected the client to give up")
	}
	select {
	case st := <-statuses:
		if st != StatusClientClosedRequest {
			t.Errorf("recorded %d, want 499", st)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("handler did not return after the client left")
	}
	select {
	case <-backendDone:
	case <-time.After(3 * time.Second):
		t.Error("backend connection was not closed")
	}
}

func TestRetryOnDeadIdleConnection(t *testing.T) {
	// The backend answers once per connection, then takes the next request
	// and closes without answering: the idle probe cannot see that coming.
	addr, conns := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readRawRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		_, _ = readRawRequest(br)
	})
	srv, _ := front(t, addr, newTestTransport(t), defaultOpts())
	c := client(t)
	get := func(method string, body io.Reader) int {
		req, _ := http.NewRequest(method, srv.URL, body)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	if st := get(http.MethodGet, nil); st != 200 {
		t.Fatalf("first: %d", st)
	}
	if st := get(http.MethodGet, nil); st != 200 {
		t.Errorf("GET on a dead pooled connection: %d, want a transparent retry", st)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("backend saw %d connections, want 2", n)
	}
	time.Sleep(50 * time.Millisecond)
	// A POST whose body was consumed cannot be replayed.
	if st := get(http.MethodPost, strings.NewReader("body")); st != http.StatusBadGateway {
		t.Errorf("POST with a body on a dead connection: %d, want 502", st)
	}
}

func TestIdleProbeDropsDeadConnection(t *testing.T) {
	addr, conns := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readRawRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	tr := newTestTransport(t)
	h, _ := New(mustURL(t, addr), tr, defaultOpts())
	p := h.(*fastProxy)
	do := func() {
		req, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader("x"))
		req.RemoteAddr = "1.2.3.4:5"
		w := newFakeRW()
		h.ServeHTTP(w, req)
		if w.code != 200 {
			t.Fatalf("status %d", w.code)
		}
	}
	do()
	if p.pool.idleCount() != 1 {
		t.Fatal("connection not pooled")
	}
	// The backend closed at once: however young, the idle connection is probed.
	time.Sleep(50 * time.Millisecond)
	do() // a POST with a body: only the probe can save it
	if n := conns.Load(); n != 2 {
		t.Errorf("backend saw %d connections, want 2", n)
	}
}

func TestIdleConnTimeoutReaps(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {})
	tr := newTestTransport(t, func(c *dynamicST) { c.ForwardingTimeouts.IdleConnTimeout = durationT(50 * time.Millisecond) })
	h, _ := New(mustURL(t, be.URL), tr, defaultOpts())
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	h.ServeHTTP(newFakeRW(), req)
	p := h.(*fastProxy).pool
	if p.idleCount() != 1 {
		t.Fatal("connection not pooled")
	}
	deadline := time.Now().Add(2 * time.Second)
	for p.idleCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("idle connection not reaped")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHopByHopHeaders(t *testing.T) {
	reqs := make(chan *http.Request, 1)
	addr, _ := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		req, err := readRawRequest(br)
		if err != nil {
			return
		}
		reqs <- req
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\n"+
			"Connection: X-Hop, keep-alive\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n"+
			"Proxy-Authenticate: Basic\r\nUpgrade: foo\r\nX-End: 1\r\nContent-Length: 0\r\n\r\n")
	})
	srv, _ := front(t, addr, newTestTransport(t), defaultOpts())
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Connection", "X-Drop, keep-alive")
	req.Header.Set("X-Drop", "1")
	req.Header.Set("X-Keep", "1")
	req.Header.Set("Keep-Alive", "300")
	req.Header.Set("Proxy-Authorization", "secret")
	req.Header.Set("Proxy-Connection", "keep-alive")
	req.Header.Set("Te", "trailers, deflate")
	req.Header.Set("Upgrade", "h2c") // without "Connection: upgrade": not an upgrade
	res, err := client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	got := <-reqs
	for _, k := range []string{"X-Drop", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "Upgrade"} {
		if v, ok := got.Header[k]; ok {
			t.Errorf("request header %s = %v forwarded", k, v)
		}
	}
	if got.Header.Get("X-Keep") != "1" || got.Header.Get("Te") != "trailers" {
		t.Errorf("request headers: %v", got.Header)
	}
	if c := got.Header.Get("Connection"); c != "" {
		t.Errorf("Connection = %q", c)
	}
	for _, k := range []string{"X-Hop", "Keep-Alive", "Proxy-Authenticate", "Upgrade"} {
		if v, ok := res.Header[k]; ok {
			t.Errorf("response header %s = %v relayed", k, v)
		}
	}
	if res.Header.Get("X-End") != "1" {
		t.Errorf("response headers: %v", res.Header)
	}
}

func TestMalformedResponses(t *testing.T) {
	for name, resp := range map[string]string{
		"garbage":          "NOT HTTP\r\n\r\n",
		"bad code":         "HTTP/1.1 2x0 OK\r\n\r\n",
		"conflicting CL":   "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		"bad TE":           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"folding":          "HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\n\r\n",
		"truncated head":   "HTTP/1.1 200 OK\r\nX-A: 1\r\n",
		"101 without ask":  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
		"space before ':'": "HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			addr, _ := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
				if _, err := readRawRequest(br); err != nil {
					return
				}
				_, _ = io.WriteString(c, resp)
			})
			srv, _ := front(t, addr, newTestTransport(t), defaultOpts())
			res, err := client(t).Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusBadGateway {
				t.Errorf("status %d, want 502", res.StatusCode)
			}
		})
	}
}

func TestTruncatedChunkedBodyAbortsClient(t *testing.T) {
	addr, _ := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readRawRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
	})
	srv, _ := front(t, addr, newTestTransport(t), defaultOpts())
	res, err := client(t).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err == nil {
		t.Errorf("client read %q without error: a truncated body looked complete", b)
	}
}

func TestEOFDelimitedResponse(t *testing.T) {
	addr, conns := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readRawRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\nuntil close")
	})
	srv, _ := front(t, addr, newTestTransport(t), defaultOpts())
	c := client(t)
	for i := 0; i < 2; i++ {
		res, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(b) != "until close" {
			t.Errorf("body %q", b)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("backend saw %d connections, want 2", n)
	}
}

func TestExpectContinue(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/reject" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	})
	srv, _ := front(t, be.URL, newTestTransport(t), defaultOpts())
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/accept", 200, "data"},
		{"/reject", 401, ""},
	} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n", tc.path)
		br := bufio.NewReader(conn)
		_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode == http.StatusContinue {
			_, _ = io.WriteString(conn, "data")
			res, err = http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
		}
		b, _ := io.ReadAll(res.Body)
		conn.Close()
		if res.StatusCode != tc.status || string(b) != tc.body {
			t.Errorf("%s: got %d %q", tc.path, res.StatusCode, b)
		}
	}
}

func TestInformationalForwarded(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		_, _ = io.WriteString(w, "final")
	})
	srv, _ := front(t, be.URL, newTestTransport(t), defaultOpts())
	var hints []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		hints = append(hints, fmt.Sprint(code, " ", h.Get("Link")))
		return nil
	}}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, srv.URL, nil)
	res, err := client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "final" || res.Header.Get("Link") != "" {
		t.Errorf("final response %q %v", b, res.Header)
	}
	if len(hints) != 1 || hints[0] != "103 </style.css>; rel=preload" {
		t.Errorf("1xx seen: %v", hints)
	}
}

func TestHeadAndNoContent(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/204" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Length", "5")
		_, _ = io.WriteString(w, "hello")
	})
	srv, _ := front(t, be.URL, newTestTransport(t), defaultOpts())
	c := client(t)
	res, err := c.Head(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.ContentLength != 5 {
		t.Errorf("HEAD Content-Length %d", res.ContentLength)
	}
	res, err = c.Get(srv.URL + "/204")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 {
		t.Errorf("status %d", res.StatusCode)
	}
	if be.conns.Load() != 1 {
		t.Errorf("backend saw %d connections", be.conns.Load())
	}
}

func TestInvalidRequestHeaderValue(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {})
	h, _ := New(mustURL(t, be.URL), newTestTransport(t), defaultOpts())
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.Header["X-Evil"] = []string{"a\r\nX-Injected: 1"}
	w := newFakeRW()
	h.ServeHTTP(w, req)
	if w.code != http.StatusBadGateway {
		t.Errorf("status %d", w.code)
	}
	for _, mutate := range []func(r *http.Request){
		func(r *http.Request) { r.Method = "GET / HTTP/1.1\r\nX:" },
		func(r *http.Request) { r.URL.RawQuery = "a=1 HTTP/1.1\r\nX: y" },
		func(r *http.Request) { r.Host = "a\r\nX: y" },
	} {
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		mutate(req)
		w := newFakeRW()
		h.ServeHTTP(w, req)
		if w.code != http.StatusBadRequest {
			t.Errorf("status %d", w.code)
		}
	}
}

func TestNewValidation(t *testing.T) {
	tr := newTestTransport(t)
	for _, u := range []string{"ftp://x", "http://", "unix:///tmp/x"} {
		if _, err := New(mustURL(t, u), tr, defaultOpts()); err == nil {
			t.Errorf("%s: expected an error", u)
		}
	}
	for _, u := range []string{"http://a", "https://a", "h2c://a:80"} {
		if _, err := New(mustURL(t, u), tr, defaultOpts()); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestEarlyResponseDuringUpload(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_, _ = io.WriteString(w, "too big")
	})
	srv, statuses := front(t, be.URL, newTestTransport(t), defaultOpts())
	req, _ := http.NewRequest(http.MethodPost, srv.URL, &patternReader{left: 16 << 20})
	req.ContentLength = 16 << 20
	res, err := client(t).Do(req)
	if err != nil {
		// The client may fail writing its body once the front closes; the
		// recorded status is what matters.
		t.Logf("client: %v", err)
	} else {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge || string(b) != "too big" {
			t.Errorf("got %d %q", res.StatusCode, b)
		}
	}
	if st := <-statuses; st != http.StatusRequestEntityTooLarge {
		t.Errorf("recorded %d", st)
	}
}
