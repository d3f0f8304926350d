package api

import (
	"cmp"
	"net/http"
	"reflect"
	"slices"
	"time"

	"github.com/switchyard-proxy/switchyard/config/runtime"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/entrypoints/connreg"
	"github.com/switchyard-proxy/switchyard/internal/redact"
)

// section counts one kind of object; disabled ones are errors.
type section struct {
	Total    int `json:"total"`
	Warnings int `json:"warnings"`
	Errors   int `json:"errors"`
}

type schemeOverview struct {
	Routers     *section `json:"routers,omitempty"`
	Services    *section `json:"services,omitempty"`
	Middlewares *section `json:"middlewares,omitempty"`
}

type overviewCounts struct {
	HTTP schemeOverview `json:"http"`
	TCP  schemeOverview `json:"tcp"`
	UDP  schemeOverview `json:"udp"`
}

// features names the enabled exporters, as Traefik does: the exporter's
// name ("Prometheus", "OTLP") or "" when off.
type features struct {
	Tracing   string `json:"tracing"`
	Metrics   string `json:"metrics"`
	AccessLog bool   `json:"accessLog"`
	Hub       bool   `json:"hub"`
}

type overview struct {
	overviewCounts
	Features  features `json:"features"`
	Providers []string `json:"providers,omitempty"`
}

func (h *Handler) overview(s *snapshot, w http.ResponseWriter, _ *http.Request, _ string) {
	writeJSON(w, overview{overviewCounts: s.counts, Features: h.features, Providers: h.providers})
}

func newFeatures(conf *static.Configuration) features {
	f := features{AccessLog: conf.AccessLog != nil}
	if m := conf.Metrics; m != nil {
		// metrics.otlp is refused at load (no exporter): only Prometheus
		// is ever reported.
		if m.Prometheus != nil {
			f.Metrics = "Prometheus"
		}
	}
	if t := conf.Tracing; t != nil && t.OTLP != nil {
		f.Tracing = "OTLP"
	}
	return f
}

// newProviders lists the enabled providers by their Go field name ("File",
// "ConsulCatalog"), in declaration order. Reflection keeps the list right as
// providers are added to static.Providers.
func newProviders(p *static.Providers) []string {
	if p == nil {
		return nil
	}
	var out []string
	v := reflect.ValueOf(p).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.Struct {
			out = append(out, v.Type().Field(i).Name)
		}
	}
	return out
}

// entryPointRepr is a static entrypoint and its name.
type entryPointRepr struct {
	*static.EntryPoint
	Name string `json:"name,omitempty"`
	// Connections (a Switchyard extension) are the entrypoint's open
	// connections now, read from its registry at request time.
	Connections *connectionsRepr `json:"connections,omitempty"`
}

// connectionsRepr counts an entrypoint's connections by state and by
// protocol; every state and protocol is listed, zero or not.
type connectionsRepr struct {
	Total      int            `json:"total"`
	ByState    map[string]int `json:"byState"`
	ByProtocol map[string]int `json:"byProtocol"`
}

func newConnectionsRepr(c connreg.Counts) *connectionsRepr {
	r := &connectionsRepr{Total: c.Total, ByState: map[string]int{}, ByProtocol: map[string]int{}}
	for _, s := range connreg.States() {
		r.ByState[s.String()] = c.ByState[s]
	}
	for _, p := range connreg.Protocols() {
		r.ByProtocol[p.String()] = c.ByProtocol[p]
	}
	return r
}

// ConnCounter counts an entrypoint's connections; false when the
// entrypoint has no registry (UDP).
type ConnCounter func(entrypoint string) (connreg.Counts, bool)

// SetConnCounter makes /api/entrypoints show each entrypoint's open
// connections (cmd/switchyard wires it to the entrypoints' registries).
func (h *Handler) SetConnCounter(f ConnCounter) { h.connCounter.Store(&f) }

// withConnections is ep with its connection counts, when known.
func (h *Handler) withConnections(ep entryPointRepr) entryPointRepr {
	if f := h.connCounter.Load(); f != nil {
		if c, ok := (*f)(ep.Name); ok {
			ep.Connections = newConnectionsRepr(c)
		}
	}
	return ep
}

func newEntryPoints(eps map[string]*static.EntryPoint) []entryPointRepr {
	out := make([]entryPointRepr, 0, len(eps))
	for name, ep := range eps {
		if ep == nil {
			ep = &static.EntryPoint{}
		}
		out = append(out, entryPointRepr{EntryPoint: redact.Copy(ep), Name: name})
	}
	slices.SortFunc(out, func(a, b entryPointRepr) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// versionRepr is Traefik's /api/version body.
type versionRepr struct {
	Version   string
	Codename  string
	StartDate time.Time `json:"startDate"`
	// Beyond Traefik's shape: 1, 2, 3 … across binary upgrades.
	Generation int `json:"generation"`
}

// rawData is the /api/rawdata body: every runtime map, services with their
// servers' current health.
type rawData struct {
	Routers        map[string]*runtime.RouterInfo        `json:"routers,omitempty"`
	Middlewares    map[string]*runtime.MiddlewareInfo    `json:"middlewares,omitempty"`
	Services       map[string]rawService                 `json:"services,omitempty"`
	TCPRouters     map[string]*runtime.TCPRouterInfo     `json:"tcpRouters,omitempty"`
	TCPMiddlewares map[string]*runtime.TCPMiddlewareInfo `json:"tcpMiddlewares,omitempty"`
	TCPServices    map[string]rawTCPService              `json:"tcpServices,omitempty"`
	UDPRouters     map[string]*runtime.UDPRouterInfo     `json:"udpRouters,omitempty"`
	UDPServices    map[string]*runtime.UDPServiceInfo    `json:"udpServices,omitempty"`
	// Beyond Traefik's shape (extra keys only): the served certificates and
	// the TLS objects left out, for the dashboard's TLS section.
	TLSCertificates []runtime.TLSCertificateInfo `json:"tlsCertificates,omitempty"`
	TLSErrors       []string                     `json:"tlsErrors,omitempty"`
}

type rawService struct {
	*runtime.ServiceInfo
	ServerStatus map[string]string `json:"serverStatus,omitempty"`
}

type rawTCPService struct {
	*runtime.TCPServiceInfo
	ServerStatus map[string]string `json:"serverStatus,omitempty"`
}

func (h *Handler) rawData(s *snapshot, w http.ResponseWriter, _ *http.Request, _ string) {
	rt := s.raw
	out := rawData{
		Routers:         rt.Routers,
		Middlewares:     rt.Middlewares,
		Services:        make(map[string]rawService, len(rt.Services)),
		TCPRouters:      rt.TCPRouters,
		TCPMiddlewares:  rt.TCPMiddlewares,
		TCPServices:     make(map[string]rawTCPService, len(rt.TCPServices)),
		UDPRouters:      rt.UDPRouters,
		UDPServices:     rt.UDPServices,
		TLSCertificates: rt.TLSCertificates,
		TLSErrors:       rt.TLSErrors,
	}
	for name, si := range rt.Services {
		if si != nil {
			out.Services[name] = rawService{ServiceInfo: si, ServerStatus: shownStatus(si.ServerStatus())}
		}
	}
	for name, si := range rt.TCPServices {
		if si != nil {
			out.TCPServices[name] = rawTCPService{TCPServiceInfo: si, ServerStatus: serverStatusOf(si)}
		}
	}
	writeJSON(w, out)
}
