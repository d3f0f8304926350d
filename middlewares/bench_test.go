package middlewares

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// chain5 is the benchmark chain: headers, stripPrefix, a rateLimit
// too high to trigger, compress (the client accepts no encoding, so it
// stays off) and ipAllowList.
func chain5(b *testing.B, next http.Handler) http.Handler {
	cfgs := []*dynamic.Middleware{
		{Headers: &dynamic.Headers{CustomRequestHeaders: map[string]string{"X-Bench": "1"}, CustomResponseHeaders: map[string]string{"X-Served": "1"}}},
		{StripPrefix: &dynamic.StripPrefix{Prefixes: []string{"/api"}}},
		{RateLimit: &dynamic.RateLimit{Average: 1_000_000_000, Burst: 1_000_000_000}},
		{Compress: &dynamic.Compress{}},
		{IPAllowList: &dynamic.IPAllowList{SourceRange: []string{"127.0.0.0/8", "10.0.0.0/8"}}},
	}
	h := next
	for i := len(cfgs) - 1; i >= 0; i-- {
		c, err := New("m@file", cfgs[i])
		if err != nil {
			b.Fatal(err)
		}
		if h, err = c(h); err != nil {
			b.Fatal(err)
		}
	}
	return h
}

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

func benchServe(b *testing.B, h http.Handler) {
	req := httptest.NewRequest("GET", "/api/users/42", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	w := &nopWriter{h: http.Header{}}
	body := []byte("ok")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req.URL.Path = "/api/users/42"
		req.RequestURI = "/api/users/42"
		clear(w.h)
		h.ServeHTTP(w, req)
	}
	_ = body
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok"))
})

// BenchmarkChain5 vs BenchmarkNoMiddleware: the per-request cost of the chain.
func BenchmarkNoMiddleware(b *testing.B) { benchServe(b, okHandler) }
func BenchmarkChain5(b *testing.B)       { benchServe(b, chain5(b, okHandler)) }
