package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchyard-proxy/switchyard/config/static"
)

func TestLabels(t *testing.T) {
	for _, tc := range []struct {
		code int
		want string
	}{{200, "200"}, {404, "404"}, {0, "0"}, {999, "999"}, {101, "101"}} {
		if got := codeLabel(tc.code); got != tc.want {
			t.Errorf("codeLabel(%d) = %q", tc.code, got)
		}
	}
	for m, want := range map[string]string{"GET": "GET", "PROPFIND": "EXTENSION_METHOD", "get": "EXTENSION_METHOD"} {
		if got := methodLabel(m); got != want {
			t.Errorf("methodLabel(%q) = %q, want %q", m, got, want)
		}
	}
}

func TestEntryPointCounts(t *testing.T) {
	cfg := &static.Prometheus{}
	cfg.SetDefaults()
	m := New(cfg)
	h := m.EntryPoint("web", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/nf" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("hello"))
	}))
	for _, p := range []string{"/", "/", "/nf"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	got := testutil.ToFloat64(m.epReqs.WithLabelValues("web", "200", "GET", "http"))
	if got != 2 {
		t.Fatalf("200s = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.epReqs.WithLabelValues("web", "404", "GET", "http")); got != 1 {
		t.Fatalf("404s = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.epRespBytes.WithLabelValues("web", "200", "GET", "http")); got != 10 {
		t.Fatalf("bytes = %v, want 10", got)
	}
	// Routers are off by default: no wrapper at all.
	inner := plain{}
	if r := m.Router("a@file", "s@file", inner); r != (plain{}) {
		t.Fatalf("router wrapped while addRoutersLabels is off: %T", r)
	}
}

type plain struct{}

func (plain) ServeHTTP(http.ResponseWriter, *http.Request) {}

// BenchmarkWrappers measures the per-request cost of the entrypoint,
// router and service wrappers together (what a proxied request pays).
func BenchmarkWrappers(b *testing.B) {
	cfg := &static.Prometheus{}
	cfg.SetDefaults()
	cfg.AddRoutersLabels = true
	m := New(cfg)
	inner := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })
	h := m.EntryPoint("web", m.Router("r@file", "s@file", m.Service("s@file", inner)))
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.ServeHTTP(w, r)
	}
}

func TestEntryPointConnections(t *testing.T) {
	m := New(&static.Prometheus{})
	n := 0
	m.EntryPointConnections("web", func() []ConnGauge {
		n++
		return []ConnGauge{{Protocol: "http1", State: "idle", N: 7}, {Protocol: "tcp", State: "tcp", N: 0}}
	})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`switchyard_entrypoint_connections{entrypoint="web",protocol="http1",state="idle"} 7`,
		`switchyard_entrypoint_connections{entrypoint="web",protocol="tcp",state="tcp"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("missing %s in\n%s", want, body)
		}
	}
	if n != 1 {
		t.Fatalf("counted %d times for one scrape", n)
	}
}
