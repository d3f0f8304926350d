package builder

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/runtime"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/internal/statusrange"
	"github.com/switchyard-proxy/switchyard/services/failover"
	"github.com/switchyard-proxy/switchyard/services/healthcheck"
	"github.com/switchyard-proxy/switchyard/services/loadbalancer"
	"github.com/switchyard-proxy/switchyard/services/mirror"
	"github.com/switchyard-proxy/switchyard/services/proxy"
)

// DefaultTransportName is the name of the transport built from the static
// serversTransport section.
const DefaultTransportName = "default@internal"

// ServiceManager builds service handlers and owns the state that outlives
// a reload. Transports (and their connection pools) and whole services
// (balancers with their health status, health checkers, in-flight counters,
// passive-health ejections) are kept while their configuration, and that of
// everything they depend on, is unchanged; anything replaced is released
// one generation after it was last used.
type ServiceManager struct {
	// AccessLog makes proxies report to the access log.
	AccessLog bool
	// NoHealthChecks builds services without starting active health checks
	// (`switchyard check` contacts no backend).
	NoHealthChecks bool

	defaultTransport *dynamic.ServersTransport

	mu         sync.Mutex
	gen        uint64
	transports map[string]*transportEntry
	services   map[string]*serviceEntry
	built      map[string]*serviceEntry // services built or reused in this generation
	tcpChecks  map[string]*tcpCheckEntry
}

type transportEntry struct {
	hash    string
	t       *proxy.Transport
	lastGen uint64
}

// healthSource is a service whose health parents can follow.
type healthSource interface {
	RegisterStatusUpdater(fn func(up bool)) (func(), error)
	Up() bool
}

// serviceEntry is one built service and what it must release.
type serviceEntry struct {
	key     string
	h       http.Handler
	health  healthSource // nil when the service's health is not tracked
	info    atomic.Pointer[runtime.ServiceInfo]
	status  func() map[string]string // current server statuses, for a reused entry
	stop    []func()
	lastGen uint64
}

func (e *serviceEntry) release() {
	for _, f := range e.stop {
		f()
	}
	e.stop = nil
}

// NewServiceManager uses the static serversTransport as the default.
func NewServiceManager(st *static.ServersTransport) *ServiceManager {
	def := &dynamic.ServersTransport{}
	def.SetDefaults()
	if st != nil {
		def.InsecureSkipVerify = st.InsecureSkipVerify
		def.RootCAs = st.RootCAs
		if st.MaxIdleConnsPerHost != 0 {
			def.MaxIdleConnsPerHost = st.MaxIdleConnsPerHost
		}
		if st.ForwardingTimeouts != nil {
			def.ForwardingTimeouts = st.ForwardingTimeouts
		}
	}
	return &ServiceManager{
		defaultTransport: def,
		transports:       map[string]*transportEntry{},
		services:         map[string]*serviceEntry{},
		built:            map[string]*serviceEntry{},
		tcpChecks:        map[string]*tcpCheckEntry{},
	}
}

func (m *ServiceManager) beginGeneration() {
	m.mu.Lock()
	m.gen++
	m.built = map[string]*serviceEntry{}
	m.mu.Unlock()
}

// endGeneration releases transports and services unused for a whole
// generation: the previous table may still be finishing requests on them,
// so they are only released when neither the new nor the previous table
// refers to them.
func (m *ServiceManager) endGeneration() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, e := range m.services {
		if e.lastGen+1 < m.gen {
			e.release()
			delete(m.services, k)
		}
	}
	for k, e := range m.tcpChecks {
		if e.lastGen+1 < m.gen {
			e.c.Stop()
			delete(m.tcpChecks, k)
		}
	}
	for k, e := range m.transports {
		if e.lastGen+1 < m.gen {
			e.t.Close()
			delete(m.transports, k)
		}
	}
}

// Close releases every service and transport.
func (m *ServiceManager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, e := range m.services {
		e.release()
		delete(m.services, k)
	}
	for k, e := range m.tcpChecks {
		e.c.Stop()
		delete(m.tcpChecks, k)
	}
	for k, e := range m.transports {
		e.t.Close()
		delete(m.transports, k)
	}
}

