package integration

import (
	"bufio"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// scrape returns /metrics as "name{labels}" -> value text.
func scrape(t *testing.T, url string) map[string]string {
	t.Helper()
	rep := do(t, request{url: url})
	if rep.Status != 200 {
		t.Fatalf("GET %s: %d %s", url, rep.Status, rep.Body)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(rep.Body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		out[line[:i]] = line[i+1:]
	}
	return out
}

// TestMetricsPrometheus sends known traffic and checks the counters and
// histogram counts exactly, per entrypoint, router and service.
func TestMetricsPrometheus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.WriteDynamic("yml", `
http:
  routers:
    app:
      rule: "PathPrefix(`+"`/`"+`)"
      entryPoints: [web]
      service: app
    broken:
      rule: "Path(`+"`/x`"+`"
      entryPoints: [web]
      service: app
    flaky:
      rule: "Path(`+"`/flaky`"+`)"
      entryPoints: [web]
      middlewares: [retry]
      service: dead
      priority: 100
  middlewares:
    retry:
      retry:
        attempts: 3
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "m1" %>"
    dead:
      loadBalancer:
        servers:
          - url: "<% closed %>"
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
    buckets: [0.1, 1, 5]
    addRoutersLabels: true
    headerLabels:
      tenant: X-Tenant
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("app@file", "prometheus@internal")

	for i := 0; i < 7; i++ {
		do(t, request{url: e.URL("web") + "/a", header: map[string]string{"X-Tenant": "blue"}})
	}
	for i := 0; i < 3; i++ {
		do(t, request{method: "POST", url: e.URL("web") + "/b", body: "hello"})
	}
	// Two requests to a dead server with 3 attempts: 2 retries each, then 502.
	for i := 0; i < 2; i++ {
		if rep := do(t, request{url: e.URL("web") + "/flaky"}); rep.Status != 502 {
			t.Fatalf("/flaky: %d, want 502", rep.Status)
		}
	}

	m := scrape(t, e.URL("traefik")+"/metrics")
	want := map[string]string{
		`switchyard_entrypoint_requests_total{code="200",entrypoint="web",method="GET",protocol="http",tenant="blue"}`:                    "7",
		`switchyard_entrypoint_requests_total{code="200",entrypoint="web",method="POST",protocol="http",tenant=""}`:                       "3",
		`switchyard_entrypoint_request_duration_seconds_count{code="200",entrypoint="web",method="GET",protocol="http"}`:                  "7",
		`switchyard_entrypoint_request_duration_seconds_bucket{code="200",entrypoint="web",method="GET",protocol="http",le="+Inf"}`:       "7",
		`switchyard_entrypoint_requests_bytes_total{code="200",entrypoint="web",method="POST",protocol="http"}`:                           "15",
		`switchyard_router_requests_total{code="200",method="GET",protocol="http",router="app@file",service="app@file",tenant="blue"}`:    "7",
		`switchyard_router_request_duration_seconds_count{code="200",method="POST",protocol="http",router="app@file",service="app@file"}`: "3",
		`switchyard_service_requests_total{code="200",method="GET",protocol="http",service="app@file",tenant="blue"}`:                     "7",
		`switchyard_service_request_duration_seconds_count{code="200",method="POST",protocol="http",service="app@file"}`:                  "3",
		`switchyard_service_retries_total{service="dead@file"}`:                                                                           "4",
		`switchyard_service_requests_total{code="502",method="GET",protocol="http",service="dead@file",tenant=""}`:                        "2",
		`switchyard_router_requests_total{code="502",method="GET",protocol="http",router="flaky@file",service="dead@file",tenant=""}`:     "2",
		`switchyard_open_connections{entrypoint="web",protocol="http"}`:                                                                   "0",
		`switchyard_config_reloads_failure_total`: "1",
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	up := 0
	for k, v := range m {
		if strings.HasPrefix(k, `switchyard_service_server_up{service="app@file",url="http://127.0.0.1:`) && v == "1" {
			up++
		}
	}
	if up != 1 {
		t.Errorf("switchyard_service_server_up for app@file: %d series at 1, want 1", up)
	}
	if _, ok := m["switchyard_config_last_reload_failure"]; !ok {
		t.Errorf("switchyard_config_last_reload_failure missing")
	}
	// The scrape itself goes through the traefik entrypoint: no
	// internal router is labelled unless addInternals.
	for k := range m {
		if strings.Contains(k, `router="prometheus@internal"`) {
			t.Errorf("internal router labelled: %s", k)
		}
		// Server URLs come from the configuration, not from requests.
		if !strings.HasPrefix(k, "switchyard_service_server_up") && (strings.Contains(k, `/a"`) || strings.Contains(k, "127.0.0.1")) {
			t.Errorf("label from a raw path or host: %s", k)
		}
	}
	// Response bytes: whoami's body is non-empty, so the counter moved.
	if v := m[`switchyard_entrypoint_responses_bytes_total{code="200",entrypoint="web",method="GET",protocol="http"}`]; v == "" || v == "0" {
		t.Errorf("response bytes not counted: %q", v)
	}
	if t.Failed() {
		var keys []string
		for k, v := range m {
			if strings.HasPrefix(k, "switchyard_") {
				keys = append(keys, fmt.Sprintf("%s %s", k, v))
			}
		}
		t.Logf("scrape:\n%s", strings.Join(keys, "\n"))
	}
}

// TestMetricsManualRouting: with manualRouting no /metrics router exists
// and a user router reaches prometheus@internal.
func TestMetricsManualRouting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.WriteDynamic("yml", `
http:
  routers:
    metrics:
      rule: "Path(`+"`/stats`"+`)"
      entryPoints: [web]
      service: prometheus@internal
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
    manualRouting: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	rd := e.WaitRouters("metrics@file")
	if _, ok := rd.Routers["prometheus@internal"]; ok {
		t.Fatalf("prometheus@internal router present with manualRouting")
	}
	m := scrape(t, e.URL("web")+"/stats")
	if m["switchyard_config_reloads_total"] == "" {
		t.Fatalf("no switchyard_config_reloads_total in %v", m)
	}
	if rep := do(t, request{url: e.URL("traefik") + "/metrics"}); rep.Status != 404 {
		t.Fatalf("/metrics on traefik: %d, want 404", rep.Status)
	}
}

// TestMetricsTLSCertExpiry: each served certificate's notAfter is exported.
func TestMetricsTLSCertExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca := newCA(t, "metrics CA")
	certPEM, keyPEM := ca.issue(t, "a.test", []string{"a.test"}, false)
	writePair(t, e.Dir, "a", certPEM, keyPEM)
	blk, _ := pem.Decode([]byte(certPEM))
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	e.WriteDynamic("yml", `
http:
  routers:
    app:
      rule: "PathPrefix(`+"`/`"+`)"
      entryPoints: [web]
      service: noop@internal
tls:
  certificates:
    - certFile: "<% dir %>/a.crt"
      keyFile: "<% dir %>/a.key"
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
  prometheus: {}
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("app@file")
	m := scrape(t, e.URL("traefik")+"/metrics")
	want := strconv.FormatFloat(float64(cert.NotAfter.Unix()), 'g', -1, 64)
	found := false
	for k, v := range m {
		if strings.HasPrefix(k, "switchyard_tls_certs_not_after{") && strings.Contains(k, `cn="a.test"`) {
			found = true
			if v != want {
				t.Errorf("%s = %s, want %s", k, v, want)
			}
		}
	}
	if !found {
		t.Fatalf("no switchyard_tls_certs_not_after for a.test")
	}
}

// TestMetricsTracingWebSocket: with metrics and tracing both on, a
// WebSocket still upgrades and echoes through the wrappers, and counts
// as protocol="websocket" with code 101 once it closes.
func TestMetricsTracingWebSocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mux := http.NewServeMux()
	mux.Handle("/ws", websocket.Handler(func(c *websocket.Conn) { _, _ = io.Copy(c, c) }))
	e.SetURL("ws", startHandler(t, mux))
	e.WriteDynamic("yml", `
http:
  routers:
    ws:
      rule: "PathPrefix(`+"`/`"+`)"
      entryPoints: [web]
      service: ws
  services:
    ws:
      loadBalancer:
        servers:
          - url: "<% url "ws" %>"
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
tracing:
  otlp:
    http:
      endpoint: "<% url "ws" %>/v1/traces"
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("ws@file")
	ws, err := websocket.Dial("ws://"+e.Addr("web")+"/ws", "", "http://localhost/")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if _, err := ws.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(ws, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo %q, %v", buf, err)
	}
	ws.Close()
	key := `switchyard_entrypoint_requests_total{code="101",entrypoint="web",method="GET",protocol="websocket"}`
	e.waitFor(10*time.Second, key, func() bool {
		return scrape(t, e.URL("traefik")+"/metrics")[key] == "1"
	})
}
