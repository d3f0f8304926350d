package builder

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares"
)

// TestMiddlewareStateAndServices builds twice with a rateLimit (its bucket
// must survive the equal rebuild) and an errors middleware (its page service
// comes from the builder, qualified in the middleware's provider).
func TestMiddlewareStateAndServices(t *testing.T) {
	back := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			w.WriteHeader(503)
			return
		}
		w.Write([]byte("path " + r.URL.Path))
	}))
	defer back.Close()
	conf := dynamic.New()
	lb := &dynamic.Service{LoadBalancer: &dynamic.ServersLoadBalancer{Servers: []dynamic.Server{{URL: back.URL}}}}
	conf.HTTP.Services["s@file"] = lb
	conf.HTTP.Services["pages@file"] = lb
	conf.HTTP.Middlewares["rl@file"] = &dynamic.Middleware{RateLimit: &dynamic.RateLimit{Average: 1, Period: ptypes.Duration(time.Hour)}}
	conf.HTTP.Middlewares["err@file"] = &dynamic.Middleware{Errors: &dynamic.ErrorPage{Status: []string{"500-599"}, Service: "pages", Query: "/page{status}"}}
	conf.HTTP.Routers["limited@file"] = &dynamic.Router{Rule: "Host(`a.test`)", Service: "s@file", Middlewares: []string{"rl@file"}}
	conf.HTTP.Routers["pages@file"] = &dynamic.Router{Rule: "Host(`b.test`)", Service: "s@file", Middlewares: []string{"err@file"}}
	deps := edgeDeps(map[string]string{"web": ":0"})
	deps.Middlewares = middlewares.NewState()
	defer deps.Services.Close()

	get := func(h http.Handler, host, path string) (int, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "http://"+host+path, nil))
		return w.Code, w.Body.String()
	}
	table, rt := Build(conf, deps)
	status(t, rt.Routers["limited@file"].Status, "enabled", rt.Routers["limited@file"].Err)
	status(t, rt.Routers["pages@file"].Status, "enabled", rt.Routers["pages@file"].Err)
	if c, _ := get(table.HTTP["web"], "a.test", "/"); c != 200 {
		t.Fatalf("first request %d", c)
	}
	if c, b := get(table.HTTP["web"], "b.test", "/boom"); c != 503 || b != "path /page503" {
		t.Fatalf("error page: %d %q", c, b)
	}
	if used := rt.Services["pages@file"].UsedBy; len(used) == 0 {
		t.Errorf("page service not marked used: %v", used)
	}
	table, _ = Build(conf, deps)
	if c, _ := get(table.HTTP["web"], "a.test", "/"); c != 429 {
		t.Fatalf("after an equal rebuild: %d, want 429 (bucket kept)", c)
	}
}
