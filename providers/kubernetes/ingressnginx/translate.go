package ingressnginx

import (
	"cmp"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/k8s"
)

// objects is what the translation reads besides the Ingresses: the
// informer caches in the provider, maps in the tests.
type objects interface {
	Service(ns, name string) (*corev1.Service, bool)
	Endpoints(svc *corev1.Service, port corev1.ServicePort) []k8s.Endpoint
	Secret(ns, name string) (*corev1.Secret, bool)
	ConfigMap(ns, name string) (*corev1.ConfigMap, bool)
}

// result is one translation: the configuration, and the problems found on
// each Ingress ("namespace/name"), for logs and Events.
type result struct {
	conf     *dynamic.Configuration
	problems map[string][]problem
}

// translator builds one configuration from a set of Ingresses.
type translator struct {
	opts *static.KubernetesIngressNGINXProvider
	objs objects
	conf *dynamic.Configuration
	res  result
	// mains: "host|path" -> the router of a non-canary Ingress, for the
	// canaries to join.
	mains map[string]*mainRoute
	certs map[string]bool
	// hosts are every host named by a rule, sorted: a request for one of
	// them never reaches a wildcard or host-less rule (NGINX picks the
	// server by name first).
	hosts []string
	// tlsOption is the TLS option of the Ingress being translated
	// (auth-tls-secret), set on each TLS router it adds.
	tlsOption string
}

type mainRoute struct {
	routers  []string // the plain and TLS routers
	rule     string
	service  string
	ingress  string
	mws      []string // middlewares of the plain router
	tlsMws   []string
	weighted bool
	prio     int
}

