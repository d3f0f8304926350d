package builder

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// rawBackend answers every GET with a 1 KiB body, allocating nothing.
func rawBackend(b *testing.B) string {
	body := bytes.Repeat([]byte("x"), 1024)
	resp := append([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"), body...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
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
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

type benchRW struct {
	h    http.Header
	code int
	n    int
}

func (w *benchRW) Header() http.Header         { return w.h }
func (w *benchRW) WriteHeader(c int)           { w.code = c }
func (w *benchRW) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkService: one 1 KiB GET through a service built by the
// ServiceManager (balancer + proxy) to loopback backends: a single server,
// and a 4-server wrr / p2c service.
func BenchmarkService(b *testing.B) {
	urls := []string{rawBackend(b), rawBackend(b), rawBackend(b), rawBackend(b)}
	for _, tc := range []struct {
		name, strategy string
		servers        int
	}{{"1server", "wrr", 1}, {"wrr4", "wrr", 4}, {"p2c4", "p2c", 4}} {
		b.Run(tc.name, func(b *testing.B) {
			m := NewServiceManager(nil)
			b.Cleanup(m.Close)
			lb := &dynamic.ServersLoadBalancer{Strategy: tc.strategy}
			for _, u := range urls[:tc.servers] {
				lb.Servers = append(lb.Servers, dynamic.Server{URL: u})
			}
			c := dynamic.New()
			c.HTTP.Services["svc@file"] = &dynamic.Service{LoadBalancer: lb}
			hs, rt := generation(b, m, c)
			h := hs["svc@file"]
			if h == nil {
				b.Fatal(rt.Services["svc@file"].Err)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := httptest.NewRequest(http.MethodGet, "http://example.com/index.html", nil)
				req.RemoteAddr = "192.0.2.1:54321"
				w := &benchRW{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					w.code, w.n = 0, 0
					h.ServeHTTP(w, req)
					if w.code != 200 || w.n != 1024 {
						b.Errorf("status %d, %d bytes", w.code, w.n)
						return
					}
				}
			})
		})
	}
}
