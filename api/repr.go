package api

import (
	"reflect"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/runtime"
	"github.com/switchyard-proxy/switchyard/internal/redact"
)

// defaultTLSOptions is the name of the TLS options a router uses when its
// tls section names none; the API shows it, as Traefik does.
const defaultTLSOptions = "default"

// listed is what a list endpoint needs from one representation type.
type listed[T any] interface {
	itemName() string
	keep(c *criterion) bool
	// sortKey returns the value to order by for the sortBy parameter, or
	// false when the type has no such column (the list stays by name).
	sortKey(by string) (sortKey, bool)
	// live returns the item with its fast-changing fields (server health)
	// read now, not at the last reload.
	live() T
}

// sortKey orders first by n, then by s.
type sortKey struct {
	n int
	s string
}

func providerOf(name string) string {
	_, p := dynamic.SplitQualified(name)
	return p
}

// kindOf names the one kind set in a one-of struct (a service or a
// middleware): the lowercased Go field name ("loadbalancer", "stripprefix"),
// or the plugin name for a plugin middleware. Traefik derives "type" the same
// way, so new kinds appear without a table to maintain.
func kindOf(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return ""
	}
	rv = rv.Elem()
	if rv.Kind() != reflect.Struct {
		return ""
	}
	for i := range rv.NumField() {
		f := rv.Field(i)
		switch f.Kind() {
		case reflect.Pointer:
			if !f.IsNil() && f.Elem().Kind() == reflect.Struct {
				return strings.ToLower(rv.Type().Field(i).Name)
			}
		case reflect.Map:
			if f.Len() == 1 && f.Type().Key().Kind() == reflect.String {
				return strings.ToLower(f.MapKeys()[0].String())
			}
		}
	}
	return ""
}

// routerRepr is an HTTP router as the API lists it.
type routerRepr struct {
	*runtime.RouterInfo
	Name     string `json:"name,omitempty"`
	Provider string `json:"provider,omitempty"`
}

// newRouterRepr never modifies info (it is shared with other readers): a
// router whose TLS options must be shown as "default" is copied.
func newRouterRepr(name string, info *runtime.RouterInfo) routerRepr {
	if info.Router == nil || (info.TLS != nil && info.TLS.Options == "") {
		cp := *info
		r := dynamic.Router{}
		if info.Router != nil {
			r = *info.Router
		}
		if r.TLS != nil && r.TLS.Options == "" {
			tls := *r.TLS
			tls.Options = defaultTLSOptions
			r.TLS = &tls
		}
		cp.Router = &r
		info = &cp
	}
	return routerRepr{RouterInfo: info, Name: name, Provider: providerOf(name)}
}

func (r routerRepr) itemName() string { return r.Name }

func (r routerRepr) keep(c *criterion) bool {
	return c.matchStatus(r.Status) && c.matchProvider(r.Provider) &&
		c.matchSearch(r.Name, r.Rule) &&
		c.matchService(r.Service, r.Provider) &&
		c.matchMiddleware(r.Middlewares, r.Provider)
}

func (r routerRepr) sortKey(by string) (sortKey, bool) {
	return routerSortKey(by, r.Provider, r.Status, r.Rule, r.Service, r.Priority, len(r.EntryPoints))
}

func (r routerRepr) live() routerRepr { return r }

// routerSortKey holds the sortBy columns shared by HTTP and TCP routers.
func routerSortKey(by, provider, status, rule, service string, priority, entryPoints int) (sortKey, bool) {
	switch by {
	case "provider":
		return sortKey{s: provider}, true
	case "status":
		return sortKey{s: status}, true
	case "rule":
		return sortKey{s: rule}, true
	case "service":
		return sortKey{s: service}, true
	case "priority":
		// A router without priority ranks by the length of its rule.
		if priority == 0 {
			priority = len(rule)
		}
		return sortKey{n: priority}, true
	case "entryPoints":
		return sortKey{n: entryPoints}, true
	}
	return sortKey{}, false
}

// serviceSortKey holds the sortBy columns shared by all services.
func serviceSortKey(by, typ, provider, status string, servers int) (sortKey, bool) {
	switch by {
	case "type":
		return sortKey{s: typ}, true
	case "servers":
		return sortKey{n: servers}, true
	case "provider":
		return sortKey{s: provider}, true
	case "status":
		return sortKey{s: status}, true
	}
	return sortKey{}, false
}

// middlewareSortKey holds the sortBy columns shared by all middlewares.
func middlewareSortKey(by, typ, provider, status string) (sortKey, bool) {
	switch by {
	case "type":
		return sortKey{s: typ}, true
	case "provider":
		return sortKey{s: provider}, true
	case "status":
		return sortKey{s: status}, true
	}
	return sortKey{}, false
}

