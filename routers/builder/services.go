package builder

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/runtime"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/services/loadbalancer"
	"github.com/switchyard-proxy/switchyard/services/proxy"
)

// DefaultTransportName is the name of the transport built from the static
// serversTransport section.
const DefaultTransportName = "default@internal"

// ServiceManager builds service handlers and owns the state that outlives
// a reload: transports and their connection pools are kept while their
// configuration is unchanged, and released one generation after they were
// last used.
type ServiceManager struct {
	// AccessLog makes proxies report to the access log.
	AccessLog bool

	defaultTransport *dynamic.ServersTransport

	mu         sync.Mutex
	gen        uint64
	transports map[string]*transportEntry
}

type transportEntry struct {
	hash    string
	t       *proxy.Transport
	lastGen uint64
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
	return &ServiceManager{defaultTransport: def, transports: map[string]*transportEntry{}}
}

func (m *ServiceManager) beginGeneration() {
	m.mu.Lock()
	m.gen++
	m.mu.Unlock()
}

// endGeneration releases transports unused for a whole generation: the
// previous table may still be finishing requests on them, so a transport
// is only closed when neither the new nor the previous table refers to it.
func (m *ServiceManager) endGeneration() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, e := range m.transports {
		if e.lastGen+1 < m.gen {
			e.t.Close()
			delete(m.transports, k)
		}
	}
}

// Close releases every transport.
func (m *ServiceManager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
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

// Build returns the handler of one service; child builds referenced services.
func (m *ServiceManager) Build(name string, info *runtime.ServiceInfo, conf *dynamic.Configuration, child func(string) (http.Handler, error)) (http.Handler, error) {
	s := info.Service
	kinds := 0
	for _, set := range []bool{s.LoadBalancer != nil, s.Weighted != nil, s.Mirroring != nil, s.Failover != nil} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds == 0:
		return nil, errors.New("no service type defined (loadBalancer, weighted, mirroring or failover)")
	case kinds > 1:
		return nil, errors.New("more than one service type defined")
	case s.LoadBalancer != nil:
		return m.loadBalancer(name, info, s.LoadBalancer, conf)
	case s.Weighted != nil:
		return m.weighted(s.Weighted, child)
	case s.Mirroring != nil:
		return nil, errors.New("mirroring services are not supported yet")
	default:
		return nil, errors.New("failover services are not supported yet")
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
	opts := proxy.Options{PassHostHeader: lb.PassHostHeader == nil || *lb.PassHostHeader, FlushInterval: 100 * time.Millisecond, AccessLog: m.AccessLog}
	if lb.ResponseForwarding != nil {
		opts.FlushInterval = time.Duration(lb.ResponseForwarding.FlushInterval)
	}
	switch strings.ToLower(lb.Strategy) {
	case "", dynamic.StrategyWRR:
	default:
		return nil, fmt.Errorf("load-balancing strategy %q is not supported yet (wrr)", lb.Strategy)
	}
	servers := make([]loadbalancer.Server, 0, len(lb.Servers))
	seen := map[string]int{}
	for i, srv := range lb.Servers {
		u, err := parseServerURL(srv.URL)
		if err != nil {
			return nil, fmt.Errorf("servers[%d]: %w", i, err)
		}
		weight := 1
		if srv.Weight != nil {
			if *srv.Weight < 0 {
				return nil, fmt.Errorf("servers[%d]: weight must not be negative", i)
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
		info.UpdateServerStatus(srv.URL, runtime.ServerUp)
	}
	return loadbalancer.New(servers, loadbalancer.NewWRR())
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

func (m *ServiceManager) weighted(w *dynamic.WeightedRoundRobin, child func(string) (http.Handler, error)) (http.Handler, error) {
	if w.Sticky != nil {
		return nil, errors.New("sticky sessions on weighted services are not supported yet")
	}
	servers := make([]loadbalancer.Server, 0, len(w.Services))
	for _, c := range w.Services {
		h, err := child(c.Name)
		if err != nil {
			return nil, err
		}
		weight := 1
		if c.Weight != nil {
			weight = *c.Weight
		}
		if weight <= 0 {
			continue
		}
		servers = append(servers, loadbalancer.Server{Name: c.Name, Handler: h, Weight: weight})
	}
	return loadbalancer.New(servers, loadbalancer.NewWRR())
}
