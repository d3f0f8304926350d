package crd

import (
	"crypto/sha1" //nolint:gosec // {SHA} htpasswd entries for kubernetes.io/basic-auth Secrets
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/crd/api/v1alpha1"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/k8s"
)

// Options are the translation switches of the static configuration.
type Options struct {
	AllowCrossNamespace       bool
	AllowExternalNameServices bool
	AllowEmptyServices        bool
	NativeLBByDefault         bool
	// IngressClass selects objects by their kubernetes.io/ingress.class
	// annotation; empty takes objects without it, with an empty value or
	// with "traefik".
	IngressClass string
}

// Objects are the custom resources of one rebuild, each list in a stable
// order (namespace, name).
type Objects struct {
	IngressRoutes        []*v1alpha1.IngressRoute
	IngressRouteTCPs     []*v1alpha1.IngressRouteTCP
	IngressRouteUDPs     []*v1alpha1.IngressRouteUDP
	Middlewares          []*v1alpha1.Middleware
	MiddlewareTCPs       []*v1alpha1.MiddlewareTCP
	TraefikServices      []*v1alpha1.TraefikService
	TLSOptions           []*v1alpha1.TLSOption
	TLSStores            []*v1alpha1.TLSStore
	ServersTransports    []*v1alpha1.ServersTransport
	ServersTransportTCPs []*v1alpha1.ServersTransportTCP
}

// Cluster is what the translation reads besides the custom resources: the
// informer caches of Services, EndpointSlices, Secrets and ConfigMaps.
type Cluster interface {
	Service(ns, name string) (*corev1.Service, bool)
	Endpoints(svc *corev1.Service, port corev1.ServicePort) []k8s.Endpoint
	Secret(ns, name string) (*corev1.Secret, bool)
	ConfigMap(ns, name string) (*corev1.ConfigMap, bool)
}

// Report is one problem found on one custom resource, for the log and
// the object's Kubernetes Events.
type Report struct {
	Kind, Namespace, Name string
	Err                   error
}

// ingressClassAnnotation selects the objects of one controller.
const ingressClassAnnotation = "kubernetes.io/ingress.class"

// Translate turns the custom resources into one dynamic configuration.
// Objects (or routes) that cannot be translated are left out; each is
// logged, returned as a Report and shown in the API through the
// configuration's Problems.
func Translate(objs *Objects, cl Cluster, opts Options, log *slog.Logger) (*dynamic.Configuration, []Report) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &builder{opts: opts, cl: cl, conf: dynamic.New(), log: log, certs: map[string]bool{}}
	b.transports(objs)
	b.tlsOptions(objs)
	b.tlsStores(objs)
	b.middlewares(objs)
	b.traefikServices(objs)
	b.ingressRoutes(objs)
	b.ingressRouteTCPs(objs)
	b.ingressRouteUDPs(objs)
	return b.conf, b.reports
}

type builder struct {
	opts    Options
	cl      Cluster
	conf    *dynamic.Configuration
	log     *slog.Logger
	reports []Report
	certs   map[string]bool // ns/secret already in conf.TLS.Certificates
}

// problem reports err on a custom resource; kind/name are the dynamic
// object shown disabled in the API (empty: log and event only).
func (b *builder) problem(objKind, ns, name, dynKind, dynName string, warning bool, err error) {
	b.log.Error("kubernetesCRD: "+objKind+" skipped", "kind", objKind, "namespace", ns, "name", name, "error", err)
	b.reports = append(b.reports, Report{Kind: objKind, Namespace: ns, Name: name, Err: err})
	if dynName != "" {
		b.conf.Problems = append(b.conf.Problems, dynamic.ObjectProblem{
			Kind: dynKind, Name: dynName, Warning: warning,
			Error: fmt.Sprintf("%s %s/%s: %v", objKind, ns, name, err),
		})
	}
}

// classMatches applies the ingressClass option to an object's annotations.
func (b *builder) classMatches(ann map[string]string) bool {
	v := ann[ingressClassAnnotation]
	if b.opts.IngressClass == "" {
		return v == "" || v == "traefik"
	}
	return v == b.opts.IngressClass
}

// makeID is Traefik's "namespace-name".
func makeID(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "-" + name
}

// normalize keeps letters and digits and joins the runs with "-", as
// Traefik names objects built from Kubernetes names.
func normalize(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	}), "-")
}

// routeKey is Traefik's "<name>-<first 10 bytes of sha256(match) in hex>".
func routeKey(name, match string) string {
	sum := sha256.Sum256([]byte(match))
	return fmt.Sprintf("%s-%.10x", name, sum[:])
}

// refNamespace resolves the namespace of a reference from an object of
// namespace ns and applies allowCrossNamespace.
func (b *builder) refNamespace(ns, refNS, what, name string) (string, error) {
	if refNS == "" || refNS == ns {
		return ns, nil
	}
	if !b.opts.AllowCrossNamespace {
		return "", fmt.Errorf("%s %s/%s: cross-namespace reference refused (allowCrossNamespace is false)", what, refNS, name)
	}
	return refNS, nil
}

// qualifiedRef resolves a name that may already name its provider.
func (b *builder) qualifiedRef(ns, refNS, what, name string) (string, error) {
	if strings.Contains(name, "@") {
		if refNS != "" {
			return "", fmt.Errorf("%s %q: a namespace cannot be given with a provider-qualified name", what, name)
		}
		return name, nil
	}
	rns, err := b.refNamespace(ns, refNS, what, name)
	if err != nil {
		return "", err
	}
	return normalize(makeID(rns, name)), nil
}

// duration reads a Kubernetes duration: an integer is seconds, a string a
// Go duration.
func duration(v *intstr.IntOrString, def time.Duration) (ptypes.Duration, error) {
	if v == nil {
		return ptypes.Duration(def), nil
	}
	if v.Type == intstr.Int {
		return ptypes.Duration(time.Duration(v.IntVal) * time.Second), nil
	}
	if n, err := strconv.ParseInt(v.StrVal, 10, 64); err == nil {
		return ptypes.Duration(time.Duration(n) * time.Second), nil
	}
	d, err := time.ParseDuration(v.StrVal)
	if err != nil {
		return 0, fmt.Errorf("duration %q: %w", v.StrVal, err)
	}
	return ptypes.Duration(d), nil
}

// ---------------------------------------------------------------------------
// Services

// portName is how Traefik spells a port in a service name.
func portString(p intstr.IntOrString) string {
	if p.Type == intstr.Int {
		if p.IntVal == 0 {
			return ""
		}
		return strconv.Itoa(int(p.IntVal))
	}
	return p.StrVal
}

