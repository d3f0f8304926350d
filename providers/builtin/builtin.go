// Package internal generates the configuration Switchyard gives itself:
// routers for the insecure API and dashboard, ping, and entrypoint
// redirections. Its objects are named "…@internal".
package builtin

import (
	"fmt"
	"math"
	"net"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
)

// ProviderName is the provider of every generated object.
const ProviderName = "internal"

// Names of the internal services a router may point to.
const (
	ServiceAPI       = "api@internal"
	ServiceDashboard = "dashboard@internal"
	ServicePing      = "ping@internal"
	ServiceNoop      = "noop@internal"
	// ServicePrometheus serves /metrics when metrics.prometheus is set.
	ServicePrometheus = "prometheus@internal"
)

// Configuration returns the internal dynamic configuration (unqualified
// names; the aggregator adds "@internal").
func Configuration(c *static.Configuration) (*dynamic.Configuration, error) {
	conf := dynamic.New()
	r := conf.HTTP.Routers

	if c.API != nil && c.API.Insecure {
		base := strings.TrimSuffix(c.API.BasePath, "/")
		r["api"] = &dynamic.Router{
			EntryPoints: []string{static.DefaultInternalEntryPointName},
			Service:     ServiceAPI,
			Rule:        fmt.Sprintf("PathPrefix(`%s/api`)", base),
			Priority:    math.MaxInt - 1,
		}
		if c.API.Dashboard {
			r["dashboard"] = &dynamic.Router{
				EntryPoints: []string{static.DefaultInternalEntryPointName},
				Service:     ServiceDashboard,
				Rule:        fmt.Sprintf("PathPrefix(`%s/`)", base),
				Priority:    math.MaxInt - 2,
			}
		}
		if c.API.Debug {
			r["debug"] = &dynamic.Router{
				EntryPoints: []string{static.DefaultInternalEntryPointName},
				Service:     ServiceAPI,
				Rule:        fmt.Sprintf("PathPrefix(`%s/debug`)", base),
				Priority:    math.MaxInt - 1,
			}
		}
	}
	if c.Ping != nil && !c.Ping.ManualRouting {
		r["ping"] = &dynamic.Router{
			EntryPoints: []string{c.Ping.EntryPoint},
			Service:     ServicePing,
			Rule:        "PathPrefix(`/ping`)",
			Priority:    math.MaxInt,
		}
	}
	if c.Metrics != nil && c.Metrics.Prometheus != nil && !c.Metrics.Prometheus.ManualRouting {
		r["prometheus"] = &dynamic.Router{
			EntryPoints: []string{c.Metrics.Prometheus.EntryPoint},
			Service:     ServicePrometheus,
			Rule:        "PathPrefix(`/metrics`)",
			Priority:    math.MaxInt,
		}
	}
	for name, ep := range c.EntryPoints {
		red := ep.HTTP.Redirections
		if red == nil || red.EntryPoint == nil {
			continue
		}
		port, err := redirectPort(c, red.EntryPoint.To)
		if err != nil {
			return nil, fmt.Errorf("entryPoints.%s.http.redirections.entryPoint.to: %w", name, err)
		}
		id := name + "-to-" + strings.TrimPrefix(red.EntryPoint.To, ":")
		mw := "redirect-" + id
		conf.HTTP.Middlewares[mw] = &dynamic.Middleware{RedirectScheme: &dynamic.RedirectScheme{
			Scheme:    red.EntryPoint.Scheme,
			Port:      port,
			Permanent: red.EntryPoint.Permanent,
		}}
		prio := red.EntryPoint.Priority
		if prio == 0 {
			prio = math.MaxInt32 - 1
		}
		r[id] = &dynamic.Router{
			EntryPoints: []string{name},
			Middlewares: []string{mw},
			Service:     ServiceNoop,
			Rule:        "HostRegexp(`^.+$`)",
			Priority:    prio,
		}
	}
	return conf, nil
}

// redirectPort resolves "websecure" (an entrypoint) or ":443"/"443".
func redirectPort(c *static.Configuration, to string) (string, error) {
	if ep, ok := c.EntryPoints[to]; ok {
		_, port, err := net.SplitHostPort(ep.ListenAddress())
		if err != nil {
			return "", fmt.Errorf("entrypoint %q: %w", to, err)
		}
		return port, nil
	}
	p := strings.TrimPrefix(to, ":")
	if _, err := static.ParsePort(":" + p); err != nil {
		return "", fmt.Errorf("%q is neither an entrypoint nor a port", to)
	}
	return p, nil
}
