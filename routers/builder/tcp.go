package builder

import (
	ctls "crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/runtime"
	"github.com/switchyard-proxy/switchyard/internal/mqtt"
	"github.com/switchyard-proxy/switchyard/middlewares/tcp/inflightconn"
	"github.com/switchyard-proxy/switchyard/middlewares/tcp/ipallowlist"
	"github.com/switchyard-proxy/switchyard/middlewares/tcp/mqttinflightconn"
	"github.com/switchyard-proxy/switchyard/routers/tcpmux"
	"github.com/switchyard-proxy/switchyard/services/tcpsvc"
	sytls "github.com/switchyard-proxy/switchyard/tls"
)

type tcpSvcResult struct {
	h   tcpmux.Handler
	err error
}

// tcpRouters compiles the TCP routers into one muxer per TCP entrypoint.
func (b *build) tcpRouters() map[string]*tcpmux.Muxer {
	muxers := map[string]*tcpmux.Muxer{}
	for name := range b.edge.https {
		muxers[name] = tcpmux.New()
	}
	defaults := b.defaultEntryPoints()
	for _, name := range slices.Sorted(maps.Keys(b.rt.TCPRouters)) {
		info := b.rt.TCPRouters[name]
		r := info.TCPRouter
		if strings.TrimSpace(r.Rule) == "" {
			info.AddError(errors.New("router has no rule"), true)
			continue
		}
		if r.RuleSyntax != "" && r.RuleSyntax != "v3" {
			info.AddError(fmt.Errorf("ruleSyntax %q is not supported (only v3)", r.RuleSyntax), true)
			continue
		}
		if _, err := tcpmux.Check(r.Rule, r.TLS != nil); err != nil {
			info.AddError(fmt.Errorf("rule %q: %w", r.Rule, err), true)
			continue
		}
		if r.Service == "" {
			info.AddError(errors.New("router has no service"), true)
			continue
		}
		eps := r.EntryPoints
		if len(eps) == 0 {
			eps = defaults
		}
		var valid []string
		for _, ep := range eps {
			if _, ok := muxers[ep]; !ok {
				info.AddError(fmt.Errorf("entryPoint %q doesn't exist", ep), false)
				continue
			}
			valid = append(valid, ep)
		}
		if len(valid) == 0 {
			info.AddError(errors.New("no valid entryPoint for this router"), true)
			continue
		}
		route := tcpmux.Route{Name: name, Rule: r.Rule, Priority: r.Priority, MQTT: b.tcpChainNeedsMQTT(r.Middlewares)}
		if t := r.TLS; t != nil && t.Passthrough && route.MQTT {
			info.AddError(errors.New("an MQTT middleware needs the CONNECT, which tls.passthrough keeps encrypted: terminate TLS on this router"), true)
			continue
		}
		if t := r.TLS; t != nil {
			route.TLS = true
			route.Passthrough = t.Passthrough
			if !t.Passthrough {
				cfg, err := b.tcpTLSConfig(t.Options)
				if err != nil {
					info.AddError(err, true)
					continue
				}
				route.Config = cfg
			}
			if t.CertResolver != "" {
				info.AddError(fmt.Errorf("certResolver %q: certificate resolvers are not supported on TCP routers; serving certificates from the default store", t.CertResolver), false)
			}
		}
		h, err := b.tcpService(r.Service, nil)
		if err != nil {
			info.AddError(err, true)
			continue
		}
		h, err = b.tcpChain(name, r.Middlewares, h)
		if err != nil {
			info.AddError(err, true)
			continue
		}
		route.Handler = h
		failed := false
		for _, ep := range valid {
			if err := muxers[ep].AddRoute(route); err != nil {
				info.AddError(fmt.Errorf("rule %q: %w", r.Rule, err), true)
				failed = true
				break
			}
		}
		if failed {
			continue
		}
		info.Using = valid
		b.markTCPServiceUsed(r.Service, name)
	}
	for _, m := range muxers {
		m.Build()
	}
	return muxers
}

func (b *build) markTCPServiceUsed(name, by string) {
	info, ok := b.rt.TCPServices[name]
	if !ok || !b.firstUse("tcp service", name, by) {
		return
	}
	info.UsedBy = append(info.UsedBy, by)
	if w := info.Weighted; w != nil {
		for _, c := range w.Services {
			b.markTCPServiceUsed(c.Name, name)
		}
	}
}

