// Package runtime is the status of every object of the running
// configuration: what the builder accepted, disabled or warned about, and
// what refers to what. The API serves it as JSON with Traefik's shapes.
package runtime

import (
	"slices"
	"sync"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Object statuses, as Traefik's API reports them.
const (
	StatusEnabled  = "enabled"
	StatusDisabled = "disabled"
	StatusWarning  = "warning"
)

// Server statuses of a load balancer's servers.
const (
	ServerUp   = "UP"
	ServerDown = "DOWN"
)

// Configuration holds the status of every object, keyed by qualified name.
type Configuration struct {
	Routers        map[string]*RouterInfo        `json:"routers,omitempty"`
	Middlewares    map[string]*MiddlewareInfo    `json:"middlewares,omitempty"`
	Services       map[string]*ServiceInfo       `json:"services,omitempty"`
	TCPRouters     map[string]*TCPRouterInfo     `json:"tcpRouters,omitempty"`
	TCPMiddlewares map[string]*TCPMiddlewareInfo `json:"tcpMiddlewares,omitempty"`
	TCPServices    map[string]*TCPServiceInfo    `json:"tcpServices,omitempty"`
	UDPRouters     map[string]*UDPRouterInfo     `json:"udpRouters,omitempty"`
	UDPServices    map[string]*UDPServiceInfo    `json:"udpServices,omitempty"`
	// TLSCertificates are the certificates served (default store), with
	// their expiry; TLSErrors the certificates and options left out.
	TLSCertificates []TLSCertificateInfo `json:"tlsCertificates,omitempty"`
	TLSErrors       []string             `json:"tlsErrors,omitempty"`
}

// TLSCertificateInfo describes one loaded certificate.
type TLSCertificateInfo struct {
	Names    []string  `json:"names"`
	NotAfter time.Time `json:"notAfter"`
	Stores   []string  `json:"stores,omitempty"`
	// Issuer is the issuer's distinguished name; Resolver names the ACME
	// certificate resolver that obtained it (empty for tls.certificates).
	Issuer   string `json:"issuer,omitempty"`
	Resolver string `json:"resolver,omitempty"`
}

// New builds the runtime view of a merged configuration, every object
// enabled until the builder says otherwise.
func New(conf *dynamic.Configuration) *Configuration {
	conf = conf.Normalize()
	rt := &Configuration{
		Routers:        make(map[string]*RouterInfo, len(conf.HTTP.Routers)),
		Middlewares:    make(map[string]*MiddlewareInfo, len(conf.HTTP.Middlewares)),
		Services:       make(map[string]*ServiceInfo, len(conf.HTTP.Services)),
		TCPRouters:     make(map[string]*TCPRouterInfo, len(conf.TCP.Routers)),
		TCPMiddlewares: make(map[string]*TCPMiddlewareInfo, len(conf.TCP.Middlewares)),
		TCPServices:    make(map[string]*TCPServiceInfo, len(conf.TCP.Services)),
		UDPRouters:     make(map[string]*UDPRouterInfo, len(conf.UDP.Routers)),
		UDPServices:    make(map[string]*UDPServiceInfo, len(conf.UDP.Services)),
	}
	for n, r := range conf.HTTP.Routers {
		rt.Routers[n] = &RouterInfo{Router: r, Status: StatusEnabled}
	}
	for n, m := range conf.HTTP.Middlewares {
		rt.Middlewares[n] = &MiddlewareInfo{Middleware: m, Status: StatusEnabled}
	}
	for n, s := range conf.HTTP.Services {
		rt.Services[n] = &ServiceInfo{Service: s, Status: StatusEnabled}
	}
	for n, r := range conf.TCP.Routers {
		rt.TCPRouters[n] = &TCPRouterInfo{TCPRouter: r, Status: StatusEnabled}
	}
	for n, m := range conf.TCP.Middlewares {
		rt.TCPMiddlewares[n] = &TCPMiddlewareInfo{TCPMiddleware: m, Status: StatusEnabled}
	}
	for n, s := range conf.TCP.Services {
		rt.TCPServices[n] = &TCPServiceInfo{TCPService: s, Status: StatusEnabled}
	}
	for n, r := range conf.UDP.Routers {
		rt.UDPRouters[n] = &UDPRouterInfo{UDPRouter: r, Status: StatusEnabled}
	}
	for n, s := range conf.UDP.Services {
		rt.UDPServices[n] = &UDPServiceInfo{UDPService: s, Status: StatusEnabled}
	}
	return rt
}

// RouterInfo is an HTTP router and its status.
type RouterInfo struct {
	*dynamic.Router
	Err    []string `json:"error,omitempty"`
	Status string   `json:"status,omitempty"`
	Using  []string `json:"using,omitempty"` // entrypoints actually serving it
}

// AddError records err; critical disables the router.
func (r *RouterInfo) AddError(err error, critical bool) {
	r.Err, r.Status = addErr(r.Err, r.Status, err, critical)
}

// MiddlewareInfo is an HTTP middleware and its status.
type MiddlewareInfo struct {
	*dynamic.Middleware
	Err    []string `json:"error,omitempty"`
	Status string   `json:"status,omitempty"`
	UsedBy []string `json:"usedBy,omitempty"`
}

// AddError records err; critical disables the middleware.
func (m *MiddlewareInfo) AddError(err error, critical bool) {
	m.Err, m.Status = addErr(m.Err, m.Status, err, critical)
}

// ServiceInfo is an HTTP service, its status and its servers' health.
type ServiceInfo struct {
	*dynamic.Service
	Err    []string `json:"error,omitempty"`
	Status string   `json:"status,omitempty"`
	UsedBy []string `json:"usedBy,omitempty"`

	mu           sync.RWMutex
	serverStatus map[string]string
	// origin, on a copy made by ShownAs, is the service whose live server
	// statuses the copy reports.
	origin *ServiceInfo
}

// ShownAs returns a copy of s showing svc as its configuration (the API
// shows a redacted one) whose server statuses are still s's, read live.
func (s *ServiceInfo) ShownAs(svc *dynamic.Service) *ServiceInfo {
	o := s
	for o.origin != nil {
		o = o.origin
	}
	return &ServiceInfo{Service: svc, Err: s.Err, Status: s.Status, UsedBy: s.UsedBy, origin: o}
}

// AddError records err; critical disables the service.
func (s *ServiceInfo) AddError(err error, critical bool) {
	s.Err, s.Status = addErr(s.Err, s.Status, err, critical)
}

// UpdateServerStatus records the health of one server (by URL).
func (s *ServiceInfo) UpdateServerStatus(server, status string) {
	if s.origin != nil {
		s.origin.UpdateServerStatus(server, status)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.serverStatus == nil {
		s.serverStatus = map[string]string{}
	}
	s.serverStatus[server] = status
}

// ServerStatus returns a copy of the servers' health.
func (s *ServiceInfo) ServerStatus() map[string]string {
	if s.origin != nil {
		return s.origin.ServerStatus()
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.serverStatus) == 0 {
		return nil
	}
	out := make(map[string]string, len(s.serverStatus))
	for k, v := range s.serverStatus {
		out[k] = v
	}
	return out
}

// TCPRouterInfo is a TCP router and its status.
type TCPRouterInfo struct {
	*dynamic.TCPRouter
	Err    []string `json:"error,omitempty"`
	Status string   `json:"status,omitempty"`
	Using  []string `json:"using,omitempty"`
}

// AddError records err; critical disables the router.
func (r *TCPRouterInfo) AddError(err error, critical bool) {
	r.Err, r.Status = addErr(r.Err, r.Status, err, critical)
}

// TCPMiddlewareInfo is a TCP middleware and its status.
type TCPMiddlewareInfo struct {
	*dynamic.TCPMiddleware
	Err    []string `json:"error,omitempty"`
	Status string   `json:"status,omitempty"`
	UsedBy []string `json:"usedBy,omitempty"`
}

// AddError records err; critical disables the middleware.
func (m *TCPMiddlewareInfo) AddError(err error, critical bool) {
	m.Err, m.Status = addErr(m.Err, m.Status, err, critical)
}

// TCPServiceInfo is a TCP service and its status.
type TCPServiceInfo struct {
	*dynamic.TCPService
	Err    []string `json:"error,omitempty"`
	Status string   `json:"status,omitempty"`
	UsedBy []string `json:"usedBy,omitempty"`
	// Health, set for a load balancer with a health check, reports its
	// servers' status (by address) live.
	Health func() map[string]string `json:"-"`
}

// ServerStatus returns the servers' health (nil without a health check).
func (s *TCPServiceInfo) ServerStatus() map[string]string {
	if s.Health == nil {
		return nil
	}
	return s.Health()
}

// AddError records err; critical disables the service.
func (s *TCPServiceInfo) AddError(err error, critical bool) {
	s.Err, s.Status = addErr(s.Err, s.Status, err, critical)
}

// UDPRouterInfo is a UDP router and its status.
type UDPRouterInfo struct {
	*dynamic.UDPRouter
	Err    []string `json:"error,omitempty"`
	Status string   `json:"status,omitempty"`
	Using  []string `json:"using,omitempty"`
}

// AddError records err; critical disables the router.
func (r *UDPRouterInfo) AddError(err error, critical bool) {
	r.Err, r.Status = addErr(r.Err, r.Status, err, critical)
}

// UDPServiceInfo is a UDP service and its status.
type UDPServiceInfo struct {
	*dynamic.UDPService
	Err    []string `json:"error,omitempty"`
	Status string   `json:"status,omitempty"`
	UsedBy []string `json:"usedBy,omitempty"`
}

// AddError records err; critical disables the service.
func (s *UDPServiceInfo) AddError(err error, critical bool) {
	s.Err, s.Status = addErr(s.Err, s.Status, err, critical)
}

func addErr(list []string, status string, err error, critical bool) ([]string, string) {
	msg := err.Error()
	if !slices.Contains(list, msg) {
		list = append(list, msg)
	}
	switch {
	case critical:
		status = StatusDisabled
	case status != StatusDisabled:
		status = StatusWarning
	}
	return list, status
}

// AddProblems records the problems providers reported on their objects.
// An object the provider left out is shown with an empty definition,
// disabled, so the API says why it is missing; an object that is there
// gets the error as a warning (or disabled, when the provider says so).
// Call it after the build: placeholders are never compiled.
func (c *Configuration) AddProblems(ps []dynamic.ObjectProblem) {
	for _, p := range ps {
		err := problemError(p.Error)
		critical := !p.Warning
		switch p.Kind {
		case "router":
			if c.Routers[p.Name] == nil {
				c.Routers[p.Name] = &RouterInfo{Router: &dynamic.Router{}}
			}
			c.Routers[p.Name].AddError(err, critical)
		case "service":
			if c.Services[p.Name] == nil {
				c.Services[p.Name] = &ServiceInfo{Service: &dynamic.Service{}}
			}
			c.Services[p.Name].AddError(err, critical)
		case "middleware":
			if c.Middlewares[p.Name] == nil {
				c.Middlewares[p.Name] = &MiddlewareInfo{Middleware: &dynamic.Middleware{}}
			}
			c.Middlewares[p.Name].AddError(err, critical)
		case "tcp router":
			if c.TCPRouters[p.Name] == nil {
				c.TCPRouters[p.Name] = &TCPRouterInfo{TCPRouter: &dynamic.TCPRouter{}}
			}
			c.TCPRouters[p.Name].AddError(err, critical)
		case "tcp service":
			if c.TCPServices[p.Name] == nil {
				c.TCPServices[p.Name] = &TCPServiceInfo{TCPService: &dynamic.TCPService{}}
			}
			c.TCPServices[p.Name].AddError(err, critical)
		case "tcp middleware":
			if c.TCPMiddlewares[p.Name] == nil {
				c.TCPMiddlewares[p.Name] = &TCPMiddlewareInfo{TCPMiddleware: &dynamic.TCPMiddleware{}}
			}
			c.TCPMiddlewares[p.Name].AddError(err, critical)
		case "udp router":
			if c.UDPRouters[p.Name] == nil {
				c.UDPRouters[p.Name] = &UDPRouterInfo{UDPRouter: &dynamic.UDPRouter{}}
			}
			c.UDPRouters[p.Name].AddError(err, critical)
		case "udp service":
			if c.UDPServices[p.Name] == nil {
				c.UDPServices[p.Name] = &UDPServiceInfo{UDPService: &dynamic.UDPService{}}
			}
			c.UDPServices[p.Name].AddError(err, critical)
		}
	}
}

type problemError string

func (e problemError) Error() string { return string(e) }
