package ingress

import (
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	netv1 "k8s.io/api/networking/v1"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/k8s"
)

// IngressClass controllers this provider serves: Traefik's (so existing
// IngressClasses keep working) and our own.
const (
	ControllerTraefik    = "traefik.io/ingress-controller"
	ControllerSwitchyard = "switchyard.io/ingress-controller"

	annotationIngressClass   = "kubernetes.io/ingress.class"
	annotationDefaultClass   = "ingressclass.kubernetes.io/is-default-class"
	defaultClassTraefik      = "traefik"
	defaultClassSwitchyard   = "switchyard"
	defaultBackendRouterName = "default-router"
	defaultBackendService    = "default-backend"
)

// store is what a rebuild reads: the informers' caches, or maps in tests.
type store interface {
	Ingresses() []*netv1.Ingress
	// IngressClasses is nil when class lookup is disabled.
	IngressClasses() []*netv1.IngressClass
	Service(ns, name string) *corev1.Service
	Secret(ns, name string) *corev1.Secret
	EndpointSlices(ns, service string) []*discoveryv1.EndpointSlice
}

// report is what a rebuild found wrong with one Ingress.
type report struct {
	Ingress *netv1.Ingress
	Errors  []string
}

// result is one rebuild: the configuration, the Ingresses served (their
// status is ours to write) and the problems found.
type result struct {
	Conf    *dynamic.Configuration
	Served  []*netv1.Ingress
	Reports []report
}

// translator turns the objects of a store into one configuration.
type translator struct {
	opts    static.KubernetesIngressProvider
	certs   *certCache
	conf    *dynamic.Configuration
	reports map[*netv1.Ingress]*report
	order   []*netv1.Ingress
	owners  map[string]*netv1.Ingress // router name -> the Ingress that made it
}

func (t *translator) report(ing *netv1.Ingress, err error) {
	r := t.reports[ing]
	if r == nil {
		r = &report{Ingress: ing}
		t.reports[ing] = r
		t.order = append(t.order, ing)
	}
	r.Errors = append(r.Errors, err.Error())
}

// problem records a router left out, so the API shows it disabled with why.
func (t *translator) problem(kind, name string, err error, warning bool) {
	t.conf.Problems = append(t.conf.Problems, dynamic.ObjectProblem{Kind: kind, Name: name, Error: err.Error(), Warning: warning})
}