func translate(opts *static.KubernetesIngressNGINXProvider, ings []*netv1.Ingress, objs objects) result {
	t := &translator{
		opts:  opts,
		objs:  objs,
		conf:  dynamic.New(),
		res:   result{problems: map[string][]problem{}},
		mains: map[string]*mainRoute{},
		certs: map[string]bool{},
	}
	t.res.conf = t.conf
	// Oldest first, as ingress-nginx resolves conflicts: the first
	// Ingress to claim a host and path keeps it.
	ings = slices.Clone(ings)
	slices.SortStableFunc(ings, func(a, b *netv1.Ingress) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	seen := map[string]bool{}
	for _, ing := range ings {
		for _, r := range ing.Spec.Rules {
			if r.Host != "" && !seen[r.Host] && !strings.ContainsAny(r.Host, "`\\") {
				seen[r.Host] = true
				t.hosts = append(t.hosts, r.Host)
			}
		}
	}
	slices.Sort(t.hosts)
	var canaries []*netv1.Ingress
	for _, ing := range ings {
		if v, _ := parseBoolAnn(ing.Annotations, "canary"); v {
			canaries = append(canaries, ing)
			continue
		}
		t.ingress(ing)
	}
	for _, ing := range canaries {
		t.canary(ing)
	}
	t.defaultBackendService()
	return t.res
}

func parseBoolAnn(ann map[string]string, name string) (bool, bool) {
	v, ok := ann[Prefix+name]
	if !ok {
		return false, false
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	return b, err == nil
}

func key(ing *netv1.Ingress) string { return ing.Namespace + "/" + ing.Name }

func (t *translator) report(ing *netv1.Ingress, p problem) {
	k := key(ing)
	t.res.problems[k] = append(t.res.problems[k], p)
}

// routeSpec is one path of one rule, ready to become routers.
type routeSpec struct {
	base    string // router name without the TLS suffix
	host    string
	path    string
	rule    string
	exact   bool
	prio    int
	backend netv1.IngressBackend
}

// ingress translates one non-canary Ingress.
func (t *translator) ingress(ing *netv1.Ingress) {
	c, probs := parseAnnotations(ing.Annotations)
	for _, p := range probs {
		t.report(ing, p)
	}
	specs, perr := t.routes(ing, c)
	if perr != nil {
		t.report(ing, *perr)
		probs = append(probs, *perr)
	}
	var fatal []string
	for _, p := range probs {
		if p.Fatal {
			fatal = append(fatal, p.String())
		}
	}
	// Middlewares and services are built once per Ingress; a failure
	// there (missing auth secret) is fatal too.
	if len(fatal) == 0 && c.AuthTLSSecret != "" {
		if err := t.authTLS(ing, c); err != nil {
			t.report(ing, *err)
			fatal = append(fatal, err.String())
		}
		defer func() { t.tlsOption = "" }()
	}
	var mws ingressMiddlewares
	if len(fatal) == 0 {
		var err *problem
		mws, err = t.middlewares(ing, c)
		if err != nil {
			t.report(ing, *err)
			fatal = append(fatal, err.String())
		}
	}
	errCodes := t.customHTTPErrors(c)
	if len(errCodes) > 0 && t.opts.DefaultBackendService == "" {
		p := problem{Annotation: "custom-http-errors", Msg: "needs the defaultBackendService option (the error pages come from the default backend); ignored"}
		t.report(ing, p)
		probs = append(probs, p)
		errCodes = nil
	}
	tlsHosts, anyTLS := t.tls(ing)
	for _, s := range specs {
		routers := t.routerNames(s.base)
		if len(fatal) > 0 {
			// Left out, shown disabled with the reason.
			for _, r := range routers {
				t.conf.Problems = append(t.conf.Problems, dynamic.ObjectProblem{Kind: "router", Name: r, Error: strings.Join(fatal, "; ")})
			}
			continue
		}
		svc := t.service(ing, c, s.backend, s.path)
		if svc == "" {
			continue
		}
		redirect := c.ForceSSL || (c.SSLRedirect == nil || *c.SSLRedirect) && (anyTLS && (tlsHosts[s.host] || tlsHosts["*"]))
		plain := mws.withRewrite(mws.list(redirect, s.base), s.base, s.path, s.exact)
		tlsList := mws.withRewrite(mws.list(false, s.base), s.base, s.path, s.exact)
		if c.AuthTLSSecret != "" {
			// ingress-nginx's Ssl-Client-* headers, on the plain router
			// too so that a client cannot forge them.
			// The name tells the variant: the provider-only fields are
			// not in the configuration's JSON hash, so a change of the
			// annotation alone must change a name to be applied.
			hn := ing.Namespace + "-" + ing.Name + "-auth-tls-headers"
			if c.AuthTLSPass {
				hn += "-pem"
			}
			h := t.mw(hn, &dynamic.Middleware{PassTLSClientCert: &dynamic.PassTLSClientCert{NGINXHeaders: true, PEM: c.AuthTLSPass}})
			plain = append([]string{h}, plain...)
			tlsList = append([]string{h}, tlsList...)
		}
		if len(errCodes) > 0 {
			// Outermost: NGINX's error_page also catches the statuses
			// its own directives answer (auth, limits).
			e := t.customErrorsMiddleware(ing, s.base, errCodes, s.backend)
			plain = append([]string{e}, plain...)
			tlsList = append([]string{e}, tlsList...)
		}
		m := &mainRoute{rule: s.rule, service: svc, ingress: key(ing), mws: plain, tlsMws: tlsList, prio: s.prio}
		t.addRouters(s.base, s.rule, svc, plain, tlsList, s.prio)
		m.routers = routers
		k := s.host + "|" + s.path
		if _, taken := t.mains[k]; !taken {
			t.mains[k] = m
		}
		for _, p := range probs {
			if !p.Fatal {
				for _, r := range routers {
					t.conf.Problems = append(t.conf.Problems, dynamic.ObjectProblem{Kind: "router", Name: r, Error: p.String(), Warning: true})
				}
			}
		}
	}
	if c.Passthrough && len(fatal) == 0 {
		t.passthrough(ing, c)
	}
	if c.FromToWWW && len(fatal) == 0 {
		t.fromToWWW(ing)
	}
	if db := ing.Spec.DefaultBackend; db != nil && len(fatal) == 0 {
		base := ing.Namespace + "-" + ing.Name + "-default-backend"
		svc := t.service(ing, c, *db, "/")
		if svc != "" {
			if len(ing.Spec.Rules) == 0 {
				t.addRouters(base, "PathPrefix(`/`)", svc, mws.list(false, base), mws.list(false, base), 2)
			}
			for i, r := range ing.Spec.Rules {
				if r.Host == "" {
					continue
				}
				hb := fmt.Sprintf("%s-rule-%d", base, i)
				t.addRouters(hb, hostRule(r.Host)+" && PathPrefix(`/`)", svc, mws.list(false, hb), mws.list(false, hb), priority(r.Host, "", false)-3)
			}
		}
	}
}

func (t *translator) routerNames(base string) []string {
	var out []string
	if !t.opts.DisableNonTLSRouters {
		out = append(out, base)
	}
	return append(out, base+"-tls")
}

// addRouters adds the plain router (unless disabled) and its TLS twin.
// ingress-nginx serves every server on both ports, with its default
// certificate when the Ingress has none.
func (t *translator) addRouters(base, rule, svc string, plain, tlsMws []string, prio int) {
	if !t.opts.DisableNonTLSRouters {
		r := &dynamic.Router{Rule: rule, Service: svc, Middlewares: plain, Priority: prio}
		if t.opts.HTTPEntryPoint != "" {
			r.EntryPoints = []string{t.opts.HTTPEntryPoint}
		}
		t.conf.HTTP.Routers[base] = r
	}
	r := &dynamic.Router{Rule: rule, Service: svc, Middlewares: tlsMws, Priority: prio, TLS: &dynamic.RouterTLSConfig{Options: t.tlsOption}}
	if t.opts.HTTPSEntryPoint != "" {
		r.EntryPoints = []string{t.opts.HTTPSEntryPoint}
	}
	t.conf.HTTP.Routers[base+"-tls"] = r
}

// Prefix and Exact paths must be plain paths when strictValidatePathType
// is on, as ingress-nginx validates them.
var strictPathRE = regexp.MustCompile(`^/[A-Za-z0-9/_.~\-]*$`)

// routes lists the paths of an Ingress with their rules.
func (t *translator) routes(ing *netv1.Ingress, c config) ([]routeSpec, *problem) {
	regex := c.UseRegex || c.RewriteTarget != ""
	var out []routeSpec
	var first *problem
	fail := func(format string, a ...any) {
		if first == nil {
			first = &problem{Msg: fmt.Sprintf(format, a...), Fatal: true}
		}
	}
	for i, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		if strings.ContainsAny(r.Host, "`\\") {
			fail("rule %d: invalid host %q", i, r.Host)
		}
		for j, p := range r.HTTP.Paths {
			// Every path gets its names even when invalid, so the API
			// shows its routers disabled with the reason.
			s := routeSpec{base: fmt.Sprintf("%s-%s-rule-%d-path-%d", ing.Namespace, ing.Name, i, j), host: r.Host, backend: p.Backend}
			out = append(out, s)
			path := p.Path
			if path == "" {
				path = "/"
			}
			pt := netv1.PathTypeImplementationSpecific
			if p.PathType != nil {
				pt = *p.PathType
			}
			if strings.ContainsAny(path, "`") || !strings.HasPrefix(path, "/") || !utf8.ValidString(path) {
				fail("rule %d path %d: invalid path %q", i, j, path)
				continue
			}
			if t.opts.StrictValidatePathType && pt != netv1.PathTypeImplementationSpecific && !strictPathRE.MatchString(path) {
				fail("rule %d path %d: path %q has characters a %s path may not have (strictValidatePathType); use pathType ImplementationSpecific for a regular expression", i, j, path, pt)
				continue
			}
			pr, err := pathRule(path, pt, regex)
			if err != nil {
				fail("rule %d path %d: %v", i, j, err)
				continue
			}
			rule := pr
			if r.Host != "" {
				rule = t.hostsRule(r.Host, c.ServerAlias) + " && " + pr
			}
			rule += t.exclusions(r.Host)
			s.path, s.rule, s.exact = path, rule, pt == netv1.PathTypeExact
			s.prio = priority(r.Host, path, s.exact)
			out[len(out)-1] = s
		}
	}
	return out, first
}

// Priorities order routers as NGINX picks a server and a location: a
// server named exactly before a wildcard one before the default server
// (rules without host); inside one, an exact location before the others,
// and the longest path first (ingress-nginx sorts regex locations by
// length too). Canary routers sit just above their main route (+1 to +3).
const (
	prioExactHost    = 1_000_000
	prioWildcardHost = 500_000
	prioExactPath    = 200_000
)

func priority(host, path string, exact bool) int {
	p := min(len(path), 40_000) * 4
	if exact {
		p += prioExactPath
	}
	switch {
	case strings.HasPrefix(host, "*."):
		p += prioWildcardHost
	case host != "":
		p += prioExactHost
	}
	return p + 4
}

// maxExclusions bounds the hosts a wildcard or host-less rule excludes;
// beyond it they are not excluded (documented).
const maxExclusions = 256

// exclusions keeps a wildcard rule off the hosts named exactly, and a
// host-less rule off every named host, as NGINX sends a request to the
// server of its name first and to the default server last.
func (t *translator) exclusions(host string) string {
	var b strings.Builder
	n := 0
	for _, h := range t.hosts {
		if h == host {
			continue
		}
		switch {
		case host == "":
		case strings.HasPrefix(host, "*."):
			if strings.HasPrefix(h, "*.") || !wildcardMatches(host, h) {
				continue
			}
		default:
			continue
		}
		if n++; n > maxExclusions {
			return ""
		}
		b.WriteString(" && !" + hostRule(h))
	}
	return b.String()
}

func wildcardMatches(wild, h string) bool {
	rest := strings.TrimPrefix(wild, "*")
	label, ok := strings.CutSuffix(h, rest)
	return ok && label != "" && !strings.Contains(label, ".")
}

// hostRule matches a host as ingress-nginx does: exactly, or "*.x" one
// label deep.
func hostRule(h string) string {
	if rest, ok := strings.CutPrefix(h, "*."); ok {
		return "HostRegexp(`^[^.]+\\." + regexp.QuoteMeta(rest) + "$`)"
	}
	return "Host(`" + h + "`)"
}

// pathRule is ingress-nginx's matching of one path: Exact is exact;
// Prefix matches whole path elements (/foo matches /foo and /foo/bar, not
// /foobar); ImplementationSpecific is NGINX's plain prefix. With use-regex
// (or rewrite-target) the path is a case-insensitive regular expression
// anchored at the start, as NGINX's "location ~*".
func pathRule(path string, pt netv1.PathType, regex bool) (string, error) {
	if pt == netv1.PathTypeExact {
		return "Path(`" + path + "`)", nil
	}
	if regex {
		if _, err := regexp.Compile("(?i)^" + path); err != nil {
			return "", fmt.Errorf("path %q is not a regular expression: %w", path, err)
		}
		return "PathRegexp(`(?i)^" + path + "`)", nil
	}
	if pt == netv1.PathTypePrefix {
		p := strings.TrimRight(path, "/")
		if p == "" {
			return "PathPrefix(`/`)", nil
		}
		return "(Path(`" + p + "`) || PathPrefix(`" + p + "/`))", nil
	}
	return "PathPrefix(`" + path + "`)", nil
}

// tls adds the certificates of an Ingress and tells which hosts have TLS
// ("*" when a TLS entry names no host).
func (t *translator) tls(ing *netv1.Ingress) (map[string]bool, bool) {
	hosts := map[string]bool{}
	for _, e := range ing.Spec.TLS {
		if len(e.Hosts) == 0 {
			hosts["*"] = true
		}
		for _, h := range e.Hosts {
			hosts[h] = true
		}
		if e.SecretName == "" {
			continue
		}
		k := ing.Namespace + "/" + e.SecretName
		if t.certs[k] {
			continue
		}
		sec, ok := t.objs.Secret(ing.Namespace, e.SecretName)
		if !ok {
			t.report(ing, problem{Msg: fmt.Sprintf("TLS secret %s not found; the default certificate is served", k)})
			continue
		}
		crt, key := sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]
		if len(crt) == 0 || len(key) == 0 {
			t.report(ing, problem{Msg: fmt.Sprintf("TLS secret %s has no tls.crt or tls.key; the default certificate is served", k)})
			continue
		}
		t.certs[k] = true
		t.conf.TLS.Certificates = append(t.conf.TLS.Certificates, &dynamic.CertAndStores{
			Certificate: dynamic.Certificate{CertFile: dynamic.FileOrContent(crt), KeyFile: dynamic.FileOrContent(key)},
		})
	}
	return hosts, len(ing.Spec.TLS) > 0
}