// serviceRepr is an HTTP service with its servers' current health.
type serviceRepr struct {
	*runtime.ServiceInfo
	ServerStatus map[string]string `json:"serverStatus,omitempty"`
	Name         string            `json:"name,omitempty"`
	Provider     string            `json:"provider,omitempty"`
	Type         string            `json:"type,omitempty"`
}

func newServiceRepr(name string, info *runtime.ServiceInfo) serviceRepr {
	return serviceRepr{ServiceInfo: info, Name: name, Provider: providerOf(name), Type: kindOf(info.Service)}
}

func (s serviceRepr) itemName() string { return s.Name }

func (s serviceRepr) keep(c *criterion) bool {
	return c.matchStatus(s.Status) && c.matchProvider(s.Provider) && c.matchSearch(s.Name)
}

func (s serviceRepr) sortKey(by string) (sortKey, bool) {
	servers := 0
	if s.Service != nil && s.LoadBalancer != nil {
		servers = len(s.LoadBalancer.Servers)
	}
	return serviceSortKey(by, s.Type, s.Provider, s.Status, servers)
}

func (s serviceRepr) live() serviceRepr {
	s.ServerStatus = shownStatus(s.ServiceInfo.ServerStatus())
	return s
}

// middlewareRepr is an HTTP middleware as the API lists it.
type middlewareRepr struct {
	*runtime.MiddlewareInfo
	Name     string `json:"name,omitempty"`
	Provider string `json:"provider,omitempty"`
	Type     string `json:"type,omitempty"`
}

func newMiddlewareRepr(name string, info *runtime.MiddlewareInfo) middlewareRepr {
	return middlewareRepr{MiddlewareInfo: info, Name: name, Provider: providerOf(name), Type: kindOf(info.Middleware)}
}

func (m middlewareRepr) itemName() string { return m.Name }

func (m middlewareRepr) keep(c *criterion) bool {
	return c.matchStatus(m.Status) && c.matchProvider(m.Provider) && c.matchSearch(m.Name)
}

func (m middlewareRepr) sortKey(by string) (sortKey, bool) {
	return middlewareSortKey(by, m.Type, m.Provider, m.Status)
}

func (m middlewareRepr) live() middlewareRepr { return m }

// tcpRouterRepr is a TCP router as the API lists it.
type tcpRouterRepr struct {
	*runtime.TCPRouterInfo
	Name     string `json:"name,omitempty"`
	Provider string `json:"provider,omitempty"`
}

func newTCPRouterRepr(name string, info *runtime.TCPRouterInfo) tcpRouterRepr {
	if info.TCPRouter == nil {
		cp := *info
		cp.TCPRouter = &dynamic.TCPRouter{}
		info = &cp
	}
	return tcpRouterRepr{TCPRouterInfo: info, Name: name, Provider: providerOf(name)}
}

func (r tcpRouterRepr) itemName() string { return r.Name }

func (r tcpRouterRepr) keep(c *criterion) bool {
	return c.matchStatus(r.Status) && c.matchProvider(r.Provider) &&
		c.matchSearch(r.Name, r.Rule) &&
		c.matchService(r.Service, r.Provider) &&
		c.matchMiddleware(r.Middlewares, r.Provider)
}

func (r tcpRouterRepr) sortKey(by string) (sortKey, bool) {
	return routerSortKey(by, r.Provider, r.Status, r.Rule, r.Service, r.Priority, len(r.EntryPoints))
}

func (r tcpRouterRepr) live() tcpRouterRepr { return r }

// serverStatuser is implemented by runtime infos that track server health.
// TCP and UDP services do not yet; once config/runtime gives them
// ServerStatus(), the API reports it without change here.
type serverStatuser interface {
	ServerStatus() map[string]string
}

// shownStatus is a server-status map as the API shows it: a server URL
// with a password (http://user:pass@host) keyed as http://user:xxxxx@host,
// like the server in the service's configuration.
func shownStatus(m map[string]string) map[string]string {
	for k := range m {
		if strings.Contains(k, "@") {
			out := make(map[string]string, len(m))
			for k, v := range m {
				out[redact.URL(k)] = v
			}
			return out
		}
	}
	return m
}

func serverStatusOf(info any) map[string]string {
	if s, ok := info.(serverStatuser); ok {
		return shownStatus(s.ServerStatus())
	}
	return nil
}

// tcpServiceRepr is a TCP service as the API lists it.
type tcpServiceRepr struct {
	*runtime.TCPServiceInfo
	ServerStatus map[string]string `json:"serverStatus,omitempty"`
	Name         string            `json:"name,omitempty"`
	Provider     string            `json:"provider,omitempty"`
	Type         string            `json:"type,omitempty"`
}

