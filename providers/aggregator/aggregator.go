// Package aggregator keeps the latest configuration of every provider,
// qualifies each name as name@provider and merges them into one.
package aggregator

import (
	"maps"
	"slices"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Merge qualifies and merges provider configurations. Providers are
// visited in name order so the result is deterministic; the first
// definition of a name wins (names are qualified, so clashes only happen
// when a provider defines an already-qualified name of another).
func Merge(configs dynamic.Configurations) *dynamic.Configuration {
	out := dynamic.New()
	for _, prov := range slices.Sorted(maps.Keys(configs)) {
		c := Qualify(prov, configs[prov])
		mergeInto(out.HTTP.Routers, c.HTTP.Routers)
		mergeInto(out.HTTP.Services, c.HTTP.Services)
		mergeInto(out.HTTP.Middlewares, c.HTTP.Middlewares)
		mergeInto(out.HTTP.ServersTransports, c.HTTP.ServersTransports)
		mergeInto(out.TCP.Routers, c.TCP.Routers)
		mergeInto(out.TCP.Services, c.TCP.Services)
		mergeInto(out.TCP.Middlewares, c.TCP.Middlewares)
		mergeInto(out.TCP.ServersTransports, c.TCP.ServersTransports)
		mergeInto(out.UDP.Routers, c.UDP.Routers)
		mergeInto(out.UDP.Services, c.UDP.Services)
		out.Problems = append(out.Problems, c.Problems...)
		out.TLS.Certificates = append(out.TLS.Certificates, c.TLS.Certificates...)
		for n, o := range c.TLS.Options {
			// TLS options and stores keep Traefik's rule: "default" is
			// global, other names are qualified.
			if _, ok := out.TLS.Options[n]; !ok {
				out.TLS.Options[n] = o
			}
		}
		for n, s := range c.TLS.Stores {
			if _, ok := out.TLS.Stores[n]; !ok {
				out.TLS.Stores[n] = s
			}
		}
	}
	return out
}

func mergeInto[T any](dst, src map[string]T) {
	for k, v := range src {
		if _, ok := dst[k]; !ok {
			dst[k] = v
		}
	}
}

// Qualify returns a copy of conf whose object names and references carry
// the provider suffix. A reference that already names a provider (x@other)
// is left as it is.
func Qualify(provider string, conf *dynamic.Configuration) *dynamic.Configuration {
	conf = conf.Normalize()
	out := dynamic.New()
	q := func(n string) string { return dynamic.Qualify(n, provider) }

	for n, r := range conf.HTTP.Routers {
		c := *r
		c.Service = q(r.Service)
		c.Middlewares = qualifyAll(r.Middlewares, q)
		if r.TLS != nil && r.TLS.Options != "" {
			t := *r.TLS
			t.Options = qualifyTLSOption(t.Options, provider)
			c.TLS = &t
		}
		out.HTTP.Routers[q(n)] = &c
	}
	for n, s := range conf.HTTP.Services {
		c := *s
		switch {
		case s.LoadBalancer != nil:
			lb := *s.LoadBalancer
			if lb.ServersTransport != "" {
				lb.ServersTransport = q(lb.ServersTransport)
			}
			c.LoadBalancer = &lb
		case s.Weighted != nil:
			w := *s.Weighted
			w.Services = make([]dynamic.WRRService, len(s.Weighted.Services))
			for i, ws := range s.Weighted.Services {
				ws.Name = q(ws.Name)
				w.Services[i] = ws
			}
			c.Weighted = &w
		case s.Mirroring != nil:
			m := *s.Mirroring
			m.Service = q(m.Service)
			m.Mirrors = make([]dynamic.MirrorService, len(s.Mirroring.Mirrors))
			for i, ms := range s.Mirroring.Mirrors {
				ms.Name = q(ms.Name)
				m.Mirrors[i] = ms
			}
			c.Mirroring = &m
		case s.Failover != nil:
			f := *s.Failover
			f.Service = q(f.Service)
			f.Fallback = q(f.Fallback)
			c.Failover = &f
		case s.HighestRandomWeight != nil:
			h := *s.HighestRandomWeight
			h.Services = make([]dynamic.WRRService, len(s.HighestRandomWeight.Services))
			for i, hs := range s.HighestRandomWeight.Services {
				hs.Name = q(hs.Name)
				h.Services[i] = hs
			}
			c.HighestRandomWeight = &h
		}
		c.Middlewares = qualifyAll(s.Middlewares, q)
		out.HTTP.Services[q(n)] = &c
	}
	for n, m := range conf.HTTP.Middlewares {
		c := *m
		if m.Chain != nil {
			c.Chain = &dynamic.Chain{Middlewares: qualifyAll(m.Chain.Middlewares, q)}
		}
		if m.Errors != nil {
			e := *m.Errors
			e.Service = q(e.Service)
			c.Errors = &e
		}
		out.HTTP.Middlewares[q(n)] = &c
	}
	for n, t := range conf.HTTP.ServersTransports {
		out.HTTP.ServersTransports[q(n)] = t
	}

	for n, r := range conf.TCP.Routers {
		c := *r
		c.Service = q(r.Service)
		c.Middlewares = qualifyAll(r.Middlewares, q)
		if r.TLS != nil && r.TLS.Options != "" {
			t := *r.TLS
			t.Options = qualifyTLSOption(t.Options, provider)
			c.TLS = &t
		}
		out.TCP.Routers[q(n)] = &c
	}
	for n, s := range conf.TCP.Services {
		c := *s
		if s.Weighted != nil {
			w := *s.Weighted
			w.Services = make([]dynamic.TCPWRRService, len(s.Weighted.Services))
			for i, ws := range s.Weighted.Services {
				ws.Name = q(ws.Name)
				w.Services[i] = ws
			}
			c.Weighted = &w
		}
		if s.LoadBalancer != nil && s.LoadBalancer.ServersTransport != "" {
			lb := *s.LoadBalancer
			lb.ServersTransport = q(lb.ServersTransport)
			c.LoadBalancer = &lb
		}
		out.TCP.Services[q(n)] = &c
	}
	for n, m := range conf.TCP.Middlewares {
		out.TCP.Middlewares[q(n)] = m
	}
	for n, t := range conf.TCP.ServersTransports {
		out.TCP.ServersTransports[q(n)] = t
	}
	for n, r := range conf.UDP.Routers {
		c := *r
		c.Service = q(r.Service)
		out.UDP.Routers[q(n)] = &c
	}
	for n, s := range conf.UDP.Services {
		c := *s
		if s.Weighted != nil {
			w := *s.Weighted
			w.Services = make([]dynamic.UDPWRRService, len(s.Weighted.Services))
			for i, ws := range s.Weighted.Services {
				ws.Name = q(ws.Name)
				w.Services[i] = ws
			}
			c.Weighted = &w
		}
		out.UDP.Services[q(n)] = &c
	}

	if len(conf.Problems) > 0 {
		out.Problems = make([]dynamic.ObjectProblem, len(conf.Problems))
		for i, p := range conf.Problems {
			p.Name = q(p.Name)
			out.Problems[i] = p
		}
	}
	out.TLS.Certificates = conf.TLS.Certificates
	for n, o := range conf.TLS.Options {
		out.TLS.Options[qualifyTLSOption(n, provider)] = o
	}
	maps.Copy(out.TLS.Stores, conf.TLS.Stores)
	return out
}

// qualifyTLSOption keeps "default" global, as Traefik does.
func qualifyTLSOption(name, provider string) string {
	if name == "default" || strings.HasPrefix(name, "default@") {
		return "default"
	}
	return dynamic.Qualify(name, provider)
}

func qualifyAll(names []string, q func(string) string) []string {
	if names == nil {
		return nil
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = q(n)
	}
	return out
}