// service defines the load balancer of one backend of an Ingress and
// returns its name ("" when the backend cannot be served; the problem is
// reported and the routers reference a service that does not exist, so
// the API shows them with that error).
func (t *translator) service(ing *netv1.Ingress, c config, b netv1.IngressBackend, path string) string {
	if b.Resource != nil || b.Service == nil {
		t.report(ing, problem{Msg: "resource backends are not supported"})
		return ""
	}
	port := b.Service.Port.Name
	if port == "" {
		port = strconv.Itoa(int(b.Service.Port.Number))
	}
	name := fmt.Sprintf("%s-%s-%s-%s", ing.Namespace, ing.Name, b.Service.Name, port)
	if _, done := t.conf.HTTP.Services[name]; done {
		return name
	}
	svc, ok := t.objs.Service(ing.Namespace, b.Service.Name)
	if !ok {
		t.report(ing, problem{Msg: fmt.Sprintf("service %s/%s not found", ing.Namespace, b.Service.Name)})
		return name
	}
	lb := t.loadBalancer(ing, c, svc, b.Service.Port.Number, b.Service.Port.Name, path)
	if lb == nil {
		return name
	}
	if len(lb.Servers) == 0 && c.DefaultBack != "" {
		// default-backend: the Service's first port serves while the
		// backend has no usable endpoint, as in ingress-nginx.
		if db, ok := t.objs.Service(ing.Namespace, c.DefaultBack); ok && len(db.Spec.Ports) > 0 {
			if dlb := t.loadBalancer(ing, c, db, db.Spec.Ports[0].Port, "", path); dlb != nil {
				lb.Servers = dlb.Servers
			}
		} else {
			t.report(ing, problem{Annotation: "default-backend", Msg: fmt.Sprintf("service %s/%s not found or without ports", ing.Namespace, c.DefaultBack)})
		}
	}
	t.conf.HTTP.Services[name] = &dynamic.Service{LoadBalancer: lb}
	return name
}

