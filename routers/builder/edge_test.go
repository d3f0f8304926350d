package builder

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/routers/tcpmux"
)

func edgeDeps(eps map[string]string) Deps {
	m := map[string]*static.EntryPoint{}
	for n, a := range eps {
		ep := &static.EntryPoint{Address: a}
		ep.SetDefaults()
		m[n] = ep
	}
	return Deps{EntryPoints: m, Services: NewServiceManager(&static.ServersTransport{})}
}

func status(t *testing.T, got, want string, errs []string) {
	t.Helper()
	if got != want {
		t.Fatalf("status %q (errors %v), want %q", got, errs, want)
	}
}

// TestEdgeHTTPSPlacement: routers with tls land in the HTTPS muxer only,
// the others in the plain one only.
func TestEdgeHTTPSPlacement(t *testing.T) {
	back := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer back.Close()
	conf := dynamic.New()
	conf.HTTP.Services["s"] = &dynamic.Service{LoadBalancer: &dynamic.ServersLoadBalancer{Servers: []dynamic.Server{{URL: back.URL}}}}
	conf.HTTP.Routers["secure"] = &dynamic.Router{Rule: "Host(`a.test`)", Service: "s", TLS: &dynamic.RouterTLSConfig{}}
	conf.HTTP.Routers["plain"] = &dynamic.Router{Rule: "Host(`b.test`)", Service: "s"}
	conf.HTTP.Routers["badopt"] = &dynamic.Router{Rule: "Host(`c.test`)", Service: "s", TLS: &dynamic.RouterTLSConfig{Options: "nope@file"}}
	deps := edgeDeps(map[string]string{"web": ":0"})
	defer deps.Services.Close()
	table, rt := Build(conf, deps)
	status(t, rt.Routers["secure"].Status, "enabled", rt.Routers["secure"].Err)
	status(t, rt.Routers["badopt"].Status, "disabled", rt.Routers["badopt"].Err)
	if !strings.Contains(strings.Join(rt.Routers["badopt"].Err, ""), "unknown TLS options: nope@file") {
		t.Fatalf("badopt errors: %v", rt.Routers["badopt"].Err)
	}
	code := func(h http.Handler, host string) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "http://"+host+"/", nil))
		return w.Code
	}
	edge := table.Edge["web"]
	if code(edge.HTTPS, "a.test") != 204 || code(edge.HTTPS, "b.test") != 404 {
		t.Fatal("HTTPS muxer: wrong routes")
	}
	if code(table.HTTP["web"], "b.test") != 204 || code(table.HTTP["web"], "a.test") != 404 {
		t.Fatal("plain muxer: wrong routes")
	}
	if edge.TCPOnly || edge.TLS.Select("a.test") == nil {
		t.Fatal("edge state")
	}
}

func TestEdgeTCPAndUDP(t *testing.T) {
	conf := dynamic.New()
	conf.TCP.Services["s"] = &dynamic.TCPService{LoadBalancer: &dynamic.TCPServersLoadBalancer{Servers: []dynamic.TCPServer{{Address: "127.0.0.1:1"}}}}
	conf.TCP.Services["noport"] = &dynamic.TCPService{LoadBalancer: &dynamic.TCPServersLoadBalancer{Servers: []dynamic.TCPServer{{Address: "127.0.0.1"}}}}
	conf.TCP.Services["loop"] = &dynamic.TCPService{Weighted: &dynamic.TCPWeightedRoundRobin{Services: []dynamic.TCPWRRService{{Name: "loop"}}}}
	conf.TCP.Routers["ok"] = &dynamic.TCPRouter{Rule: "HostSNI(`*`)", Service: "s"}
	conf.TCP.Routers["sni-no-tls"] = &dynamic.TCPRouter{Rule: "HostSNI(`a.test`)", Service: "s"}
	conf.TCP.Routers["pass"] = &dynamic.TCPRouter{Rule: "HostSNI(`a.test`)", Service: "s", TLS: &dynamic.RouterTCPTLSConfig{Passthrough: true}}
	conf.TCP.Routers["badaddr"] = &dynamic.TCPRouter{Rule: "HostSNI(`*`)", Service: "noport"}
	conf.TCP.Routers["loop"] = &dynamic.TCPRouter{Rule: "HostSNI(`*`)", Service: "loop"}
	conf.TCP.Routers["nomw"] = &dynamic.TCPRouter{Rule: "HostSNI(`*`)", Service: "s", Middlewares: []string{"missing"}}
	conf.UDP.Services["u"] = &dynamic.UDPService{LoadBalancer: &dynamic.UDPServersLoadBalancer{Servers: []dynamic.UDPServer{{Address: "127.0.0.1:53"}}}}
	conf.UDP.Routers["u1"] = &dynamic.UDPRouter{Service: "u"}
	conf.UDP.Routers["u2"] = &dynamic.UDPRouter{Service: "u"}
	deps := edgeDeps(map[string]string{"web": ":0", "dns": ":0/udp"})
	defer deps.Services.Close()
	table, rt := Build(conf, deps)
	for name, want := range map[string]string{
		"ok": "enabled", "pass": "enabled", "sni-no-tls": "disabled", "badaddr": "disabled", "loop": "disabled", "nomw": "disabled",
	} {
		status(t, rt.TCPRouters[name].Status, want, rt.TCPRouters[name].Err)
	}
	if !strings.Contains(strings.Join(rt.TCPServices["noport"].Err, ""), "want host:port") {
		t.Fatalf("noport: %v", rt.TCPServices["noport"].Err)
	}
	mx := table.Edge["web"].TCP
	if r := mx.Match(&tcpmux.Conn{TLS: true, SNI: "a.test"}); r == nil || r.Name != "pass" || !r.Passthrough {
		t.Fatalf("TLS a.test: %+v", r)
	}
	if r := mx.Match(&tcpmux.Conn{}); r == nil || r.Name != "ok" {
		t.Fatalf("plain: %+v", r)
	}
	if !table.Edge["web"].TCPOnly {
		t.Fatal("no HTTP router: TCPOnly expected")
	}
	status(t, rt.UDPRouters["u1"].Status, "enabled", nil)
	status(t, rt.UDPRouters["u2"].Status, "disabled", rt.UDPRouters["u2"].Err)
	if table.UDP["dns"] == nil || table.UDP["dns"].NextAddr() != "127.0.0.1:53" {
		t.Fatal("udp handler")
	}
	if got := rt.TCPServices["s"].UsedBy; len(got) != 2 {
		t.Fatalf("usedBy %v", got)
	}
}