// tcpService builds a TCP service once per build.
func (b *build) tcpService(name string, stack []string) (tcpmux.Handler, error) {
	if res, ok := b.edge.tcpSvcs[name]; ok {
		return res.h, res.err
	}
	if len(stack) >= MaxNesting {
		return nil, nestingError("service", name, stack)
	}
	if slices.Contains(stack, name) {
		return nil, fmt.Errorf("service %q: recursion detected: %s", name, strings.Join(append(stack, name), " -> "))
	}
	info, ok := b.rt.TCPServices[name]
	if !ok {
		return nil, fmt.Errorf("service %q does not exist", name)
	}
	h, err := b.buildTCPService(name, info.TCPService, append(stack, name))
	if err != nil {
		info.AddError(err, true)
		err = fmt.Errorf("service %q: %w", name, err)
	}
	b.edge.tcpSvcs[name] = tcpSvcResult{h: h, err: err}
	return h, err
}

func (b *build) buildTCPService(name string, s *dynamic.TCPService, stack []string) (tcpmux.Handler, error) {
	if err := refused("tcp.services", name, s); err != nil {
		return nil, err
	}
	switch {
	case s == nil || (s.LoadBalancer == nil && s.Weighted == nil):
		return nil, errors.New("service has no loadBalancer or weighted section")
	case s.LoadBalancer != nil && s.Weighted != nil:
		return nil, errors.New("service has both loadBalancer and weighted sections")
	case s.Weighted != nil:
		var hs []tcpmux.Handler
		var ws []int
		for _, c := range s.Weighted.Services {
			h, err := b.tcpService(c.Name, stack)
			if err != nil {
				return nil, err
			}
			hs = append(hs, h)
			ws = append(ws, weight(c.Weight))
		}
		if len(hs) == 0 {
			return nil, errors.New("weighted service has no services")
		}
		return tcpsvc.NewWRR(hs, ws), nil
	}
	lb := s.LoadBalancer
	tr, err := b.tcpTransport(lb)
	if err != nil {
		return nil, err
	}
	var hs []tcpmux.Handler
	var srvs []*tcpsvc.Server
	var ws []int
	for i, srv := range lb.Servers {
		host, port, err := net.SplitHostPort(srv.Address)
		if err != nil || port == "" {
			return nil, fmt.Errorf("servers[%d]: invalid address %q: want host:port", i, srv.Address)
		}
		var tc *ctls.Config
		if srv.TLS || tr.TLSAll {
			tc = tr.T.TLS
			if tc.ServerName == "" && (!tc.InsecureSkipVerify || tr.PeerURI) {
				tc = tc.Clone()
				tc.ServerName = host
			}
		}
		s := &tcpsvc.Server{Address: srv.Address, TLS: tc, T: tr.T, Name: name}
		hs = append(hs, s)
		srvs = append(srvs, s)
		ws = append(ws, weight(srv.Weight))
	}
	if len(hs) == 0 {
		return nil, errors.New("loadBalancer has no servers")
	}
	if lb.HealthCheck != nil {
		c, err := b.tcpChecked(name, lb, srvs, ws)
		if err != nil {
			return nil, err
		}
		if info := b.rt.TCPServices[name]; info != nil {
			info.Health = func() map[string]string { return statusStrings(c.Status()) }
		}
		return c, nil
	}
	if len(hs) == 1 {
		return hs[0], nil
	}
	return tcpsvc.NewWRR(hs, ws), nil
}

func weight(w *int) int {
	if w == nil {
		return 1
	}
	return *w
}

type tcpTransport struct {
	T *tcpsvc.Transport
	// TLSAll: the transport has a tls section, so every server uses TLS.
	TLSAll bool
	// PeerURI: the backend is verified by its URI SAN (peerCertURI); the
	// server name is still sent as SNI.
	PeerURI bool
}