func (t *translator) loadBalancer(ing *netv1.Ingress, c config, svc *corev1.Service, number int32, portName, path string) *dynamic.ServersLoadBalancer {
	sp, ok := k8s.ResolveTargetPort(svc, number, portName)
	if !ok && svc.Spec.Type != corev1.ServiceTypeExternalName {
		t.report(ing, problem{Msg: fmt.Sprintf("service %s/%s has no port %s", svc.Namespace, svc.Name, cmp.Or(portName, strconv.Itoa(int(number))))})
		return nil
	}
	scheme := "http"
	switch c.Protocol {
	case "HTTPS", "GRPCS":
		scheme = "https"
	case "GRPC":
		scheme = "h2c"
	}
	pass := true
	lb := &dynamic.ServersLoadBalancer{Strategy: dynamic.StrategyWRR, PassHostHeader: &pass, Servers: []dynamic.Server{}}
	switch {
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		if t.opts.DisableSvcExternalName {
			t.report(ing, problem{Msg: fmt.Sprintf("service %s/%s is of type ExternalName and disableSvcExternalName is set", svc.Namespace, svc.Name)})
			return nil
		}
		p := number
		if ok {
			p = sp.Port
		}
		lb.Servers = append(lb.Servers, dynamic.Server{URL: scheme + "://" + net.JoinHostPort(svc.Spec.ExternalName, strconv.Itoa(int(p)))})
	case c.ServiceUp && svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone:
		lb.Servers = append(lb.Servers, dynamic.Server{URL: scheme + "://" + net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(sp.Port)))})
	default:
		for _, e := range t.objs.Endpoints(svc, sp) {
			if e.Usable() {
				lb.Servers = append(lb.Servers, dynamic.Server{URL: scheme + "://" + e.HostPort()})
			}
		}
	}
	if a := c.Affinity; a != nil {
		cp := a.Path
		if cp == "" {
			cp = "/"
			if !c.UseRegex && c.RewriteTarget == "" {
				cp = path
			}
		}
		lb.Sticky = &dynamic.Sticky{Cookie: &dynamic.Cookie{
			Name: a.Name, Secure: a.Secure, HTTPOnly: true, SameSite: a.SameSite, MaxAge: a.MaxAge, Path: &cp, Domain: a.Domain,
		}}
	}
	lb.ServersTransport = t.transport(ing, c)
	return lb
}