// serviceName is the dynamic name of the service a LoadBalancerSpec makes
// or references.
func serviceName(ns string, s v1alpha1.LoadBalancerSpec) string {
	if s.Kind == v1alpha1.KindTraefikService && strings.Contains(s.Name, "@") {
		return s.Name
	}
	if p := portString(s.Port); p != "" && s.Kind != v1alpha1.KindTraefikService {
		return normalize(fmt.Sprintf("%s-%s-%s", ns, s.Name, p))
	}
	return normalize(makeID(ns, s.Name))
}

// service resolves a LoadBalancerSpec referenced from namespace ns: a
// TraefikService is referenced by name; a Kubernetes Service becomes a
// load balancer over its endpoints, added to the configuration. It
// returns the dynamic service name.
func (b *builder) service(ns string, s v1alpha1.LoadBalancerSpec) (string, error) {
	if s.Name == "" {
		return "", errors.New("service: name is empty")
	}
	if s.Kind == v1alpha1.KindTraefikService {
		if strings.Contains(s.Name, "@") {
			if s.Namespace != "" {
				return "", fmt.Errorf("TraefikService %q: a namespace cannot be given with a provider-qualified name", s.Name)
			}
			return s.Name, nil
		}
		rns, err := b.refNamespace(ns, s.Namespace, "TraefikService", s.Name)
		if err != nil {
			return "", err
		}
		return normalize(makeID(rns, s.Name)), nil
	}
	if s.Kind != "" && s.Kind != "Service" {
		return "", fmt.Errorf("service %q: kind %q: Service or TraefikService expected", s.Name, s.Kind)
	}
	rns, err := b.refNamespace(ns, s.Namespace, "service", s.Name)
	if err != nil {
		return "", err
	}
	lb, err := b.loadBalancer(ns, rns, s)
	if err != nil {
		return "", err
	}
	name := serviceName(rns, s)
	svc := &dynamic.Service{LoadBalancer: lb}
	if prev, ok := b.conf.HTTP.Services[name]; ok && dynamic.Hash(prev) != dynamic.Hash(svc) {
		// Two references to one Service port with different options
		// (strategy, sticky, serversTransport...) make one name, as in
		// Traefik: the first one (in namespace/name order) is kept.
		b.log.Warn("kubernetesCRD: one Service port referenced with different options; the first definition is kept", "service", name)
		b.conf.Problems = append(b.conf.Problems, dynamic.ObjectProblem{
			Kind: "service", Name: name, Warning: true,
			Error: fmt.Sprintf("service %s/%s port %s is referenced with different options (strategy, sticky, serversTransport, healthCheck...): the first definition is kept; use another port reference (number or name) or a TraefikService to tell them apart", rns, s.Name, portString(s.Port)),
		})
		return name, nil
	}
	b.conf.HTTP.Services[name] = svc
	return name, nil
}

// loadBalancer builds the load balancer of a Kubernetes Service port of
// namespace ns, referenced from an object of namespace parentNS (where its
// serversTransport is looked up, as Traefik does).
func (b *builder) loadBalancer(parentNS, ns string, s v1alpha1.LoadBalancerSpec) (*dynamic.ServersLoadBalancer, error) {
	if s.NodePortLB {
		return nil, fmt.Errorf("service %s/%s: nodePortLB is not supported", ns, s.Name)
	}
	lb := &dynamic.ServersLoadBalancer{}
	lb.SetDefaults()
	if s.Strategy != "" {
		lb.Strategy = s.Strategy
	}
	if s.PassHostHeader != nil {
		lb.PassHostHeader = s.PassHostHeader
	}
	if s.Sticky != nil {
		st := *s.Sticky
		if st.Cookie != nil {
			c := *st.Cookie
			if c.Path == nil {
				p := "/"
				c.Path = &p
			}
			st.Cookie = &c
		}
		lb.Sticky = &st
	}
	if s.ResponseForwarding != nil {
		rf := &dynamic.ResponseForwarding{}
		rf.SetDefaults()
		if s.ResponseForwarding.FlushInterval != "" {
			d, err := duration(&intstr.IntOrString{Type: intstr.String, StrVal: s.ResponseForwarding.FlushInterval}, 0)
			if err != nil {
				return nil, fmt.Errorf("responseForwarding.flushInterval: %w", err)
			}
			rf.FlushInterval = d
		}
		lb.ResponseForwarding = rf
	}
	if s.ServersTransport != "" {
		if strings.Contains(s.ServersTransport, "@") {
			lb.ServersTransport = s.ServersTransport
		} else {
			lb.ServersTransport = normalize(makeID(parentNS, s.ServersTransport))
		}
	}
	if hc := s.HealthCheck; hc != nil {
		d := &dynamic.ServerHealthCheck{}
		d.SetDefaults()
		var err error
		if d.Interval, err = duration(hc.Interval, time.Duration(d.Interval)); err != nil {
			return nil, fmt.Errorf("healthCheck.interval: %w", err)
		}
		if d.Timeout, err = duration(hc.Timeout, time.Duration(d.Timeout)); err != nil {
			return nil, fmt.Errorf("healthCheck.timeout: %w", err)
		}
		if hc.UnhealthyInterval != nil {
			u, err := duration(hc.UnhealthyInterval, 0)
			if err != nil {
				return nil, fmt.Errorf("healthCheck.unhealthyInterval: %w", err)
			}
			d.UnhealthyInterval = &u
		}
		if hc.Mode != "" {
			d.Mode = hc.Mode
		}
		if hc.FollowRedirects != nil {
			d.FollowRedirects = hc.FollowRedirects
		}
		d.Scheme, d.Path, d.Method, d.Status, d.Port, d.Hostname, d.Headers = hc.Scheme, hc.Path, hc.Method, hc.Status, hc.Port, hc.Hostname, hc.Headers
		lb.HealthCheck = d
	}
	if p := s.PassiveHealthCheck; p != nil {
		d := &dynamic.PassiveServerHealthCheck{}
		d.SetDefaults()
		var err error
		if d.FailureWindow, err = duration(p.FailureWindow, time.Duration(d.FailureWindow)); err != nil {
			return nil, fmt.Errorf("passiveHealthCheck.failureWindow: %w", err)
		}
		if p.MaxFailedAttempts != nil {
			d.MaxFailedAttempts = *p.MaxFailedAttempts
		}
		lb.PassiveHealthCheck = d
	}
	native := b.opts.NativeLBByDefault
	if s.NativeLB != nil {
		native = *s.NativeLB
	}
	addrs, svcPort, err := b.addresses(ns, s.Name, s.Port, native)
	if err != nil {
		return nil, err
	}
	scheme := s.Scheme
	if scheme == "" {
		scheme = "http"
		if svcPort.Port == 443 || strings.HasPrefix(svcPort.Name, "https") {
			scheme = "https"
		}
	}
	for _, a := range addrs {
		lb.Servers = append(lb.Servers, dynamic.Server{URL: scheme + "://" + a})
	}
	return lb, nil
}

