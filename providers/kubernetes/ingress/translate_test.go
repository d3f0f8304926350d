package ingress

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/routers/rules"
)

type fakeStore struct {
	ings     []*netv1.Ingress
	classes  []*netv1.IngressClass
	services map[string]*corev1.Service
	secrets  map[string]*corev1.Secret
	slices   map[string][]*discoveryv1.EndpointSlice
}

func (f *fakeStore) Ingresses() []*netv1.Ingress           { return append([]*netv1.Ingress(nil), f.ings...) }
func (f *fakeStore) IngressClasses() []*netv1.IngressClass { return f.classes }
func (f *fakeStore) Service(ns, n string) *corev1.Service  { return f.services[ns+"/"+n] }
func (f *fakeStore) Secret(ns, n string) *corev1.Secret    { return f.secrets[ns+"/"+n] }
func (f *fakeStore) EndpointSlices(ns, s string) []*discoveryv1.EndpointSlice {
	return f.slices[ns+"/"+s]
}

func svc(name string, ann map[string]string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Annotations: ann},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.10", Ports: ports}}
}

func slice(svcName, port string, target int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "ns", Name: svcName + "-x", Labels: map[string]string{discoveryv1.LabelServiceName: svcName}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &port, Port: &target}},
		Endpoints:   eps,
	}
}

func ep(ip string, ready, terminating bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready, Terminating: &terminating}}
}

func baseStore() *fakeStore {
	return &fakeStore{
		services: map[string]*corev1.Service{
			"ns/web": svc("web", nil, corev1.ServicePort{Name: "http", Port: 80, TargetPort: intstr.FromInt(8080)}),
			"ns/tls": svc("tls", map[string]string{PrefixSwitchyard + "service.sticky.cookie.name": "sid"},
				corev1.ServicePort{Name: "https-api", Port: 8443}),
			"ns/ext": {ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ext"},
				Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.net", Ports: []corev1.ServicePort{{Port: 80}}}},
			"ns/empty": svc("empty", nil, corev1.ServicePort{Name: "http", Port: 80}),
		},
		slices: map[string][]*discoveryv1.EndpointSlice{
			"ns/web": {slice("web", "http", 8080, ep("10.0.0.1", true, false), ep("10.0.0.2", false, true), ep("10.0.0.3", true, false))},
			"ns/tls": {slice("tls", "https-api", 9443, ep("10.0.1.1", true, false))},
		},
	}
}

func ing(name string, ann map[string]string, rules ...netv1.IngressRule) *netv1.Ingress {
	return &netv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Annotations: ann}, Spec: netv1.IngressSpec{Rules: rules}}
}

func rule(host string, paths ...netv1.HTTPIngressPath) netv1.IngressRule {
	return netv1.IngressRule{Host: host, IngressRuleValue: netv1.IngressRuleValue{HTTP: &netv1.HTTPIngressRuleValue{Paths: paths}}}
}

func path(p string, pt netv1.PathType, service string, port int32) netv1.HTTPIngressPath {
	return netv1.HTTPIngressPath{Path: p, PathType: &pt, Backend: netv1.IngressBackend{Service: &netv1.IngressServiceBackend{Name: service, Port: netv1.ServiceBackendPort{Number: port}}}}
}