// tcpTransport resolves the serversTransport of a TCP load balancer on
// top of the static tcpServersTransport defaults.
func (b *build) tcpTransport(lb *dynamic.TCPServersLoadBalancer) (tcpTransport, error) {
	t := &tcpsvc.Transport{DialTimeout: 30 * time.Second, DialKeepAlive: 15 * time.Second, TerminationDelay: 100 * time.Millisecond}
	var tlsConf *dynamic.TLSClientConfig
	if st := b.deps.TCPTransport; st != nil {
		t.DialTimeout = time.Duration(st.DialTimeout)
		t.DialKeepAlive = time.Duration(st.DialKeepAlive)
		t.TerminationDelay = time.Duration(st.TerminationDelay)
		tlsConf = st.TLS.ClientConfig()
	}
	if lb.ServersTransport != "" {
		st, ok := b.conf.TCP.ServersTransports[lb.ServersTransport]
		if !ok || st == nil {
			return tcpTransport{}, fmt.Errorf("serversTransport %q does not exist", lb.ServersTransport)
		}
		if st.DialTimeout != 0 {
			t.DialTimeout = time.Duration(st.DialTimeout)
		}
		if st.DialKeepAlive != 0 {
			t.DialKeepAlive = time.Duration(st.DialKeepAlive)
		}
		if st.TerminationDelay != 0 {
			t.TerminationDelay = time.Duration(st.TerminationDelay)
		}
		if st.TLS != nil {
			tlsConf = st.TLS
		}
		if st.ProxyProtocol != nil {
			t.ProxyProtocol = st.ProxyProtocol.Version
		}
	}
	if lb.TerminationDelay != nil {
		t.TerminationDelay = time.Duration(*lb.TerminationDelay) * time.Millisecond
	}
	if lb.ProxyProtocol != nil {
		t.ProxyProtocol = lb.ProxyProtocol.Version
	}
	if v := t.ProxyProtocol; v != 0 && v != 1 && v != 2 {
		return tcpTransport{}, fmt.Errorf("proxyProtocol: version %d: want 1 or 2", v)
	}
	t.TLS = &ctls.Config{}
	if tlsConf != nil {
		c, err := clientTLS(tlsConf)
		if err != nil {
			return tcpTransport{}, fmt.Errorf("serversTransport tls: %w", err)
		}
		t.TLS = c
	}
	return tcpTransport{T: t, TLSAll: tlsConf != nil, PeerURI: tlsConf != nil && tlsConf.PeerCertURI != ""}, nil
}