func (m *ServiceManager) transport(name string, cfg *dynamic.ServersTransport) (*proxy.Transport, error) {
	h := dynamic.Hash(cfg)
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.transports[name]; ok && e.hash == h {
		e.lastGen = m.gen
		return e.t, nil
	}
	t, err := proxy.NewTransport(cfg)
	if err != nil {
		return nil, err
	}
	// The old transport (if any) stays reachable from the previous table;
	// it is closed by endGeneration once unused.
	if old, ok := m.transports[name]; ok {
		m.transports[name+"#"+old.hash] = old
	}
	m.transports[name] = &transportEntry{hash: h, t: t, lastGen: m.gen}
	return t, nil
}

// reuse returns the kept entry of name when its key is unchanged, moving it
// to info (server statuses are carried over).
func (m *ServiceManager) reuse(name, key string, info *runtime.ServiceInfo) *serviceEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.services[name]
	if !ok || e.key != key {
		return nil
	}
	e.lastGen = m.gen
	// Point status updates at the new info first, then copy the current
	// truth: a concurrent transition lands in the new info either way.
	e.info.Store(info)
	if e.status != nil {
		for srv, st := range e.status() {
			info.UpdateServerStatus(srv, st)
		}
	}
	m.built[name] = e
	return e
}

// keep stores a freshly built entry; the one it replaces is released after
// a generation.
func (m *ServiceManager) keep(name string, e *serviceEntry, info *runtime.ServiceInfo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.lastGen = m.gen
	e.info.Store(info)
	if old, ok := m.services[name]; ok && old != e {
		m.services[name+"#"+old.key] = old
	}
	m.services[name] = e
	m.built[name] = e
}

// childRef resolves a referenced service: its handler, its entry (nil for
// internal services) and an identity for the parent's key.
func (m *ServiceManager) childRef(name string, child func(string) (http.Handler, error)) (http.Handler, *serviceEntry, string, error) {
	h, err := child(name)
	if err != nil {
		return nil, nil, "", err
	}
	m.mu.Lock()
	e := m.built[name]
	m.mu.Unlock()
	if e == nil {
		return h, nil, fmt.Sprintf("%s=%p", name, h), nil
	}
	return h, e, fmt.Sprintf("%s=%p", name, e), nil
}

// Build returns the handler of one service; child builds referenced services.
func (m *ServiceManager) Build(name string, info *runtime.ServiceInfo, conf *dynamic.Configuration, child func(string) (http.Handler, error)) (http.Handler, error) {
	s := info.Service
	kinds := 0
	for _, set := range []bool{s.LoadBalancer != nil, s.Weighted != nil, s.Mirroring != nil, s.Failover != nil, s.HighestRandomWeight != nil} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds == 0:
		return nil, errors.New("no service type defined (loadBalancer, weighted, mirroring, failover or highestRandomWeight)")
	case kinds > 1:
		return nil, errors.New("more than one service type defined")
	case s.LoadBalancer != nil:
		return m.loadBalancer(name, info, s.LoadBalancer, conf)
	case s.Weighted != nil:
		return m.weighted(name, info, s.Weighted, child)
	case s.HighestRandomWeight != nil:
		hrw := s.HighestRandomWeight
		return m.balanceServices(name, info, "hrw", hrw.Services, nil, hrw.HealthCheck, loadbalancer.NewHRW(), child)
	case s.Mirroring != nil:
		return m.mirroring(name, info, s.Mirroring, child)
	default:
		return m.failover(name, info, s.Failover, child)
	}
}

