package builder

import (
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestTCPHealthCheckBuild(t *testing.T) {
	lb := func(hc *dynamic.TCPServerHealthCheck) *dynamic.TCPService {
		return &dynamic.TCPService{LoadBalancer: &dynamic.TCPServersLoadBalancer{
			Servers: []dynamic.TCPServer{{Address: "127.0.0.1:1"}}, HealthCheck: hc}}
	}
	conf := dynamic.New()
	conf.TCP.Services["hc"] = lb(&dynamic.TCPServerHealthCheck{})
	conf.TCP.Services["badport"] = lb(&dynamic.TCPServerHealthCheck{Port: 70000})
	conf.TCP.Routers["hc"] = &dynamic.TCPRouter{Rule: "HostSNI(`*`)", Service: "hc"}
	conf.TCP.Routers["badport"] = &dynamic.TCPRouter{Rule: "HostSNI(`*`)", Service: "badport"}
	deps := edgeDeps(map[string]string{"web": ":0"})
	deps.Services.NoHealthChecks = true // no dialing here; tcpsvc tests run checks
	defer deps.Services.Close()
	_, rt := Build(conf, deps)
	status(t, rt.TCPRouters["hc"].Status, "enabled", rt.TCPRouters["hc"].Err)
	status(t, rt.TCPRouters["badport"].Status, "disabled", rt.TCPRouters["badport"].Err)
	if !strings.Contains(strings.Join(rt.TCPServices["badport"].Err, ""), "healthCheck.port") {
		t.Fatalf("badport: %v", rt.TCPServices["badport"].Err)
	}
	if st := rt.TCPServices["hc"].ServerStatus(); st["127.0.0.1:1"] != "UP" {
		t.Fatalf("status before any check: %v", st)
	}
	// An unchanged service keeps its checker across a reload; a changed one
	// gets a new one, the old released after a generation.
	first := deps.Services.tcpChecks["hc"].c
	_, _ = Build(conf, deps)
	if deps.Services.tcpChecks["hc"].c != first {
		t.Fatal("unchanged service: checker not reused")
	}
	conf.TCP.Services["hc"] = lb(&dynamic.TCPServerHealthCheck{Send: "x"})
	_, _ = Build(conf, deps)
	_, _ = Build(conf, deps)
	_, _ = Build(conf, deps)
	if deps.Services.tcpChecks["hc"].c == first || len(deps.Services.tcpChecks) != 1 {
		t.Fatalf("changed service: %d checkers kept", len(deps.Services.tcpChecks))
	}
}
