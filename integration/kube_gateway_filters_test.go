package integration

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatev1 "sigs.k8s.io/gateway-api/apis/v1"
)

func gwRoute(name string, hosts []string, rules ...gatev1.HTTPRouteRule) *gatev1.HTTPRoute {
	r := &gatev1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: gatev1.HTTPRouteSpec{
			CommonRouteSpec: gatev1.CommonRouteSpec{ParentRefs: []gatev1.ParentReference{gwParentRef("gw", "")}},
			Rules:           rules,
		},
	}
	for _, h := range hosts {
		r.Spec.Hostnames = append(r.Spec.Hostnames, gatev1.Hostname(h))
	}
	return r
}

func backends(refs ...gatev1.HTTPBackendRef) []gatev1.HTTPBackendRef { return refs }

// TestKubeGatewayFilters: one switchyard, one Gateway, HTTPRoutes with
// header, query and method matches, the five HTTPRoute filters and a
// weighted split, each checked with real requests.
func TestKubeGatewayFilters(t *testing.T) {
	s := newGatewaySetup(t)
	kn := requireKubeNet(t)
	e := newEnv(t)
	for _, n := range []string{"a", "b"} {
		ip, port := gwEcho(t, kn, n)
		s.k.ServiceWithEndpoints(t, s.ns, n, "http", 80, int32(port), KubeEndpoint{IP: ip, Ready: true})
	}
	var mirrored atomic.Int64
	mip, mport := kn.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Mirror-Me") == "1" {
			mirrored.Add(1)
		}
	}))
	s.k.ServiceWithEndpoints(t, s.ns, "m", "http", 80, int32(mport), KubeEndpoint{IP: mip, Ready: true})
	sip, sport := kn.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		}
		w.Write([]byte("slow backend"))
	}))
	s.k.ServiceWithEndpoints(t, s.ns, "slow", "http", 80, int32(sport), KubeEndpoint{IP: sip, Ready: true})
	gwStatic(e, s, "")
	webPort := int32(e.Port("web"))
	s.gateway(t, "gw", gatev1.Listener{Name: "http", Port: webPort, Protocol: gatev1.HTTPProtocolType,
		AllowedRoutes: &gatev1.AllowedRoutes{Namespaces: &gatev1.RouteNamespaces{From: gwPtr(gatev1.NamespacesFromSame)}}})

	exact := gwPtr(gatev1.HeaderMatchExact)
	s.httpRoute(t, gwRoute("match", []string{"match.example"},
		gatev1.HTTPRouteRule{
			Matches:     []gatev1.HTTPRouteMatch{{Headers: []gatev1.HTTPHeaderMatch{{Type: exact, Name: "X-Version", Value: "v2"}}}},
			BackendRefs: backends(gwBackendRef("b", 80, 1)),
		},
		gatev1.HTTPRouteRule{
			Matches: []gatev1.HTTPRouteMatch{{
				Method:      gwPtr(gatev1.HTTPMethodPost),
				QueryParams: []gatev1.HTTPQueryParamMatch{{Name: "debug", Value: "1"}},
			}},
			BackendRefs: backends(gwBackendRef("b", 80, 1)),
		},
		gatev1.HTTPRouteRule{Matches: gwPathPrefix("/"), BackendRefs: backends(gwBackendRef("a", 80, 1))},
	))
	s.httpRoute(t, gwRoute("mod", []string{"mod.example"}, gatev1.HTTPRouteRule{
		Filters: []gatev1.HTTPRouteFilter{
			{Type: gatev1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gatev1.HTTPHeaderFilter{
				Set:    []gatev1.HTTPHeader{{Name: "X-Set", Value: "set"}},
				Add:    []gatev1.HTTPHeader{{Name: "X-Add", Value: "added"}},
				Remove: []string{"X-Remove"},
			}},
			{Type: gatev1.HTTPRouteFilterResponseHeaderModifier, ResponseHeaderModifier: &gatev1.HTTPHeaderFilter{
				Set:    []gatev1.HTTPHeader{{Name: "X-Resp", Value: "r"}},
				Remove: []string{"X-Backend"},
			}},
		},
		BackendRefs: backends(gwBackendRef("a", 80, 1)),
	}))
	s.httpRoute(t, gwRoute("redir", []string{"redir.example"},
		gatev1.HTTPRouteRule{
			Matches: gwPathPrefix("/moved"),
			Filters: []gatev1.HTTPRouteFilter{{Type: gatev1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gatev1.HTTPRequestRedirectFilter{
				Hostname: gwPtr(gatev1.PreciseHostname("other.example")),
				Path:     &gatev1.HTTPPathModifier{Type: gatev1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: gwPtr("/new")},
			}}},
		},
		gatev1.HTTPRouteRule{
			Filters: []gatev1.HTTPRouteFilter{{Type: gatev1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gatev1.HTTPRequestRedirectFilter{
				Scheme: gwPtr("https"), StatusCode: gwPtr(301),
			}}},
		},
	))
	s.httpRoute(t, gwRoute("rw", []string{"rw.example"}, gatev1.HTTPRouteRule{
		Matches: gwPathPrefix("/old"),
		Filters: []gatev1.HTTPRouteFilter{{Type: gatev1.HTTPRouteFilterURLRewrite, URLRewrite: &gatev1.HTTPURLRewriteFilter{
			Hostname: gwPtr(gatev1.PreciseHostname("rewritten.example")),
			Path:     &gatev1.HTTPPathModifier{Type: gatev1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: gwPtr("/new")},
		}}},
		BackendRefs: backends(gwBackendRef("a", 80, 1)),
	}))
	s.httpRoute(t, gwRoute("mirror", []string{"mirror.example"}, gatev1.HTTPRouteRule{
		Filters: []gatev1.HTTPRouteFilter{{Type: gatev1.HTTPRouteFilterRequestMirror, RequestMirror: &gatev1.HTTPRequestMirrorFilter{
			BackendRef: gatev1.BackendObjectReference{Name: "m", Port: gwPtr(int32(80))},
		}}},
		BackendRefs: backends(gwBackendRef("a", 80, 1)),
	}))
	s.httpRoute(t, gwRoute("split", []string{"split.example"}, gatev1.HTTPRouteRule{
		BackendRefs: backends(gwBackendRef("a", 80, 3), gwBackendRef("b", 80, 1)),
	}))
	s.httpRoute(t, gwRoute("timeouts", []string{"timeout.example"}, gatev1.HTTPRouteRule{
		Timeouts:    &gatev1.HTTPRouteTimeouts{Request: gwPtr(gatev1.Duration("500ms"))},
		BackendRefs: backends(gwBackendRef("slow", 80, 1)),
	}))
	start := time.Now()
	e.Start()
	web := e.URL("web")
	for _, r := range []string{"match", "mod", "redir", "rw", "mirror", "split", "timeouts"} {
		gwWaitCond(t, r, s.routeParentConds("HTTPRoute", r), "Accepted", metav1.ConditionTrue, "Accepted")
	}
	gwWaitHTTP(t, request{url: web + "/", host: "split.example"}, "split route", func(r Reply) bool { return r.Status == 200 })
	t.Logf("seven routes accepted and served %v after start (the first start of a run includes building the binary)", time.Since(start).Round(time.Millisecond))

	t.Run("matches", func(t *testing.T) {
		gwWaitHTTP(t, request{url: web + "/x", host: "match.example"}, "match route", func(r Reply) bool { return r.Status == 200 })
		for _, tc := range []struct {
			r    request
			want string
		}{
			{request{url: web + "/x", host: "match.example"}, "a"},
			{request{url: web + "/x", host: "match.example", header: map[string]string{"X-Version": "v2"}}, "b"},
			{request{url: web + "/x", host: "match.example", header: map[string]string{"X-Version": "v3"}}, "a"},
			{request{method: "POST", url: web + "/x?debug=1", host: "match.example"}, "b"},
			{request{method: "GET", url: web + "/x?debug=1", host: "match.example"}, "a"},
			{request{method: "POST", url: web + "/x?debug=2", host: "match.example"}, "a"},
		} {
			rep := do(t, tc.r)
			if got := gwParseEcho(t, rep.Body).Name; got != tc.want {
				t.Errorf("%s %s %v: backend %q, want %q", tc.r.method, tc.r.url, tc.r.header, got, tc.want)
			}
		}
	})
	t.Run("headerModifiers", func(t *testing.T) {
		rep := do(t, request{url: web + "/", host: "mod.example", header: map[string]string{"X-Set": "client", "X-Add": "client", "X-Remove": "gone"}})
		got := gwParseEcho(t, rep.Body)
		if h := got.Headers["X-Set"]; len(h) != 1 || h[0] != "set" {
			t.Errorf("X-Set %q", h)
		}
		if h := got.Headers["X-Add"]; len(h) != 2 || h[0] != "client" || h[1] != "added" {
			t.Errorf("X-Add %q", h)
		}
		if h, ok := got.Headers["X-Remove"]; ok {
			t.Errorf("X-Remove reached the backend: %q", h)
		}
		if rep.Header.Get("X-Resp") != "r" || rep.Header.Get("X-Backend") != "" {
			t.Errorf("response headers %v", rep.Header)
		}
	})
	t.Run("redirect", func(t *testing.T) {
		rep := do(t, request{url: web + "/path?x=1", host: "redir.example"})
		if rep.Status != 301 || rep.Header.Get("Location") != "https://redir.example/path?x=1" {
			t.Errorf("scheme redirect: %d %q", rep.Status, rep.Header.Get("Location"))
		}
		rep = do(t, request{url: web + "/moved/rest", host: "redir.example"})
		if want := fmt.Sprintf("http://other.example:%d/new/rest", webPort); rep.Status != 302 || rep.Header.Get("Location") != want {
			t.Errorf("path redirect: %d %q, want 302 %q", rep.Status, rep.Header.Get("Location"), want)
		}
	})
	t.Run("rewrite", func(t *testing.T) {
		got := gwParseEcho(t, do(t, request{url: web + "/old/x?q=1", host: "rw.example"}).Body)
		if got.Path != "/new/x" || got.Host != "rewritten.example" || got.RawQuery != "q=1" {
			t.Errorf("backend saw path %q host %q query %q", got.Path, got.Host, got.RawQuery)
		}
		if r := do(t, request{url: web + "/oldx", host: "rw.example"}); r.Status != 404 {
			t.Errorf("/oldx: %d, want 404 (prefix matches path elements)", r.Status)
		}
	})
	t.Run("mirror", func(t *testing.T) {
		for range 5 {
			if r := do(t, request{url: web + "/", host: "mirror.example", header: map[string]string{"X-Mirror-Me": "1"}}); gwParseEcho(t, r.Body).Name != "a" {
				t.Fatalf("mirror route answered %d %q", r.Status, r.Body)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for mirrored.Load() < 5 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := mirrored.Load(); n != 5 {
			t.Errorf("mirror got %d copies, want 5", n)
		}
	})
	t.Run("timeouts", func(t *testing.T) {
		if r := do(t, request{url: web + "/fast", host: "timeout.example"}); r.Status != 200 {
			t.Fatalf("fast request: %d %q", r.Status, r.Body)
		}
		t0 := time.Now()
		r := do(t, request{url: web + "/slow", host: "timeout.example"})
		took := time.Since(t0)
		t.Logf("slow request: %d after %v (timeouts.request 500ms)", r.Status, took.Round(time.Millisecond))
		if r.Status != http.StatusGatewayTimeout || took > 2500*time.Millisecond {
			t.Errorf("slow request: %d after %v, want 504 well before the backend's 3 s", r.Status, took)
		}
	})
	t.Run("weighted", func(t *testing.T) {
		counts := map[string]int{}
		const n = 200
		for range n {
			counts[gwParseEcho(t, do(t, request{url: web + "/", host: "split.example"}).Body).Name]++
		}
		t.Logf("weighted 3:1 over %d requests: %v", n, counts)
		// 3:1 is 150/50; a wide band keeps a loaded machine out of it.
		if counts["a"] < 130 || counts["a"] > 170 || counts["a"]+counts["b"] != n {
			t.Errorf("split %v, want about 150/50", counts)
		}
	})
}