// translate builds the configuration of every Ingress this provider serves.
func translate(opts static.KubernetesIngressProvider, s store, certs *certCache) result {
	t := &translator{opts: opts, certs: certs, conf: dynamic.New(), reports: map[*netv1.Ingress]*report{}, owners: map[string]*netv1.Ingress{}}
	var classes []*netv1.IngressClass
	if !opts.DisableIngressClassLookup && !opts.DisableClusterScopeResources {
		for _, ic := range s.IngressClasses() {
			if ic.Spec.Controller != ControllerTraefik && ic.Spec.Controller != ControllerSwitchyard {
				continue
			}
			if opts.IngressClass != "" && ic.Name != opts.IngressClass {
				continue
			}
			classes = append(classes, ic)
		}
	}
	ings := s.Ingresses()
	slices.SortFunc(ings, func(a, b *netv1.Ingress) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	var served []*netv1.Ingress
	for _, ing := range ings {
		if !shouldServe(opts.IngressClass, ing, classes) {
			continue
		}
		served = append(served, ing)
		t.ingress(s, ing)
	}
	slices.SortFunc(t.conf.Problems, func(a, b dynamic.ObjectProblem) int {
		return strings.Compare(a.Kind+"/"+a.Name+"/"+a.Error, b.Kind+"/"+b.Name+"/"+b.Error)
	})
	res := result{Conf: t.conf, Served: served}
	for _, ing := range t.order {
		res.Reports = append(res.Reports, *t.reports[ing])
	}
	return res
}

// shouldServe applies Traefik's class selection: an ingressClassName must
// name one of our IngressClasses; else the kubernetes.io/ingress.class
// annotation must equal the ingressClass option (or, with no option,
// "traefik" or "switchyard"); an Ingress with neither is served when no
// ingressClass option is set, or when one of our classes is the cluster's
// default (ingressclass.kubernetes.io/is-default-class).
func shouldServe(want string, ing *netv1.Ingress, classes []*netv1.IngressClass) bool {
	if ing.Spec.IngressClassName != nil {
		return slices.ContainsFunc(classes, func(ic *netv1.IngressClass) bool { return ic.Name == *ing.Spec.IngressClassName })
	}
	if v, ok := ing.Annotations[annotationIngressClass]; ok {
		if want == "" {
			return v == "" || v == defaultClassTraefik || v == defaultClassSwitchyard
		}
		return v == want
	}
	if want == "" {
		return true
	}
	return slices.ContainsFunc(classes, func(ic *netv1.IngressClass) bool { return ic.Annotations[annotationDefaultClass] == "true" })
}

// Normalize replaces every run of characters other than letters and
// digits with one "-", as Traefik does for the names it makes.
func Normalize(name string) string {
	return strings.Join(strings.FieldsFunc(name, func(c rune) bool {
		return !unicode.IsLetter(c) && !unicode.IsNumber(c)
	}), "-")
}

type pendingRouter struct {
	key    string
	router *dynamic.Router
	err    error // set: the router is left out with this problem
}

func (t *translator) ingress(s store, ing *netv1.Ingress) {
	// Router names first: a broken Ingress shows its routers disabled.
	type slot struct {
		rule netv1.IngressRule
		path netv1.HTTPIngressPath
		key  string
	}
	var slots []slot
	for _, rule := range ing.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		for _, pa := range rule.HTTP.Paths {
			slots = append(slots, slot{rule, pa, strings.TrimPrefix(Normalize(ing.Namespace+"-"+ing.Name+"-"+rule.Host+pa.Path), "-")})
		}
	}
	rc, err := parseRouterAnnotations(ing.Annotations)
	if err != nil {
		t.report(ing, err)
		for _, sl := range slots {
			t.problem("router", sl.key, fmt.Errorf("ingress %s/%s: %w", ing.Namespace, ing.Name, err), false)
		}
		return
	}
	tlsErrs := t.tls(s, ing)

	if len(ing.Spec.Rules) == 0 && ing.Spec.DefaultBackend != nil {
		t.defaultBackend(s, ing, rc)
	}

	groups := map[string][]pendingRouter{}
	var keys []string
	for _, sl := range slots {
		pr := pendingRouter{key: sl.key}
		rule, err := t.rule(sl.rule.Host, sl.path, rc)
		if err == nil {
			pr.router = t.router(rule, rc)
			var svcName string
			svcName, err = t.service(s, ing.Namespace, sl.path.Backend)
			pr.router.Service = svcName
		}
		if err != nil {
			err = fmt.Errorf("ingress %s/%s: host %q path %q: %w", ing.Namespace, ing.Name, sl.rule.Host, sl.path.Path, err)
			t.report(ing, err)
			pr.err = err
			if pr.router == nil {
				pr.router = &dynamic.Router{Rule: sl.key} // hash input only
			}
		}
		if _, ok := groups[sl.key]; !ok {
			keys = append(keys, sl.key)
		}
		groups[sl.key] = append(groups[sl.key], pr)
	}
	for _, key := range keys {
		g := groups[key]
		for _, pr := range g {
			name := key
			if len(g) > 1 {
				// Two paths that normalise alike: Traefik tells them
				// apart by a hash of the rule.
				sum := sha256.Sum256([]byte(pr.router.Rule))
				name = fmt.Sprintf("%s-%.10x", key, sum[:])
			}
			if o := t.owners[name]; o != nil && o != ing {
				// Names normalise: ns "a-b" Ingress "c" and ns "a"
				// Ingress "b-c" meet. The first (by namespace/name) keeps it.
				t.report(ing, fmt.Errorf("ingress %s/%s: router name %q is already made by ingress %s/%s; this path is left out", ing.Namespace, ing.Name, name, o.Namespace, o.Name))
				continue
			}
			t.owners[name] = ing
			if pr.err != nil {
				t.problem("router", name, pr.err, false)
				continue
			}
			t.conf.HTTP.Routers[name] = pr.router
			for _, err := range tlsErrs {
				// Served, but the API shows what is missing.
				t.problem("router", name, err, true)
			}
		}
	}
}

