package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/runtime"
	"github.com/switchyard-proxy/switchyard/config/static"
)

var startDate = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func testStatic() *static.Configuration {
	return &static.Configuration{
		EntryPoints: map[string]*static.EntryPoint{
			"websecure": {Address: ":443", AsDefault: true},
			"web": {
				Address: ":80",
				Transport: &static.EntryPointsTransport{
					RespondingTimeouts: &static.RespondingTimeouts{ReadTimeout: ptypes.Duration(3 * time.Second)},
				},
			},
			"dns": {Address: ":53/udp"},
		},
		Providers: &static.Providers{File: &static.FileProvider{Filename: "dyn.yml"}},
		Metrics:   &static.Metrics{Prometheus: &static.Prometheus{}},
		AccessLog: &static.AccessLog{},
		API:       &static.API{BasePath: "/"},
	}
}

func intp(i int) *int { return &i }

// testRuntime is a runtime configuration with every kind of object, in
// every status, across two providers.
func testRuntime() *runtime.Configuration {
	rt := &runtime.Configuration{
		Routers: map[string]*runtime.RouterInfo{
			"web@file": {
				Router: &dynamic.Router{
					EntryPoints: []string{"web"},
					Middlewares: []string{"strip", "auth@docker"},
					Service:     "whoami",
					Rule:        "Host(`example.com`) && PathPrefix(`/api`)",
				},
				Status: runtime.StatusEnabled,
				Using:  []string{"web"},
			},
			"secure@file": {
				Router: &dynamic.Router{
					EntryPoints: []string{"websecure"},
					Service:     "whoami@file",
					Rule:        "Host(`secure.example.com`)",
					Priority:    100,
					TLS:         &dynamic.RouterTLSConfig{},
				},
				Status: runtime.StatusEnabled,
				Using:  []string{"websecure"},
			},
			"broken@docker": {
				Router: &dynamic.Router{
					EntryPoints: []string{"web", "websecure"},
					Service:     "missing",
					Rule:        "Host(`broken`",
				},
				Err:    []string{"invalid rule"},
				Status: runtime.StatusDisabled,
			},
			"foo/bar@file": {
				Router: &dynamic.Router{
					EntryPoints: []string{"web"},
					Service:     "other@docker",
					Rule:        "Path(`/slash`)",
					TLS:         &dynamic.RouterTLSConfig{Options: "modern"},
				},
				Status: runtime.StatusWarning,
				Err:    []string{"entrypoint websecure unknown"},
				Using:  []string{"web"},
			},
		},
		Services: map[string]*runtime.ServiceInfo{
			"whoami@file": {
				Service: &dynamic.Service{LoadBalancer: &dynamic.ServersLoadBalancer{
					Servers: []dynamic.Server{{URL: "http://10.0.0.1:80"}, {URL: "http://10.0.0.2:80"}},
				}},
				Status: runtime.StatusEnabled,
				UsedBy: []string{"secure@file", "web@file"},
			},
			"canary@file": {
				Service: &dynamic.Service{Weighted: &dynamic.WeightedRoundRobin{
					Services: []dynamic.WRRService{{Name: "whoami", Weight: intp(3)}},
				}},
				Status: runtime.StatusEnabled,
			},
			"other@docker": {
				Service: &dynamic.Service{Mirroring: &dynamic.Mirroring{Service: "whoami@file"}},
				Status:  runtime.StatusWarning,
				Err:     []string{"mirror down"},
				UsedBy:  []string{"foo/bar@file"},
			},
			"fo@docker": {
				Service: &dynamic.Service{Failover: &dynamic.Failover{Service: "a", Fallback: "b"}},
				Status:  runtime.StatusDisabled,
				Err:     []string{"service a not found"},
			},
		},
		Middlewares: map[string]*runtime.MiddlewareInfo{
			"strip@file": {
				Middleware: &dynamic.Middleware{StripPrefix: &dynamic.StripPrefix{Prefixes: []string{"/api"}}},
				Status:     runtime.StatusEnabled,
				UsedBy:     []string{"web@file"},
			},
			"auth@docker": {
				Middleware: &dynamic.Middleware{BasicAuth: &dynamic.BasicAuth{Users: []string{"u:p"}}},
				Status:     runtime.StatusDisabled,
				Err:        []string{"bad users"},
				UsedBy:     []string{"web@file"},
			},
			"plug@file": {
				Middleware: &dynamic.Middleware{Plugin: map[string]dynamic.PluginConf{"BlockPath": {"regex": "^/x"}}},
				Status:     runtime.StatusEnabled,
			},
		},
		TCPRouters: map[string]*runtime.TCPRouterInfo{
			"db@file": {
				TCPRouter: &dynamic.TCPRouter{
					EntryPoints: []string{"websecure"},
					Middlewares: []string{"allow"},
					Service:     "pg",
					Rule:        "HostSNI(`db.example.com`)",
					TLS:         &dynamic.RouterTCPTLSConfig{Passthrough: true},
				},
				Status: runtime.StatusEnabled,
				Using:  []string{"websecure"},
			},
			"catchall@docker": {
				TCPRouter: &dynamic.TCPRouter{EntryPoints: []string{"web"}, Service: "pg@file", Rule: "HostSNI(`*`)"},
				Status:    runtime.StatusWarning,
				Err:       []string{"shadowed"},
			},
		},
		TCPServices: map[string]*runtime.TCPServiceInfo{
			"pg@file": {
				TCPService: &dynamic.TCPService{LoadBalancer: &dynamic.TCPServersLoadBalancer{
					Servers: []dynamic.TCPServer{{Address: "10.0.0.5:5432"}},
				}},
				Status: runtime.StatusEnabled,
				UsedBy: []string{"catchall@docker", "db@file"},
			},
		},
		TCPMiddlewares: map[string]*runtime.TCPMiddlewareInfo{
			"allow@file": {
				TCPMiddleware: &dynamic.TCPMiddleware{IPAllowList: &dynamic.TCPIPAllowList{SourceRange: []string{"10.0.0.0/8"}}},
				Status:        runtime.StatusEnabled,
				UsedBy:        []string{"db@file"},
			},
		},
		UDPRouters: map[string]*runtime.UDPRouterInfo{
			"dns@file": {
				UDPRouter: &dynamic.UDPRouter{EntryPoints: []string{"dns"}, Service: "resolvers"},
				Status:    runtime.StatusEnabled,
				Using:     []string{"dns"},
			},
		},
		UDPServices: map[string]*runtime.UDPServiceInfo{
			"resolvers@file": {
				UDPService: &dynamic.UDPService{Weighted: &dynamic.UDPWeightedRoundRobin{
					Services: []dynamic.UDPWRRService{{Name: "a"}},
				}},
				Status: runtime.StatusDisabled,
				Err:    []string{"service a not found"},
			},
		},
	}
	rt.Services["whoami@file"].UpdateServerStatus("http://10.0.0.1:80", runtime.ServerUp)
	rt.Services["whoami@file"].UpdateServerStatus("http://10.0.0.2:80", runtime.ServerDown)
	return rt
}

func newTestHandler(t *testing.T) *Handler {
	t.Helper()
	h := New(testStatic(), Version{Version: "1.2.3", Codename: "junction", StartDate: startDate, Generation: 2})
	h.Update(testRuntime())
	return h
}

func do(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

// decode fails the test unless the response is 200 JSON decodable into v.
func decode(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %q", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json", ct)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("decoding %q: %v", rec.Body.String(), err)
	}
}

// names extracts the "name" of each list item.
func names(t *testing.T, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	var items []struct {
		Name string `json:"name"`
	}
	decode(t, rec, &items)
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

// errorMessage returns Traefik's {"message": ...} error body.
func errorMessage(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var e struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body %q: %v", rec.Body.String(), err)
	}
	return e.Message
}