// addresses lists host:port of the usable endpoints of a Service port
// (or its cluster IP with native load balancing, or its external name).
func (b *builder) addresses(ns, name string, port intstr.IntOrString, native bool) ([]string, corev1.ServicePort, error) {
	svc, ok := b.cl.Service(ns, name)
	if !ok {
		return nil, corev1.ServicePort{}, fmt.Errorf("service %s/%s not found", ns, name)
	}
	var num int32
	var pname string
	if port.Type == intstr.Int {
		num = port.IntVal
	} else {
		pname = port.StrVal
	}
	sp, ok := k8s.ResolveTargetPort(svc, num, pname)
	if !ok {
		if svc.Spec.Type == corev1.ServiceTypeExternalName && pname == "" && num != 0 {
			// ExternalName services often declare no ports.
			sp = corev1.ServicePort{Port: num}
		} else {
			return nil, sp, fmt.Errorf("service %s/%s: port %s not found", ns, name, portString(port))
		}
	}
	var out []string
	switch {
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		if !b.opts.AllowExternalNameServices {
			return nil, sp, fmt.Errorf("service %s/%s: ExternalName services are not allowed (allowExternalNameServices is false)", ns, name)
		}
		out = append(out, net.JoinHostPort(svc.Spec.ExternalName, strconv.Itoa(int(sp.Port))))
	case native:
		if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
			return nil, sp, fmt.Errorf("service %s/%s: native load balancing needs a cluster IP", ns, name)
		}
		out = append(out, net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(sp.Port))))
	default:
		for _, e := range b.cl.Endpoints(svc, sp) {
			if e.Usable() {
				out = append(out, e.HostPort())
			}
		}
	}
	if len(out) == 0 && !b.opts.AllowEmptyServices {
		return nil, sp, fmt.Errorf("service %s/%s port %s: no ready endpoint (allowEmptyServices is false)", ns, name, portString(port))
	}
	return out, sp, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func weightOr1(w *int) *int {
	if w != nil {
		v := *w
		return &v
	}
	one := 1
	return &one
}

// traefikServices adds every TraefikService.
func (b *builder) traefikServices(objs *Objects) {
	for _, ts := range objs.TraefikServices {
		if !b.classMatches(ts.Annotations) {
			continue
		}
		name := normalize(makeID(ts.Namespace, ts.Name))
		svc, err := b.traefikService(ts)
		if err != nil {
			b.problem(v1alpha1.KindTraefikService, ts.Namespace, ts.Name, "service", name, false, err)
			continue
		}
		b.conf.HTTP.Services[name] = svc
	}
}

func (b *builder) traefikService(ts *v1alpha1.TraefikService) (*dynamic.Service, error) {
	sp := ts.Spec
	switch {
	case btoi(sp.Weighted != nil)+btoi(sp.Mirroring != nil)+btoi(sp.Failover != nil)+btoi(sp.HighestRandomWeight != nil) > 1:
		return nil, errors.New("weighted, mirroring, failover and highestRandomWeight are exclusive")
	case sp.HighestRandomWeight != nil:
		return nil, errors.New("highestRandomWeight is not supported: Switchyard has no highest-random-weight service (use weighted, or the hrw strategy of a Service's servers)")
	case sp.Weighted != nil:
		w := &dynamic.WeightedRoundRobin{Sticky: sp.Weighted.Sticky}
		if len(sp.Weighted.Services) == 0 {
			return nil, errors.New("weighted: no services")
		}
		for _, s := range sp.Weighted.Services {
			if len(s.Middlewares) > 0 {
				return nil, fmt.Errorf("weighted: service %q: per-child middlewares are not supported", s.Name)
			}
			n, err := b.service(ts.Namespace, s.LoadBalancerSpec)
			if err != nil {
				return nil, fmt.Errorf("weighted: %w", err)
			}
			w.Services = append(w.Services, dynamic.WRRService{Name: n, Weight: weightOr1(s.Weight)})
		}
		return &dynamic.Service{Weighted: w}, nil
	case sp.Mirroring != nil:
		m := &dynamic.Mirroring{}
		m.SetDefaults()
		if sp.Mirroring.MirrorBody != nil {
			m.MirrorBody = sp.Mirroring.MirrorBody
		}
		if sp.Mirroring.MaxBodySize != nil {
			m.MaxBodySize = sp.Mirroring.MaxBodySize
		}
		if len(sp.Mirroring.Middlewares) > 0 {
			return nil, errors.New("mirroring: per-child middlewares are not supported")
		}
		n, err := b.service(ts.Namespace, sp.Mirroring.LoadBalancerSpec)
		if err != nil {
			return nil, fmt.Errorf("mirroring: %w", err)
		}
		m.Service = n
		for _, mi := range sp.Mirroring.Mirrors {
			if len(mi.Middlewares) > 0 {
				return nil, fmt.Errorf("mirroring: mirror %q: per-child middlewares are not supported", mi.Name)
			}
			n, err := b.service(ts.Namespace, mi.LoadBalancerSpec)
			if err != nil {
				return nil, fmt.Errorf("mirroring: mirror: %w", err)
			}
			m.Mirrors = append(m.Mirrors, dynamic.MirrorService{Name: n, Percent: mi.Percent})
		}
		return &dynamic.Service{Mirroring: m}, nil
	case sp.Failover != nil:
		f := sp.Failover
		if f.Errors != nil {
			return nil, errors.New("failover.errors (status-based failover) is not supported: failover follows the main service's health check")
		}
		if len(f.Service.Middlewares) > 0 || len(f.Fallback.Middlewares) > 0 {
			return nil, errors.New("failover: per-child middlewares are not supported")
		}
		main, err := b.service(ts.Namespace, f.Service.LoadBalancerSpec)
		if err != nil {
			return nil, fmt.Errorf("failover.service: %w", err)
		}
		fb, err := b.service(ts.Namespace, f.Fallback.LoadBalancerSpec)
		if err != nil {
			return nil, fmt.Errorf("failover.fallback: %w", err)
		}
		return &dynamic.Service{Failover: &dynamic.Failover{Service: main, Fallback: fb}}, nil
	}
	return nil, errors.New("one of weighted, mirroring or failover is required")
}

// ---------------------------------------------------------------------------
// IngressRoute

func (b *builder) ingressRoutes(objs *Objects) {
	for _, ir := range objs.IngressRoutes {
		if !b.classMatches(ir.Annotations) {
			continue
		}
		b.ingressRoute(ir)
	}
}

