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
