package api

import (
	"cmp"
	"slices"

	"github.com/switchyard-proxy/switchyard/config/runtime"
)

// snapshot is what the API serves for one runtime configuration, prepared
// once per reload: representations sorted by name and the overview counts.
// Requests only filter, page and encode it.
type snapshot struct {
	raw *runtime.Configuration

	routers        []routerRepr
	services       []serviceRepr
	middlewares    []middlewareRepr
	tcpRouters     []tcpRouterRepr
	tcpServices    []tcpServiceRepr
	tcpMiddlewares []tcpMiddlewareRepr
	udpRouters     []udpRouterRepr
	udpServices    []udpServiceRepr

	counts overviewCounts
}

func newSnapshot(rt *runtime.Configuration) *snapshot {
	if rt == nil {
		rt = &runtime.Configuration{}
	}
	s := &snapshot{
		raw:            rt,
		routers:        build(rt.Routers, newRouterRepr),
		services:       build(rt.Services, newServiceRepr),
		middlewares:    build(rt.Middlewares, newMiddlewareRepr),
		tcpRouters:     build(rt.TCPRouters, newTCPRouterRepr),
		tcpServices:    build(rt.TCPServices, newTCPServiceRepr),
		tcpMiddlewares: build(rt.TCPMiddlewares, newTCPMiddlewareRepr),
		udpRouters:     build(rt.UDPRouters, newUDPRouterRepr),
		udpServices:    build(rt.UDPServices, newUDPServiceRepr),
	}
	s.counts = overviewCounts{
		HTTP: schemeOverview{
			Routers:     count(s.routers, func(r routerRepr) string { return r.Status }),
			Services:    count(s.services, func(r serviceRepr) string { return r.Status }),
			Middlewares: count(s.middlewares, func(r middlewareRepr) string { return r.Status }),
		},
		TCP: schemeOverview{
			Routers:     count(s.tcpRouters, func(r tcpRouterRepr) string { return r.Status }),
			Services:    count(s.tcpServices, func(r tcpServiceRepr) string { return r.Status }),
			Middlewares: count(s.tcpMiddlewares, func(r tcpMiddlewareRepr) string { return r.Status }),
		},
		UDP: schemeOverview{
			Routers:  count(s.udpRouters, func(r udpRouterRepr) string { return r.Status }),
			Services: count(s.udpServices, func(r udpServiceRepr) string { return r.Status }),
		},
	}
	return s
}

// build turns a runtime map into representations sorted by name, skipping
// nil entries.
func build[I any, T listed[T]](objects map[string]*I, repr func(string, *I) T) []T {
	out := make([]T, 0, len(objects))
	for name, info := range objects {
		if info != nil {
			out = append(out, repr(name, info))
		}
	}
	slices.SortFunc(out, func(a, b T) int { return cmp.Compare(a.itemName(), b.itemName()) })
	return out
}

// count is an overview section: disabled objects are errors.
func count[T any](items []T, status func(T) string) *section {
	sec := &section{Total: len(items)}
	for _, it := range items {
		switch status(it) {
		case runtime.StatusDisabled:
			sec.Errors++
		case runtime.StatusWarning:
			sec.Warnings++
		}
	}
	return sec
}
