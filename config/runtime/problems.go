package runtime

import (
	"slices"
	"strings"
)

// Problem is an object that carries errors: what `switchyard check` prints
// and what the server logs after each reload.
type Problem struct {
	Kind   string // "router", "service", "middleware", "tcp router", ...
	Name   string
	Status string
	Errors []string
}

// Problems lists every object with errors, by kind then name.
func (c *Configuration) Problems() []Problem {
	var out []Problem
	collect(&out, "router", c.Routers, func(r *RouterInfo) (string, []string) { return r.Status, r.Err })
	collect(&out, "service", c.Services, func(s *ServiceInfo) (string, []string) { return s.Status, s.Err })
	collect(&out, "middleware", c.Middlewares, func(m *MiddlewareInfo) (string, []string) { return m.Status, m.Err })
	collect(&out, "tcp router", c.TCPRouters, func(r *TCPRouterInfo) (string, []string) { return r.Status, r.Err })
	collect(&out, "tcp service", c.TCPServices, func(s *TCPServiceInfo) (string, []string) { return s.Status, s.Err })
	collect(&out, "tcp middleware", c.TCPMiddlewares, func(m *TCPMiddlewareInfo) (string, []string) { return m.Status, m.Err })
	collect(&out, "udp router", c.UDPRouters, func(r *UDPRouterInfo) (string, []string) { return r.Status, r.Err })
	collect(&out, "udp service", c.UDPServices, func(s *UDPServiceInfo) (string, []string) { return s.Status, s.Err })
	return out
}

// collect appends the objects of one kind that have errors, by name. Only
// those are sorted: it runs after every reload, with thousands of objects.
func collect[T any](out *[]Problem, kind string, objs map[string]T, get func(T) (string, []string)) {
	start := len(*out)
	for name, o := range objs {
		if status, errs := get(o); len(errs) > 0 {
			*out = append(*out, Problem{Kind: kind, Name: name, Status: status, Errors: errs})
		}
	}
	slices.SortFunc((*out)[start:], func(a, b Problem) int { return strings.Compare(a.Name, b.Name) })
}