func (t *translator) router(rule string, rc *routerConfig) *dynamic.Router {
	r := &dynamic.Router{
		Rule:        rule,
		RuleSyntax:  rc.RuleSyntax,
		Priority:    rc.Priority,
		EntryPoints: rc.EntryPoints,
		Middlewares: rc.Middlewares,
	}
	if rc.TLS != nil {
		c := *rc.TLS
		r.TLS = &c
	}
	if rc.Observability != nil {
		o := *rc.Observability
		r.Observability = &o
	}
	return r
}

func (t *translator) defaultBackend(s store, ing *netv1.Ingress, rc *routerConfig) {
	if _, ok := t.conf.HTTP.Services[defaultBackendService]; ok {
		t.report(ing, errors.New("the default backend already exists (another Ingress defines one)"))
		return
	}
	svc, err := t.loadService(s, ing.Namespace, *ing.Spec.DefaultBackend)
	if err != nil {
		err = fmt.Errorf("ingress %s/%s: default backend: %w", ing.Namespace, ing.Name, err)
		t.report(ing, err)
		t.problem("router", defaultBackendRouterName, err, false)
		return
	}
	r := &dynamic.Router{
		Rule:        "PathPrefix(`/`)",
		RuleSyntax:  "v3",
		Priority:    math.MinInt32,
		Service:     defaultBackendService,
		EntryPoints: rc.EntryPoints,
		Middlewares: rc.Middlewares,
	}
	if rc.TLS != nil {
		c := *rc.TLS
		r.TLS = &c
	}
	t.conf.HTTP.Routers[defaultBackendRouterName] = r
	t.conf.HTTP.Services[defaultBackendService] = svc
}

// quote writes a rule argument: backticks as Traefik does, double quotes
// when the value holds a backtick (so no value can change the rule).
func quote(v string) string {
	if !strings.Contains(v, "`") {
		return "`" + v + "`"
	}
	return strconv.Quote(v)
}

// hostRule is Host(`h`), or a HostRegexp for a leading wildcard label.
func hostRule(host string) string {
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		return "HostRegexp(" + quote("^[a-zA-Z0-9-]+\\."+regexp.QuoteMeta(rest)+"$") + ")"
	}
	return "Host(" + quote(host) + ")"
}

// prefixRule matches a path prefix; strict matches whole path elements
// (/foo matches /foo, /foo/ and /foo/bar, not /foobar) as the Ingress
// specification says.
func prefixRule(path string, strict bool) string {
	if !strict || path == "/" {
		return "PathPrefix(" + quote(path) + ")"
	}
	p := strings.TrimRight(path, "/")
	if p == "" {
		return "PathPrefix(`/`)"
	}
	return "(Path(" + quote(p) + ") || PathPrefix(" + quote(p+"/") + "))"
}

