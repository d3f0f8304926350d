package builder

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
)

func TestRouterObs(t *testing.T) {
	f, tr := false, true
	epOff := &static.EntryPoint{Observability: &static.ObservabilityConfig{Metrics: &f}}
	cases := []struct {
		name string
		r    *dynamic.RouterObservabilityConfig
		ep   *static.EntryPoint
		want Obs
	}{
		{"defaults", nil, &static.EntryPoint{}, allObs},
		{"router off", &dynamic.RouterObservabilityConfig{AccessLogs: &f, Tracing: &f}, &static.EntryPoint{}, Obs{Metrics: true}},
		{"inherits entrypoint", nil, epOff, Obs{AccessLogs: true, Tracing: true}},
		{"section opts out of entrypoint", &dynamic.RouterObservabilityConfig{}, epOff, allObs},
		{"router wins", &dynamic.RouterObservabilityConfig{Metrics: &tr}, epOff, allObs},
	}
	for _, c := range cases {
		if got := routerObs(c.r, c.ep); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestRouterObservabilityHooks: a router with metrics and tracing off gets
// hooks called with them off, for itself and for the service it shares
// with a router that keeps them (which gets the shared handler).
func TestRouterObservabilityHooks(t *testing.T) {
	back := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer back.Close()
	f := false
	conf := dynamic.New()
	conf.HTTP.Services["s@file"] = &dynamic.Service{LoadBalancer: &dynamic.ServersLoadBalancer{Servers: []dynamic.Server{{URL: back.URL}}}}
	conf.HTTP.Routers["loud@file"] = &dynamic.Router{Rule: "Host(`a.test`)", Service: "s@file"}
	conf.HTTP.Routers["quiet@file"] = &dynamic.Router{Rule: "Host(`b.test`)", Service: "s@file",
		Observability: &dynamic.RouterObservabilityConfig{Metrics: &f, Tracing: &f}}
	deps := edgeDeps(map[string]string{"web": ":0"})
	defer deps.Services.Close()
	routers := map[string]Obs{}
	var services []Obs
	deps.WrapRouter = func(router, _ string, obs Obs, h http.Handler) http.Handler { routers[router] = obs; return h }
	deps.WrapService = func(_ string, obs Obs, h http.Handler) http.Handler { services = append(services, obs); return h }
	_, rt := Build(conf, deps)
	status(t, rt.Routers["quiet@file"].Status, "enabled", rt.Routers["quiet@file"].Err)
	if routers["loud@file"] != allObs || routers["quiet@file"] != (Obs{AccessLogs: true}) {
		t.Errorf("router hooks: %+v", routers)
	}
	// One shared wrap with everything, one variant without metrics/tracing.
	if len(services) != 2 || services[0] != allObs || services[1] != (Obs{AccessLogs: true}) {
		t.Errorf("service hooks: %+v", services)
	}
}