// transport defines the serversTransport of an Ingress: the provider's
// timeouts, the Ingress's own, TLS to the backend.
func (t *translator) transport(ing *netv1.Ingress, c config) string {
	o := t.opts
	sec := func(n int) ptypes.Duration { return ptypes.Duration(time.Duration(n) * time.Second) }
	ct, rt, st := o.ProxyConnectTimeout, o.ProxyReadTimeout, o.ProxySendTimeout
	if c.ConnectTO != nil {
		ct = *c.ConnectTO
	}
	if c.ReadTO != nil {
		rt = *c.ReadTO
	}
	if c.SendTO != nil {
		st = *c.SendTO
	}
	tr := &dynamic.ServersTransport{
		MaxIdleConnsPerHost: 200,
		ForwardingTimeouts: &dynamic.ForwardingTimeouts{
			DialTimeout:           sec(ct),
			ResponseHeaderTimeout: sec(rt),
			ReadTimeout:           sec(rt),
			WriteTimeout:          sec(st),
			IdleConnTimeout:       sec(o.UpstreamKeepaliveTimeout),
			PingTimeout:           ptypes.Duration(15 * time.Second),
		},
	}
	tls := c.Protocol == "HTTPS" || c.Protocol == "GRPCS"
	name := "default"
	if c.ConnectTO != nil || c.ReadTO != nil || c.SendTO != nil || tls {
		name = ing.Namespace + "-" + ing.Name
	}
	if tls {
		// ingress-nginx does not verify the backend's certificate unless
		// proxy-ssl-verify is on.
		tr.InsecureSkipVerify = !c.ProxySSLVerify
		if c.ProxySSLName != "" {
			tr.ServerName = c.ProxySSLName
		}
		if c.ProxySSLSecret != "" {
			if sec, ok := t.secretRef(ing, c.ProxySSLSecret); ok {
				if ca := sec.Data["ca.crt"]; len(ca) > 0 {
					tr.RootCAs = []dynamic.FileOrContent{dynamic.FileOrContent(ca)}
				}
				if crt, key := sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]; len(crt) > 0 && len(key) > 0 {
					tr.Certificates = []dynamic.Certificate{{CertFile: dynamic.FileOrContent(crt), KeyFile: dynamic.FileOrContent(key)}}
				}
			} else {
				t.report(ing, problem{Annotation: "proxy-ssl-secret", Msg: "secret not found or not allowed (allowCrossNamespaceResources)"})
			}
		}
	}
	t.conf.HTTP.ServersTransports[name] = tr
	return name
}

