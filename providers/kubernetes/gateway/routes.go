package gateway

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	ptypes "github.com/traefik/paerser/types"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatev1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// timeouts turns an HTTPRoute rule's timeouts into a serversTransport
// (returned by name; "" when none): the backend must send its response
// head within backendRequest, else request (the stricter when both are
// set), or the client gets 504. A zero duration disables the timeout.
func (b *builder) timeouts(base string, t *gatev1.HTTPRouteTimeouts) (string, error) {
	if t == nil || (t.Request == nil && t.BackendRequest == nil) {
		return "", nil
	}
	var d time.Duration
	for _, v := range []*gatev1.Duration{t.Request, t.BackendRequest} {
		if v == nil {
			continue
		}
		x, err := time.ParseDuration(string(*v))
		if err != nil || x < 0 {
			return "", fmt.Errorf("duration %q: not a Gateway API duration", *v)
		}
		if x > 0 && (d == 0 || x < d) {
			d = x
		}
	}
	if d == 0 {
		return "", nil
	}
	name := base + "-timeouts"
	st := &dynamic.ServersTransport{}
	st.SetDefaults()
	st.ForwardingTimeouts.ResponseHeaderTimeout = ptypes.Duration(d)
	b.conf.HTTP.ServersTransports[name] = st
	return name, nil
}

func validKeyPair(crt, key []byte) bool {
	_, err := tls.X509KeyPair(crt, key)
	return err == nil
}

// routerName is Traefik's shape: kind-ns-name-gw-gwns-gwname-ep-entrypoint,
// then the listener and the rule (and match) indexes.
func routerName(kind, ns, name string, a attachment, idx ...int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s-%s-%s-gw-%s-%s-ep-%s-%s", strings.ToLower(kind), ns, name, a.l.gw.Namespace, a.l.gw.Name, a.l.ep, a.l.spec.Name)
	for _, i := range idx {
		fmt.Fprintf(&b, "-%d", i)
	}
	return b.String()
}

// weighted returns the service a rule sends traffic to: its one backend,
// or a weighted service over several (invalid backends keep their share,
// on a service without servers).
func (b *builder) weighted(base string, backends []gatev1.BackendRef, routeKind, routeNs, scheme string, r *refs) string {
	name, _ := b.weightedInvalid(base, backends, routeKind, routeNs, scheme, r)
	return name
}

// weightedInvalid is weighted, also reporting whether some of the traffic
// goes to the service without servers (an invalid backend or none).
func (b *builder) weightedInvalid(base string, backends []gatev1.BackendRef, routeKind, routeNs, scheme string, r *refs) (string, bool) {
	type wb struct {
		name   string
		weight int
	}
	var list []wb
	invalid := false
	for _, br := range backends {
		w := 1
		if br.Weight != nil {
			w = int(*br.Weight)
		}
		name := b.backend(routeKind, routeNs, br.BackendObjectReference, scheme, r)
		if w == 0 {
			continue
		}
		if name == "" {
			if scheme == "tcp" {
				continue // a TCP connection has no error page
			}
			name = b.emptyService()
			invalid = true
		}
		list = append(list, wb{name, w})
	}
	switch {
	case len(list) == 0 && scheme == "tcp":
		return "", false
	case len(list) == 0:
		return b.emptyService(), true
	case len(list) == 1:
		return list[0].name, invalid
	}
	name := base + "-wrr"
	if scheme == "tcp" {
		wrr := &dynamic.TCPWeightedRoundRobin{}
		for _, e := range list {
			wrr.Services = append(wrr.Services, dynamic.TCPWRRService{Name: e.name, Weight: ptr(e.weight)})
		}
		b.conf.TCP.Services[name] = &dynamic.TCPService{Weighted: wrr}
		return name, false
	}
	wrr := &dynamic.WeightedRoundRobin{}
	for _, e := range list {
		wrr.Services = append(wrr.Services, dynamic.WRRService{Name: e.name, Weight: ptr(e.weight)})
	}
	b.conf.HTTP.Services[name] = &dynamic.Service{Weighted: wrr}
	return name, invalid
}

