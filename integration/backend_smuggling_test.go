package integration

// Backend → Switchyard: a scripted raw TCP backend writes exact bytes, real
// clients go through the binary. Every case ends in the RFC 9110/9112
// normalised response, a clean 502 or a truncated-and-closed response; a
// backend connection is never reused after an ambiguity, and what one
// backend connection sends never answers another client's request.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scriptBackend is a raw TCP backend: serve runs for each accepted
// connection. It counts connections and closes them all when the test ends.
type scriptBackend struct {
	ln    net.Listener
	conns atomic.Int64
	mu    sync.Mutex
	open  map[net.Conn]bool
}

func startScriptBackend(t testing.TB, serve func(c net.Conn, br *bufio.Reader)) *scriptBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startScriptBackendOn(t, ln, serve)
}

// startScriptBackendOn is startScriptBackend on a given listener (TLS...).
func startScriptBackendOn(t testing.TB, ln net.Listener, serve func(c net.Conn, br *bufio.Reader)) *scriptBackend {
	t.Helper()
	b := &scriptBackend{ln: ln, open: map[net.Conn]bool{}}
	var wg sync.WaitGroup
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.conns.Add(1)
			b.mu.Lock()
			b.open[c] = true
			b.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					b.mu.Lock()
					delete(b.open, c)
					b.mu.Unlock()
					c.Close()
				}()
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		for c := range b.open {
			c.Close()
		}
		b.mu.Unlock()
		wg.Wait()
	})
	return b
}

func (b *scriptBackend) URL() string { return "http://" + b.ln.Addr().String() }

// freshClient makes one request on a new connection and reads the whole body.
func freshClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true, DisableCompression: true,
			ExpectContinueTimeout: 5 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       20 * time.Second,
	}
}

// TestBackendDesyncLateBytes is defect 1 of issue 13: bytes a backend sends
// after a response ended (a body after HEAD, 204 or 304, more than its
// Content-Length), in the same or a later segment, must never be read as the
// response to the next request on that connection, which another client sent.
func TestBackendDesyncLateBytes(t *testing.T) {
	t.Parallel()
	const fake = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Fake: 1\r\n\r\nFAKE"
	var poisonedReuse atomic.Int64
	be := startScriptBackend(t, func(c net.Conn, br *bufio.Reader) {
		poisoned := false
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			if poisoned {
				poisonedReuse.Add(1)
			}
			var now, late string
			switch req.URL.Path {
			case "/head": // a body after a HEAD response, later
				now, late = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", fake
			case "/head-same": // ... in the same segment
				now = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n" + fake
			case "/cl": // more than Content-Length, later
				now, late = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", fake
			case "/cl-same":
				now = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + fake
			case "/204":
				now, late = "HTTP/1.1 204 No Content\r\n\r\n", fake
			case "/204-same":
				now = "HTTP/1.1 204 No Content\r\n\r\n" + fake
			case "/304":
				now, late = "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", fake
			case "/chunked": // bytes after the last chunk
				now, late = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", fake
			default:
				now = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nREAL"
			}
			if _, err := io.WriteString(c, now); err != nil {
				return
			}
			if now != "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nREAL" {
				poisoned = true
			}
			if late != "" {
				time.Sleep(300 * time.Millisecond)
				if _, err := io.WriteString(c, late); err != nil {
					return
				}
			}
		}
	})
	e := proxyTo(t, be.URL(), "")
	cl := freshClient()
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"HEAD", "/head", 200, ""},
		{"HEAD", "/head-same", 200, ""},
		{"GET", "/cl", 200, "ok"},
		{"GET", "/cl-same", 200, "ok"},
		{"GET", "/204", 204, ""},
		{"GET", "/204-same", 204, ""},
		{"GET", "/304", 304, ""},
		{"GET", "/chunked", 200, "ok"},
	} {
		for range 2 {
			req, _ := http.NewRequest(tc.method, e.URL("web")+tc.path, nil)
			res, err := cl.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.method, tc.path, err)
			}
			b, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil || res.StatusCode != tc.status || string(b) != tc.body {
				t.Errorf("%s %s: %d %q %v, want %d %q", tc.method, tc.path, res.StatusCode, b, err, tc.status, tc.body)
			}
			// Another client, once the late bytes arrived. (Bytes that
			// arrive while the next request is already in flight cannot be
			// told from its response, in HTTP/1.1, by any client.)
			time.Sleep(600 * time.Millisecond)
			res, err = cl.Get(e.URL("web") + "/real")
			if err != nil {
				t.Fatalf("GET /real after %s: %v", tc.path, err)
			}
			b, _ = io.ReadAll(res.Body)
			res.Body.Close()
			if string(b) != "REAL" || res.Header.Get("X-Fake") != "" {
				t.Errorf("GET /real after %s %s: got %d %q (X-Fake %q): another response's bytes",
					tc.method, tc.path, res.StatusCode, b, res.Header.Get("X-Fake"))
			}
		}
	}
	time.Sleep(400 * time.Millisecond)
	if n := poisonedReuse.Load(); n != 0 {
		t.Errorf("%d requests were sent on a backend connection that had sent bytes past a response", n)
	}
}