// secretRef resolves "name" or "namespace/name" from an Ingress, within
// the allowCrossNamespaceResources rule.
func (t *translator) secretRef(ing *netv1.Ingress, ref string) (*corev1.Secret, bool) {
	ns, name, ok := t.ref(ing, ref)
	if !ok {
		return nil, false
	}
	return t.objs.Secret(ns, name)
}

func (t *translator) ref(ing *netv1.Ingress, ref string) (string, string, bool) {
	ns, name, found := strings.Cut(ref, "/")
	if !found {
		return ing.Namespace, ref, true
	}
	if ns != ing.Namespace && !t.opts.AllowCrossNamespaceResources {
		return "", "", false
	}
	return ns, name, true
}

// defaultBackendName names the defaultBackendService's router and service.
const defaultBackendName = "default-backend"

// defaultBackendService is the provider's catch-all router.
func (t *translator) defaultBackendService() {
	ref := t.opts.DefaultBackendService
	if ref == "" {
		return
	}
	ns, name, _ := strings.Cut(ref, "/")
	svc, ok := t.objs.Service(ns, name)
	const base = defaultBackendName
	svcName := base
	if ok && len(svc.Spec.Ports) > 0 {
		fake := &netv1.Ingress{}
		fake.Namespace, fake.Name = ns, name
		if lb := t.loadBalancer(fake, config{}, svc, svc.Spec.Ports[0].Port, svc.Spec.Ports[0].Name, "/"); lb != nil {
			t.conf.HTTP.Services[svcName] = &dynamic.Service{LoadBalancer: lb}
		}
	}
	t.addRouters(base, "PathPrefix(`/`)", svcName, nil, nil, 1)
}