func TestTranslate(t *testing.T) {
	s := baseStore()
	s.ings = []*netv1.Ingress{
		ing("a", map[string]string{PrefixTraefik + "router.entrypoints": "web, websecure", PrefixTraefik + "router.priority": "42",
			PrefixSwitchyard + "router.middlewares": "auth@file", PrefixTraefik + "router.tls": "true"},
			rule("a.example.com", path("/x", netv1.PathTypeExact, "web", 80), path("/y", netv1.PathTypePrefix, "tls", 8443))),
		ing("ext", nil, rule("", path("/ext", netv1.PathTypePrefix, "ext", 80))),
		ing("empty", nil, rule("e.example.com", path("/", netv1.PathTypePrefix, "empty", 80))),
		ing("bad", map[string]string{PrefixTraefik + "router.nosuch": "1"}, rule("b.example.com", path("/", netv1.PathTypePrefix, "web", 80))),
		ing("other", map[string]string{annotationIngressClass: "nginx"}, rule("o.example.com", path("/", netv1.PathTypePrefix, "web", 80))),
	}
	res := translate(static.KubernetesIngressProvider{}, s, newCertCache())
	c := res.Conf
	r := c.HTTP.Routers["ns-a-a-example-com-x"]
	if r == nil || r.Rule != "Host(`a.example.com`) && Path(`/x`)" || r.Priority != 42 || r.Service != "ns-web-80" ||
		strings.Join(r.EntryPoints, ",") != "web,websecure" || r.Middlewares[0] != "auth@file" || r.TLS == nil {
		t.Fatalf("router x: %+v", r)
	}
	if got := c.HTTP.Services["ns-web-80"].LoadBalancer.Servers; len(got) != 2 || got[0].URL != "http://10.0.0.1:8080" || got[1].URL != "http://10.0.0.3:8080" {
		t.Errorf("web servers (ready, not terminating): %+v", got)
	}
	tlsSvc := c.HTTP.Services["ns-tls-8443"].LoadBalancer
	if tlsSvc.Servers[0].URL != "https://10.0.1.1:9443" || tlsSvc.Sticky == nil || tlsSvc.Sticky.Cookie.Name != "sid" {
		t.Errorf("https port name gives https; sticky annotation: %+v", tlsSvc)
	}
	if _, ok := c.HTTP.Routers["ns-ext-ext"]; ok {
		t.Error("ExternalName service served without allowExternalNameServices")
	}
	if _, ok := c.HTTP.Routers["ns-empty-e-example-com"]; ok {
		t.Error("service without endpoints served without allowEmptyServices")
	}
	if _, ok := c.HTTP.Routers["ns-other-o-example-com"]; ok {
		t.Error("Ingress of class nginx served")
	}
	var problems []string
	for _, p := range c.Problems {
		problems = append(problems, p.Name+": "+p.Error)
	}
	all := strings.Join(problems, "\n")
	for _, want := range []string{"ns-bad-b-example-com: ingress ns/bad: annotation traefik.ingress.kubernetes.io/router.nosuch: unknown annotation",
		"ns-ext-ext:", "externalName services not allowed", "ns-empty-e-example-com:", "no ready endpoints"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
	if len(res.Served) != 4 || len(res.Reports) != 3 {
		t.Errorf("served %d (want 4), reports %d (want 3)", len(res.Served), len(res.Reports))
	}

	res = translate(static.KubernetesIngressProvider{AllowExternalNameServices: true, AllowEmptyServices: true}, s, newCertCache())
	if got := res.Conf.HTTP.Services["ns-ext-80"]; got == nil || got.LoadBalancer.Servers[0].URL != "http://example.net:80" {
		t.Errorf("ExternalName allowed: %+v", got)
	}
	if got := res.Conf.HTTP.Services["ns-empty-80"]; got == nil || len(got.LoadBalancer.Servers) != 0 {
		t.Errorf("empty service allowed: %+v", got)
	}
	res = translate(static.KubernetesIngressProvider{NativeLBByDefault: true}, s, newCertCache())
	if got := res.Conf.HTTP.Services["ns-web-80"].LoadBalancer.Servers; len(got) != 1 || got[0].URL != "http://10.96.0.10:80" {
		t.Errorf("nativeLB: %+v", got)
	}
}

func TestRuleShapes(t *testing.T) {
	tr := &translator{}
	strict := &translator{opts: static.KubernetesIngressProvider{StrictPrefixMatching: true}}
	for _, c := range []struct {
		t    *translator
		host string
		path string
		pt   netv1.PathType
		rc   routerConfig
		want string
	}{
		{tr, "a.com", "/x", netv1.PathTypeExact, routerConfig{}, "Host(`a.com`) && Path(`/x`)"},
		{tr, "", "/x", netv1.PathTypePrefix, routerConfig{}, "PathPrefix(`/x`)"},
		{tr, "", "/x", netv1.PathTypeImplementationSpecific, routerConfig{PathMatcher: "Path"}, "Path(`/x`)"},
		{tr, "", "/x", netv1.PathTypePrefix, routerConfig{PathMatcher: "Path"}, "PathPrefix(`/x`)"},
		{tr, "", "^/v[0-9]+", netv1.PathTypeImplementationSpecific, routerConfig{PathMatcher: "PathRegexp"}, "PathRegexp(`^/v[0-9]+`)"},
		{strict, "", "/x/", netv1.PathTypePrefix, routerConfig{}, "(Path(`/x`) || PathPrefix(`/x/`))"},
		{strict, "", "/", netv1.PathTypePrefix, routerConfig{}, "PathPrefix(`/`)"},
		{tr, "*.a.com", "", netv1.PathTypePrefix, routerConfig{}, "HostRegexp(`^[a-zA-Z0-9-]+\\.a\\.com$`)"},
		{tr, "", "/a`b", netv1.PathTypeExact, routerConfig{}, "Path(\"/a`b\")"},
	} {
		got, err := c.t.rule(c.host, netv1.HTTPIngressPath{Path: c.path, PathType: &c.pt}, &c.rc)
		if err != nil || got != c.want {
			t.Errorf("%q %q %s: %q, %v; want %q", c.host, c.path, c.pt, got, err, c.want)
		}
		if _, err := rules.ParseHTTP(got); err != nil {
			t.Errorf("%q does not parse: %v", got, err)
		}
	}
}

func TestShouldServe(t *testing.T) {
	ours := &netv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "sy"}}
	def := &netv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "sy", Annotations: map[string]string{annotationDefaultClass: "true"}}}
	withClass := func(c string) *netv1.Ingress { return &netv1.Ingress{Spec: netv1.IngressSpec{IngressClassName: &c}} }
	withAnn := func(c string) *netv1.Ingress {
		return &netv1.Ingress{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{annotationIngressClass: c}}}
	}
	for i, c := range []struct {
		want    string
		ing     *netv1.Ingress
		classes []*netv1.IngressClass
		serve   bool
	}{
		{"", withClass("sy"), []*netv1.IngressClass{ours}, true},
		{"", withClass("nginx"), []*netv1.IngressClass{ours}, false},
		{"", withClass("sy"), nil, false}, // class lookup disabled
		{"", withAnn("traefik"), nil, true},
		{"", withAnn("switchyard"), nil, true},
		{"", withAnn("nginx"), nil, false},
		{"mine", withAnn("mine"), nil, true},
		{"mine", withAnn("traefik"), nil, false},
		{"", &netv1.Ingress{}, nil, true},
		{"sy", &netv1.Ingress{}, []*netv1.IngressClass{ours}, false},
		{"sy", &netv1.Ingress{}, []*netv1.IngressClass{def}, true},
	} {
		if got := shouldServe(c.want, c.ing, c.classes); got != c.serve {
			t.Errorf("case %d: serve = %v", i, got)
		}
	}
}