// clientTLS builds the TLS client config towards TCP backends.
func clientTLS(c *dynamic.TLSClientConfig) (*ctls.Config, error) {
	for i, crt := range c.Certificates {
		if crt.IsTLCP() {
			return nil, fmt.Errorf("certificates[%d].encCertFile: TLCP towards TCP backends is not supported (HTTP serversTransports have tlcp)", i)
		}
	}
	cfg := &ctls.Config{ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify}
	if len(c.RootCAs) > 0 {
		pool := x509.NewCertPool()
		for _, f := range c.RootCAs {
			pem, err := sytls.Read(f)
			if err != nil {
				return nil, fmt.Errorf("rootCAs: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, errors.New("rootCAs: no certificate found")
			}
		}
		cfg.RootCAs = pool
	}
	for i, cert := range c.Certificates {
		kp, err := sytls.Load(cert)
		if err != nil {
			return nil, fmt.Errorf("certificates[%d]: %w", i, err)
		}
		cfg.Certificates = append(cfg.Certificates, *kp)
	}
	if c.PeerCertURI != "" {
		u, err := url.Parse(c.PeerCertURI)
		if err != nil || u.Scheme == "" {
			return nil, fmt.Errorf("peerCertURI %q: not an absolute URI", c.PeerCertURI)
		}
		tcpsvc.RequirePeerURI(cfg, c.PeerCertURI)
	}
	return cfg, nil
}

// tcpChain wraps h with the router's TCP middlewares, first outermost.
func (b *build) tcpChain(router string, names []string, h tcpmux.Handler) (tcpmux.Handler, error) {
	for i := len(names) - 1; i >= 0; i-- {
		name := names[i]
		info, ok := b.rt.TCPMiddlewares[name]
		if !ok {
			return nil, fmt.Errorf("middleware %q does not exist", name)
		}
		if b.firstUse("tcp middleware", name, router) {
			info.UsedBy = append(info.UsedBy, router)
		}
		m := info.TCPMiddleware
		var err error
		kinds := 0
		for _, set := range []bool{m.IPAllowList != nil, m.IPDenyList != nil, m.IPWhiteList != nil, m.InFlightConn != nil, m.MQTTInFlightConn != nil} {
			if set {
				kinds++
			}
		}
		switch {
		case kinds > 1:
			err = errors.New("a TCP middleware has exactly one kind: ipAllowList, ipDenyList, inFlightConn or mqttInFlightConn")
		case m.IPAllowList != nil || m.IPDenyList != nil || m.IPWhiteList != nil:
			cfg, deny := m.IPAllowList, false
			switch {
			case m.IPDenyList != nil:
				cfg, deny = m.IPDenyList, true
			case m.IPWhiteList != nil:
				cfg = m.IPWhiteList
				if b.firstUse("tcp ipWhiteList", name, "") {
					info.AddError(errors.New(ipWhiteListDeprecated), false)
					slog.Warn(ipWhiteListDeprecated, "middleware", name)
				}
			}
			var f *ipallowlist.Filter
			if f, err = ipallowlist.New(cfg, deny); err == nil {
				next := h
				h = tcpmux.HandlerFunc(func(c net.Conn) {
					if !f.Allow(c) {
						_ = c.Close()
						return
					}
					next.ServeTCP(c)
				})
			}
		case m.InFlightConn != nil:
			var l *inflightconn.Limiter
			if l, err = b.deps.Middlewares.TCPInFlightConn(name, m.InFlightConn); err == nil {
				next := h
				h = tcpmux.HandlerFunc(func(c net.Conn) {
					release, ok := l.Acquire(c)
					if !ok {
						_ = c.Close()
						return
					}
					defer release()
					next.ServeTCP(c)
				})
			}
		case m.MQTTInFlightConn != nil:
			var l *mqttinflightconn.Limiter
			if l, err = b.deps.Middlewares.TCPMQTTInFlightConn(name, m.MQTTInFlightConn); err == nil {
				next, mw := h, name
				h = tcpmux.HandlerFunc(func(c net.Conn) {
					cn := mqtt.Of(c)
					if cn == nil {
						// MQTT requires CONNECT as the first packet.
						slog.Debug("mqtt: connection refused: first packet is not a CONNECT", "middleware", mw, "remote", c.RemoteAddr().String())
						_ = c.Close()
						return
					}
					release, ok := l.Acquire(cn)
					if !ok {
						slog.Debug("mqtt: connection refused: too many connections of this client", "middleware", mw, "remote", c.RemoteAddr().String(),
							"client", l.Key(cn), "version", cn.Version())
						mqtt.Refuse(c, cn.Level, mqtt.ReasonQuotaExceeded)
						return
					}
					defer release()
					next.ServeTCP(c)
				})
			}
		default:
			err = errors.New("unknown TCP middleware kind")
		}
		if err != nil {
			info.AddError(err, true)
			return nil, fmt.Errorf("middleware %q: %w", name, err)
		}
	}
	return h, nil
}

// tcpChainNeedsMQTT reports whether one of the named TCP middlewares
// reads the client's MQTT CONNECT.
func (b *build) tcpChainNeedsMQTT(names []string) bool {
	for _, n := range names {
		if info, ok := b.rt.TCPMiddlewares[n]; ok && info.TCPMiddleware != nil && info.MQTTInFlightConn != nil {
			return true
		}
	}
	return false
}

// tcpCheckEntry is a health-checked TCP load balancer kept across reloads
// while its configuration is unchanged (so server status survives).
type tcpCheckEntry struct {
	key     string
	c       *tcpsvc.Checked
	lastGen uint64
}

// tcpHealthCheck converts and validates a TCP load balancer's healthCheck.
func tcpHealthCheck(h *dynamic.TCPServerHealthCheck) (tcpsvc.HealthCheck, error) {
	hc := tcpsvc.HealthCheck{Port: h.Port, Send: h.Send, Expect: h.Expect, Interval: time.Duration(h.Interval), Timeout: time.Duration(h.Timeout)}
	if h.UnhealthyInterval != nil {
		hc.UnhealthyInterval = time.Duration(*h.UnhealthyInterval)
	}
	switch {
	case h.Port < 0 || h.Port > 65535:
		return hc, fmt.Errorf("healthCheck.port %d: want 1-65535", h.Port)
	case hc.Interval < 0:
		return hc, errors.New("healthCheck.interval must not be negative")
	case hc.UnhealthyInterval < 0:
		return hc, errors.New("healthCheck.unhealthyInterval must not be negative")
	case hc.Timeout < 0:
		return hc, errors.New("healthCheck.timeout must not be negative")
	}
	hc.Defaults()
	return hc, nil
}

// tcpChecked returns the health-checked balancer of service name, reusing
// the running one when nothing it depends on changed.
func (b *build) tcpChecked(name string, lb *dynamic.TCPServersLoadBalancer, servers []*tcpsvc.Server, weights []int) (*tcpsvc.Checked, error) {
	hc, err := tcpHealthCheck(lb.HealthCheck)
	if err != nil {
		return nil, err
	}
	m := b.deps.Services
	key := dynamic.Hash(lb)
	if st := b.conf.TCP.ServersTransports[lb.ServersTransport]; st != nil {
		key += dynamic.Hash(st)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.tcpChecks[name]; ok && e.key == key {
		e.lastGen = m.gen
		return e.c, nil
	}
	c := tcpsvc.NewChecked(servers, weights, hc, nil)
	if !m.NoHealthChecks {
		c.Start()
	}
	if old, ok := m.tcpChecks[name]; ok {
		// The previous table may still use it for a generation.
		m.tcpChecks[name+"#"+old.key] = old
	}
	m.tcpChecks[name] = &tcpCheckEntry{key: key, c: c, lastGen: m.gen}
	return c, nil
}

func statusStrings(st map[string]bool) map[string]string {
	out := make(map[string]string, len(st))
	for a, up := range st {
		out[a] = runtime.ServerDown
		if up {
			out[a] = runtime.ServerUp
		}
	}
	return out
}