func (b *builder) ingressRoute(ir *v1alpha1.IngressRoute) {
	ns := ir.Namespace
	var tlsConf *dynamic.RouterTLSConfig
	var tlsErr error
	if t := ir.Spec.TLS; t != nil {
		tlsConf, tlsErr = b.routerTLS(ns, t.SecretName, t.Options, t.Store, t.CertResolver, t.Domains)
	}
	if len(ir.Spec.ParentRefs) > 0 {
		tlsErr = errors.Join(tlsErr, errors.New("parentRefs (multi-layer routing) is not supported"))
	}
	for _, r := range ir.Spec.Routes {
		key := normalize(makeID(ns, routeKey(ir.Name, r.Match)))
		if tlsErr != nil {
			b.problem(v1alpha1.KindIngressRoute, ns, ir.Name, "router", key, false, tlsErr)
			continue
		}
		router, err := b.route(ir, key, r)
		if err != nil {
			b.problem(v1alpha1.KindIngressRoute, ns, ir.Name, "router", key, false, err)
			continue
		}
		router.TLS = tlsConf
		b.conf.HTTP.Routers[key] = router
	}
}

func (b *builder) route(ir *v1alpha1.IngressRoute, key string, r v1alpha1.Route) (*dynamic.Router, error) {
	ns := ir.Namespace
	if r.Kind != "" && r.Kind != "Rule" {
		return nil, fmt.Errorf("route %q: kind %q: only Rule is supported", r.Match, r.Kind)
	}
	if r.Match == "" {
		return nil, errors.New("route: match is empty")
	}
	router := &dynamic.Router{
		EntryPoints:   ir.Spec.EntryPoints,
		Rule:          r.Match,
		RuleSyntax:    r.Syntax,
		Priority:      r.Priority,
		Observability: r.Observability,
	}
	for _, m := range r.Middlewares {
		n, err := b.qualifiedRef(ns, m.Namespace, "middleware", m.Name)
		if err != nil {
			return nil, err
		}
		router.Middlewares = append(router.Middlewares, n)
	}
	for _, s := range r.Services {
		if len(s.Middlewares) > 0 {
			return nil, fmt.Errorf("service %q: per-child middlewares are not supported (put them on the route)", s.Name)
		}
	}
	switch len(r.Services) {
	case 0:
		return nil, fmt.Errorf("route %q: no services", r.Match)
	case 1:
		n, err := b.service(ns, r.Services[0].LoadBalancerSpec)
		if err != nil {
			return nil, err
		}
		router.Service = n
	default:
		w := &dynamic.WeightedRoundRobin{}
		for _, s := range r.Services {
			n, err := b.service(ns, s.LoadBalancerSpec)
			if err != nil {
				return nil, err
			}
			w.Services = append(w.Services, dynamic.WRRService{Name: n, Weight: weightOr1(s.Weight)})
		}
		b.conf.HTTP.Services[key] = &dynamic.Service{Weighted: w}
		router.Service = key
	}
	return router, nil
}

// routerTLS resolves an IngressRoute's (or IngressRouteTCP's) TLS section:
// the Secret's certificate goes into the TLS configuration, the options
// reference becomes the TLSOption's name.
func (b *builder) routerTLS(ns, secret string, opts *v1alpha1.TLSOptionRef, store *v1alpha1.TLSStoreRef, resolver string, domains []dynamic.Domain) (*dynamic.RouterTLSConfig, error) {
	out := &dynamic.RouterTLSConfig{CertResolver: resolver, Domains: domains}
	if secret != "" {
		if err := b.addCertificate(ns, secret, nil); err != nil {
			return nil, err
		}
	}
	if opts != nil && opts.Name != "" {
		n, err := b.tlsOptionRef(ns, opts.Namespace, opts.Name)
		if err != nil {
			return nil, err
		}
		out.Options = n
	}
	if store != nil && store.Name != "" && store.Name != "default" {
		return nil, fmt.Errorf("tls.store %q: only the default TLSStore exists", store.Name)
	}
	return out, nil
}

func (b *builder) tlsOptionRef(ns, refNS, name string) (string, error) {
	if strings.Contains(name, "@") {
		return name, nil
	}
	rns, err := b.refNamespace(ns, refNS, "TLSOption", name)
	if err != nil {
		return "", err
	}
	if name == "default" {
		return "default", nil
	}
	return makeID(rns, name), nil
}

// addCertificate reads a kubernetes.io/tls Secret into the TLS
// configuration once, in the given stores (nil: the default store).
func (b *builder) addCertificate(ns, secret string, stores []string) error {
	key := ns + "/" + secret + "/" + strings.Join(stores, ",")
	if b.certs[key] {
		return nil
	}
	cert, keyPEM, err := b.tlsSecret(ns, secret)
	if err != nil {
		return err
	}
	b.certs[key] = true
	b.conf.TLS.Certificates = append(b.conf.TLS.Certificates, &dynamic.CertAndStores{
		Certificate: dynamic.Certificate{CertFile: dynamic.FileOrContent(cert), KeyFile: dynamic.FileOrContent(keyPEM)},
		Stores:      stores,
	})
	return nil
}

