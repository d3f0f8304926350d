package proxy

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseHead(t *testing.T) {
	for _, tc := range []struct {
		in      string
		ok      bool
		status  int
		cl      int64
		chunked bool
		close   bool
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, 200, 5, false, false},
		{"HTTP/1.1 204\r\n\r\n", true, 204, -1, false, false},
		{"HTTP/1.1 200 OK\nContent-Length: 1\n\n", true, 200, 1, false, false},
		{"HTTP/1.0 200 OK\r\n\r\n", true, 200, -1, false, true},
		{"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", true, 200, -1, false, false},
		{"HTTP/1.1 200 OK\r\nConnection: Close\r\n\r\n", true, 200, -1, false, true},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", true, 200, -1, true, false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", true, 200, -1, true, true},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", true, 200, 3, false, false},
		{"HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200\r\n\r\n", true, 200, -1, false, false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3 3\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/2.0 200 OK\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 99 Low\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200OK\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200 OK\r\n: x\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", false, 0, 0, false, false},
	} {
		var h respHead
		err := parseHead(tc.in, &h)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err = %v", tc.in, err)
			continue
		}
		if !tc.ok {
			continue
		}
		if h.status != tc.status || h.contentLength != tc.cl || h.chunked != tc.chunked || h.close != tc.close {
			t.Errorf("%q: status %d cl %d chunked %v close %v", tc.in, h.status, h.contentLength, h.chunked, h.close)
		}
	}
}

func TestParseHeadFieldsCanonical(t *testing.T) {
	head := "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-custom-thing:  v  \r\nETag: \"1\"\r\n"
	for i := 0; i < 30; i++ {
		head += "X-Many: 1\r\n"
	}
	head += "\r\n"
	var h respHead
	if err := parseHead(head, &h); err != nil {
		t.Fatal(err)
	}
	f := h.fields()
	if len(f) != 33 {
		t.Fatalf("%d fields", len(f))
	}
	if f[0] != (field{"Content-Type", "text/plain"}) || f[1] != (field{"X-Custom-Thing", "v"}) || f[2].name != "Etag" {
		t.Errorf("fields %v", f[:3])
	}
	if h.contentType != "text/plain" {
		t.Errorf("contentType %q", h.contentType)
	}
}

func TestParseChunkSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0\r\n": 0, "a\r\n": 10, "FF\r\n": 255, "1a;ext=1\r\n": 26, "10 \r\n": 16, "7\n": 7,
		"\r\n": -1, "x\r\n": -1, "-1\r\n": -1, "1234567890abcdef0\r\n": -1, " 1\r\n": -1,
	} {
		got, ok := parseChunkSize([]byte(in))
		if !ok {
			got = -1
		}
		if got != want {
			t.Errorf("%q: got %d, want %d", in, got, want)
		}
	}
}

func TestTokenListContains(t *testing.T) {
	for _, tc := range []struct {
		v, tok string
		want   bool
	}{
		{"keep-alive, Upgrade", "upgrade", true},
		{"close", "close", true},
		{"closed", "close", false},
		{" , x-a ,", "X-A", true},
		{"", "x", false},
	} {
		if got := tokenListContains(tc.v, tc.tok); got != tc.want {
			t.Errorf("%q in %q: %v", tc.tok, tc.v, got)
		}
	}
}

func TestIsEventStream(t *testing.T) {
	for ct, want := range map[string]bool{
		"text/event-stream": true, "Text/Event-Stream; charset=utf-8": true,
		"text/event-streams": false, "text/plain": false, "": false,
	} {
		if isEventStream(ct) != want {
			t.Errorf("%q", ct)
		}
	}
}

// memConn is a net.Conn replaying a backend's bytes; writes are discarded.
type memConn struct {
	r io.Reader
}

func (c *memConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *memConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// proxyFrom runs one GET through the exchange against a canned backend response.
func proxyFrom(t testing.TB, resp string, readSize int) (*fakeRW, error) {
	tr, err := NewTransport(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := newFastProxy(mustURL(t, "http://backend"), tr, defaultOpts())
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "/", nil)
	req.RemoteAddr = "1.2.3.4:5"
	w := newFakeRW()
	ex := exchange{p: p, rw: w, r: req, ctx: req.Context(), probe: -1}
	ex.c = newConn(&memConn{r: &smallReader{r: strings.NewReader(resp), n: readSize}}, p.pool)
	ex.c.attachBufs()
	err = ex.roundTrip()
	return w, err
}

// smallReader returns at most n bytes per Read, to exercise partial reads.
type smallReader struct {
	r io.Reader
	n int
}

func (s *smallReader) Read(p []byte) (int, error) {
	if len(p) > s.n {
		p = p[:s.n]
	}
	return s.r.Read(p)
}

func TestExchangeOverPartialReads(t *testing.T) {
	big := strings.Repeat("h", 20000)
	for name, tc := range map[string]struct {
		resp, body string
		hdr        string
	}{
		"length":    {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "hello", ""},
		"chunked":   {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n", "hello world", ""},
		"eof":       {"HTTP/1.1 200 OK\r\n\r\nuntil the end", "until the end", ""},
		"big head":  {"HTTP/1.1 200 OK\r\nX-Big: " + big + "\r\nContent-Length: 2\r\n\r\nok", "ok", big},
		"1xx first": {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok", ""},
	} {
		for _, size := range []int{1, 3, 7, 4096, 1 << 20} {
			w, err := proxyFrom(t, tc.resp, size)
			if err != nil {
				t.Errorf("%s/%d: %v", name, size, err)
				continue
			}
			if string(w.body) != tc.body {
				t.Errorf("%s/%d: body %q", name, size, w.body)
			}
			if tc.hdr != "" && w.h.Get("X-Big") != tc.hdr {
				t.Errorf("%s/%d: big header lost", name, size)
			}
			if name == "chunked" && w.h.Get(http.TrailerPrefix+"X-T") != "1" {
				t.Errorf("%s/%d: trailer %v", name, size, w.h)
			}
		}
	}
}

// FuzzResponse feeds arbitrary backend bytes through the response path. It must
// never panic, and whatever it accepts net/http must accept with the same body.
func FuzzResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nA: b\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nrest",
		"HTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: x-a\r\nX-A: 1\r\n\r\n",
	} {
		f.Add(s, 7)
	}
	f.Fuzz(func(t *testing.T, resp string, size int) {
		if size <= 0 || size > 1<<16 {
			size = 4096
		}
		w, err := proxyFrom(t, resp, size)
		if err != nil {
			return
		}
		res, gerr := http.ReadResponse(bufio.NewReader(strings.NewReader(resp)), &http.Request{Method: http.MethodGet})
		if gerr != nil || res.StatusCode < 200 {
			return
		}
		gb, gerr := io.ReadAll(res.Body)
		if gerr != nil {
			return
		}
		if !bytes.Equal(gb, w.body) {
			t.Errorf("body %q, net/http read %q", w.body, gb)
		}
	})
}
