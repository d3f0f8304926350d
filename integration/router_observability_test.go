package integration

import (
	"strings"
	"testing"
	"time"
)

// TestRouterObservabilityOff: a router with observability all false leaves
// no access-log line and no router/service series for its requests, while
// another router on the same service stays logged and counted.
func TestRouterObservabilityOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.WriteDynamic("yml", `
http:
  routers:
    loud:
      rule: "PathPrefix(`+"`/loud`"+`)"
      service: app
    quiet:
      rule: "PathPrefix(`+"`/quiet`"+`)"
      service: app
      observability: {accessLogs: false, metrics: false, tracing: false}
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "obs" %>"
`)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
metrics:
  prometheus:
    addRoutersLabels: true
accessLog:
  filePath: "<% dir %>/access.log"
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("loud@file", "quiet@file")
	for i := 0; i < 2; i++ {
		do(t, request{url: e.URL("web") + "/loud/a"})
	}
	for i := 0; i < 3; i++ {
		if rep := do(t, request{url: e.URL("web") + "/quiet/a"}); rep.Status != 200 {
			t.Fatalf("/quiet/a: %d, want 200", rep.Status)
		}
	}
	do(t, request{url: e.URL("web") + "/loud/last"})

	// Lines are written in request order: once /loud/last is there, a
	// /quiet line would be too.
	content := waitFileContains(t, e.Dir+"/access.log", "/loud/last", 5*time.Second)
	if strings.Contains(content, "/quiet") {
		t.Errorf("access log has the quiet router's requests:\n%s", content)
	}
	if n := strings.Count(content, "/loud/a"); n != 2 {
		t.Errorf("access log: %d /loud/a lines, want 2:\n%s", n, content)
	}

	m := scrape(t, e.URL("traefik")+"/metrics")
	want := map[string]string{
		`switchyard_router_requests_total{code="200",method="GET",protocol="http",router="loud@file",service="app@file"}`: "3",
		`switchyard_service_requests_total{code="200",method="GET",protocol="http",service="app@file"}`:                   "3",
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	for k := range m {
		if strings.Contains(k, `router="quiet@file"`) {
			t.Errorf("series for the quiet router: %s", k)
		}
	}
}
