package builder

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/runtime"
)

// generation builds every service of conf as one builder generation would
// and returns handlers and runtime infos by name.
func generation(t testing.TB, m *ServiceManager, conf *dynamic.Configuration) (map[string]http.Handler, *runtime.Configuration) {
	t.Helper()
	conf = conf.Normalize()
	rt := runtime.New(conf)
	b := &build{conf: conf, rt: rt, deps: Deps{Services: m}, services: map[string]serviceResult{}, raw: map[string]serviceResult{}, variants: map[variantKey]http.Handler{}, mws: map[string]mwResult{}}
	m.beginGeneration()
	out := map[string]http.Handler{}
	for name := range conf.HTTP.Services {
		if h, err := b.service(name, nil); err == nil {
			out[name] = h
		}
	}
	m.endGeneration()
	return out, rt
}

func lbConf(url string, hc *dynamic.ServerHealthCheck) *dynamic.Service {
	return &dynamic.Service{LoadBalancer: &dynamic.ServersLoadBalancer{Servers: []dynamic.Server{{URL: url}}, HealthCheck: hc}}
}

func TestServiceReuseAcrossGenerations(t *testing.T) {
	var probes atomic.Int64
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			probes.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer backend.Close()
	m := NewServiceManager(nil)
	defer m.Close()
	hc := &dynamic.ServerHealthCheck{Path: "/health", Interval: ptypes.Duration(time.Hour)}
	one := 1
	conf := func(weight int) *dynamic.Configuration {
		c := dynamic.New()
		c.HTTP.Services["a@file"] = lbConf(backend.URL, hc)
		c.HTTP.Services["b@file"] = lbConf(backend.URL+"/b", nil)
		c.HTTP.Services["w@file"] = &dynamic.Service{Weighted: &dynamic.WeightedRoundRobin{Services: []dynamic.WRRService{{Name: "a@file", Weight: &one}, {Name: "b@file", Weight: &weight}}}}
		return c
	}
	h1, rt1 := generation(t, m, conf(1))
	deadline := time.Now().Add(5 * time.Second)
	for rt1.Services["a@file"].ServerStatus()[backend.URL] != runtime.ServerDown && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if rt1.Services["a@file"].ServerStatus()[backend.URL] != runtime.ServerDown {
		t.Fatal("health check never marked the server down")
	}

	// Unchanged: the very same handlers, status carried to the new runtime
	// info, no new probe loop.
	h2, rt2 := generation(t, m, conf(1))
	if h1["a@file"] != h2["a@file"] || h1["w@file"] != h2["w@file"] {
		t.Error("unchanged services were rebuilt")
	}
	if got := rt2.Services["a@file"].ServerStatus()[backend.URL]; got != runtime.ServerDown {
		t.Errorf("status after reload %q", got)
	}
	if p := probes.Load(); p != 1 {
		t.Errorf("%d probes, want 1 (checker kept, interval 1h)", p)
	}

	// Changing the parent only rebuilds the parent.
	h3, _ := generation(t, m, conf(2))
	if h3["a@file"] != h1["a@file"] || h3["w@file"] == h1["w@file"] {
		t.Error("weighted change: wrong services rebuilt")
	}

	// A removed service is released one generation after its last use.
	c := conf(2)
	delete(c.HTTP.Services, "w@file")
	delete(c.HTTP.Services, "a@file")
	generation(t, m, c)
	m.mu.Lock()
	_, kept := m.services["a@file"]
	m.mu.Unlock()
	if !kept {
		t.Error("released while the previous table may still use it")
	}
	generation(t, m, c)
	m.mu.Lock()
	_, kept = m.services["a@file"]
	m.mu.Unlock()
	if kept {
		t.Error("not released after a generation")
	}
}

func TestServiceErrors(t *testing.T) {
	neg, one := -1, 1
	m := NewServiceManager(nil)
	defer m.Close()
	c := dynamic.New()
	c.HTTP.Services["ok@file"] = lbConf("http://127.0.0.1:1", nil)
	c.HTTP.Services["neg@file"] = &dynamic.Service{LoadBalancer: &dynamic.ServersLoadBalancer{Servers: []dynamic.Server{{URL: "http://x", Weight: &neg}}}}
	c.HTTP.Services["url@file"] = lbConf("ftp://x", nil)
	c.HTTP.Services["nohost@file"] = lbConf("http://", nil)
	c.HTTP.Services["missing@file"] = &dynamic.Service{Weighted: &dynamic.WeightedRoundRobin{Services: []dynamic.WRRService{{Name: "ghost@file", Weight: &one}}}}
	c.HTTP.Services["cyc1@file"] = &dynamic.Service{Weighted: &dynamic.WeightedRoundRobin{Services: []dynamic.WRRService{{Name: "cyc2@file", Weight: &one}}}}
	c.HTTP.Services["cyc2@file"] = &dynamic.Service{Mirroring: &dynamic.Mirroring{Service: "cyc1@file"}}
	c.HTTP.Services["hc@file"] = &dynamic.Service{Weighted: &dynamic.WeightedRoundRobin{HealthCheck: &dynamic.HealthCheck{}, Services: []dynamic.WRRService{{Name: "ok@file", Weight: &one}}}}
	c.HTTP.Services["fo@file"] = &dynamic.Service{Failover: &dynamic.Failover{Service: "ok@file", Fallback: "ok@file"}}
	c.HTTP.Services["pct@file"] = &dynamic.Service{Mirroring: &dynamic.Mirroring{Service: "ok@file", Mirrors: []dynamic.MirrorService{{Name: "ok@file", Percent: 120}}}}
	c.HTTP.Services["two@file"] = &dynamic.Service{LoadBalancer: &dynamic.ServersLoadBalancer{}, Failover: &dynamic.Failover{}}
	c.HTTP.Services["transport@file"] = &dynamic.Service{LoadBalancer: &dynamic.ServersLoadBalancer{ServersTransport: "nope@file"}}
	_, rt := generation(t, m, c)
	for name, want := range map[string]string{
		"neg@file":       "weight -1 must not be negative",
		"url@file":       "scheme must be http, https or h2c",
		"nohost@file":    "missing host",
		"missing@file":   `service "ghost@file" does not exist`,
		"cyc1@file":      "recursion detected",
		"hc@file":        `child service "ok@file" has no health check`,
		"fo@file":        `child service "ok@file" has no health check`,
		"pct@file":       "percent 120",
		"two@file":       "more than one service type",
		"transport@file": `serversTransport "nope@file" does not exist`,
	} {
		si := rt.Services[name]
		if si.Status != runtime.StatusDisabled || !strings.Contains(strings.Join(si.Err, "|"), want) {
			t.Errorf("%s: %s %q, want %q", name, si.Status, si.Err, want)
		}
	}
	if rt.Services["ok@file"].Status != runtime.StatusEnabled {
		t.Errorf("ok: %v", rt.Services["ok@file"].Err)
	}
}
