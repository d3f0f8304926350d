package loadbalancer

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// share counts picks of n requests from distinct client IPs.
func share(t *testing.T, p Policy, weights map[string]int, n int) map[string]int {
	t.Helper()
	b, err := New(servers(weights, "a", "b", "c"), p)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for i := 0; i < n; i++ {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", i>>16&255, i>>8&255, i&255)
		w := httptest.NewRecorder()
		b.ServeHTTP(w, r)
		got[w.Header().Get("X-Server")]++
	}
	return got
}

func TestPolicyDistribution(t *testing.T) {
	weights := map[string]int{"a": 5, "b": 3, "c": 2}
	const n = 10000
	for _, strategy := range []string{"wrr", "p2c", "hrw"} {
		t.Run(strategy, func(t *testing.T) {
			p, err := NewPolicy(strategy)
			if err != nil {
				t.Fatal(err)
			}
			got := share(t, p, weights, n)
			for name, w := range weights {
				want := float64(w) / 10
				if d := math.Abs(float64(got[name])/n - want); d > 0.02 {
					t.Errorf("%s: share %.3f, want %.2f±0.02", name, float64(got[name])/n, want)
				}
			}
		})
	}
}

func TestNewPolicy(t *testing.T) {
	for _, s := range []string{"", "wrr", "WRR", "p2c", "hrw", "leasttime"} {
		if _, err := NewPolicy(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	if _, err := NewPolicy("random"); err == nil {
		t.Error("unknown strategy accepted")
	}
}

func TestHRWStableAndMinimalMoves(t *testing.T) {
	p := NewHRW()
	b, _ := NewWithOptions(servers(map[string]int{"a": 1, "b": 1, "c": 1}, "a", "b", "c"), p, Options{HealthChecked: true})
	pick := func(ip string) string {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = ip + ":999"
		w := httptest.NewRecorder()
		b.ServeHTTP(w, r)
		return w.Header().Get("X-Server")
	}
	before := map[string]string{}
	for i := 0; i < 300; i++ {
		ip := fmt.Sprintf("192.168.%d.%d", i/256, i%256)
		before[ip] = pick(ip)
		if again := pick(ip); again != before[ip] {
			t.Fatalf("%s moved %s -> %s with no change", ip, before[ip], again)
		}
	}
	b.SetStatus("c", false)
	for ip, s := range before {
		if now := pick(ip); s != "c" && now != s {
			t.Errorf("%s moved %s -> %s although its server stayed up", ip, s, now)
		}
	}
	if clientIP("[::1]:80") != "::1" || clientIP("1.2.3.4:5") != "1.2.3.4" {
		t.Error("clientIP")
	}
}

func TestP2CPrefersLessLoaded(t *testing.T) {
	release := make(chan struct{})
	var started sync.WaitGroup
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Park") == "" {
			w.Header().Set("X-Server", "slow")
			return
		}
		started.Done()
		<-release
	})
	b, _ := New([]Server{{Name: "slow", Handler: slow, Weight: 1}, {Name: "fast", Handler: named("fast"), Weight: 1}}, NewP2C())
	// Park requests on "slow" by sending while fast is down.
	b.SetStatus("fast", false)
	started.Add(5)
	var done sync.WaitGroup
	for i := 0; i < 5; i++ {
		done.Add(1)
		go func() {
			defer done.Done()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("X-Park", "1")
			b.ServeHTTP(httptest.NewRecorder(), r)
		}()
	}
	started.Wait()
	b.SetStatus("fast", true)
	// Both draws land on "slow" 1/4 of the time; otherwise fast wins: 750 of
	// 1000 expected, sd 14; 680 is 5 sd away.
	got := picks(t, b, 1000)
	if c := strings.Count(got, "fast"); c < 680 {
		t.Errorf("fast picked %d/1000 while slow has 5 in flight", c)
	}
	close(release)
	done.Wait()
}

