package api

import (
	"cmp"
	"slices"

	"github.com/switchyard-proxy/switchyard/config/runtime"
	"github.com/switchyard-proxy/switchyard/internal/redact"
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
	rt = redacted(rt)
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

// redacted is the copy of rt the API shows: every object's configuration
// passed through redact.Copy (secrets tagged loggable:"false", and map
// entries such as an Authorization header, replaced by "<redacted>"). rt is
// never modified; services keep reporting their live server statuses. Done
// once per reload, never per request.
func redacted(rt *runtime.Configuration) *runtime.Configuration {
	out := *rt
	out.Routers = redactMap(rt.Routers, func(i *runtime.RouterInfo) *runtime.RouterInfo {
		c := *i
		c.Router = redact.Copy(i.Router)
		return &c
	})
	out.Middlewares = redactMap(rt.Middlewares, func(i *runtime.MiddlewareInfo) *runtime.MiddlewareInfo {
		c := *i
		c.Middleware = redact.Copy(i.Middleware)
		return &c
	})
	out.Services = redactMap(rt.Services, func(i *runtime.ServiceInfo) *runtime.ServiceInfo {
		return i.ShownAs(redact.Copy(i.Service))
	})
	out.TCPRouters = redactMap(rt.TCPRouters, func(i *runtime.TCPRouterInfo) *runtime.TCPRouterInfo {
		c := *i
		c.TCPRouter = redact.Copy(i.TCPRouter)
		return &c
	})
	out.TCPMiddlewares = redactMap(rt.TCPMiddlewares, func(i *runtime.TCPMiddlewareInfo) *runtime.TCPMiddlewareInfo {
		c := *i
		c.TCPMiddleware = redact.Copy(i.TCPMiddleware)
		return &c
	})
	out.TCPServices = redactMap(rt.TCPServices, func(i *runtime.TCPServiceInfo) *runtime.TCPServiceInfo {
		c := *i
		c.TCPService = redact.Copy(i.TCPService)
		return &c
	})
	out.UDPRouters = redactMap(rt.UDPRouters, func(i *runtime.UDPRouterInfo) *runtime.UDPRouterInfo {
		c := *i
		c.UDPRouter = redact.Copy(i.UDPRouter)
		return &c
	})
	out.UDPServices = redactMap(rt.UDPServices, func(i *runtime.UDPServiceInfo) *runtime.UDPServiceInfo {
		c := *i
		c.UDPService = redact.Copy(i.UDPService)
		return &c
	})
	return &out
}

func redactMap[I any](m map[string]*I, cp func(*I) *I) map[string]*I {
	if m == nil {
		return nil
	}
	out := make(map[string]*I, len(m))
	for k, v := range m {
		if v != nil {
			out[k] = cp(v)
		}
	}
	return out
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