// canary joins a canary Ingress to the routes of the main Ingress with
// the same host and path: by header, then by cookie, then by weight, as
// ingress-nginx decides.
func (t *translator) canary(ing *netv1.Ingress) {
	c, probs := parseAnnotations(ing.Annotations)
	for _, p := range probs {
		t.report(ing, p)
		if p.Fatal {
			return
		}
	}
	specs, perr := t.routes(ing, c)
	if perr != nil {
		t.report(ing, *perr)
		return
	}
	for _, s := range specs {
		m, ok := t.mains[s.host+"|"+s.path]
		if !ok {
			t.report(ing, problem{Msg: fmt.Sprintf("canary for host %q path %q: no main Ingress serves them; ignored", s.host, s.path)})
			continue
		}
		if m.ingress == key(ing) {
			continue
		}
		svc := t.service(ing, c, s.backend, s.path)
		if svc == "" {
			continue
		}
		mainBase := strings.TrimSuffix(m.routers[0], "-tls")
		// Every canary route carries the main route's middlewares (the
		// canary Ingress's own annotations apply to its backend only, as
		// in ingress-nginx).
		// Header beats cookie beats weight: header routers at +3/+2,
		// cookie routers at +1, all below the next longer path (+4).
		add := func(suffix, extra, target string, offset int) {
			rule := "(" + m.rule + ") && " + extra
			t.addRouters(mainBase+suffix, rule, target, m.mws, m.tlsMws, m.prio+offset)
		}
		if h := c.CanaryCookie; h != "" {
			q := regexp.QuoteMeta(h)
			add("-canary-cookie", "HeaderRegexp(`Cookie`, `(^|;\\s*)"+q+"=always(;|$)`)", svc, 1)
			add("-canary-cookie-never", "HeaderRegexp(`Cookie`, `(^|;\\s*)"+q+"=never(;|$)`)", m.service, 1)
		}
		if h := c.CanaryHeader; h != "" {
			switch {
			case c.CanaryHeaderValue != "":
				add("-canary-header", "Header(`"+h+"`, `"+c.CanaryHeaderValue+"`)", svc, 3)
			case c.CanaryHeaderRegex != "":
				add("-canary-header", "HeaderRegexp(`"+h+"`, `"+strings.ReplaceAll(c.CanaryHeaderRegex, "`", "")+"`)", svc, 3)
			default:
				add("-canary-header", "Header(`"+h+"`, `always`)", svc, 3)
				add("-canary-header-never", "Header(`"+h+"`, `never`)", m.service, 3)
			}
		}
		if c.CanaryWeight > 0 && !m.weighted {
			wname := mainBase + "-canary"
			mw, cw := c.CanaryWeightTotal-c.CanaryWeight, c.CanaryWeight
			t.conf.HTTP.Services[wname] = &dynamic.Service{Weighted: &dynamic.WeightedRoundRobin{Services: []dynamic.WRRService{
				{Name: m.service, Weight: &mw}, {Name: svc, Weight: &cw},
			}}}
			for _, r := range m.routers {
				if rt, ok := t.conf.HTTP.Routers[r]; ok {
					rt.Service = wname
				}
			}
			m.weighted = true
		}
	}
}

// customHTTPErrors is the statuses an Ingress's errors go to the default
// backend for: the annotation, else the customHTTPErrors option.
func (t *translator) customHTTPErrors(c config) []string {
	if c.CustomHTTPErrorsSet {
		return c.CustomHTTPErrors
	}
	codes, _ := parseStatuses(strings.Join(t.opts.CustomHTTPErrors, ","))
	return codes
}

// customErrorsMiddleware sends the responses of one route with those
// statuses to the default backend, with ingress-nginx's headers.
func (t *translator) customErrorsMiddleware(ing *netv1.Ingress, base string, codes []string, b netv1.IngressBackend) string {
	hdr := map[string]string{"X-Namespace": ing.Namespace, "X-Ingress-Name": ing.Name}
	if s := b.Service; s != nil {
		hdr["X-Service-Name"] = s.Name
		hdr["X-Service-Port"] = s.Port.Name
		if s.Port.Number != 0 {
			hdr["X-Service-Port"] = strconv.Itoa(int(s.Port.Number))
		}
	}
	return t.mw(base+"-custom-http-errors", &dynamic.Middleware{Errors: &dynamic.ErrorPage{
		Status: codes, Service: defaultBackendName, Query: "/", NGINXHeaders: true, RequestHeaders: hdr,
	}})
}

// fromToWWW answers the other form of each host of the Ingress (www.<host>
// for <host>, <host> for www.<host>) with a 308 to the same scheme, port,
// path and query on the host the rule names, as ingress-nginx's
// from-to-www-redirect. Wildcard hosts are skipped, and so is a form that
// an Ingress rule names itself (that rule serves it).
func (t *translator) fromToWWW(ing *netv1.Ingress) {
	for i, r := range ing.Spec.Rules {
		h := r.Host
		if h == "" || strings.HasPrefix(h, "*") || strings.ContainsAny(h, "`\\") {
			continue
		}
		from := "www." + h
		if rest, ok := strings.CutPrefix(h, "www."); ok {
			from = rest
		}
		if _, named := slices.BinarySearch(t.hosts, from); named {
			continue
		}
		base := fmt.Sprintf("%s-%s-rule-%d-from-to-www-redirect", ing.Namespace, ing.Name, i)
		mw := t.mw(base, &dynamic.Middleware{RedirectRegex: &dynamic.RedirectRegex{
			Regex: `^(https?)://[^/:]+(:[0-9]+)?(.*)$`, Replacement: "${1}://" + escapeDollar(h) + "${2}${3}", StatusCode: 308,
		}})
		t.addRouters(base, hostRule(from)+" && PathPrefix(`/`)", "noop@internal", []string{mw}, []string{mw}, priority(from, "", false))
	}
}