// filterSet is the middlewares and mirrors of one rule.
type filterSet struct {
	middlewares []string
	mirrors     []dynamic.MirrorService
}

// httpFilters turns a rule's filters into middlewares (named after base)
// and mirrors. An unsupported filter is an error: the route is refused.
func (b *builder) httpFilters(base string, filters []gatev1.HTTPRouteFilter, a attachment, prefix string, routeKind, routeNs string, r *refs) (filterSet, error) {
	var fs filterSet
	for j, f := range filters {
		name := fmt.Sprintf("%s-%d-%s", base, j, strings.ToLower(string(f.Type)))
		var m dynamic.Middleware
		switch f.Type {
		case gatev1.HTTPRouteFilterRequestHeaderModifier:
			if f.RequestHeaderModifier == nil {
				return fs, fmt.Errorf("filter %d: requestHeaderModifier is empty", j)
			}
			m.RequestHeaderModifier = headerModifier(f.RequestHeaderModifier)
		case gatev1.HTTPRouteFilterResponseHeaderModifier:
			if f.ResponseHeaderModifier == nil {
				return fs, fmt.Errorf("filter %d: responseHeaderModifier is empty", j)
			}
			m.ResponseHeaderModifier = headerModifier(f.ResponseHeaderModifier)
		case gatev1.HTTPRouteFilterRequestRedirect:
			rr := f.RequestRedirect
			if rr == nil {
				return fs, fmt.Errorf("filter %d: requestRedirect is empty", j)
			}
			red := &dynamic.RequestRedirect{Scheme: rr.Scheme, Port: rr.Port}
			if rr.Hostname != nil {
				red.Hostname = ptr(string(*rr.Hostname))
			}
			if rr.StatusCode != nil {
				red.StatusCode = *rr.StatusCode
			}
			if rr.Scheme == nil && rr.Port == nil {
				// No scheme and no port: the listener's port.
				red.Port = ptr(a.l.spec.Port)
			}
			pm, err := pathModifier(rr.Path, prefix)
			if err != nil {
				return fs, fmt.Errorf("filter %d: %w", j, err)
			}
			red.PathModifier = pm
			m.RequestRedirect = red
		case gatev1.HTTPRouteFilterURLRewrite:
			rw := f.URLRewrite
			if rw == nil {
				return fs, fmt.Errorf("filter %d: urlRewrite is empty", j)
			}
			u := &dynamic.URLRewrite{}
			if rw.Hostname != nil {
				u.Hostname = ptr(string(*rw.Hostname))
			}
			pm, err := pathModifier(rw.Path, prefix)
			if err != nil {
				return fs, fmt.Errorf("filter %d: %w", j, err)
			}
			u.PathModifier = pm
			m.URLRewrite = u
		case gatev1.HTTPRouteFilterRequestMirror:
			mf := f.RequestMirror
			if mf == nil {
				return fs, fmt.Errorf("filter %d: requestMirror is empty", j)
			}
			svc := b.backend(routeKind, routeNs, mf.BackendRef, "http", r)
			if svc == "" {
				continue // ResolvedRefs says why; requests are not mirrored
			}
			pct := 100
			switch {
			case mf.Percent != nil:
				pct = int(*mf.Percent)
			case mf.Fraction != nil:
				den := int32(100)
				if mf.Fraction.Denominator != nil && *mf.Fraction.Denominator > 0 {
					den = *mf.Fraction.Denominator
				}
				pct = int(int64(mf.Fraction.Numerator) * 100 / int64(den))
			}
			fs.mirrors = append(fs.mirrors, dynamic.MirrorService{Name: svc, Percent: pct})
			continue
		case gatev1.HTTPRouteFilterExtensionRef:
			er := f.ExtensionRef
			if er == nil || string(er.Group) != "traefik.io" || string(er.Kind) != "Middleware" {
				return fs, fmt.Errorf("filter %d: extensionRef: only traefik.io Middleware references are supported", j)
			}
			// A Middleware of the Kubernetes CRD provider, as Traefik names it.
			fs.middlewares = append(fs.middlewares, routeNs+"-"+string(er.Name)+"@kubernetescrd")
			continue
		default:
			return fs, fmt.Errorf("filter %d: type %q is not supported", j, f.Type)
		}
		b.conf.HTTP.Middlewares[name] = &m
		fs.middlewares = append(fs.middlewares, name)
	}
	return fs, nil
}