func (b *builder) tlsSecret(ns, name string) (string, string, error) {
	s, ok := b.cl.Secret(ns, name)
	if !ok {
		return "", "", fmt.Errorf("secret %s/%s not found", ns, name)
	}
	cert, key := s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey]
	if len(cert) == 0 || len(key) == 0 {
		return "", "", fmt.Errorf("secret %s/%s: %s and %s are required", ns, name, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	return string(cert), string(key), nil
}

// caFromSecret reads a CA bundle ("tls.ca", then "ca.crt") from a Secret.
func (b *builder) caFromSecret(ns, name string) (string, error) {
	s, ok := b.cl.Secret(ns, name)
	if !ok {
		return "", fmt.Errorf("secret %s/%s not found", ns, name)
	}
	for _, k := range []string{"tls.ca", "ca.crt"} {
		if v := s.Data[k]; len(v) > 0 {
			return string(v), nil
		}
	}
	return "", fmt.Errorf("secret %s/%s: no tls.ca or ca.crt key", ns, name)
}

func (b *builder) caFromConfigMap(ns, name string) (string, error) {
	c, ok := b.cl.ConfigMap(ns, name)
	if !ok {
		return "", fmt.Errorf("configmap %s/%s not found", ns, name)
	}
	for _, k := range []string{"tls.ca", "ca.crt"} {
		if v := c.Data[k]; v != "" {
			return v, nil
		}
	}
	return "", fmt.Errorf("configmap %s/%s: no tls.ca or ca.crt key", ns, name)
}

// ---------------------------------------------------------------------------
// Middlewares

func (b *builder) middlewares(objs *Objects) {
	for _, m := range objs.Middlewares {
		if !b.classMatches(m.Annotations) {
			continue
		}
		name := normalize(makeID(m.Namespace, m.Name))
		mw, err := b.middleware(m)
		if err != nil {
			b.problem(v1alpha1.KindMiddleware, m.Namespace, m.Name, "middleware", name, false, err)
			continue
		}
		b.conf.HTTP.Middlewares[name] = mw
	}
	for _, m := range objs.MiddlewareTCPs {
		if !b.classMatches(m.Annotations) {
			continue
		}
		name := normalize(makeID(m.Namespace, m.Name))
		s := m.Spec
		b.conf.TCP.Middlewares[name] = &dynamic.TCPMiddleware{InFlightConn: s.InFlightConn, IPAllowList: s.IPAllowList, IPDenyList: s.IPDenyList, MQTTInFlightConn: s.MQTTInFlightConn}
	}
}

func (b *builder) middleware(m *v1alpha1.Middleware) (*dynamic.Middleware, error) {
	s := m.Spec
	ns := m.Namespace
	out := &dynamic.Middleware{
		AddPrefix: s.AddPrefix, StripPrefix: s.StripPrefix, StripPrefixRegex: s.StripPrefixRegex,
		ReplacePath: s.ReplacePath, ReplacePathRegex: s.ReplacePathRegex,
		IPAllowList: s.IPAllowList, IPDenyList: s.IPDenyList, Headers: s.Headers,
		Buffering: s.Buffering, Compress: s.Compress,
		PassTLSClientCert: s.PassTLSClientCert, ContentType: s.ContentType, GrpcWeb: s.GrpcWeb,
	}
	if r := s.InFlightReq; r != nil {
		out.InFlightReq = &dynamic.InFlightReq{Amount: r.Amount, SourceCriterion: r.SourceCriterion}
	}
	if r := s.RedirectRegex; r != nil {
		out.RedirectRegex = &dynamic.RedirectRegex{Regex: r.Regex, Replacement: r.Replacement, Permanent: r.Permanent}
	}
	if r := s.RedirectScheme; r != nil {
		out.RedirectScheme = &dynamic.RedirectScheme{Scheme: r.Scheme, Port: r.Port, Permanent: r.Permanent}
	}
	if len(s.Plugin) > 0 {
		return nil, errors.New("plugin: plugins are not supported by Switchyard")
	}
	if s.Chain != nil {
		c := &dynamic.Chain{}
		for _, r := range s.Chain.Middlewares {
			n, err := b.qualifiedRef(ns, r.Namespace, "middleware", r.Name)
			if err != nil {
				return nil, fmt.Errorf("chain: %w", err)
			}
			c.Middlewares = append(c.Middlewares, n)
		}
		out.Chain = c
	}
	if e := s.Errors; e != nil {
		if len(e.Service.Middlewares) > 0 {
			return nil, errors.New("errors: service middlewares are not supported")
		}
		n, err := b.service(ns, e.Service.LoadBalancerSpec)
		if err != nil {
			return nil, fmt.Errorf("errors: %w", err)
		}
		out.Errors = &dynamic.ErrorPage{Status: e.Status, StatusRewrites: e.StatusRewrites, Service: n, Query: e.Query}
	}
	if r := s.RateLimit; r != nil {
		p, err := duration(r.Period, time.Second)
		if err != nil {
			return nil, fmt.Errorf("rateLimit.period: %w", err)
		}
		rl := &dynamic.RateLimit{Average: r.Average, Period: p, SourceCriterion: r.SourceCriterion, Burst: 1}
		if r.Burst != nil {
			rl.Burst = *r.Burst
		}
		if r.Redis != nil {
			rd, err := b.redis(ns, r.Redis)
			if err != nil {
				return nil, fmt.Errorf("rateLimit.redis: %w", err)
			}
			rl.Redis = rd
		}
		out.RateLimit = rl
	}
	if a := s.BasicAuth; a != nil {
		users, err := b.basicAuthUsers(ns, a.Secret)
		if err != nil {
			return nil, fmt.Errorf("basicAuth: %w", err)
		}
		out.BasicAuth = &dynamic.BasicAuth{Users: users, Realm: a.Realm, RemoveHeader: a.RemoveHeader, HeaderField: a.HeaderField}
	}
	if a := s.DigestAuth; a != nil {
		users, err := b.usersKey(ns, a.Secret)
		if err != nil {
			return nil, fmt.Errorf("digestAuth: %w", err)
		}
		out.DigestAuth = &dynamic.DigestAuth{Users: users, Realm: a.Realm, RemoveHeader: a.RemoveHeader, HeaderField: a.HeaderField}
	}
	if a := s.ForwardAuth; a != nil {
		fa := &dynamic.ForwardAuth{
			Address: a.Address, TrustForwardHeader: a.TrustForwardHeader,
			AuthResponseHeaders: a.AuthResponseHeaders, AuthResponseHeadersRegex: a.AuthResponseHeadersRegex,
			AuthRequestHeaders: a.AuthRequestHeaders, AddAuthCookiesToResponse: a.AddAuthCookiesToResponse,
			HeaderField: a.HeaderField, ForwardBody: a.ForwardBody, MaxBodySize: a.MaxBodySize,
			PreserveLocationHeader: a.PreserveLocationHeader, PreserveRequestMethod: a.PreserveRequestMethod,
		}
		if a.TLS != nil {
			ct, err := b.clientTLS(ns, a.TLS)
			if err != nil {
				return nil, fmt.Errorf("forwardAuth.%w", err)
			}
			fa.TLS = ct
		}
		out.ForwardAuth = fa
	}
	if c := s.CircuitBreaker; c != nil {
		cb := &dynamic.CircuitBreaker{Expression: c.Expression, ResponseCode: c.ResponseCode}
		var err error
		if cb.CheckPeriod, err = duration(c.CheckPeriod, 100*time.Millisecond); err != nil {
			return nil, fmt.Errorf("circuitBreaker.checkPeriod: %w", err)
		}
		if cb.FallbackDuration, err = duration(c.FallbackDuration, 10*time.Second); err != nil {
			return nil, fmt.Errorf("circuitBreaker.fallbackDuration: %w", err)
		}
		if cb.RecoveryDuration, err = duration(c.RecoveryDuration, 10*time.Second); err != nil {
			return nil, fmt.Errorf("circuitBreaker.recoveryDuration: %w", err)
		}
		if cb.ResponseCode == 0 {
			cb.ResponseCode = 503
		}
		out.CircuitBreaker = cb
	}
	if r := s.Retry; r != nil {
		ii, err := duration(r.InitialInterval, 0)
		if err != nil {
			return nil, fmt.Errorf("retry.initialInterval: %w", err)
		}
		out.Retry = &dynamic.Retry{Attempts: r.Attempts, InitialInterval: ii}
	}
	n := 0
	for _, set := range []bool{
		out.AddPrefix != nil, out.StripPrefix != nil, out.StripPrefixRegex != nil, out.ReplacePath != nil,
		out.ReplacePathRegex != nil, out.Chain != nil, out.IPAllowList != nil, out.IPDenyList != nil,
		out.Headers != nil, out.Errors != nil, out.RateLimit != nil, out.RedirectRegex != nil,
		out.RedirectScheme != nil, out.BasicAuth != nil, out.DigestAuth != nil, out.ForwardAuth != nil,
		out.InFlightReq != nil, out.Buffering != nil, out.CircuitBreaker != nil, out.Compress != nil,
		out.PassTLSClientCert != nil, out.Retry != nil, out.ContentType != nil, out.GrpcWeb != nil,
	} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return nil, errors.New("no middleware kind set")
	case n > 1:
		return nil, fmt.Errorf("%d middleware kinds set: exactly one expected", n)
	}
	return out, nil
}