// authTLS adds the TLS option of auth-tls-secret (client certificates
// checked against its ca.crt, as auth-tls-verify-client asks) and makes it
// the option of the Ingress's TLS routers. Options apply per host (SNI):
// another Ingress of the same host with other options makes the host use
// the default options, reported on the routers. A missing secret or CA
// leaves the Ingress out rather than serve it without the check.
func (t *translator) authTLS(ing *netv1.Ingress, c config) *problem {
	sec, ok := t.secretRef(ing, c.AuthTLSSecret)
	if !ok {
		return &problem{Annotation: "auth-tls-secret", Msg: fmt.Sprintf("secret %s not found (or in another namespace without allowCrossNamespaceResources): the Ingress is not served", c.AuthTLSSecret), Fatal: true}
	}
	ca := sec.Data["ca.crt"]
	if len(ca) == 0 {
		return &problem{Annotation: "auth-tls-secret", Msg: fmt.Sprintf("secret %s has no ca.crt: the Ingress is not served", c.AuthTLSSecret), Fatal: true}
	}
	name := ing.Namespace + "-" + ing.Name + "-auth-tls"
	opt := dynamic.TLSOptions{ClientAuth: dynamic.ClientAuth{ClientAuthType: c.AuthTLSVerify}}
	if c.AuthTLSVerify != "NoClientCert" && c.AuthTLSVerify != "RequestClientCert" {
		opt.ClientAuth.CAFiles = []dynamic.FileOrContent{dynamic.FileOrContent(ca)}
	}
	t.conf.TLS.Options[name] = opt
	t.tlsOption = name
	return nil
}

// passthrough adds, for each host of the Ingress, a TCP router
// HostSNI(host) with TLS passthrough on the TLS entrypoint, to the
// backend of the rule's "/" path (else its first path), as
// ingress-nginx's ssl-passthrough: TLS connections for the host go
// untouched to the endpoints, which terminate TLS; annotations acting on
// HTTP do not apply to them. Plain HTTP for the host keeps its HTTP routers.
func (t *translator) passthrough(ing *netv1.Ingress, c config) {
	for i, r := range ing.Spec.Rules {
		if r.Host == "" || r.HTTP == nil || len(r.HTTP.Paths) == 0 || strings.ContainsAny(r.Host, "`\\") {
			t.report(ing, problem{Annotation: "ssl-passthrough", Msg: fmt.Sprintf("rule %d: needs a host and a path; not passed through", i)})
			continue
		}
		b := r.HTTP.Paths[0].Backend
		for _, p := range r.HTTP.Paths {
			if p.Path == "/" || p.Path == "" {
				b = p.Backend
				break
			}
		}
		if b.Service == nil {
			continue
		}
		svc, ok := t.objs.Service(ing.Namespace, b.Service.Name)
		if !ok {
			continue // reported by the HTTP routers
		}
		lb := t.loadBalancer(ing, c, svc, b.Service.Port.Number, b.Service.Port.Name, "/")
		if lb == nil {
			continue
		}
		base := fmt.Sprintf("%s-%s-rule-%d-ssl-passthrough", ing.Namespace, ing.Name, i)
		tlb := &dynamic.TCPServersLoadBalancer{Servers: []dynamic.TCPServer{}}
		for _, s := range lb.Servers {
			_, hp, _ := strings.Cut(s.URL, "://")
			tlb.Servers = append(tlb.Servers, dynamic.TCPServer{Address: hp})
		}
		t.conf.TCP.Services[base] = &dynamic.TCPService{LoadBalancer: tlb}
		rt := &dynamic.TCPRouter{Rule: "HostSNI(`" + r.Host + "`)", Service: base, TLS: &dynamic.RouterTCPTLSConfig{Passthrough: true}}
		if t.opts.HTTPSEntryPoint != "" {
			rt.EntryPoints = []string{t.opts.HTTPSEntryPoint}
		}
		t.conf.TCP.Routers[base] = rt
	}
}

// hostsRule matches the host of a rule and its server-alias names; an
// alias that an Ingress rule names itself is left to that rule, as
// ingress-nginx ignores an alias that is another server's name.
func (t *translator) hostsRule(h string, aliases []string) string {
	parts := []string{hostRule(h)}
	for _, a := range aliases {
		if _, named := slices.BinarySearch(t.hosts, a); named || a == h {
			continue
		}
		parts = append(parts, hostRule(a))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, " || ") + ")"
}