// rule is the router rule of one host and path, in Traefik's shape.
func (t *translator) rule(host string, pa netv1.HTTPIngressPath, rc *routerConfig) (string, error) {
	var parts []string
	if host != "" {
		parts = append(parts, hostRule(host))
	}
	if pa.Path != "" {
		matcher := "PathPrefix"
		switch {
		case pa.PathType == nil || *pa.PathType == "" || *pa.PathType == netv1.PathTypeImplementationSpecific:
			if rc.PathMatcher != "" {
				matcher = rc.PathMatcher
			}
		case *pa.PathType == netv1.PathTypeExact:
			matcher = "Path"
		case *pa.PathType == netv1.PathTypePrefix:
		default:
			return "", fmt.Errorf("pathType %q is not supported", *pa.PathType)
		}
		switch matcher {
		case "PathPrefix":
			parts = append(parts, prefixRule(pa.Path, t.opts.StrictPrefixMatching))
		case "PathRegexp":
			if _, err := regexp.Compile(pa.Path); err != nil {
				return "", fmt.Errorf("path %q is not a valid regular expression for PathRegexp: %w", pa.Path, err)
			}
			parts = append(parts, "PathRegexp("+quote(pa.Path)+")")
		default:
			parts = append(parts, matcher+"("+quote(pa.Path)+")")
		}
	}
	if len(parts) == 0 {
		return "PathPrefix(`/`)", nil
	}
	return strings.Join(parts, " && "), nil
}

// service defines the service of one backend and returns its name.
func (t *translator) service(s store, ns string, b netv1.IngressBackend) (string, error) {
	svc, err := t.loadService(s, ns, b)
	if err != nil {
		return "", err
	}
	port := b.Service.Port.Name
	if port == "" {
		port = strconv.Itoa(int(b.Service.Port.Number))
	}
	name := Normalize(ns + "-" + b.Service.Name + "-" + port)
	t.conf.HTTP.Services[name] = svc
	return name, nil
}

// loadService builds the load balancer of one backend: the ready endpoints
// of its Service port, the ClusterIP (nativeLB), or the ExternalName.
func (t *translator) loadService(s store, ns string, b netv1.IngressBackend) (*dynamic.Service, error) {
	if b.Resource != nil {
		return nil, errors.New("resource backends are not supported")
	}
	if b.Service == nil {
		return nil, errors.New("missing service definition")
	}
	ref := ns + "/" + b.Service.Name
	svc := s.Service(ns, b.Service.Name)
	if svc == nil {
		return nil, fmt.Errorf("service %s not found", ref)
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName && !t.opts.AllowExternalNameServices {
		return nil, fmt.Errorf("service %s: externalName services not allowed (allowExternalNameServices)", ref)
	}
	sp, ok := k8s.ResolveTargetPort(svc, b.Service.Port.Number, b.Service.Port.Name)
	if !ok || (b.Service.Port.Number == 0 && b.Service.Port.Name == "") {
		return nil, fmt.Errorf("service %s: port %s not found", ref, portString(b.Service.Port))
	}
	sc, err := parseServiceAnnotations(svc.Annotations)
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", ref, err)
	}
	lb := &dynamic.ServersLoadBalancer{}
	lb.SetDefaults()
	lb.Sticky = sc.Sticky
	if sc.PassHostHeader != nil {
		lb.PassHostHeader = sc.PassHostHeader
	}
	lb.ServersTransport = sc.ServersTransport
	scheme := "http"
	if sp.Port == 443 || strings.HasPrefix(sp.Name, "https") {
		scheme = "https"
	}
	if sc.ServersScheme != "" {
		scheme = sc.ServersScheme
	}
	out := &dynamic.Service{LoadBalancer: lb}
	server := func(hostPort string) dynamic.Server {
		return dynamic.Server{URL: scheme + "://" + hostPort}
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		lb.Servers = []dynamic.Server{server(net.JoinHostPort(svc.Spec.ExternalName, strconv.Itoa(int(sp.Port))))}
		return out, nil
	}
	native := t.opts.NativeLBByDefault
	if sc.NativeLB != nil {
		native = *sc.NativeLB
	}
	if native {
		ip := svc.Spec.ClusterIP
		if ip == "" || ip == corev1.ClusterIPNone {
			return nil, fmt.Errorf("service %s: nativeLB needs a ClusterIP (headless or none)", ref)
		}
		lb.Servers = []dynamic.Server{server(net.JoinHostPort(ip, strconv.Itoa(int(sp.Port))))}
		return out, nil
	}
	for _, ep := range k8s.EndpointsFromSlices(s.EndpointSlices(ns, svc.Name), sp.Name) {
		if ep.Usable() {
			lb.Servers = append(lb.Servers, server(ep.HostPort()))
		}
	}
	if len(lb.Servers) == 0 && !t.opts.AllowEmptyServices {
		return nil, fmt.Errorf("service %s port %s: no ready endpoints (allowEmptyServices is off)", ref, portString(b.Service.Port))
	}
	return out, nil
}