// clientTLS reads a ClientTLS section's Secrets.
func (b *builder) clientTLS(ns string, t *v1alpha1.ClientTLS) (*dynamic.ClientTLS, error) {
	ct := &dynamic.ClientTLS{InsecureSkipVerify: t.InsecureSkipVerify, CAOptional: t.CAOptional}
	if t.CASecret != "" {
		ca, err := b.caFromSecret(ns, t.CASecret)
		if err != nil {
			return nil, fmt.Errorf("tls.caSecret: %w", err)
		}
		ct.CA = ca
	}
	if t.CertSecret != "" {
		c, k, err := b.tlsSecret(ns, t.CertSecret)
		if err != nil {
			return nil, fmt.Errorf("tls.certSecret: %w", err)
		}
		ct.Cert, ct.Key = c, k
	}
	return ct, nil
}

// redis reads a rate limit's Redis section (credentials from a Secret).
func (b *builder) redis(ns string, r *v1alpha1.Redis) (*dynamic.Redis, error) {
	out := &dynamic.Redis{
		Endpoints: r.Endpoints, DB: r.DB, PoolSize: r.PoolSize, MinIdleConns: r.MinIdleConns,
		MaxActiveConns: r.MaxActiveConns, DenyOnError: r.DenyOnError,
	}
	if r.TLS != nil {
		t, err := b.clientTLS(ns, r.TLS)
		if err != nil {
			return nil, err
		}
		out.TLS = t
	}
	if r.Secret != "" {
		s, ok := b.cl.Secret(ns, r.Secret)
		if !ok {
			return nil, fmt.Errorf("secret %s/%s not found", ns, r.Secret)
		}
		out.Username, out.Password = string(s.Data["username"]), string(s.Data["password"])
	}
	for _, d := range []struct {
		name string
		v    *intstr.IntOrString
		dst  **ptypes.Duration
	}{{"readTimeout", r.ReadTimeout, &out.ReadTimeout}, {"writeTimeout", r.WriteTimeout, &out.WriteTimeout}, {"dialTimeout", r.DialTimeout, &out.DialTimeout}} {
		if d.v == nil {
			continue
		}
		v, err := duration(d.v, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.name, err)
		}
		*d.dst = &v
	}
	return out, nil
}

// basicAuthUsers reads htpasswd users from a Secret: a
// kubernetes.io/basic-auth Secret (username, password: the password is
// stored as a {SHA} entry, deterministic so an unchanged Secret is an
// unchanged configuration) or a "users" key of htpasswd lines.
func (b *builder) basicAuthUsers(ns, name string) ([]string, error) {
	if name == "" {
		return nil, errors.New("secret is required")
	}
	s, ok := b.cl.Secret(ns, name)
	if !ok {
		return nil, fmt.Errorf("secret %s/%s not found", ns, name)
	}
	if s.Type == corev1.SecretTypeBasicAuth {
		u, p := string(s.Data[corev1.BasicAuthUsernameKey]), s.Data[corev1.BasicAuthPasswordKey]
		if u == "" || len(p) == 0 {
			return nil, fmt.Errorf("secret %s/%s: username and password are required", ns, name)
		}
		sum := sha1.Sum(p) //nolint:gosec // htpasswd {SHA} format
		return []string{u + ":{SHA}" + base64.StdEncoding.EncodeToString(sum[:])}, nil
	}
	return b.usersKey(ns, name)
}

func (b *builder) usersKey(ns, name string) ([]string, error) {
	if name == "" {
		return nil, errors.New("secret is required")
	}
	s, ok := b.cl.Secret(ns, name)
	if !ok {
		return nil, fmt.Errorf("secret %s/%s not found", ns, name)
	}
	var users []string
	for _, l := range strings.Split(string(s.Data["users"]), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			users = append(users, l)
		}
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("secret %s/%s: no users in key \"users\"", ns, name)
	}
	return users, nil
}

// ---------------------------------------------------------------------------
// TLS options and stores, transports

func (b *builder) tlsOptions(objs *Objects) {
	var defaults []string
	for _, o := range objs.TLSOptions {
		if !b.classMatches(o.Annotations) {
			continue
		}
		s := o.Spec
		opt := dynamic.TLSOptions{
			MinVersion: s.MinVersion, MaxVersion: s.MaxVersion, CipherSuites: s.CipherSuites,
			CurvePreferences: s.CurvePreferences, SniStrict: s.SniStrict, ALPNProtocols: s.ALPNProtocols,
			DisableSessionTickets: s.DisableSessionTickets, PreferServerCipherSuites: s.PreferServerCipherSuites,
			ClientAuth: dynamic.ClientAuth{ClientAuthType: s.ClientAuth.ClientAuthType},
		}
		var err error
		for _, sec := range s.ClientAuth.SecretNames {
			ca, e := b.caFromSecret(o.Namespace, sec)
			if e != nil {
				err = e
				break
			}
			opt.ClientAuth.CAFiles = append(opt.ClientAuth.CAFiles, dynamic.FileOrContent(ca))
		}
		if err != nil {
			b.problem(v1alpha1.KindTLSOption, o.Namespace, o.Name, "", "", false, fmt.Errorf("clientAuth: %w", err))
			continue
		}
		id := makeID(o.Namespace, o.Name)
		if o.Name == "default" {
			id = "default"
			defaults = append(defaults, o.Namespace)
		}
		b.conf.TLS.Options[id] = opt
	}
	if len(defaults) > 1 {
		delete(b.conf.TLS.Options, "default")
		for _, ns := range defaults {
			b.problem(v1alpha1.KindTLSOption, ns, "default", "", "", false,
				fmt.Errorf("TLSOption \"default\" is defined in %d namespaces (%s): all are ignored", len(defaults), strings.Join(defaults, ", ")))
		}
	}
}

