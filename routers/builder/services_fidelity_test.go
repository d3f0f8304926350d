package builder

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func echoName(name string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" && name == "main" {
			w.WriteHeader(503)
			return
		}
		fmt.Fprintf(w, "%s %s %s", name, r.URL.Path, r.Header.Get("X-Svc"))
	}))
}

func body(t *testing.T, h http.Handler, remote, path string) string {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return fmt.Sprint(rec.Code, " ", rec.Body.String())
}

// TestHighestRandomWeightService: a client IP always reaches the same
// child; several IPs reach several children.
func TestHighestRandomWeightService(t *testing.T) {
	a, b := echoName("a"), echoName("b")
	defer a.Close()
	defer b.Close()
	m := NewServiceManager(nil)
	defer m.Close()
	c := dynamic.New()
	c.HTTP.Services["a@file"] = lbConf(a.URL, nil)
	c.HTTP.Services["b@file"] = lbConf(b.URL, nil)
	c.HTTP.Services["h@file"] = &dynamic.Service{HighestRandomWeight: &dynamic.HighestRandomWeight{Services: []dynamic.WRRService{{Name: "a@file"}, {Name: "b@file"}}}}
	hs, rt := generation(t, m, c)
	h := hs["h@file"]
	if h == nil {
		t.Fatalf("not built: %v", rt.Services["h@file"].Err)
	}
	seen := map[string]bool{}
	for i := range 40 {
		ip := fmt.Sprintf("10.0.%d.%d:1234", i/7, i)
		first := body(t, h, ip, "/")
		for range 3 {
			if got := body(t, h, ip, "/"); got != first {
				t.Fatalf("%s moved: %q then %q", ip, first, got)
			}
		}
		seen[first[:5]] = true
	}
	if len(seen) != 2 {
		t.Fatalf("children reached: %v", seen)
	}
	// healthCheck on the parent needs health checks on the children.
	c.HTTP.Services["h@file"].HighestRandomWeight.HealthCheck = &dynamic.HealthCheck{}
	if _, rt := generation(t, m, c); len(rt.Services["h@file"].Err) == 0 {
		t.Fatal("healthCheck without children health checks accepted")
	}
}

// TestFailoverErrorsService: a listed status of the main service goes to
// the fallback; no health check is needed on the main service then.
func TestFailoverErrorsService(t *testing.T) {
	mainS, fb := echoName("main"), echoName("fb")
	defer mainS.Close()
	defer fb.Close()
	m := NewServiceManager(nil)
	defer m.Close()
	c := dynamic.New()
	c.HTTP.Services["main@file"] = lbConf(mainS.URL, nil)
	c.HTTP.Services["fb@file"] = lbConf(fb.URL, nil)
	c.HTTP.Services["f@file"] = &dynamic.Service{Failover: &dynamic.Failover{Service: "main@file", Fallback: "fb@file",
		Errors: &dynamic.FailoverError{Status: []string{"500-504"}}}}
	hs, rt := generation(t, m, c)
	h := hs["f@file"]
	if h == nil {
		t.Fatalf("not built: %v", rt.Services["f@file"].Err)
	}
	if got := body(t, h, "1.2.3.4:1", "/ok"); got != "200 main /ok " {
		t.Fatalf("ok: %q", got)
	}
	if got := body(t, h, "1.2.3.4:1", "/fail"); got != "200 fb /fail " {
		t.Fatalf("fail: %q", got)
	}
	c.HTTP.Services["f@file"].Failover.Errors.Status = []string{"nope"}
	if _, rt := generation(t, m, c); !strings.Contains(strings.Join(rt.Services["f@file"].Err, " "), "errors.status") {
		t.Fatalf("bad status: %v", rt.Services["f@file"].Err)
	}
	c.HTTP.Services["f@file"].Failover.Errors = nil
	if _, rt := generation(t, m, c); len(rt.Services["f@file"].Err) == 0 {
		t.Fatal("failover without errors needs a health-checked main service")
	}
}

// TestServiceMiddlewares: http.services.<n>.middlewares run on the
// service; a missing one disables the service.
func TestServiceMiddlewares(t *testing.T) {
	s := echoName("s")
	defer s.Close()
	m := NewServiceManager(nil)
	defer m.Close()
	c := dynamic.New()
	svc := lbConf(s.URL, nil)
	svc.Middlewares = []string{"pre", "hdr@file"}
	c.HTTP.Services["s@file"] = svc
	c.HTTP.Middlewares["pre@file"] = &dynamic.Middleware{AddPrefix: &dynamic.AddPrefix{Prefix: "/api"}}
	c.HTTP.Middlewares["hdr@file"] = &dynamic.Middleware{Headers: &dynamic.Headers{CustomRequestHeaders: map[string]string{"X-Svc": "yes"}}}
	hs, rt := generation(t, m, c)
	if h := hs["s@file"]; h == nil || body(t, h, "1.2.3.4:1", "/x") != "200 s /api/x yes" {
		t.Fatalf("service middlewares: %v %v", h, rt.Services["s@file"].Err)
	}
	if u := rt.Middlewares["pre@file"].UsedBy; len(u) != 1 || u[0] != "s@file" {
		t.Errorf("usedBy %v", u)
	}
	svc.Middlewares = []string{"missing"}
	if hs, rt := generation(t, m, c); hs["s@file"] != nil || !strings.Contains(strings.Join(rt.Services["s@file"].Err, " "), "missing@file") {
		t.Fatalf("missing middleware: %v", rt.Services["s@file"].Err)
	}
}
