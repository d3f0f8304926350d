package proxy

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strconv"
	"testing"
)

// benchBackend answers every request with a 1 KiB body and nginx-like headers,
// without allocating, so allocs/op belong to the proxy.
func benchBackend(b *testing.B) string {
	body := bytes.Repeat([]byte("x"), 1024)
	resp := []byte("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n" +
		"Content-Type: text/plain\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: keep-alive\r\n\r\n")
	resp = append(resp, body...)
	addr, _ := rawBackend(b, func(c net.Conn, br *bufio.Reader) {
		for {
			// Heads only: the benchmark sends GETs.
			for {
				line, err := br.ReadSlice('\n')
				if err != nil {
					return
				}
				if len(line) <= 2 {
					break
				}
			}
			if _, err := c.Write(resp); err != nil {
				return
			}
		}
	})
	return addr
}

func benchRequest(b *testing.B) *http.Request {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "http://example.com/index.html?q=1", nil)
	req.RemoteAddr = "192.0.2.1:54321"
	req.Header.Set("User-Agent", "wrk")
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Accept-Encoding", "gzip")
	return req
}

func stdReverseProxy(b *testing.B, target string) http.Handler {
	u := mustURL(b, target)
	tr := &http.Transport{MaxIdleConnsPerHost: 200}
	b.Cleanup(tr.CloseIdleConnections)
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		Transport: tr,
	}
}

// BenchmarkProxy: one 1 KiB GET through the handler to a loopback backend.
// "switchyard" is this package, "httputil" the standard library baseline.
func BenchmarkProxy(b *testing.B) {
	addr := benchBackend(b)
	handlers := map[string]func(*testing.B) http.Handler{
		"switchyard": func(b *testing.B) http.Handler {
			h, err := New(mustURL(b, addr), newTestTransport(b), defaultOpts())
			if err != nil {
				b.Fatal(err)
			}
			return h
		},
		"httputil": func(b *testing.B) http.Handler { return stdReverseProxy(b, addr) },
	}
	for _, name := range []string{"switchyard", "httputil"} {
		b.Run(name, func(b *testing.B) {
			h := handlers[name](b)
			b.Run("serial", func(b *testing.B) {
				req, w := benchRequest(b), newFakeRW()
				w.keep = false
				b.ReportAllocs()
				for b.Loop() {
					w.reset()
					h.ServeHTTP(w, req)
					if w.code != 200 || w.n != 1024 {
						b.Fatalf("status %d, %d bytes", w.code, w.n)
					}
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					req, w := benchRequest(b), newFakeRW()
					w.keep = false
					for pb.Next() {
						w.reset()
						h.ServeHTTP(w, req)
						if w.code != 200 || w.n != 1024 {
							b.Errorf("status %d, %d bytes", w.code, w.n)
							return
						}
					}
				})
			})
		})
	}
}

// BenchmarkProxyE2E adds the real net/http server in front and a lean
// keep-alive client: closer to what wrk measures. allocs/op include the server's.
func BenchmarkProxyE2E(b *testing.B) {
	addr := benchBackend(b)
	for _, name := range []string{"switchyard", "httputil"} {
		b.Run(name, func(b *testing.B) {
			var h http.Handler
			if name == "switchyard" {
				h, _ = New(mustURL(b, addr), newTestTransport(b), defaultOpts())
			} else {
				h = stdReverseProxy(b, addr)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			reqBytes := []byte("GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n")
			b.ReportAllocs()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				c, err := net.Dial("tcp", srv.Listener.Addr().String())
				if err != nil {
					b.Error(err)
					return
				}
				defer c.Close()
				br := bufio.NewReaderSize(c, 16<<10)
				for pb.Next() {
					if _, err := c.Write(reqBytes); err != nil {
						b.Error(err)
						return
					}
					if err := readBenchResponse(br); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// readBenchResponse skips one response with a Content-Length body.
func readBenchResponse(br *bufio.Reader) error {
	n := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if n < 0 {
		return io.ErrUnexpectedEOF
	}
	_, err := br.Discard(n)
	return err
}