func (m *ServiceManager) loadBalancer(name string, info *runtime.ServiceInfo, lb *dynamic.ServersLoadBalancer, conf *dynamic.Configuration) (http.Handler, error) {
	tname, tcfg := DefaultTransportName, m.defaultTransport
	if lb.ServersTransport != "" {
		c, ok := conf.HTTP.ServersTransports[lb.ServersTransport]
		if !ok {
			return nil, fmt.Errorf("serversTransport %q does not exist", lb.ServersTransport)
		}
		tname, tcfg = lb.ServersTransport, c
	}
	t, err := m.transport(tname, tcfg)
	if err != nil {
		return nil, fmt.Errorf("serversTransport %q: %w", tname, err)
	}
	key := fmt.Sprintf("lb|%s|%p|%v", dynamic.Hash(lb), t, m.AccessLog)
	if e := m.reuse(name, key, info); e != nil {
		return e.h, nil
	}

	opts := proxy.Options{PassHostHeader: lb.PassHostHeader == nil || *lb.PassHostHeader, FlushInterval: 100 * time.Millisecond, AccessLog: m.AccessLog}
	if lb.ResponseForwarding != nil {
		opts.FlushInterval = time.Duration(lb.ResponseForwarding.FlushInterval)
	}
	policy, err := loadbalancer.NewPolicy(lb.Strategy)
	if err != nil {
		return nil, err
	}
	var hc *healthcheck.Config
	if lb.HealthCheck != nil {
		if hc, err = healthcheck.NewConfig(lb.HealthCheck); err != nil {
			return nil, err
		}
	}
	servers := make([]loadbalancer.Server, 0, len(lb.Servers))
	targets := make([]healthcheck.Target, 0, len(lb.Servers))
	urls := map[string]string{} // balancer server name -> URL for the API
	seen := map[string]int{}
	for i, srv := range lb.Servers {
		u, err := parseServerURL(srv.URL)
		if err != nil {
			return nil, fmt.Errorf("servers[%d]: %w", i, err)
		}
		weight := 1
		if srv.Weight != nil {
			if *srv.Weight < 0 {
				return nil, fmt.Errorf("servers[%d] (%s): weight %d must not be negative", i, srv.URL, *srv.Weight)
			}
			weight = *srv.Weight
		}
		o := opts
		o.PreservePath = srv.PreservePath
		h, err := proxy.New(u, t, o)
		if err != nil {
			return nil, fmt.Errorf("servers[%d]: %w", i, err)
		}
		if weight == 0 {
			continue
		}
		// A URL listed twice gets twice the share, as in Traefik.
		key := srv.URL
		if n := seen[key]; n > 0 {
			key = fmt.Sprintf("%s#%d", srv.URL, n+1)
		}
		seen[srv.URL]++
		servers = append(servers, loadbalancer.Server{Name: key, Handler: h, Weight: weight})
		targets = append(targets, healthcheck.Target{Name: key, URL: u})
		urls[key] = srv.URL
	}

	e := &serviceEntry{key: key}
	bopts := loadbalancer.Options{
		HealthChecked: lb.HealthCheck != nil || lb.PassiveHealthCheck != nil,
		OnStatus: func(server string, up bool) {
			st := runtime.ServerUp
			if !up {
				st = runtime.ServerDown
			}
			if in := e.info.Load(); in != nil {
				in.UpdateServerStatus(urls[server], st)
			}
		},
	}
	if lb.Sticky != nil && lb.Sticky.Cookie != nil {
		bopts.Sticky = loadbalancer.NewCookie(lb.Sticky.Cookie, name)
	}
	if p := lb.PassiveHealthCheck; p != nil {
		bopts.Passive = &loadbalancer.Passive{FailureWindow: time.Duration(p.FailureWindow), MaxFailedAttempts: p.MaxFailedAttempts}
		if bopts.Passive.FailureWindow == 0 {
			bopts.Passive.FailureWindow = 10 * time.Second
		}
		if bopts.Passive.MaxFailedAttempts == 0 {
			bopts.Passive.MaxFailedAttempts = 1
		}
	}
	b, err := loadbalancer.NewWithOptions(servers, policy, bopts)
	if err != nil {
		return nil, err
	}
	e.h = b
	e.stop = append(e.stop, b.Close)
	if bopts.HealthChecked {
		e.health = b
	}
	e.status = func() map[string]string {
		out := make(map[string]string, len(urls))
		for srv, u := range urls {
			out[u] = runtime.ServerUp
			if !b.ServerUp(srv) {
				out[u] = runtime.ServerDown
			}
		}
		return out
	}
	for _, u := range urls {
		info.UpdateServerStatus(u, runtime.ServerUp)
	}
	m.keep(name, e, info)
	if hc != nil && !m.NoHealthChecks {
		c := healthcheck.New(name, hc, targets, t.RoundTripper, b.SetStatus)
		c.Start()
		e.stop = append(e.stop, c.Stop)
	}
	return b, nil
}

func parseServerURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("empty url")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid url %q: %w", raw, err)
	}
	switch u.Scheme {
	case "http", "https", "h2c":
	default:
		return nil, fmt.Errorf("invalid url %q: scheme must be http, https or h2c", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid url %q: missing host", raw)
	}
	return u, nil
}

