package consulcatalog

import (
	"testing"

	"github.com/switchyard-proxy/switchyard/config/static"
)

func newTestProvider(t *testing.T, mut func(*static.ConsulCatalogProvider)) *Provider {
	t.Helper()
	var c static.ConsulCatalogProvider
	c.SetDefaults()
	if mut != nil {
		mut(&c)
	}
	p := New(c)
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"my.plain_svc": "my-plain-svc", "web": "web", "--a..b--": "a-b", "Été": "Été"} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBuild(t *testing.T) {
	p := newTestProvider(t, func(c *static.ConsulCatalogProvider) {
		c.DefaultRule = "Host(`{{ normalize .Name }}.example.com`) || Host(`{{ .Name | upper }}`)"
		c.Constraints = "!Tag(`skip`)"
	})
	conf := p.build(map[string][]instance{
		"web.app": {
			{ID: "n/2", Address: "10.0.0.2", Port: 81},
			{ID: "n/1", Address: "10.0.0.1", Port: 80},
		},
		"api": {{ID: "n/3", Address: "::1", Port: 90, Tags: []string{
			"traefik.http.routers.api.rule=PathPrefix(`/api`)",
			"switchyard.http.routers.api.middlewares=auth@file",
			"switchyard.http.services.apisvc.loadBalancer.server.port=9999",
			"switchyard.http.services.apisvc.loadBalancer.server.scheme=https",
		}}},
		"skipped": {{ID: "n/4", Address: "10.0.0.4", Port: 1, Tags: []string{"skip"}}},
		"off":     {{ID: "n/5", Address: "10.0.0.5", Port: 1, Tags: []string{"switchyard.enable=false"}}},
		"tcp": {{ID: "n/6", Address: "10.0.0.6", Port: 5432, Tags: []string{
			"switchyard.tcp.routers.db.rule=HostSNI(`*`)",
		}}},
	})
	r := conf.HTTP.Routers["web-app"]
	if r == nil || r.Rule != "Host(`web-app.example.com`) || Host(`WEB.APP`)" || r.Service != "web-app" {
		t.Fatalf("web-app router: %+v", r)
	}
	s := conf.HTTP.Services["web-app"]
	if s == nil || len(s.LoadBalancer.Servers) != 2 || s.LoadBalancer.Servers[0].URL != "http://10.0.0.1:80" {
		t.Fatalf("web-app service: %+v", s.LoadBalancer)
	}
	r = conf.HTTP.Routers["api"]
	if r == nil || r.Rule != "PathPrefix(`/api`)" || r.Service != "apisvc" || r.Middlewares[0] != "auth@file" {
		t.Fatalf("api router: %+v", r)
	}
	if s := conf.HTTP.Services["apisvc"]; s == nil || s.LoadBalancer.Servers[0].URL != "https://[::1]:9999" {
		t.Fatalf("apisvc: %+v", s)
	}
	for _, n := range []string{"skipped", "off", "tcp"} {
		if conf.HTTP.Routers[n] != nil {
			t.Errorf("router %s should not exist", n)
		}
	}
	if r := conf.TCP.Routers["db"]; r == nil || r.Service != "tcp" || conf.TCP.Services["tcp"].LoadBalancer.Servers[0].Address != "10.0.0.6:5432" {
		t.Fatalf("tcp: %+v %+v", r, conf.TCP.Services)
	}
}

func TestExposedByDefaultFalse(t *testing.T) {
	p := newTestProvider(t, func(c *static.ConsulCatalogProvider) { c.ExposedByDefault = false })
	conf := p.build(map[string][]instance{
		"a": {{ID: "1", Address: "10.0.0.1", Port: 80}},
		"b": {{ID: "2", Address: "10.0.0.2", Port: 80, Tags: []string{"switchyard.enable=true"}}},
	})
	if conf.HTTP.Routers["a"] != nil || conf.HTTP.Routers["b"] == nil {
		t.Fatalf("routers: %v", conf.HTTP.Routers)
	}
}

func TestInitErrors(t *testing.T) {
	for name, mut := range map[string]func(*static.ConsulCatalogProvider){
		"rule":         func(c *static.ConsulCatalogProvider) { c.DefaultRule = "Host(`{{ .Name `)" },
		"constraints":  func(c *static.ConsulCatalogProvider) { c.Constraints = "Nope(`a`)" },
		"strictChecks": func(c *static.ConsulCatalogProvider) { c.StrictChecks = []string{"fine"} },
		"connect":      func(c *static.ConsulCatalogProvider) { c.ConnectAware = true },
		"consistency":  func(c *static.ConsulCatalogProvider) { c.RequireConsistent, c.Stale = true, true },
	} {
		var c static.ConsulCatalogProvider
		c.SetDefaults()
		mut(&c)
		if err := New(c).Init(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// Issue 13, defect 9: every instance's tags count. A rolling tag change
// (one instance with the old rule, one with the new) is a conflict on the
// router, reported on its name; the service, whose definition is the same
// on both but for the server, keeps both servers; an object whose tags do
// not decode is reported too, never dropped silently.
func TestBuildMergesInstances(t *testing.T) {
	p := newTestProvider(t, nil)
	conf := p.build(map[string][]instance{
		"web": {
			{ID: "n/1", Address: "10.0.0.1", Port: 80, Tags: []string{
				"switchyard.http.routers.web.rule=Host(`old.example.com`)",
				"switchyard.http.routers.same.rule=Host(`same.example.com`)",
				"switchyard.http.middlewares.m.headers.customRequestHeaders.X-A=1",
			}},
			{ID: "n/2", Address: "10.0.0.2", Port: 80, Tags: []string{
				"switchyard.http.routers.web.rule=Host(`new.example.com`)",
				"switchyard.http.routers.same.rule=Host(`same.example.com`)",
				"switchyard.http.middlewares.m.headers.customRequestHeaders.X-A=2",
				"switchyard.http.routers.bad.priority=notanumber",
			}},
		},
	})
	if conf.HTTP.Routers["web"] != nil {
		t.Fatalf("conflicting router kept: %+v", conf.HTTP.Routers["web"])
	}
	if conf.HTTP.Middlewares["m"] != nil {
		t.Fatal("conflicting middleware kept")
	}
	if r := conf.HTTP.Routers["same"]; r == nil || r.Service != "web" {
		t.Fatalf("router defined the same way by both instances: %+v", r)
	}
	s := conf.HTTP.Services["web"]
	if s == nil || len(s.LoadBalancer.Servers) != 2 {
		t.Fatalf("service: %+v", s)
	}
	want := map[string]bool{"router/web": false, "middleware/m": false, "router/bad": false}
	for _, pr := range conf.Problems {
		k := pr.Kind + "/" + pr.Name
		if _, ok := want[k]; ok && !pr.Warning {
			want[k] = true
		}
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("no problem reported on %s: %+v", k, conf.Problems)
		}
	}
	// Once the roll is over (both instances agree), the router is back.
	conf = p.build(map[string][]instance{"web": {
		{ID: "n/1", Address: "10.0.0.1", Port: 80, Tags: []string{"switchyard.http.routers.web.rule=Host(`new.example.com`)"}},
		{ID: "n/2", Address: "10.0.0.2", Port: 80, Tags: []string{"switchyard.http.routers.web.rule=Host(`new.example.com`)"}},
	}})
	if r := conf.HTTP.Routers["web"]; r == nil || r.Rule != "Host(`new.example.com`)" || len(conf.Problems) != 0 {
		t.Fatalf("after the roll: %+v %+v", r, conf.Problems)
	}
}