func (b *builder) tlsStores(objs *Objects) {
	var defaults []string
	for _, st := range objs.TLSStores {
		if !b.classMatches(st.Annotations) {
			continue
		}
		if st.Name != "default" {
			b.problem(v1alpha1.KindTLSStore, st.Namespace, st.Name, "", "", false, errors.New("only a TLSStore named \"default\" is used"))
			continue
		}
		defaults = append(defaults, st.Namespace)
		if len(defaults) > 1 {
			b.problem(v1alpha1.KindTLSStore, st.Namespace, st.Name, "", "", false,
				fmt.Errorf("TLSStore \"default\" is defined in several namespaces (%s): only the first is used", strings.Join(defaults, ", ")))
			continue
		}
		store := dynamic.Store{DefaultGeneratedCert: st.Spec.DefaultGeneratedCert}
		if dc := st.Spec.DefaultCertificate; dc != nil {
			c, k, err := b.tlsSecret(st.Namespace, dc.SecretName)
			if err != nil {
				b.problem(v1alpha1.KindTLSStore, st.Namespace, st.Name, "", "", false, fmt.Errorf("defaultCertificate: %w", err))
			} else {
				store.DefaultCertificate = &dynamic.Certificate{CertFile: dynamic.FileOrContent(c), KeyFile: dynamic.FileOrContent(k)}
			}
		}
		for _, c := range st.Spec.Certificates {
			if err := b.addCertificate(st.Namespace, c.SecretName, []string{"default"}); err != nil {
				b.problem(v1alpha1.KindTLSStore, st.Namespace, st.Name, "", "", true, fmt.Errorf("certificates: %w", err))
			}
		}
		b.conf.TLS.Stores["default"] = store
	}
}

func (b *builder) rootCAs(ns string, cas []v1alpha1.RootCA, secrets []string) ([]dynamic.FileOrContent, error) {
	var out []dynamic.FileOrContent
	for _, r := range cas {
		var ca string
		var err error
		switch {
		case r.Secret != "" && r.ConfigMap != "":
			return nil, errors.New("rootCAs: secret and configMap are exclusive")
		case r.Secret != "":
			ca, err = b.caFromSecret(ns, r.Secret)
		case r.ConfigMap != "":
			ca, err = b.caFromConfigMap(ns, r.ConfigMap)
		default:
			return nil, errors.New("rootCAs: secret or configMap required")
		}
		if err != nil {
			return nil, fmt.Errorf("rootCAs: %w", err)
		}
		out = append(out, dynamic.FileOrContent(ca))
	}
	for _, s := range secrets {
		ca, err := b.caFromSecret(ns, s)
		if err != nil {
			return nil, fmt.Errorf("rootCAsSecrets: %w", err)
		}
		out = append(out, dynamic.FileOrContent(ca))
	}
	return out, nil
}

func (b *builder) clientCerts(ns string, secrets []string) ([]dynamic.Certificate, error) {
	var out []dynamic.Certificate
	for _, s := range secrets {
		c, k, err := b.tlsSecret(ns, s)
		if err != nil {
			return nil, fmt.Errorf("certificatesSecrets: %w", err)
		}
		out = append(out, dynamic.Certificate{CertFile: dynamic.FileOrContent(c), KeyFile: dynamic.FileOrContent(k)})
	}
	return out, nil
}

func (b *builder) transports(objs *Objects) {
	for _, t := range objs.ServersTransports {
		if !b.classMatches(t.Annotations) {
			continue
		}
		name := normalize(makeID(t.Namespace, t.Name))
		st, err := b.serversTransport(t)
		if err != nil {
			b.problem(v1alpha1.KindServersTransport, t.Namespace, t.Name, "", "", false, err)
			continue
		}
		b.conf.HTTP.ServersTransports[name] = st
	}
	for _, t := range objs.ServersTransportTCPs {
		if !b.classMatches(t.Annotations) {
			continue
		}
		name := normalize(makeID(t.Namespace, t.Name))
		st, err := b.serversTransportTCP(t)
		if err != nil {
			b.problem(v1alpha1.KindServersTransportTCP, t.Namespace, t.Name, "", "", false, err)
			continue
		}
		b.conf.TCP.ServersTransports[name] = st
	}
}

func (b *builder) serversTransport(t *v1alpha1.ServersTransport) (*dynamic.ServersTransport, error) {
	s := t.Spec
	out := &dynamic.ServersTransport{}
	out.SetDefaults()
	if s.Spiffe != nil {
		return nil, errSpiffe("spiffe")
	}
	out.ServerName, out.InsecureSkipVerify, out.DisableHTTP2, out.PeerCertURI = s.ServerName, s.InsecureSkipVerify, s.DisableHTTP2, s.PeerCertURI
	if s.MaxIdleConnsPerHost != 0 {
		out.MaxIdleConnsPerHost = s.MaxIdleConnsPerHost
	}
	var err error
	if out.RootCAs, err = b.rootCAs(t.Namespace, s.RootCAs, s.RootCAsSecrets); err != nil {
		return nil, err
	}
	if out.Certificates, err = b.clientCerts(t.Namespace, s.CertificatesSecrets); err != nil {
		return nil, err
	}
	if f := s.ForwardingTimeouts; f != nil {
		ft := out.ForwardingTimeouts
		for _, d := range []struct {
			name string
			v    *intstr.IntOrString
			dst  *ptypes.Duration
		}{
			{"dialTimeout", f.DialTimeout, &ft.DialTimeout},
			{"responseHeaderTimeout", f.ResponseHeaderTimeout, &ft.ResponseHeaderTimeout},
			{"idleConnTimeout", f.IdleConnTimeout, &ft.IdleConnTimeout},
			{"readIdleTimeout", f.ReadIdleTimeout, &ft.ReadIdleTimeout},
			{"pingTimeout", f.PingTimeout, &ft.PingTimeout},
		} {
			v, err := duration(d.v, time.Duration(*d.dst))
			if err != nil {
				return nil, fmt.Errorf("forwardingTimeouts.%s: %w", d.name, err)
			}
			*d.dst = v
		}
	}
	return out, nil
}

