package retry

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/internal/retryhook"
	"github.com/switchyard-proxy/switchyard/services/proxy"
)

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 150 * time.Millisecond, 3: 200 * time.Millisecond, 20: 200 * time.Millisecond} {
		if got := Backoff(100*time.Millisecond, n); got != want {
			t.Errorf("n=%d: %s", n, got)
		}
	}
	if Backoff(0, 3) != 0 {
		t.Error("zero initial interval waits")
	}
}

func TestSetupErrors(t *testing.T) {
	for _, cfg := range []*dynamic.Retry{nil, {}, {Attempts: -1}, {Attempts: 2, InitialInterval: -1}} {
		if _, err := Setup(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

// fake plays a proxy: fails (through the hook) the first `fails` times.
func fake(fails int, calls *int, writeFirst bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*calls++
		if *calls <= fails {
			if writeFirst {
				w.WriteHeader(200)
				io.WriteString(w, "partial")
			}
			if !retryhook.Failed(r) {
				if !writeFirst {
					w.WriteHeader(http.StatusBadGateway)
				}
			}
			return
		}
		io.WriteString(w, "ok")
	})
}

func TestRetry(t *testing.T) {
	tests := []struct {
		desc       string
		attempts   int
		fails      int
		body       string
		writeFirst bool
		wantCalls  int
		wantStatus int
	}{
		{"success first", 3, 0, "", false, 1, 200},
		{"success third", 3, 2, "", false, 3, 200},
		{"all fail", 3, 5, "", false, 3, 502},
		{"one attempt", 1, 5, "", false, 1, 502},
		{"something was sent", 3, 5, "", true, 1, 200},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			calls := 0
			wrap, err := Setup(&dynamic.Retry{Attempts: tc.attempts})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			wrap(fake(tc.fails, &calls, tc.writeFirst)).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if calls != tc.wantCalls || rec.Code != tc.wantStatus {
				t.Fatalf("calls %d status %d", calls, rec.Code)
			}
		})
	}
}

// TestWithProxy retries through the real proxy: a dead server first, a
// live one next (the balancer would alternate; here a handler does).
func TestWithProxy(t *testing.T) {
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, "live:"+string(b))
	}))
	defer live.Close()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + l.Addr().String()
	l.Close()
	tr, err := proxy.NewTransport(nil)
	if err != nil {
		t.Fatal(err)
	}
	pDead, err := proxy.New(mustURL(t, dead), tr, proxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pLive, _ := proxy.New(mustURL(t, live.URL), tr, proxy.Options{})
	calls := 0
	alternate := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls%2 == 1 {
			pDead.ServeHTTP(w, r)
			return
		}
		pLive.ServeHTTP(w, r)
	})
	wrap, _ := Setup(&dynamic.Retry{Attempts: 2})
	srv := httptest.NewServer(wrap(alternate))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "live:" || calls != 2 {
		t.Fatalf("status %d body %q calls %d", resp.StatusCode, b, calls)
	}
	// Without retry the dead server answers 502.
	calls = 0
	srv2 := httptest.NewServer(alternate)
	defer srv2.Close()
	resp, _ = http.Post(srv2.URL, "text/plain", strings.NewReader("x"))
	resp.Body.Close()
	if resp.StatusCode != 502 {
		t.Fatalf("no retry: %d", resp.StatusCode)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func ptr[T any](v T) *T { return &v }

// statusSeq answers the statuses in turn (the last one from then on),
// echoing the body it read.
func statusSeq(calls *int, codes ...int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := codes[min(*calls, len(codes)-1)]
		*calls++
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Attempt", strings.Repeat("a", *calls))
		w.WriteHeader(code)
		w.Write(b)
	})
}

