package httpmux

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// named is a handler that reports its route name.
type named string

func (n named) ServeHTTP(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(n)) }

func get(host, target string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Host = host
	return r
}

func build(t testing.TB, routes ...Route) *Muxer {
	t.Helper()
	m := New()
	for _, rt := range routes {
		if rt.Handler == nil {
			rt.Handler = named(rt.Name)
		}
		if err := m.AddRoute(rt); err != nil {
			t.Fatalf("AddRoute(%s): %v", rt.Name, err)
		}
	}
	m.Build()
	return m
}

func matchName(m *Muxer, r *http.Request) string {
	rt, ok := m.Match(r)
	if !ok {
		return ""
	}
	return rt.Name
}

func TestPriority(t *testing.T) {
	m := build(t,
		// Default priorities are the rule lengths: the HostRegexp rule is
		// longer, so it wins over the plain Host rule (Traefik's example).
		Route{Name: "regexp", Rule: "HostRegexp(`[a-z]+\\.traefik\\.com`)"},
		Route{Name: "host", Rule: "Host(`foobar.traefik.com`)"},
		Route{Name: "api", Rule: "Host(`a.com`) && PathPrefix(`/api`)"},
		Route{Name: "root", Rule: "Host(`a.com`) && PathPrefix(`/`)"},
		Route{Name: "explicit-low", Rule: "Host(`b.com`) && PathPrefix(`/api/v1/users`)", Priority: 1},
		Route{Name: "explicit-high", Rule: "Host(`b.com`)", Priority: 100},
		Route{Name: "negative", Rule: "PathPrefix(`/`)", Priority: -5},
		// Equal priorities: by name.
		Route{Name: "tie-b", Rule: "Host(`c.com`)", Priority: 7},
		Route{Name: "tie-a", Rule: "Host(`c.com`)", Priority: 7},
	)
	tests := []struct{ host, path, want string }{
		{"foobar.traefik.com", "/", "regexp"},
		{"a.com", "/api/x", "api"},
		{"a.com", "/web", "root"},
		{"b.com", "/api/v1/users", "explicit-high"},
		{"c.com", "/", "tie-a"},
		{"z.com", "/", "negative"},
	}
	for _, tt := range tests {
		if got := matchName(m, get(tt.host, tt.path)); got != tt.want {
			t.Errorf("%s%s -> %q, want %q", tt.host, tt.path, got, tt.want)
		}
	}
	var order []string
	for _, rt := range m.Routes() {
		order = append(order, fmt.Sprintf("%s:%d", rt.Name, rt.Priority))
	}
	want := "explicit-high:100 api:35 regexp:34 root:32 host:26 tie-a:7 tie-b:7 explicit-low:1 negative:-5"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("order = %s\nwant    %s", got, want)
	}
}

func TestHostIndexVariants(t *testing.T) {
	m := build(t,
		Route{Name: "exact", Rule: "Host(`a.example.com`)", Priority: 10},
		Route{Name: "wild", Rule: "Host(`*.example.com`)", Priority: 20},
		Route{Name: "both", Rule: "Host(`b.example.com`) || Host(`*.example.com`) && Path(`/both`)", Priority: 30},
		Route{Name: "never", Rule: "Host(`x.com`) && Host(`y.com`)", Priority: 40},
		Route{Name: "fallback", Rule: "PathPrefix(`/`)", Priority: 1},
	)
	tests := []struct{ host, path, want string }{
		{"a.example.com", "/", "wild"},
		{"A.Example.Com.:8443", "/", "wild"},
		{"b.example.com", "/", "both"},
		{"c.example.com", "/both", "both"},
		{"c.example.com", "/", "wild"},
		{"example.com", "/", "fallback"},
		{"x.y.example.com", "/", "fallback"},
		{"x.com", "/", "fallback"},
		{"", "/", "fallback"},
	}
	for _, tt := range tests {
		if got := matchName(m, get(tt.host, tt.path)); got != tt.want {
			t.Errorf("%q%s -> %q, want %q", tt.host, tt.path, got, tt.want)
		}
	}
}

