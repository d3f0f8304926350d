package ratelimit

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestNewErrors(t *testing.T) {
	for _, cfg := range []*dynamic.RateLimit{
		nil,
		{Average: -1},
		{Average: 1, Burst: -1},
		{Average: 1, Period: ptypes.Duration(-time.Second)},
		{Average: 1, SourceCriterion: &dynamic.SourceCriterion{RequestHost: true, RequestHeaderName: "X"}},
		{Average: 1, StatusCode: 302},
		{Average: 1, StatusCode: 600},
	} {
		if _, err := New("rl@file", cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestMemBucket(t *testing.T) {
	s := newMemStore(10, 3) // 10/s, burst 3
	t0 := time.Unix(1000, 0)
	steps := []struct {
		at       time.Duration
		maxDelay time.Duration
		ok       bool
	}{
		{0, 0, true}, {0, 0, true}, {0, 0, true}, // the burst
		{0, 0, false},                      // empty, no waiting allowed
		{0, 50 * time.Millisecond, false},  // next token in 100ms
		{0, 100 * time.Millisecond, true},  // waits for it
		{100 * time.Millisecond, 0, false}, // that token was taken by the waiter
		{200 * time.Millisecond, 0, true},  // refilled one
		{10 * time.Second, 0, true},        // full again
	}
	for i, st := range steps {
		_, ok, _ := s.take("k", t0.Add(st.at), st.maxDelay)
		if ok != st.ok {
			t.Fatalf("step %d: ok %v", i, ok)
		}
	}
	if _, ok, _ := s.take("other", t0, 0); !ok {
		t.Error("sources share a bucket")
	}
}

func TestSweep(t *testing.T) {
	s := newMemStore(1000, 1)
	for i := range s.shards {
		s.shards[i].sweepAt = 16
	}
	t0 := time.Unix(1000, 0)
	for i := 0; i < 5000; i++ {
		s.take(fmt.Sprint(i), t0.Add(time.Duration(i)*time.Millisecond), 0)
	}
	n := 0
	for i := range s.shards {
		n += len(s.shards[i].buckets)
	}
	if n > 3000 {
		t.Errorf("%d buckets kept, full ones should be swept", n)
	}
}

func TestHandler(t *testing.T) {
	tests := []struct {
		desc   string
		cfg    dynamic.RateLimit
		reqs   []func(*http.Request)
		status []int
	}{
		{"no average: unlimited", dynamic.RateLimit{}, []func(*http.Request){nil, nil, nil}, []int{200, 200, 200}},
		{"burst per IP", dynamic.RateLimit{Average: 1, Period: ptypes.Duration(time.Hour), Burst: 2},
			[]func(*http.Request){nil, nil, nil, func(r *http.Request) { r.RemoteAddr = "10.0.0.2:1" }},
			[]int{200, 200, 429, 200}},
		{"status code of the provider", dynamic.RateLimit{Average: 1, Period: ptypes.Duration(time.Hour), StatusCode: 503},
			[]func(*http.Request){nil, nil}, []int{200, 503}},
		{"by header", dynamic.RateLimit{Average: 1, Period: ptypes.Duration(time.Hour), SourceCriterion: &dynamic.SourceCriterion{RequestHeaderName: "X-Key"}},
			[]func(*http.Request){
				func(r *http.Request) { r.Header.Set("X-Key", "a") },
				func(r *http.Request) { r.Header.Set("X-Key", "b") },
				func(r *http.Request) { r.Header.Set("X-Key", "a") },
				nil, nil, // no header: one shared source ""
			},
			[]int{200, 200, 429, 200, 429}},
		{"by host", dynamic.RateLimit{Average: 1, Period: ptypes.Duration(time.Hour), SourceCriterion: &dynamic.SourceCriterion{RequestHost: true}},
			[]func(*http.Request){nil, func(r *http.Request) { r.Host = "other" }, nil},
			[]int{200, 200, 429}},
		{"by XFF depth", dynamic.RateLimit{Average: 1, Period: ptypes.Duration(time.Hour), SourceCriterion: &dynamic.SourceCriterion{IPStrategy: &dynamic.IPStrategy{Depth: 1}}},
			[]func(*http.Request){
				func(r *http.Request) { r.Header.Set("X-Forwarded-For", "1.1.1.1, 2.2.2.2") },
				func(r *http.Request) { r.Header.Set("X-Forwarded-For", "3.3.3.3") },
				func(r *http.Request) { r.Header.Set("X-Forwarded-For", "9.9.9.9, 2.2.2.2") },
			},
			[]int{200, 200, 429}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			l, err := New("rl@file", &tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			h := l.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			for i, mod := range tc.reqs {
				req := httptest.NewRequest("GET", "/", nil)
				if mod != nil {
					mod(req)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != tc.status[i] {
					t.Fatalf("request %d: status %d, want %d", i, rec.Code, tc.status[i])
				}
				if rec.Code == 429 && rec.Header().Get("Retry-After") == "" {
					t.Error("no Retry-After")
				}
			}
		})
	}
}

// StartRedis runs a throw-away redis-server on a free loopback port,
// installing it with apt-get when missing and permitted; it skips otherwise.
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Geteuid() == 0 {
			if _, aerr := exec.LookPath("apt-get"); aerr == nil {
				cmd := exec.Command("apt-get", "install", "-y", "--no-install-recommends", "redis-server")
				cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
				_ = cmd.Run()
			}
		}
		if bin, err = exec.LookPath("redis-server"); err != nil {
			t.Skip("redis-server not installed and apt-get install redis-server failed: skipping the Redis test")
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start redis-server: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("redis-server did not listen on %s", addr)
	return ""
}

func TestRedisSharedLimit(t *testing.T) {
	addr := startRedis(t)
	cfg := &dynamic.RateLimit{Average: 1, Period: ptypes.Duration(time.Hour), Burst: 3, Redis: &dynamic.Redis{Endpoints: []string{addr}}}
	// Two limiters with one config stand for two instances sharing a limit.
	a, err := New("rl@file", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, _ := New("rl@file", cfg)
	defer b.Close()
	ha := a.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	hb := b.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	var got []int
	for i, h := range []http.Handler{ha, hb, ha, hb, ha} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		got = append(got, rec.Code)
		_ = i
	}
	want := []int{200, 200, 200, 429, 429}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	// Unreachable Redis: 500, not a pass.
	bad, _ := New("rl2@file", &dynamic.RateLimit{Average: 1, Redis: &dynamic.Redis{Endpoints: []string{"127.0.0.1:1"}}})
	rec := httptest.NewRecorder()
	bad.Wrap(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 {
		t.Errorf("redis down: status %d", rec.Code)
	}
	no := false
	lenient, _ := New("rl3@file", &dynamic.RateLimit{Average: 1, Redis: &dynamic.Redis{Endpoints: []string{"127.0.0.1:1"}, DenyOnError: &no}})
	rec = httptest.NewRecorder()
	lenient.Wrap(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 404 {
		t.Errorf("redis down, denyOnError false: status %d", rec.Code)
	}
}