func newTCPServiceRepr(name string, info *runtime.TCPServiceInfo) tcpServiceRepr {
	return tcpServiceRepr{TCPServiceInfo: info, Name: name, Provider: providerOf(name), Type: kindOf(info.TCPService)}
}

func (s tcpServiceRepr) itemName() string { return s.Name }

func (s tcpServiceRepr) keep(c *criterion) bool {
	return c.matchStatus(s.Status) && c.matchProvider(s.Provider) && c.matchSearch(s.Name)
}

func (s tcpServiceRepr) sortKey(by string) (sortKey, bool) {
	servers := 0
	if s.TCPService != nil && s.LoadBalancer != nil {
		servers = len(s.LoadBalancer.Servers)
	}
	return serviceSortKey(by, s.Type, s.Provider, s.Status, servers)
}

func (s tcpServiceRepr) live() tcpServiceRepr {
	s.ServerStatus = serverStatusOf(s.TCPServiceInfo)
	return s
}

// tcpMiddlewareRepr is a TCP middleware as the API lists it.
type tcpMiddlewareRepr struct {
	*runtime.TCPMiddlewareInfo
	Name     string `json:"name,omitempty"`
	Provider string `json:"provider,omitempty"`
	Type     string `json:"type,omitempty"`
}

func newTCPMiddlewareRepr(name string, info *runtime.TCPMiddlewareInfo) tcpMiddlewareRepr {
	return tcpMiddlewareRepr{TCPMiddlewareInfo: info, Name: name, Provider: providerOf(name), Type: kindOf(info.TCPMiddleware)}
}

func (m tcpMiddlewareRepr) itemName() string { return m.Name }

func (m tcpMiddlewareRepr) keep(c *criterion) bool {
	return c.matchStatus(m.Status) && c.matchProvider(m.Provider) && c.matchSearch(m.Name)
}

func (m tcpMiddlewareRepr) sortKey(by string) (sortKey, bool) {
	return middlewareSortKey(by, m.Type, m.Provider, m.Status)
}

func (m tcpMiddlewareRepr) live() tcpMiddlewareRepr { return m }

// udpRouterRepr is a UDP router as the API lists it.
type udpRouterRepr struct {
	*runtime.UDPRouterInfo
	Name     string `json:"name,omitempty"`
	Provider string `json:"provider,omitempty"`
}

func newUDPRouterRepr(name string, info *runtime.UDPRouterInfo) udpRouterRepr {
	if info.UDPRouter == nil {
		cp := *info
		cp.UDPRouter = &dynamic.UDPRouter{}
		info = &cp
	}
	return udpRouterRepr{UDPRouterInfo: info, Name: name, Provider: providerOf(name)}
}

func (r udpRouterRepr) itemName() string { return r.Name }

// keep: UDP routers have no rule and no middlewares, so a middlewareName
// filter matches none of them (as in Traefik).
func (r udpRouterRepr) keep(c *criterion) bool {
	return c.matchStatus(r.Status) && c.matchProvider(r.Provider) &&
		c.matchSearch(r.Name) &&
		c.matchService(r.Service, r.Provider) &&
		c.matchMiddleware(nil, r.Provider)
}

func (r udpRouterRepr) sortKey(by string) (sortKey, bool) {
	if by == "rule" || by == "priority" {
		return sortKey{}, false
	}
	return routerSortKey(by, r.Provider, r.Status, "", r.Service, 0, len(r.EntryPoints))
}

func (r udpRouterRepr) live() udpRouterRepr { return r }

// udpServiceRepr is a UDP service as the API lists it.
type udpServiceRepr struct {
	*runtime.UDPServiceInfo
	ServerStatus map[string]string `json:"serverStatus,omitempty"`
	Name         string            `json:"name,omitempty"`
	Provider     string            `json:"provider,omitempty"`
	Type         string            `json:"type,omitempty"`
}

func newUDPServiceRepr(name string, info *runtime.UDPServiceInfo) udpServiceRepr {
	return udpServiceRepr{UDPServiceInfo: info, Name: name, Provider: providerOf(name), Type: kindOf(info.UDPService)}
}

func (s udpServiceRepr) itemName() string { return s.Name }

func (s udpServiceRepr) keep(c *criterion) bool {
	return c.matchStatus(s.Status) && c.matchProvider(s.Provider) && c.matchSearch(s.Name)
}

func (s udpServiceRepr) sortKey(by string) (sortKey, bool) {
	servers := 0
	if s.UDPService != nil && s.LoadBalancer != nil {
		servers = len(s.LoadBalancer.Servers)
	}
	return serviceSortKey(by, s.Type, s.Provider, s.Status, servers)
}

func (s udpServiceRepr) live() udpServiceRepr {
	s.ServerStatus = serverStatusOf(s.UDPServiceInfo)
	return s
}