func headerModifier(h *gatev1.HTTPHeaderFilter) *dynamic.HeaderModifier {
	m := &dynamic.HeaderModifier{Remove: h.Remove}
	for _, s := range h.Set {
		if m.Set == nil {
			m.Set = map[string]string{}
		}
		m.Set[string(s.Name)] = s.Value
	}
	for _, s := range h.Add {
		if m.Add == nil {
			m.Add = map[string]string{}
		}
		m.Add[string(s.Name)] = s.Value
	}
	return m
}

func pathModifier(p *gatev1.HTTPPathModifier, prefix string) (dynamic.PathModifier, error) {
	var pm dynamic.PathModifier
	if p == nil {
		return pm, nil
	}
	switch p.Type {
	case gatev1.FullPathHTTPPathModifier:
		if p.ReplaceFullPath == nil {
			return pm, fmt.Errorf("replaceFullPath is empty")
		}
		pm.ReplaceFullPath = p.ReplaceFullPath
	case gatev1.PrefixMatchHTTPPathModifier:
		if p.ReplacePrefixMatch == nil {
			return pm, fmt.Errorf("replacePrefixMatch is empty")
		}
		if prefix == "" {
			return pm, fmt.Errorf("replacePrefixMatch needs a PathPrefix match")
		}
		pm.ReplacePrefixMatch = p.ReplacePrefixMatch
		pm.MatchedPrefix = prefix
	default:
		return pm, fmt.Errorf("path modifier type %q is not supported", p.Type)
	}
	return pm, nil
}

// mirrored wraps a service with its mirrors.
func (b *builder) mirrored(base, svc string, mirrors []dynamic.MirrorService) string {
	if len(mirrors) == 0 {
		return svc
	}
	name := base + "-mirror"
	t, unlimited := true, int64(-1)
	b.conf.HTTP.Services[name] = &dynamic.Service{Mirroring: &dynamic.Mirroring{
		Service: svc, Mirrors: mirrors, MirrorBody: &t, MaxBodySize: &unlimited,
	}}
	return name
}

func (b *builder) setRouteStatus(kind, ns, name string, parents []parentResult, r *refs, acceptErr string) {
	var out []gatev1.RouteParentStatus
	for _, p := range parents {
		out = append(out, parentStatus(p, r.ok, r.reason, r.message, acceptErr))
	}
	b.status.Routes[RouteKey{Kind: kind, NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}] = out
}