func TestLeastTimePrefersFaster(t *testing.T) {
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		w.Header().Set("X-Server", "slow")
	})
	b, _ := New([]Server{{Name: "slow", Handler: slow, Weight: 1}, {Name: "fast", Handler: named("fast"), Weight: 1}}, NewLeastTime())
	got := picks(t, b, 60)
	if c := strings.Count(got, "fast"); c < 40 {
		t.Errorf("fast picked %d/60: %s", c, got)
	}
}

func TestSticky(t *testing.T) {
	path := "/app"
	ck := NewCookie(&dynamic.Cookie{Secure: true, HTTPOnly: true, SameSite: "Strict", MaxAge: 60, Path: &path}, "svc@file")
	if !strings.HasPrefix(ck.Name, "_") || len(ck.Name) != 7 {
		t.Errorf("default name %q", ck.Name)
	}
	b, _ := NewWithOptions(servers(map[string]int{"a": 1, "b": 1, "c": 1}, "a", "b", "c"), NewWRR(), Options{Sticky: ck, HealthChecked: true})
	w := httptest.NewRecorder()
	b.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	first := w.Header().Get("X-Server")
	sc := w.Header().Get("Set-Cookie")
	for _, want := range []string{ck.Name + "=", "Path=/app", "Max-Age=60", "HttpOnly", "Secure", "SameSite=Strict"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie %q lacks %q", sc, want)
		}
	}
	cookie := strings.Split(sc, ";")[0]
	for i := 0; i < 5; i++ {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", "other=1; "+cookie)
		w := httptest.NewRecorder()
		b.ServeHTTP(w, r)
		if got := w.Header().Get("X-Server"); got != first || w.Header().Get("Set-Cookie") != "" {
			t.Fatalf("sticky request went to %s (want %s), set-cookie %q", got, first, w.Header().Get("Set-Cookie"))
		}
	}
	// Its server goes down: the client moves and gets a new cookie.
	b.SetStatus(first, false)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", cookie)
	w = httptest.NewRecorder()
	b.ServeHTTP(w, r)
	if got := w.Header().Get("X-Server"); got == first || got == "" || w.Header().Get("Set-Cookie") == "" {
		t.Errorf("after down: server %q, set-cookie %q", got, w.Header().Get("Set-Cookie"))
	}
}

func TestPassiveEjection(t *testing.T) {
	var mu sync.Mutex
	fail := true
	bad := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		f := fail
		mu.Unlock()
		w.Header().Set("X-Server", "bad")
		if f {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	var events []string
	var emu sync.Mutex
	b, err := NewWithOptions([]Server{{Name: "bad", Handler: bad, Weight: 1}, {Name: "good", Handler: named("good"), Weight: 1}}, NewWRR(),
		Options{Passive: &Passive{FailureWindow: 200 * time.Millisecond, MaxFailedAttempts: 2}, OnStatus: func(n string, up bool) {
			emu.Lock()
			events = append(events, fmt.Sprint(n, " ", up))
			emu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	picks(t, b, 4) // bad fails twice
	if b.ServerUp("bad") {
		t.Fatal("bad not ejected after 2 failures")
	}
	if got := picks(t, b, 4); got != strings.Repeat("good", 4) {
		t.Errorf("while ejected: %s", got)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for !b.ServerUp("bad") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !b.ServerUp("bad") {
		t.Fatal("bad not back after the window")
	}
	emu.Lock()
	defer emu.Unlock()
	if strings.Join(events, ",") != "bad false,bad true" {
		t.Errorf("events %v", events)
	}
	if _, err := NewWithOptions(nil, NewWRR(), Options{Passive: &Passive{}}); err == nil {
		t.Error("zero passive config accepted")
	}
}

func BenchmarkServe(b *testing.B) {
	for _, strategy := range []string{"wrr", "p2c", "hrw", "leasttime"} {
		b.Run(strategy, func(b *testing.B) {
			p, _ := NewPolicy(strategy)
			h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
			bl, _ := New([]Server{{Name: "a", Handler: h, Weight: 1}, {Name: "b", Handler: h, Weight: 2}, {Name: "c", Handler: h, Weight: 1}, {Name: "d", Handler: h, Weight: 1}}, p)
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					bl.ServeHTTP(nil, req)
				}
			})
		})
	}
}
