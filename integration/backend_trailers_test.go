package integration

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBackendTrailersAnySegmentation is defect 7 of issue 13: the trailers of
// a small chunked response reach the client whether the backend's bytes
// arrive in one segment or several, announced or not, over HTTP/1.1 and as
// seen by an HTTP/1.0-less client (chunked framing is forced once trailers
// are seen, as httputil does).
func TestBackendTrailersAnySegmentation(t *testing.T) {
	t.Parallel()
	const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	parts := map[string][]string{
		// announced, one segment
		"/one": {head + "Trailer: X-Sum\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: abc\r\n\r\n"},
		// not announced, one segment
		"/one-unannounced": {head + "\r\n5\r\nhello\r\n0\r\nX-Sum: abc\r\n\r\n"},
		// announced, split: head | body | last chunk and trailers
		"/split": {head + "Trailer: X-Sum\r\n\r\n", "5\r\nhello\r\n", "0\r\nX-Sum: abc\r\n\r\n"},
		// split inside the trailer section
		"/split-trailer": {head + "Trailer: X-Sum\r\n\r\n5\r\nhello\r\n0\r\nX-S", "um: abc\r\n\r\n"},
		// empty body, trailers only
		"/empty": {head + "Trailer: X-Sum\r\n\r\n0\r\nX-Sum: abc\r\n\r\n"},
	}
	be := startScriptBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			segs := parts[req.URL.Path]
			for i, s := range segs {
				if i > 0 {
					time.Sleep(50 * time.Millisecond)
				}
				if _, err := io.WriteString(c, s); err != nil {
					return
				}
			}
		}
	})
	e := proxyTo(t, be.URL(), "")
	cl := freshClient()
	for path := range parts {
		for range 3 {
			res, err := cl.Get(e.URL("web") + path)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			b, err := io.ReadAll(res.Body)
			res.Body.Close()
			want := "hello"
			if path == "/empty" {
				want = ""
			}
			if err != nil || string(b) != want {
				t.Errorf("%s: body %q %v", path, b, err)
			}
			if got := res.Trailer.Get("X-Sum"); got != "abc" {
				t.Errorf("%s: trailer X-Sum = %q, want abc (Content-Length %d, TE %v)", path, got, res.ContentLength, res.TransferEncoding)
			}
		}
	}
	// The same through a raw HTTP/1.1 client: chunked framing, the trailer
	// after the last chunk.
	c, err := net.Dial("tcp", e.Addr("web"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(c, "GET /one HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	raw, _ := io.ReadAll(c)
	if s := string(raw); !strings.Contains(s, "Transfer-Encoding: chunked\r\n") || !strings.Contains(s, "0\r\nX-Sum: abc\r\n\r\n") {
		t.Errorf("raw response lacks chunked framing or the trailer:\n%s", s)
	}
}