func (b *builder) httpRoute(rt *gatev1.HTTPRoute, gateways map[types.NamespacedName][]*listener) {
	parents := attach(kindHTTP, rt, rt.Spec.ParentRefs, rt.Spec.Hostnames, gateways, b.st)
	if len(parents) == 0 {
		return
	}
	r := newRefs()
	acceptErr := ""
	routers := map[string]*dynamic.Router{}
	for i, rule := range rt.Spec.Rules {
		for _, br := range rule.BackendRefs {
			if len(br.Filters) > 0 {
				acceptErr = fmt.Sprintf("rule %d: backendRef filters are not supported", i)
			}
		}
		base := fmt.Sprintf("httproute-%s-%s-%d", rt.Namespace, rt.Name, i)
		var backends []gatev1.BackendRef
		for _, br := range rule.BackendRefs {
			backends = append(backends, br.BackendRef)
		}
		tr, err := b.timeouts(base, rule.Timeouts)
		if err != nil {
			acceptErr = fmt.Sprintf("rule %d: timeouts: %v", i, err)
		}
		b.transport = tr
		svc, invalid := b.weightedInvalid(base, backends, kindHTTP, rt.Namespace, "http", r)
		retryMW, err := b.retry(base, rule.Retry)
		if err != nil {
			acceptErr = fmt.Sprintf("rule %d: %v", i, err)
		}
		cookie, err := sticky(rule.SessionPersistence, weightedCount(backends))
		if err != nil {
			acceptErr = fmt.Sprintf("rule %d: %v", i, err)
		}
		svc = b.stickyService(base, svc, cookie)
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []gatev1.HTTPRouteMatch{{}}
		}
		for j, m := range matches {
			hm, err := matchRule(m)
			if err != nil {
				acceptErr = fmt.Sprintf("rule %d match %d: %v", i, j, err)
				continue
			}
			for _, p := range parents {
				for _, a := range p.atts {
					if !a.l.valid {
						continue
					}
					name := routerName(kindHTTP, rt.Namespace, rt.Name, a, i, j)
					fs, err := b.httpFilters(name, rule.Filters, a, hm.prefix, kindHTTP, rt.Namespace, r)
					if err != nil {
						acceptErr = fmt.Sprintf("rule %d: %v", i, err)
						continue
					}
					mws := fs.middlewares
					if invalid {
						mws = append([]string{b.internalError()}, mws...)
					}
					if retryMW != "" {
						// Last: a retry runs the request to the service again.
						mws = append(mws, retryMW)
					}
					router := &dynamic.Router{
						EntryPoints: []string{a.l.ep},
						Rule:        andRule(hostRule(a.hosts), hm.rule),
						Priority:    hostScore(a.hosts)*1_000_000_000 + hm.prio,
						Middlewares: mws,
						Service:     b.mirrored(name, svc, fs.mirrors),
					}
					if a.l.spec.Protocol == gatev1.HTTPSProtocolType {
						router.TLS = &dynamic.RouterTLSConfig{}
					}
					routers[name] = router
				}
			}
		}
	}
	b.transport = ""
	if acceptErr == "" {
		for n, rt := range routers {
			b.conf.HTTP.Routers[n] = rt
		}
	}
	b.setRouteStatus(kindHTTP, rt.Namespace, rt.Name, parents, r, acceptErr)
}

func (b *builder) grpcRoute(rt *gatev1.GRPCRoute, gateways map[types.NamespacedName][]*listener) {
	parents := attach(kindGRPC, rt, rt.Spec.ParentRefs, rt.Spec.Hostnames, gateways, b.st)
	if len(parents) == 0 {
		return
	}
	r := newRefs()
	acceptErr := ""
	routers := map[string]*dynamic.Router{}
	for i, rule := range rt.Spec.Rules {
		base := fmt.Sprintf("grpcroute-%s-%s-%d", rt.Namespace, rt.Name, i)
		var backends []gatev1.BackendRef
		for _, br := range rule.BackendRefs {
			if len(br.Filters) > 0 {
				acceptErr = fmt.Sprintf("rule %d: backendRef filters are not supported", i)
			}
			backends = append(backends, br.BackendRef)
		}
		svc, invalid := b.weightedInvalid(base, backends, kindGRPC, rt.Namespace, "h2c", r)
		cookie, err := sticky(rule.SessionPersistence, weightedCount(backends))
		if err != nil {
			acceptErr = fmt.Sprintf("rule %d: %v", i, err)
		}
		svc = b.stickyService(base, svc, cookie)
		// GRPCRoute filters are a subset of HTTPRoute's.
		var filters []gatev1.HTTPRouteFilter
		for _, f := range rule.Filters {
			filters = append(filters, gatev1.HTTPRouteFilter{
				Type:                   gatev1.HTTPRouteFilterType(f.Type),
				RequestHeaderModifier:  f.RequestHeaderModifier,
				ResponseHeaderModifier: f.ResponseHeaderModifier,
				RequestMirror:          f.RequestMirror,
				ExtensionRef:           f.ExtensionRef,
			})
		}
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []gatev1.GRPCRouteMatch{{}}
		}
		for j, m := range matches {
			hm, err := grpcMatchRule(m)
			if err != nil {
				acceptErr = fmt.Sprintf("rule %d match %d: %v", i, j, err)
				continue
			}
			for _, p := range parents {
				for _, a := range p.atts {
					if !a.l.valid {
						continue
					}
					name := routerName(kindGRPC, rt.Namespace, rt.Name, a, i, j)
					fs, err := b.httpFilters(name, filters, a, "", kindGRPC, rt.Namespace, r)
					if err != nil {
						acceptErr = fmt.Sprintf("rule %d: %v", i, err)
						continue
					}
					mws := fs.middlewares
					if invalid {
						mws = append([]string{b.internalError()}, mws...)
					}
					router := &dynamic.Router{
						EntryPoints: []string{a.l.ep},
						Rule:        andRule(hostRule(a.hosts), hm.rule),
						Priority:    hostScore(a.hosts)*1_000_000_000 + hm.prio,
						Middlewares: mws,
						Service:     b.mirrored(name, svc, fs.mirrors),
					}
					if a.l.spec.Protocol == gatev1.HTTPSProtocolType {
						router.TLS = &dynamic.RouterTLSConfig{}
					}
					routers[name] = router
				}
			}
		}
	}
	if acceptErr == "" {
		for n, rt := range routers {
			b.conf.HTTP.Routers[n] = rt
		}
	}
	b.setRouteStatus(kindGRPC, rt.Namespace, rt.Name, parents, r, acceptErr)
}