func portString(p netv1.ServiceBackendPort) string {
	if p.Name != "" {
		return p.Name
	}
	return strconv.Itoa(int(p.Number))
}

// tls loads the certificates of the Ingress's tls section. A secret that
// is missing or bad is reported and left out; the others are served.
// As in Traefik, this only loads certificates: TLS on the routers comes
// from the router.tls annotations or the entrypoint.
func (t *translator) tls(s store, ing *netv1.Ingress) []error {
	var errs []error
	for _, tl := range ing.Spec.TLS {
		if tl.SecretName == "" {
			continue
		}
		sec := s.Secret(ing.Namespace, tl.SecretName)
		if sec == nil {
			err := fmt.Errorf("ingress %s/%s: tls: secret %s/%s not found", ing.Namespace, ing.Name, ing.Namespace, tl.SecretName)
			t.report(ing, err)
			errs = append(errs, err)
			continue
		}
		cert, err := t.certs.get(sec)
		if err != nil {
			err = fmt.Errorf("ingress %s/%s: tls: %w", ing.Namespace, ing.Name, err)
			t.report(ing, err)
			errs = append(errs, err)
			continue
		}
		if !slices.ContainsFunc(t.conf.TLS.Certificates, func(c *dynamic.CertAndStores) bool { return c.CertFile == cert.CertFile }) {
			t.conf.TLS.Certificates = append(t.conf.TLS.Certificates, cert)
		}
	}
	return errs
}

// certCache remembers the check of each secret version, so a rebuild does
// not parse every certificate again.
type certCache struct {
	m map[string]certEntry
}

type certEntry struct {
	cert *dynamic.CertAndStores
	err  error
	used bool
}

func newCertCache() *certCache { return &certCache{m: map[string]certEntry{}} }

func (c *certCache) get(sec *corev1.Secret) (*dynamic.CertAndStores, error) {
	key := sec.Namespace + "/" + sec.Name + "@" + sec.ResourceVersion + "/" + string(sec.UID)
	if e, ok := c.m[key]; ok && sec.ResourceVersion != "" {
		e.used = true
		c.m[key] = e
		return e.cert, e.err
	}
	cert, err := certFromSecret(sec)
	c.m[key] = certEntry{cert: cert, err: err, used: true}
	return cert, err
}

// sweep forgets the entries no rebuild used since the last sweep.
func (c *certCache) sweep() {
	for k, e := range c.m {
		if !e.used {
			delete(c.m, k)
			continue
		}
		e.used = false
		c.m[k] = e
	}
}

func certFromSecret(sec *corev1.Secret) (*dynamic.CertAndStores, error) {
	ref := sec.Namespace + "/" + sec.Name
	var missing []string
	crt, key := sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]
	if len(crt) == 0 {
		missing = append(missing, corev1.TLSCertKey)
	}
	if len(key) == 0 {
		missing = append(missing, corev1.TLSPrivateKeyKey)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("secret %s: missing or empty %s", ref, strings.Join(missing, ", "))
	}
	if _, err := tls.X509KeyPair(crt, key); err != nil {
		return nil, fmt.Errorf("secret %s: not a valid certificate and key: %w", ref, err)
	}
	return &dynamic.CertAndStores{Certificate: dynamic.Certificate{
		CertFile: dynamic.FileOrContent(crt),
		KeyFile:  dynamic.FileOrContent(key),
	}}, nil
}