func TestServeHTTP(t *testing.T) {
	m := build(t, Route{Name: "a", Rule: "Host(`a.com`)"})

	w := httptest.NewRecorder()
	m.ServeHTTP(w, get("a.com", "/"))
	if w.Code != 200 || w.Body.String() != "a" {
		t.Errorf("match: %d %q", w.Code, w.Body)
	}

	w = httptest.NewRecorder()
	m.ServeHTTP(w, get("b.com", "/"))
	if w.Code != 404 || w.Body.String() != "404 page not found\n" || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("no match: %d %q %q", w.Code, w.Body, w.Header())
	}

	custom := New()
	custom.SetNotFound(named("custom"))
	custom.Build()
	w = httptest.NewRecorder()
	custom.ServeHTTP(w, get("b.com", "/"))
	if w.Body.String() != "custom" {
		t.Errorf("custom not-found handler not used: %q", w.Body)
	}
}

func TestAddRouteErrors(t *testing.T) {
	m := New()
	err := m.AddRoute(Route{Name: "bad", Rule: "Hots(`a`)", Handler: named("bad")})
	if err == nil || err.Error() != `unknown matcher "Hots" at position 0` {
		t.Errorf("bad rule: %v", err)
	}
	if err := m.AddRoute(Route{Name: "nil", Rule: "Host(`a`)"}); err == nil {
		t.Error("nil handler accepted")
	}
	if err := m.AddRoute(Route{Name: "good", Rule: "Host(`a`)", Handler: named("good")}); err != nil {
		t.Fatal(err)
	}
	m.Build()
	if err := m.AddRoute(Route{Name: "late", Rule: "Host(`a`)", Handler: named("late")}); err == nil {
		t.Error("AddRoute after Build accepted")
	}
	if got := matchName(m, get("a", "/")); got != "good" {
		t.Errorf("got %q: a bad route must not affect the others", got)
	}
	if n := len(m.Routes()); n != 1 {
		t.Errorf("%d routes, want 1", n)
	}

	// An unbuilt muxer matches nothing rather than failing.
	if _, ok := New().Match(get("a", "/")); ok {
		t.Error("empty muxer matched")
	}
}

// linear is the reference: the first route in priority order that matches.
func linear(m *Muxer, r *http.Request) string {
	for _, e := range m.all {
		if e.matcher.Match(r) {
			return e.Name
		}
	}
	return ""
}

