package builder

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers/aggregator"
)

// BenchmarkBuild10000Routers measures compiling 10,000 Host routers that
// share one service (the S5 scale case of the benchmark harness).
func BenchmarkBuild10000Routers(b *testing.B) {
	conf := dynamic.New()
	one := 1
	conf.HTTP.Services["app"] = &dynamic.Service{LoadBalancer: &dynamic.ServersLoadBalancer{
		Servers: []dynamic.Server{{URL: "http://127.0.0.1:1", Weight: &one}},
	}}
	for i := range 10000 {
		conf.HTTP.Routers[fmt.Sprintf("r%05d", i)] = &dynamic.Router{
			Rule: fmt.Sprintf("Host(`h%d.example.com`)", i), Service: "app",
		}
	}
	merged := aggregator.Merge(dynamic.Configurations{"file": conf})
	ep := &static.EntryPoint{Address: ":0"}
	ep.SetDefaults()
	deps := Deps{EntryPoints: map[string]*static.EntryPoint{"web": ep}, Services: NewServiceManager(nil)}
	defer deps.Services.Close()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		_, rt := Build(merged, deps)
		if len(rt.Routers) != 10000 {
			b.Fatalf("routers = %d", len(rt.Routers))
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/build")
	}
}