func TestRetryOptions(t *testing.T) {
	tests := []struct {
		desc       string
		cfg        dynamic.Retry
		method     string
		body       string
		codes      []int
		wantCalls  int
		wantStatus int
		wantBody   string
	}{
		{"status retried", dynamic.Retry{Attempts: 3, Status: []string{"500-503"}}, "GET", "", []int{503, 500, 200}, 3, 200, ""},
		{"status retried, body sent again", dynamic.Retry{Attempts: 3, Status: []string{"503"}}, "PUT", "payload", []int{503, 200}, 2, 200, "payload"},
		{"last attempt's status goes out", dynamic.Retry{Attempts: 2, Status: []string{"503"}}, "GET", "", []int{503}, 2, 503, ""},
		{"status not listed", dynamic.Retry{Attempts: 3, Status: []string{"500"}}, "GET", "", []int{503, 200}, 1, 503, ""},
		{"POST not retried", dynamic.Retry{Attempts: 3, Status: []string{"503"}}, "POST", "x", []int{503, 200}, 1, 503, "x"},
		{"PATCH not retried", dynamic.Retry{Attempts: 3, Status: []string{"503"}}, "PATCH", "", []int{503, 200}, 1, 503, ""},
		{"POST retried when allowed", dynamic.Retry{Attempts: 3, Status: []string{"503"}, RetryNonIdempotentMethod: true}, "POST", "x", []int{503, 200}, 2, 200, "x"},
		{"body over the limit", dynamic.Retry{Attempts: 3, Status: []string{"503"}, MaxRequestBodyBytes: ptr[int64](3)}, "PUT", "toolong", []int{200}, 0, 413, ""},
		{"body at the limit", dynamic.Retry{Attempts: 3, Status: []string{"503"}, MaxRequestBodyBytes: ptr[int64](4)}, "PUT", "four", []int{503, 200}, 2, 200, "four"},
		{"no body limit", dynamic.Retry{Attempts: 3, Status: []string{"503"}, MaxRequestBodyBytes: ptr[int64](-1)}, "PUT", strings.Repeat("b", 3<<20), []int{503, 200}, 2, 200, strings.Repeat("b", 3<<20)},
		{"timeout spent", dynamic.Retry{Attempts: 5, Status: []string{"503"}, InitialInterval: dur(30 * time.Millisecond), Timeout: dur(40 * time.Millisecond)}, "GET", "", []int{503}, 2, 503, ""},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			wrap, err := Setup(&tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			rec := httptest.NewRecorder()
			wrap(statusSeq(&calls, tc.codes...)).ServeHTTP(rec, httptest.NewRequest(tc.method, "/", strings.NewReader(tc.body)))
			if calls != tc.wantCalls || rec.Code != tc.wantStatus {
				t.Fatalf("calls %d status %d", calls, rec.Code)
			}
			if tc.wantStatus != 413 && rec.Body.String() != tc.wantBody {
				t.Fatalf("body %.20q", rec.Body.String())
			}
			// A held response's headers are gone: only the last attempt's.
			if tc.wantStatus != 413 && rec.Header().Get("X-Attempt") != strings.Repeat("a", calls) {
				t.Fatalf("headers of a held attempt leaked: %q", rec.Header().Values("X-Attempt"))
			}
		})
	}
}

func dur(d time.Duration) ptypes.Duration { return ptypes.Duration(d) }

// TestDisableRetryOnNetworkError: a network failure is answered at once,
// a listed status still retried.
func TestDisableRetryOnNetworkError(t *testing.T) {
	if _, err := Setup(&dynamic.Retry{Attempts: 2, DisableRetryOnNetworkError: true}); err == nil {
		t.Fatal("disableRetryOnNetworkError without status accepted")
	}
	wrap, err := Setup(&dynamic.Retry{Attempts: 3, DisableRetryOnNetworkError: true, Status: []string{"503"}})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	rec := httptest.NewRecorder()
	wrap(fake(5, &calls, false)).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if calls != 1 || rec.Code != 502 {
		t.Fatalf("network error: calls %d status %d", calls, rec.Code)
	}
	calls = 0
	rec = httptest.NewRecorder()
	wrap(statusSeq(&calls, 503, 200)).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if calls != 2 || rec.Code != 200 {
		t.Fatalf("status: calls %d status %d", calls, rec.Code)
	}
}

func TestSetupOptionErrors(t *testing.T) {
	for _, cfg := range []*dynamic.Retry{
		{Attempts: 2, Status: []string{"abc"}},
		{Attempts: 2, Status: []string{"700"}},
		{Attempts: 2, Timeout: -1},
		{Attempts: 2, MaxRequestBodyBytes: ptr[int64](-2)},
	} {
		if _, err := Setup(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

// BenchmarkRetryGET is the common case: a GET without body answered 200.
func BenchmarkRetryGET(b *testing.B) {
	wrap, _ := Setup(&dynamic.Retry{Attempts: 3})
	h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	req := httptest.NewRequest("GET", "/", nil)
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}

type nopWriter struct{ h http.Header }

func (n *nopWriter) Header() http.Header         { return n.h }
func (n *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (n *nopWriter) WriteHeader(int)             {}