// TestIndexEqualsLinearScan checks on random route sets that the host index
// answers exactly as trying every route in priority order.
func TestIndexEqualsLinearScan(t *testing.T) {
	hosts := []string{"a.com", "b.com", "x.a.com", "y.a.com", "x.y.a.com", "c.org", "A.COM", "a.com.", "."}
	paths := []string{"/", "/api", "/api/v1", "/web", "/x"}
	leaf := func(rng *rand.Rand) string {
		h := hosts[rng.IntN(len(hosts))]
		switch rng.IntN(9) {
		case 0, 1, 2:
			return fmt.Sprintf("Host(`%s`)", h)
		case 3:
			return "Host(`*.a.com`)"
		case 4:
			return fmt.Sprintf("HostRegexp(`^%s`)", h[:1])
		case 5, 6:
			return fmt.Sprintf("PathPrefix(`%s`)", paths[rng.IntN(len(paths))])
		case 7:
			return fmt.Sprintf("Path(`%s`)", paths[rng.IntN(len(paths))])
		}
		return []string{"Method(`GET`)", "Method(`POST`)", "Query(`q`)"}[rng.IntN(3)]
	}
	var expr func(rng *rand.Rand, depth int) string
	expr = func(rng *rand.Rand, depth int) string {
		if depth > 2 || rng.IntN(3) == 0 {
			return leaf(rng)
		}
		switch rng.IntN(5) {
		case 0, 1:
			return "(" + expr(rng, depth+1) + " && " + expr(rng, depth+1) + ")"
		case 2, 3:
			return "(" + expr(rng, depth+1) + " || " + expr(rng, depth+1) + ")"
		}
		return "!" + expr(rng, depth+1)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for set := 0; set < 300; set++ {
		m := New()
		for i := range 1 + rng.IntN(40) {
			rt := Route{Name: fmt.Sprintf("r%02d", i), Rule: expr(rng, 0), Handler: named("x")}
			if rng.IntN(3) == 0 {
				rt.Priority = rng.IntN(5) - 1 // many ties, some negative
			}
			if err := m.AddRoute(rt); err != nil {
				t.Fatal(err)
			}
		}
		m.Build()
		for range 50 {
			method := []string{"GET", "POST"}[rng.IntN(2)]
			target := paths[rng.IntN(len(paths))] + []string{"", "?q", "?q=1"}[rng.IntN(3)]
			host := hosts[rng.IntN(len(hosts))] + []string{"", ":8080"}[rng.IntN(2)]
			r := httptest.NewRequest(method, target, nil)
			r.Host = host
			if got, want := matchName(m, r), linear(m, r); got != want {
				t.Fatalf("set %d: %s %s%s -> %q, linear scan -> %q\nroutes: %v", set, method, host, target, got, want, m.Routes())
			}
		}
	}
}

// noopWriter is a ResponseWriter that costs nothing, for benchmarks.
type noopWriter struct{ h http.Header }

func (w *noopWriter) Header() http.Header         { return w.h }
func (w *noopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *noopWriter) WriteHeader(int)             {}

var okHandler = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// hostRoutes builds n routers, each Host(`svcN.example.com`) with an /api
// and a catch-all path router, plus a few host-less routers, as a large
// deployment has.
func hostRoutes(tb testing.TB, n int) *Muxer {
	m := New()
	for i := range n {
		for _, rt := range []Route{
			{Name: fmt.Sprintf("svc%d-api", i), Rule: fmt.Sprintf("Host(`svc%d.example.com`) && PathPrefix(`/api`)", i)},
			{Name: fmt.Sprintf("svc%d", i), Rule: fmt.Sprintf("Host(`svc%d.example.com`)", i)},
		} {
			rt.Handler = okHandler
			if err := m.AddRoute(rt); err != nil {
				tb.Fatal(err)
			}
		}
	}
	for _, rt := range []Route{
		{Name: "metrics", Rule: "Path(`/metrics`) && ClientIP(`10.0.0.0/8`)"},
		{Name: "catchall", Rule: "PathPrefix(`/`)", Priority: 1},
	} {
		rt.Handler = okHandler
		if err := m.AddRoute(rt); err != nil {
			tb.Fatal(err)
		}
	}
	m.Build()
	return m
}

func TestMatchDoesNotAllocate(t *testing.T) {
	m := hostRoutes(t, 1000)
	r := get("svc500.example.com:443", "/api/users")
	if got := matchName(m, r); got != "svc500-api" {
		t.Fatalf("matched %q", got)
	}
	w := &noopWriter{h: http.Header{}}
	if n := testing.AllocsPerRun(200, func() { m.ServeHTTP(w, r) }); n != 0 {
		t.Errorf("ServeHTTP allocates %v times per request", n)
	}
}

func benchMuxer(b *testing.B, n int) {
	m := hostRoutes(b, n)
	r := get(fmt.Sprintf("svc%d.example.com", n/2), "/api/users")
	if got := matchName(m, r); got != fmt.Sprintf("svc%d-api", n/2) {
		b.Fatalf("matched %q", got)
	}
	w := &noopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		m.ServeHTTP(w, r)
	}
}

func BenchmarkMuxer10(b *testing.B)    { benchMuxer(b, 10) }
func BenchmarkMuxer10000(b *testing.B) { benchMuxer(b, 10000) }

// BenchmarkLinear10000 is the same request through a plain priority-order
// scan, to show what the index saves.
func BenchmarkLinear10000(b *testing.B) {
	m := hostRoutes(b, 10000)
	r := get("svc5000.example.com", "/api/users")
	b.ReportAllocs()
	for b.Loop() {
		linear(m, r)
	}
}

func TestConcurrentMatch(t *testing.T) {
	m := hostRoutes(t, 50)
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 500 {
				n := (g*500 + i) % 50
				r := get(fmt.Sprintf("svc%d.example.com", n), "/api")
				if got, want := matchName(m, r), fmt.Sprintf("svc%d-api", n); got != want {
					t.Errorf("got %q want %q", got, want)
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}