func (b *builder) tlsRoute(rt *gatev1.TLSRoute, gateways map[types.NamespacedName][]*listener) {
	rules := make([][]gatev1.BackendRef, len(rt.Spec.Rules))
	for i, rule := range rt.Spec.Rules {
		rules[i] = rule.BackendRefs
	}
	b.l4Route(kindTLS, "tlsroute", rt, rt.Spec.ParentRefs, rt.Spec.Hostnames, rules, gateways,
		func(a attachment, svc string) *dynamic.TCPRouter {
			return &dynamic.TCPRouter{
				EntryPoints: []string{a.l.ep},
				Rule:        sniRule(a.hosts),
				Priority:    hostScore(a.hosts),
				Service:     svc,
				TLS:         &dynamic.RouterTCPTLSConfig{Passthrough: a.l.passthru},
			}
		})
}

func (b *builder) tcpRoute(rt *gatev1.TCPRoute, gateways map[types.NamespacedName][]*listener) {
	rules := make([][]gatev1.BackendRef, len(rt.Spec.Rules))
	for i, rule := range rt.Spec.Rules {
		rules[i] = rule.BackendRefs
	}
	b.l4Route(kindTCP, "tcproute", rt, rt.Spec.ParentRefs, nil, rules, gateways,
		func(a attachment, svc string) *dynamic.TCPRouter {
			return &dynamic.TCPRouter{EntryPoints: []string{a.l.ep}, Rule: "HostSNI(`*`)", Service: svc}
		})
}

// l4Route is the body TLSRoute and TCPRoute share: per rule one weighted
// TCP service, and one TCP router (made by router) per valid attachment.
func (b *builder) l4Route(kind, prefix string, rt metav1.Object, parentRefs []gatev1.ParentReference, hostnames []gatev1.Hostname,
	rules [][]gatev1.BackendRef, gateways map[types.NamespacedName][]*listener, router func(a attachment, svc string) *dynamic.TCPRouter) {
	parents := attach(kind, rt, parentRefs, hostnames, gateways, b.st)
	if len(parents) == 0 {
		return
	}
	ns, name := rt.GetNamespace(), rt.GetName()
	r := newRefs()
	for i, backends := range rules {
		base := fmt.Sprintf("%s-%s-%s-%d", prefix, ns, name, i)
		svc := b.weighted(base, backends, kind, ns, "tcp", r)
		if svc == "" {
			continue
		}
		for _, p := range parents {
			for _, a := range p.atts {
				if a.l.valid {
					b.conf.TCP.Routers[routerName(kind, ns, name, a, i)] = router(a, svc)
				}
			}
		}
	}
	b.setRouteStatus(kind, ns, name, parents, r, "")
}