// bcase is one backend response scenario of TestBackendResponseSmuggling.
type bcase struct {
	name    string
	method  string // default GET
	body    string // request body (with Content-Length)
	expect  bool   // Expect: 100-continue
	pre     string // written after the request head, before the body is read
	resp    string // written after the body was read
	early   bool   // pre is the whole response; the body is then read and dropped
	close   bool   // the backend closes after writing
	want    int    // status the client must get; 0: a truncated-and-closed response
	body2   string // body the client must get (checked when want != 0 and body2 != "-")
	header  string // "Name: value" the client must get
	noReuse bool   // the backend connection must not carry another request
}

func TestBackendResponseSmuggling(t *testing.T) {
	t.Parallel()
	const ok5 = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	cases := []bcase{
		{name: "clean", resp: ok5, want: 200, body2: "hello"},
		{name: "CL and TE: chunked wins, closed after", resp: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", want: 200, body2: "hello", noReuse: true},
		{name: "TE then CL", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 30\r\n\r\n5\r\nhello\r\n0\r\n\r\n", want: 200, body2: "hello", noReuse: true},
		{name: "duplicate identical CL", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", want: 200, body2: "hello"},
		{name: "conflicting CL", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", want: 502, body2: "Bad Gateway", noReuse: true},
		{name: "CL list", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!", want: 502, noReuse: true},
		{name: "negative CL", resp: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nhello", want: 502, noReuse: true},
		{name: "CL with sign", resp: "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "CL hex", resp: "HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "TE gzip, chunked", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", want: 502, noReuse: true},
		{name: "TE identity", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "two TE headers", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", want: 502, noReuse: true},
		{name: "TE on HTTP/1.0", resp: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", close: true, want: 502, noReuse: true},
		{name: "version HTTP/2.0", resp: "HTTP/2.0 200 OK\r\nContent-Length: 5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "version HTTP/1.2", resp: "HTTP/1.2 200 OK\r\nContent-Length: 5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "lower-case version", resp: "http/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "two-digit status", resp: "HTTP/1.1 20 OK\r\nContent-Length: 5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "four-digit status", resp: "HTTP/1.1 2000 OK\r\nContent-Length: 5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "status below 100", resp: "HTTP/1.1 099 Low\r\nContent-Length: 5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "non-digit status", resp: "HTTP/1.1 2x0 OK\r\nContent-Length: 5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "no reason phrase", resp: "HTTP/1.1 200\r\nContent-Length: 5\r\n\r\nhello", want: 200, body2: "hello"},
		{name: "empty reason phrase", resp: "HTTP/1.1 200 \r\nContent-Length: 5\r\n\r\nhello", want: 200, body2: "hello"},
		{name: "blank line before status", resp: "\r\n" + ok5, want: 502, noReuse: true},
		{name: "bare LF line ends", resp: "HTTP/1.1 200 OK\nContent-Length: 5\nX-A: b\n\nhello", want: 200, body2: "hello", header: "X-A: b"},
		{name: "obs-fold", resp: "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "space in header name", resp: "HTTP/1.1 200 OK\r\nX A: b\r\nContent-Length: 5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "space before colon", resp: "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "non-token name byte", resp: "HTTP/1.1 200 OK\r\nX(A): b\r\nContent-Length: 5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "empty header name", resp: "HTTP/1.1 200 OK\r\n: b\r\nContent-Length: 5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "line without colon", resp: "HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "NUL in value", resp: "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "bare CR in value", resp: "HTTP/1.1 200 OK\r\nX-A: a\rSet-Cookie: x=1\r\nContent-Length: 5\r\n\r\nhello", want: 502, noReuse: true},
		{name: "invalid chunk size", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", want: 0, noReuse: true},
		{name: "chunk size with bare LF", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", want: 0, noReuse: true},
		{name: "chunk size with space inside", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 5\r\nhello\r\n0\r\n\r\n", want: 0, noReuse: true},
		{name: "trailer with bad name", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nBad Name: x\r\n\r\n", want: 0, noReuse: true},
		{name: "chunk size overflow", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nhello\r\n0\r\n\r\n", want: 0, noReuse: true},
		{name: "negative chunk size", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", want: 0, noReuse: true},
		{name: "chunk data too long", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", want: 0, noReuse: true},
		{name: "chunk extension", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=\"v\"\r\nhello\r\n0\r\n\r\n", want: 200, body2: "hello"},
		{name: "chunked not terminated", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", close: true, want: 0, noReuse: true},
		{name: "closed before Content-Length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", close: true, want: 0, noReuse: true},
		{name: "body on HEAD", method: "HEAD", resp: ok5, want: 200, body2: "", noReuse: true},
		{name: "body on 204", resp: "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello", want: 204, body2: "", noReuse: true},
		{name: "body on 304", resp: "HTTP/1.1 304 Not Modified\r\n\r\nhello", want: 304, body2: "", noReuse: true},
		{name: "body on 103", resp: "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\nContent-Length: 3\r\n\r\nabc" + ok5, want: 502, noReuse: true},
		{name: "excess bytes after Content-Length", resp: ok5 + "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nFAKE", want: 200, body2: "hello", noReuse: true},
		{name: "multiple 1xx then final", resp: "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + ok5, want: 200, body2: "hello"},
		{name: "too many 1xx", resp: strings.Repeat("HTTP/1.1 102 Processing\r\n\r\n", 11) + ok5, want: 502, noReuse: true},
		{name: "100-continue then final", method: "POST", body: "payload", expect: true, pre: "HTTP/1.1 100 Continue\r\n\r\n", resp: ok5, want: 200, body2: "hello"},
		{name: "final instead of 100-continue", method: "POST", body: "payload", expect: true, pre: "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n", early: true, want: 417, body2: "", noReuse: true},
		{name: "early response before the body", method: "POST", body: strings.Repeat("b", 16<<20), pre: "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 3\r\n\r\nbig", early: true, want: 413, body2: "big", noReuse: true},
		{name: "early response then close", method: "POST", body: strings.Repeat("b", 4<<20), pre: "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 3\r\n\r\nbig", early: true, close: true, want: 413, body2: "big", noReuse: true},
		{name: "Connection: close", resp: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello", want: 200, body2: "hello", noReuse: true},
		{name: "HTTP/1.0 read to close", resp: "HTTP/1.0 200 OK\r\n\r\nhello", close: true, want: 200, body2: "hello", noReuse: true},
		{name: "HTTP/1.0 keep-alive", resp: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhello", want: 200, body2: "hello"},
		{name: "HTTP/1.1 without length", resp: "HTTP/1.1 200 OK\r\n\r\nhello", close: true, want: 200, body2: "hello", noReuse: true},
		{name: "hop-by-hop listed in Connection", resp: "HTTP/1.1 200 OK\r\nConnection: X-Secret\r\nX-Secret: s\r\nContent-Length: 5\r\n\r\nhello", want: 200, body2: "hello"},
		{name: "huge head", resp: "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("p", 1000)+"\r\n", 1100) + "Content-Length: 5\r\n\r\nhello", want: 502, noReuse: true},
	}

	var mu sync.Mutex
	var violations []string
	be := startScriptBackend(t, func(c net.Conn, br *bufio.Reader) {
		poisoned := ""
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			if poisoned != "" {
				mu.Lock()
				violations = append(violations, fmt.Sprintf("%s after case %q", req.URL.Path, poisoned))
				mu.Unlock()
			}
			var tc *bcase
			if i, ok := strings.CutPrefix(req.URL.Path, "/case/"); ok {
				var n int
				fmt.Sscan(i, &n)
				tc = &cases[n]
			}
			if tc == nil {
				_, _ = io.Copy(io.Discard, req.Body)
				if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"); err != nil {
					return
				}
				continue
			}
			if tc.noReuse {
				poisoned = tc.name
			}
			if tc.pre != "" {
				if _, err := io.WriteString(c, tc.pre); err != nil {
					return
				}
			}
			if tc.early && tc.close {
				// Let the response go out before the close resets the
				// unread body, as a real server's lingering close would.
				time.Sleep(200 * time.Millisecond)
				return
			}
			if tc.early {
				// Answered first; the body is read (and dropped) later.
				time.Sleep(300 * time.Millisecond)
			}
			_, _ = io.Copy(io.Discard, req.Body)
			if _, err := io.WriteString(c, tc.resp); err != nil {
				return
			}
			if tc.close {
				return
			}
		}
	})
	e := proxyTo(t, be.URL(), "")
	cl := freshClient()
	for i, tc := range cases {
		method := tc.method
		if method == "" {
			method = http.MethodGet
		}
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		req, _ := http.NewRequest(method, fmt.Sprintf("%s/case/%d", e.URL("web"), i), body)
		if tc.expect {
			req.Header.Set("Expect", "100-continue")
		}
		res, err := cl.Do(req)
		var got []byte
		if err == nil {
			got, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		switch {
		case tc.want == 0:
			// Truncated and closed, or, when the fault was seen before the
			// head went out, a clean 502.
			if err == nil && (res.StatusCode != http.StatusBadGateway || string(got) != "Bad Gateway") {
				t.Errorf("%s: got a complete-looking %d %q, want a truncated, closed response or a clean 502", tc.name, res.StatusCode, got)
			}
		case err != nil:
			t.Errorf("%s: %v, want %d", tc.name, err, tc.want)
		case res.StatusCode != tc.want:
			t.Errorf("%s: status %d %q, want %d", tc.name, res.StatusCode, got, tc.want)
		case tc.body2 != "-" && tc.want != 502 && string(got) != tc.body2:
			t.Errorf("%s: body %q, want %q", tc.name, got, tc.body2)
		case tc.want == 502 && string(got) != "Bad Gateway":
			t.Errorf("%s: 502 body %q", tc.name, got)
		case tc.header != "":
			k, v, _ := strings.Cut(tc.header, ": ")
			if res.Header.Get(k) != v {
				t.Errorf("%s: header %s = %q, want %q", tc.name, k, res.Header.Get(k), v)
			}
		}
		if err == nil && res.Header.Get("X-Secret") != "" {
			t.Errorf("%s: a header listed in Connection was relayed", tc.name)
		}
		// The next request from another client: never on a connection left
		// ambiguous, never answered with the case's leftovers.
		for range 2 {
			rep, err := tryDoWith(cl, e.URL("web")+"/next")
			if err != nil || rep.Status != 200 || rep.Body != "next" {
				t.Errorf("after %s: next request got %d %q %v", tc.name, rep.Status, rep.Body, err)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, v := range violations {
		t.Errorf("backend connection reused after an ambiguous response: %s", v)
	}
}

func tryDoWith(cl *http.Client, url string) (Reply, error) {
	res, err := cl.Get(url)
	if err != nil {
		return Reply{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return Reply{Status: res.StatusCode, Header: res.Header, Body: string(b)}, err
}