func (m *ServiceManager) weighted(name string, info *runtime.ServiceInfo, w *dynamic.WeightedRoundRobin, child func(string) (http.Handler, error)) (http.Handler, error) {
	return m.balanceServices(name, info, "weighted", w.Services, w.Sticky, w.HealthCheck, loadbalancer.NewWRR(), child)
}

// balanceServices builds a service balancing over other services with
// policy: weighted (smooth WRR) or highestRandomWeight (rendezvous hashing
// on the client IP).
func (m *ServiceManager) balanceServices(name string, info *runtime.ServiceInfo, kind string, children []dynamic.WRRService,
	sticky *dynamic.Sticky, hc *dynamic.HealthCheck, policy loadbalancer.Policy, child func(string) (http.Handler, error),
) (http.Handler, error) {
	type ref struct {
		name   string
		h      http.Handler
		e      *serviceEntry
		weight int
	}
	refs := make([]ref, 0, len(children))
	var key strings.Builder
	fmt.Fprintf(&key, "%s|%s|%s|%v", kind, dynamic.Hash(children), dynamic.Hash(sticky), hc != nil)
	for i, c := range children {
		if c.Name == "" {
			return nil, fmt.Errorf("services[%d]: missing name", i)
		}
		weight := 1
		if c.Weight != nil {
			weight = *c.Weight
		}
		if weight < 0 {
			return nil, fmt.Errorf("services[%d] (%s): weight %d must not be negative", i, c.Name, weight)
		}
		h, e, id, err := m.childRef(c.Name, child)
		if err != nil {
			return nil, err
		}
		key.WriteString("|" + id)
		refs = append(refs, ref{c.Name, h, e, weight})
	}
	if e := m.reuse(name, key.String(), info); e != nil {
		return e.h, nil
	}
	servers := make([]loadbalancer.Server, 0, len(refs))
	for _, r := range refs {
		if r.weight == 0 {
			continue
		}
		servers = append(servers, loadbalancer.Server{Name: r.name, Handler: r.h, Weight: r.weight})
	}
	bopts := loadbalancer.Options{HealthChecked: hc != nil}
	if sticky != nil && sticky.Cookie != nil {
		bopts.Sticky = loadbalancer.NewCookie(sticky.Cookie, name)
	}
	b, err := loadbalancer.NewWithOptions(servers, policy, bopts)
	if err != nil {
		return nil, err
	}
	e := &serviceEntry{key: key.String(), h: b}
	if hc != nil {
		e.health = b
		for _, r := range refs {
			if r.weight == 0 {
				continue
			}
			childName := r.name
			unreg, err := follow(r.e, r.name, func(up bool) { b.SetStatus(childName, up) })
			if err != nil {
				e.release()
				return nil, err
			}
			e.stop = append(e.stop, unreg)
		}
	}
	m.keep(name, e, info)
	return b, nil
}

// follow registers fn on a child's health and applies its current status.
func follow(child *serviceEntry, name string, fn func(up bool)) (func(), error) {
	if child == nil || child.health == nil {
		return nil, fmt.Errorf("child service %q has no health check: healthCheck on a parent needs health checks on its children", name)
	}
	unreg, err := child.health.RegisterStatusUpdater(fn)
	if err != nil {
		return nil, fmt.Errorf("child service %q: %w", name, err)
	}
	fn(child.health.Up())
	return unreg, nil
}

