package loadbalancer

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func named(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Server", name)
	})
}

func servers(weights map[string]int, order ...string) []Server {
	var out []Server
	for _, n := range order {
		out = append(out, Server{Name: n, Handler: named(n), Weight: weights[n]})
	}
	return out
}

func picks(t *testing.T, b *Balancer, n int) string {
	t.Helper()
	var sb strings.Builder
	for i := 0; i < n; i++ {
		w := httptest.NewRecorder()
		b.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		if w.Code != http.StatusOK {
			sb.WriteString("-")
			continue
		}
		sb.WriteString(w.Header().Get("X-Server"))
	}
	return sb.String()
}

func TestWRRSequence(t *testing.T) {
	for _, tc := range []struct {
		name    string
		weights map[string]int
		order   []string
		n       int
		want    string
	}{
		{"equal", map[string]int{"a": 1, "b": 1, "c": 1}, []string{"a", "b", "c"}, 6, "abcabc"},
		{"single", map[string]int{"a": 1}, []string{"a"}, 3, "aaa"},
		{"nginx 5,1,1", map[string]int{"a": 5, "b": 1, "c": 1}, []string{"a", "b", "c"}, 7, "aabacaa"},
		{"3,1", map[string]int{"a": 3, "b": 1}, []string{"a", "b"}, 8, "aabaaaba"},
		{"scaled 2,2 like 1,1", map[string]int{"a": 2, "b": 2}, []string{"a", "b"}, 4, "abab"},
		{"zero weight never", map[string]int{"a": 1, "b": 0}, []string{"a", "b"}, 3, "aaa"},
		{"all zero", map[string]int{"a": 0}, []string{"a"}, 2, "--"},
		{"no servers", nil, nil, 2, "--"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := New(servers(tc.weights, tc.order...), NewWRR())
			if err != nil {
				t.Fatal(err)
			}
			if got := picks(t, b, tc.n); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestWRRDistribution(t *testing.T) {
	for _, tc := range []struct {
		name    string
		weights map[string]int
	}{
		{"small", map[string]int{"a": 3, "b": 2, "c": 1}},
		// A round longer than maxSchedule exercises the mutex fallback.
		{"long round", map[string]int{"a": 4999, "b": 3001, "c": 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			order := []string{"a", "b", "c"}
			total := 0
			for _, w := range tc.weights {
				total += w
			}
			b, _ := New(servers(tc.weights, order...), NewWRR())
			got := map[string]int{}
			for _, c := range picks(t, b, 2*total) {
				got[string(c)]++
			}
			for n, w := range tc.weights {
				if got[n] != 2*w {
					t.Errorf("%s picked %d times, want %d", n, got[n], 2*w)
				}
			}
		})
	}
}

func TestSetStatus(t *testing.T) {
	b, _ := NewWithOptions(servers(map[string]int{"a": 1, "b": 1}, "a", "b"), NewWRR(), Options{HealthChecked: true})
	var events []bool
	if _, err := b.RegisterStatusUpdater(func(up bool) { events = append(events, up) }); err != nil {
		t.Fatal(err)
	}

	b.SetStatus("a", false)
	if got := picks(t, b, 3); got != "bbb" {
		t.Errorf("a down: %s", got)
	}
	b.SetStatus("b", false)
	w := httptest.NewRecorder()
	b.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	body, _ := io.ReadAll(w.Body)
	if w.Code != http.StatusServiceUnavailable || string(body) != "Service Unavailable" || b.Up() {
		t.Errorf("all down: %d %q up=%v", w.Code, body, b.Up())
	}
	b.SetStatus("b", false) // no change, no event
	b.SetStatus("unknown", true)
	b.SetStatus("a", true)
	if got := picks(t, b, 2); got != "aa" {
		t.Errorf("a back: %s", got)
	}
	if len(events) != 2 || events[0] != false || events[1] != true {
		t.Errorf("status events %v", events)
	}
}

func TestNewValidation(t *testing.T) {
	h := named("x")
	for name, ss := range map[string][]Server{
		"duplicate":  {{Name: "a", Handler: h, Weight: 1}, {Name: "a", Handler: h, Weight: 1}},
		"negative":   {{Name: "a", Handler: h, Weight: -1}},
		"no handler": {{Name: "a", Weight: 1}},
	} {
		if _, err := New(ss, NewWRR()); err == nil {
			t.Errorf("%s: expected an error", name)
		}
	}
	if _, err := New(nil, nil); err == nil {
		t.Error("nil policy accepted")
	}
}

func TestWeight(t *testing.T) {
	three := 3
	if Weight(dynamic.Server{}) != 1 || Weight(dynamic.Server{Weight: &three}) != 3 {
		t.Error("Weight")
	}
}

func TestConcurrentPicksAndStatus(t *testing.T) {
	b, _ := New(servers(map[string]int{"a": 2, "b": 1}, "a", "b"), NewWRR())
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			for j := 0; j < 1000; j++ {
				b.ServeHTTP(httptest.NewRecorder(), req)
			}
		}()
	}
	for j := 0; j < 100; j++ {
		b.SetStatus("a", j%2 == 0)
	}
	wg.Wait()
}

// BenchmarkPick compares the precomputed round (one atomic add) with the
// mutex fallback used for very long rounds.
func BenchmarkPick(b *testing.B) {
	for _, tc := range []struct {
		name    string
		weights map[string]int
	}{
		{"round", map[string]int{"a": 3, "b": 2, "c": 1}},
		{"mutex", map[string]int{"a": 4999, "b": 3001, "c": 7}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w := NewWRR()
			bl, _ := New(servers(tc.weights, "a", "b", "c"), w)
			_ = bl
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if w.Pick(req) == nil {
						b.Error("nil pick")
						return
					}
				}
			})
		})
	}
}