func TestCertificates(t *testing.T) {
	s := baseStore()
	s.secrets = map[string]*corev1.Secret{
		"ns/bad":   {ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "bad"}, Data: map[string][]byte{"tls.crt": []byte("x")}},
		"ns/wrong": {ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "wrong"}, Data: map[string][]byte{"tls.crt": []byte("x"), "tls.key": []byte("y")}},
	}
	i := ing("t", nil, rule("t.example.com", path("/", netv1.PathTypePrefix, "web", 80)))
	i.Spec.TLS = []netv1.IngressTLS{{SecretName: "bad"}, {SecretName: "missing"}, {SecretName: "wrong"}}
	s.ings = []*netv1.Ingress{i}
	res := translate(static.KubernetesIngressProvider{}, s, newCertCache())
	if len(res.Conf.TLS.Certificates) != 0 || len(res.Reports) != 1 || len(res.Reports[0].Errors) != 3 {
		t.Fatalf("certs %d, reports %+v", len(res.Conf.TLS.Certificates), res.Reports)
	}
	if res.Conf.HTTP.Routers["ns-t-t-example-com"] == nil {
		t.Error("router dropped with its bad certificates")
	}
	if n := len(res.Conf.Problems); n != 3 || !res.Conf.Problems[0].Warning || res.Conf.Problems[0].Name != "ns-t-t-example-com" {
		t.Errorf("want 3 warnings on the router: %+v", res.Conf.Problems)
	}
}

func TestRouterNameAcrossIngresses(t *testing.T) {
	s := baseStore()
	a := ing("b-c", nil, rule("x.com", path("/", netv1.PathTypePrefix, "web", 80)))
	b := ing("c", nil, rule("x.com", path("/", netv1.PathTypePrefix, "web", 80)))
	a.Namespace, b.Namespace = "a", "a-b"
	s.services["a/web"], s.services["a-b/web"] = s.services["ns/web"], s.services["ns/web"]
	s.ings = []*netv1.Ingress{b, a}
	res := translate(static.KubernetesIngressProvider{AllowEmptyServices: true}, s, newCertCache())
	if len(res.Conf.HTTP.Routers) != 1 || len(res.Reports) != 1 || res.Reports[0].Ingress != b ||
		!strings.Contains(res.Reports[0].Errors[0], "already made by ingress a/b-c") {
		t.Errorf("routers %v, reports %+v", res.Conf.HTTP.Routers, res.Reports)
	}
}

func TestRouterNameCollision(t *testing.T) {
	s := baseStore()
	s.ings = []*netv1.Ingress{ing("c", nil, rule("c.example.com", path("/a-b", netv1.PathTypeExact, "web", 80), path("/a/b", netv1.PathTypeExact, "web", 80)))}
	res := translate(static.KubernetesIngressProvider{}, s, newCertCache())
	if len(res.Conf.HTTP.Routers) != 2 {
		t.Fatalf("routers: %v", res.Conf.HTTP.Routers)
	}
	for name, r := range res.Conf.HTTP.Routers {
		if !strings.HasPrefix(name, "ns-c-c-example-com-a-b-") || len(name) != len("ns-c-c-example-com-a-b-")+20 {
			t.Errorf("name %q (rule %s): want the key and 20 hex digits", name, r.Rule)
		}
	}
}