func (b *builder) serversTransportTCP(t *v1alpha1.ServersTransportTCP) (*dynamic.TCPServersTransport, error) {
	s := t.Spec
	out := &dynamic.TCPServersTransport{ProxyProtocol: s.ProxyProtocol}
	var err error
	if out.DialTimeout, err = duration(s.DialTimeout, 30*time.Second); err != nil {
		return nil, fmt.Errorf("dialTimeout: %w", err)
	}
	if out.DialKeepAlive, err = duration(s.DialKeepAlive, 15*time.Second); err != nil {
		return nil, fmt.Errorf("dialKeepAlive: %w", err)
	}
	if out.TerminationDelay, err = duration(s.TerminationDelay, 100*time.Millisecond); err != nil {
		return nil, fmt.Errorf("terminationDelay: %w", err)
	}
	if tc := s.TLS; tc != nil {
		if tc.Spiffe != nil {
			return nil, errSpiffe("tls.spiffe")
		}
		c := &dynamic.TLSClientConfig{ServerName: tc.ServerName, InsecureSkipVerify: tc.InsecureSkipVerify, PeerCertURI: tc.PeerCertURI}
		if c.RootCAs, err = b.rootCAs(t.Namespace, tc.RootCAs, nil); err != nil {
			return nil, err
		}
		if c.Certificates, err = b.clientCerts(t.Namespace, tc.CertificatesSecrets); err != nil {
			return nil, err
		}
		out.TLS = c
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// TCP and UDP

func (b *builder) ingressRouteTCPs(objs *Objects) {
	for _, ir := range objs.IngressRouteTCPs {
		if !b.classMatches(ir.Annotations) {
			continue
		}
		ns := ir.Namespace
		var tlsConf *dynamic.RouterTCPTLSConfig
		var tlsErr error
		if t := ir.Spec.TLS; t != nil {
			var opts *v1alpha1.TLSOptionRef
			if t.Options != nil {
				opts = &v1alpha1.TLSOptionRef{Name: t.Options.Name, Namespace: t.Options.Namespace}
			}
			var store *v1alpha1.TLSStoreRef
			if t.Store != nil {
				store = &v1alpha1.TLSStoreRef{Name: t.Store.Name, Namespace: t.Store.Namespace}
			}
			rt, err := b.routerTLS(ns, t.SecretName, opts, store, t.CertResolver, t.Domains)
			tlsErr = err
			if rt != nil {
				tlsConf = &dynamic.RouterTCPTLSConfig{Passthrough: t.Passthrough, Options: rt.Options, CertResolver: rt.CertResolver, Domains: rt.Domains}
			}
		}
		for _, r := range ir.Spec.Routes {
			key := normalize(makeID(ns, routeKey(ir.Name, r.Match)))
			if tlsErr != nil {
				b.problem(v1alpha1.KindIngressRouteTCP, ns, ir.Name, "tcp router", key, false, tlsErr)
				continue
			}
			router, err := b.routeTCP(ir, key, r)
			if err != nil {
				b.problem(v1alpha1.KindIngressRouteTCP, ns, ir.Name, "tcp router", key, false, err)
				continue
			}
			router.TLS = tlsConf
			b.conf.TCP.Routers[key] = router
		}
	}
}

func (b *builder) routeTCP(ir *v1alpha1.IngressRouteTCP, key string, r v1alpha1.RouteTCP) (*dynamic.TCPRouter, error) {
	ns := ir.Namespace
	if r.Match == "" {
		return nil, errors.New("route: match is empty")
	}
	router := &dynamic.TCPRouter{EntryPoints: ir.Spec.EntryPoints, Rule: r.Match, RuleSyntax: r.Syntax, Priority: r.Priority, Service: key}
	for _, m := range r.Middlewares {
		n, err := b.qualifiedRef(ns, m.Namespace, "middlewareTCP", m.Name)
		if err != nil {
			return nil, err
		}
		router.Middlewares = append(router.Middlewares, n)
	}
	if len(r.Services) == 0 {
		return nil, fmt.Errorf("route %q: no services", r.Match)
	}
	w := &dynamic.TCPWeightedRoundRobin{}
	services := map[string]*dynamic.TCPService{}
	for _, s := range r.Services {
		rns, err := b.refNamespace(ns, s.Namespace, "service", s.Name)
		if err != nil {
			return nil, err
		}
		if s.NodePortLB {
			return nil, fmt.Errorf("service %s/%s: nodePortLB is not supported", rns, s.Name)
		}
		native := b.opts.NativeLBByDefault
		if s.NativeLB != nil {
			native = *s.NativeLB
		}
		addrs, _, err := b.addresses(rns, s.Name, s.Port, native)
		if err != nil {
			return nil, err
		}
		lb := &dynamic.TCPServersLoadBalancer{ProxyProtocol: s.ProxyProtocol, TerminationDelay: s.TerminationDelay}
		if s.ServersTransport != "" {
			if strings.Contains(s.ServersTransport, "@") {
				lb.ServersTransport = s.ServersTransport
			} else {
				lb.ServersTransport = normalize(makeID(ns, s.ServersTransport))
			}
		}
		for _, a := range addrs {
			lb.Servers = append(lb.Servers, dynamic.TCPServer{Address: a, TLS: s.TLS})
		}
		child := normalize(fmt.Sprintf("%s-%s-%s", key, s.Name, portString(s.Port)))
		services[child] = &dynamic.TCPService{LoadBalancer: lb}
		w.Services = append(w.Services, dynamic.TCPWRRService{Name: child, Weight: weightOr1(s.Weight)})
	}
	for n, s := range services {
		b.conf.TCP.Services[n] = s
	}
	b.conf.TCP.Services[key] = &dynamic.TCPService{Weighted: w}
	return router, nil
}

func (b *builder) ingressRouteUDPs(objs *Objects) {
	for _, ir := range objs.IngressRouteUDPs {
		if !b.classMatches(ir.Annotations) {
			continue
		}
		ns := ir.Namespace
		for i, r := range ir.Spec.Routes {
			key := normalize(makeID(ns, fmt.Sprintf("%s-%d", ir.Name, i)))
			if err := b.routeUDP(ir, key, r); err != nil {
				b.problem(v1alpha1.KindIngressRouteUDP, ns, ir.Name, "udp router", key, false, err)
			}
		}
	}
}

func (b *builder) routeUDP(ir *v1alpha1.IngressRouteUDP, key string, r v1alpha1.RouteUDP) error {
	ns := ir.Namespace
	if len(r.Services) == 0 {
		return errors.New("route: no services")
	}
	w := &dynamic.UDPWeightedRoundRobin{}
	services := map[string]*dynamic.UDPService{}
	for _, s := range r.Services {
		rns, err := b.refNamespace(ns, s.Namespace, "service", s.Name)
		if err != nil {
			return err
		}
		if s.NodePortLB {
			return fmt.Errorf("service %s/%s: nodePortLB is not supported", rns, s.Name)
		}
		native := b.opts.NativeLBByDefault
		if s.NativeLB != nil {
			native = *s.NativeLB
		}
		addrs, _, err := b.addresses(rns, s.Name, s.Port, native)
		if err != nil {
			return err
		}
		lb := &dynamic.UDPServersLoadBalancer{}
		for _, a := range addrs {
			lb.Servers = append(lb.Servers, dynamic.UDPServer{Address: a})
		}
		child := normalize(fmt.Sprintf("%s-%s-%s", key, s.Name, portString(s.Port)))
		services[child] = &dynamic.UDPService{LoadBalancer: lb}
		w.Services = append(w.Services, dynamic.UDPWRRService{Name: child, Weight: weightOr1(s.Weight)})
	}
	for n, s := range services {
		b.conf.UDP.Services[n] = s
	}
	b.conf.UDP.Services[key] = &dynamic.UDPService{Weighted: w}
	b.conf.UDP.Routers[key] = &dynamic.UDPRouter{EntryPoints: ir.Spec.EntryPoints, Service: key}
	return nil
}

// errSpiffe refuses a transport's SPIFFE option by name: Switchyard has
// no SPIFFE Workload API client to get an X509-SVID from.
func errSpiffe(field string) error {
	return fmt.Errorf("%s is not supported: Switchyard has no SPIFFE Workload API client", field)
}