func (m *ServiceManager) mirroring(name string, info *runtime.ServiceInfo, mc *dynamic.Mirroring, child func(string) (http.Handler, error)) (http.Handler, error) {
	if mc.Service == "" {
		return nil, errors.New("mirroring: missing main service")
	}
	mainH, mainE, id, err := m.childRef(mc.Service, child)
	if err != nil {
		return nil, err
	}
	var key strings.Builder
	fmt.Fprintf(&key, "mirroring|%s|%s", dynamic.Hash(mc), id)
	mirrors := make([]mirror.Mirror, 0, len(mc.Mirrors))
	for i, mi := range mc.Mirrors {
		if mi.Name == "" {
			return nil, fmt.Errorf("mirrors[%d]: missing name", i)
		}
		if mi.Percent < 0 || mi.Percent > 100 {
			return nil, fmt.Errorf("mirrors[%d] (%s): percent %d must be between 0 and 100", i, mi.Name, mi.Percent)
		}
		h, _, id, err := m.childRef(mi.Name, child)
		if err != nil {
			return nil, err
		}
		key.WriteString("|" + id)
		mirrors = append(mirrors, mirror.Mirror{Name: mi.Name, Handler: h, Percent: mi.Percent})
	}
	if e := m.reuse(name, key.String(), info); e != nil {
		return e.h, nil
	}
	opts := mirror.Options{MirrorBody: mc.MirrorBody == nil || *mc.MirrorBody, MaxBodySize: -1}
	if mc.MaxBodySize != nil {
		opts.MaxBodySize = *mc.MaxBodySize
	}
	h, err := mirror.New(mainH, mirrors, opts)
	if err != nil {
		return nil, err
	}
	e := &serviceEntry{key: key.String(), h: h}
	if mc.HealthCheck != nil {
		if mainE == nil || mainE.health == nil {
			return nil, fmt.Errorf("main service %q has no health check: healthCheck on a mirroring service needs one on its main service", mc.Service)
		}
		e.health = mainE.health
	}
	m.keep(name, e, info)
	return h, nil
}

func (m *ServiceManager) failover(name string, info *runtime.ServiceInfo, fc *dynamic.Failover, child func(string) (http.Handler, error)) (http.Handler, error) {
	if fc.Service == "" || fc.Fallback == "" {
		return nil, errors.New("failover: service and fallback are both required")
	}
	mainH, mainE, mainID, err := m.childRef(fc.Service, child)
	if err != nil {
		return nil, err
	}
	fbH, fbE, fbID, err := m.childRef(fc.Fallback, child)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("failover|%s|%s|%s", dynamic.Hash(fc), mainID, fbID)
	if e := m.reuse(name, key, info); e != nil {
		return e.h, nil
	}
	f := failover.New(mainH, fbH)
	e := &serviceEntry{key: key, h: f}
	if fe := fc.Errors; fe != nil {
		status, err := statusrange.Parse(fe.Status)
		if err != nil {
			return nil, fmt.Errorf("errors.status: %w", err)
		}
		if len(status) == 0 {
			return nil, errors.New("errors.status is required")
		}
		maxBody := int64(defaultFailoverMaxBody)
		if fe.MaxRequestBodyBytes != nil && *fe.MaxRequestBodyBytes != 0 {
			if maxBody = *fe.MaxRequestBodyBytes; maxBody < -1 {
				return nil, fmt.Errorf("errors.maxRequestBodyBytes must be -1 (no limit) or positive, got %d", maxBody)
			}
		}
		f.OnErrors(status, maxBody)
	}
	// With errors, a main service without health checks is always up:
	// its answers alone send requests to the fallback.
	if fc.Errors == nil || (mainE != nil && mainE.health != nil) {
		unreg, err := follow(mainE, fc.Service, f.SetMainStatus)
		if err != nil {
			return nil, err
		}
		e.stop = append(e.stop, unreg)
	}
	if fc.HealthCheck != nil {
		unreg, err := follow(fbE, fc.Fallback, f.SetFallbackStatus)
		if err != nil {
			e.release()
			return nil, err
		}
		e.stop = append(e.stop, unreg)
		e.health = f
	}
	m.keep(name, e, info)
	slog.Debug("failover service built", "service", name, "main", fc.Service, "fallback", fc.Fallback)
	return f, nil
}

// defaultFailoverMaxBody bounds the request body a failover with errors
// keeps to send again, when maxRequestBodyBytes is not set (as retry's).
const defaultFailoverMaxBody = 2 << 20

// childServices lists the services a service refers to.
func childServices(s *dynamic.Service) []string {
	var out []string
	switch {
	case s.Weighted != nil:
		for _, c := range s.Weighted.Services {
			out = append(out, c.Name)
		}
	case s.Mirroring != nil:
		out = append(out, s.Mirroring.Service)
		for _, c := range s.Mirroring.Mirrors {
			out = append(out, c.Name)
		}
	case s.Failover != nil:
		out = append(out, s.Failover.Service, s.Failover.Fallback)
	case s.HighestRandomWeight != nil:
		for _, c := range s.HighestRandomWeight.Services {
			out = append(out, c.Name)
		}
	}
	return out
}
