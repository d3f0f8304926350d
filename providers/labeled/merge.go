package labeled

import (
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Merger merges the per-instance configurations (one per Consul instance
// or container), as Traefik does. An object defined the same way by every
// instance that defines it is kept; load balancers that differ only by
// their servers are one service with all the servers; any other difference
// is a conflict: the object is left out and reported.
type Merger struct {
	out    *dynamic.Configuration
	source string // how the report names the instances: "Consul instances", "containers"
	// from: kind/name → the instances that defined it.
	from      map[string][]string
	conflicts map[string]bool
}

// NewMerger returns an empty merger; source names the instances in reports.
func NewMerger(source string) *Merger {
	return &Merger{out: dynamic.New(), source: source, from: map[string][]string{}, conflicts: map[string]bool{}}
}

// AddProblems records problems found outside the merge (decode errors,
// instances left out); an error (not a warning) removes its object.
func (m *Merger) AddProblems(ps ...dynamic.ObjectProblem) {
	m.out.Problems = append(m.out.Problems, ps...)
}

// Add merges one instance's configuration; who names the instance.
func (m *Merger) Add(conf *dynamic.Configuration, who string) {
	conf = conf.Normalize()
	o := m.out
	mergeMap(m, "router", o.HTTP.Routers, conf.HTTP.Routers, who, same[*dynamic.Router])
	mergeMap(m, "middleware", o.HTTP.Middlewares, conf.HTTP.Middlewares, who, same[*dynamic.Middleware])
	mergeMap(m, "service", o.HTTP.Services, conf.HTTP.Services, who, mergeHTTPService)
	mergeMap(m, "serversTransport", o.HTTP.ServersTransports, conf.HTTP.ServersTransports, who, same[*dynamic.ServersTransport])
	mergeMap(m, "tcp router", o.TCP.Routers, conf.TCP.Routers, who, same[*dynamic.TCPRouter])
	mergeMap(m, "tcp middleware", o.TCP.Middlewares, conf.TCP.Middlewares, who, same[*dynamic.TCPMiddleware])
	mergeMap(m, "tcp service", o.TCP.Services, conf.TCP.Services, who, mergeTCPService)
	mergeMap(m, "tcp serversTransport", o.TCP.ServersTransports, conf.TCP.ServersTransports, who, same[*dynamic.TCPServersTransport])
	mergeMap(m, "udp router", o.UDP.Routers, conf.UDP.Routers, who, same[*dynamic.UDPRouter])
	mergeMap(m, "udp service", o.UDP.Services, conf.UDP.Services, who, mergeUDPService)
	for n, opt := range conf.TLS.Options {
		mergeOne(m, "tls option", o.TLS.Options, n, opt, who, same[dynamic.TLSOptions])
	}
	for n, st := range conf.TLS.Stores {
		mergeOne(m, "tls store", o.TLS.Stores, n, st, who, same[dynamic.Store])
	}
}

// Finish removes the conflicting objects and reports each on its name. An
// object that one instance defines and another's tags fail to decode is a
// conflict too: it is left out, with the decode error as its reason.
func (m *Merger) Finish(log *slog.Logger) *dynamic.Configuration {
	o := m.out
	for _, p := range o.Problems {
		if !p.Warning {
			m.remove(p.Kind, p.Name)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(m.conflicts)) {
		kind, name, _ := strings.Cut(key, "\x00")
		m.remove(kind, name)
		msg := fmt.Sprintf("defined differently by several %s (%s): left out until they agree",
			m.source, strings.Join(m.from[key], ", "))
		log.Error(kind+" defined multiple times with different configurations", "name", name, "instances", m.from[key])
		switch kind {
		case "serversTransport", "tcp serversTransport", "tls option", "tls store":
			// No status of their own in the API: the log line is the report.
			continue
		}
		o.Problems = append(o.Problems, dynamic.ObjectProblem{Kind: kind, Name: name, Error: msg})
	}
	return o
}

func (m *Merger) remove(kind, name string) {
	o := m.out
	switch kind {
	case "router":
		delete(o.HTTP.Routers, name)
	case "middleware":
		delete(o.HTTP.Middlewares, name)
	case "service":
		delete(o.HTTP.Services, name)
	case "serversTransport":
		delete(o.HTTP.ServersTransports, name)
	case "tcp router":
		delete(o.TCP.Routers, name)
	case "tcp middleware":
		delete(o.TCP.Middlewares, name)
	case "tcp service":
		delete(o.TCP.Services, name)
	case "tcp serversTransport":
		delete(o.TCP.ServersTransports, name)
	case "udp router":
		delete(o.UDP.Routers, name)
	case "udp service":
		delete(o.UDP.Services, name)
	case "tls option":
		delete(o.TLS.Options, name)
	case "tls store":
		delete(o.TLS.Stores, name)
	}
}

func mergeMap[V any](m *Merger, kind string, dst, src map[string]V, who string, combine func(a, b V) bool) {
	for _, n := range slices.Sorted(maps.Keys(src)) {
		mergeOne(m, kind, dst, n, src[n], who, combine)
	}
}

func mergeOne[V any](m *Merger, kind string, dst map[string]V, name string, v V, who string, combine func(a, b V) bool) {
	key := kind + "\x00" + name
	if !slices.Contains(m.from[key], who) {
		m.from[key] = append(m.from[key], who)
	}
	cur, ok := dst[name]
	if !ok {
		dst[name] = v
		return
	}
	if m.conflicts[key] {
		return
	}
	if !combine(cur, v) {
		m.conflicts[key] = true
	}
}

func same[V any](a, b V) bool { return reflect.DeepEqual(a, b) }

// mergeServers merges two services whose load balancers are equal but for
// their servers: b's servers missing from a are added to a. Anything else
// must be equal; the result says whether it was.
func mergeServers[Svc, LB, Srv any](a, b *Svc, lbOf func(*Svc) **LB, serversOf func(*LB) *[]Srv) bool {
	pa, pb := *lbOf(a), *lbOf(b)
	if pa == nil || pb == nil {
		return reflect.DeepEqual(a, b)
	}
	la, lb := *pa, *pb
	*serversOf(&la), *serversOf(&lb) = nil, nil
	sa, sb := *a, *b
	*lbOf(&sa), *lbOf(&sb) = &la, &lb
	if !reflect.DeepEqual(sa, sb) {
		return false
	}
	dst := serversOf(pa)
	for _, s := range *serversOf(pb) {
		if !slices.ContainsFunc(*dst, func(x Srv) bool { return reflect.DeepEqual(x, s) }) {
			*dst = append(*dst, s)
		}
	}
	return true
}

func mergeHTTPService(a, b *dynamic.Service) bool {
	return mergeServers(a, b,
		func(s *dynamic.Service) **dynamic.ServersLoadBalancer { return &s.LoadBalancer },
		func(l *dynamic.ServersLoadBalancer) *[]dynamic.Server { return &l.Servers })
}

func mergeTCPService(a, b *dynamic.TCPService) bool {
	return mergeServers(a, b,
		func(s *dynamic.TCPService) **dynamic.TCPServersLoadBalancer { return &s.LoadBalancer },
		func(l *dynamic.TCPServersLoadBalancer) *[]dynamic.TCPServer { return &l.Servers })
}

func mergeUDPService(a, b *dynamic.UDPService) bool {
	return mergeServers(a, b,
		func(s *dynamic.UDPService) **dynamic.UDPServersLoadBalancer { return &s.LoadBalancer },
		func(l *dynamic.UDPServersLoadBalancer) *[]dynamic.UDPServer { return &l.Servers })
}
