package ingressnginx

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/k8s"
	"github.com/switchyard-proxy/switchyard/routers/rules"
)

type fakeObjects struct {
	svcs    map[string]*corev1.Service
	eps     map[string][]k8s.Endpoint
	secrets map[string]*corev1.Secret
	cms     map[string]*corev1.ConfigMap
}

func (f fakeObjects) Service(ns, n string) (*corev1.Service, bool) {
	s, ok := f.svcs[ns+"/"+n]
	return s, ok
}
func (f fakeObjects) Endpoints(s *corev1.Service, _ corev1.ServicePort) []k8s.Endpoint {
	return f.eps[s.Namespace+"/"+s.Name]
}
func (f fakeObjects) Secret(ns, n string) (*corev1.Secret, bool) {
	s, ok := f.secrets[ns+"/"+n]
	return s, ok
}
func (f fakeObjects) ConfigMap(ns, n string) (*corev1.ConfigMap, bool) {
	c, ok := f.cms[ns+"/"+n]
	return c, ok
}

func objs() fakeObjects {
	svc := func(name string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	}
	return fakeObjects{
		svcs: map[string]*corev1.Service{"ns/web": svc("web"), "ns/canary": svc("canary"), "ns/empty": svc("empty")},
		eps: map[string][]k8s.Endpoint{
			"ns/web":    {{Address: "10.0.0.1", Port: 8080, Ready: true}, {Address: "10.0.0.2", Port: 8080, Ready: false, Terminating: true}},
			"ns/canary": {{Address: "10.0.1.1", Port: 8080, Ready: true}},
		},
		secrets: map[string]*corev1.Secret{
			"ns/users":  {Data: map[string][]byte{"auth": []byte("alice:$apr1$x$y\n\nbob:{SHA}z\n")}},
			"ns/map":    {Data: map[string][]byte{"carol": []byte("$apr1$a$b"), "dave": []byte("{SHA}c")}},
			"ns/cert":   {Data: map[string][]byte{"tls.crt": []byte("CRT"), "tls.key": []byte("KEY")}},
			"ns/ca":     {Data: map[string][]byte{"ca.crt": []byte("CA")}},
			"ns/digest": {Data: map[string][]byte{"auth": []byte("alice:Office:0123\nbob:Office:4567\n")}},
		},
	}
}

func ing(name, host, path string, pt netv1.PathType, svc string, ann map[string]string) *netv1.Ingress {
	return &netv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Annotations: ann},
		Spec: netv1.IngressSpec{Rules: []netv1.IngressRule{{Host: host, IngressRuleValue: netv1.IngressRuleValue{HTTP: &netv1.HTTPIngressRuleValue{
			Paths: []netv1.HTTPIngressPath{{Path: path, PathType: &pt, Backend: netv1.IngressBackend{Service: &netv1.IngressServiceBackend{Name: svc, Port: netv1.ServiceBackendPort{Number: 80}}}}},
		}}}}},
	}
}

func opts() *static.KubernetesIngressNGINXProvider {
	o := &static.KubernetesIngressNGINXProvider{}
	o.SetDefaults()
	return o
}

func TestTranslate(t *testing.T) {
	tests := []struct {
		desc  string
		ings  []*netv1.Ingress
		opts  func(*static.KubernetesIngressNGINXProvider)
		check func(t *testing.T, c *dynamic.Configuration, probs map[string][]problem)
	}{
		{desc: "prefix, service from ready endpoints", ings: []*netv1.Ingress{ing("a", "a.test", "/app/", netv1.PathTypePrefix, "web", nil)},
			check: func(t *testing.T, c *dynamic.Configuration, _ map[string][]problem) {
				r := c.HTTP.Routers["ns-a-rule-0-path-0"]
				if r == nil || r.Rule != "Host(`a.test`) && (Path(`/app`) || PathPrefix(`/app/`))" || r.Service != "ns-a-web-80" || r.TLS != nil {
					t.Fatalf("router %+v", r)
				}
				if tr := c.HTTP.Routers["ns-a-rule-0-path-0-tls"]; tr == nil || tr.TLS == nil {
					t.Fatalf("tls router %+v", tr)
				}
				s := c.HTTP.Services["ns-a-web-80"].LoadBalancer
				if len(s.Servers) != 1 || s.Servers[0].URL != "http://10.0.0.1:8080" || s.ServersTransport != "default" {
					t.Fatalf("service %+v", s)
				}
				if b := c.HTTP.Middlewares["ns-a-body-size"]; b == nil || b.Buffering.MaxRequestBodyBytes != 1<<20 {
					t.Fatalf("default body size %+v", b)
				}
				if slices.Contains(r.Middlewares, "ns-a-redirect-scheme") {
					t.Fatal("redirect without TLS")
				}
			}},
		{desc: "exact and implementation specific", ings: []*netv1.Ingress{
			ing("a", "", "/x", netv1.PathTypeExact, "web", nil),
			ing("b", "*.w.test", "/y", netv1.PathTypeImplementationSpecific, "web", nil),
		}, check: func(t *testing.T, c *dynamic.Configuration, _ map[string][]problem) {
			if r := c.HTTP.Routers["ns-a-rule-0-path-0"]; r.Rule != "Path(`/x`) && !HostRegexp(`^[^.]+\\.w\\.test$`)" {
				t.Errorf("exact %q", r.Rule)
			}
			if r := c.HTTP.Routers["ns-b-rule-0-path-0"]; r.Rule != "HostRegexp(`^[^.]+\\.w\\.test$`) && PathPrefix(`/y`)" {
				t.Errorf("wildcard %q", r.Rule)
			}
		}},
		{desc: "servers and locations as NGINX picks them", ings: []*netv1.Ingress{
			ing("exact", "a.w.test", "/app", netv1.PathTypeExact, "web", nil),
			ing("prefix", "a.w.test", "/app", netv1.PathTypePrefix, "web", nil),
			ing("short", "a.w.test", "/", netv1.PathTypePrefix, "web", nil),
			ing("wild", "*.w.test", "/app/longer/path", netv1.PathTypePrefix, "web", nil),
			ing("none", "", "/app/much/longer/path/than/the/others", netv1.PathTypePrefix, "web", nil),
		}, check: func(t *testing.T, c *dynamic.Configuration, _ map[string][]problem) {
			p := func(n string) int { return c.HTTP.Routers["ns-"+n+"-rule-0-path-0"].Priority }
			if p("exact") <= p("prefix") || p("prefix") <= p("short") || p("short") <= p("wild") || p("wild") <= p("none") || p("none") <= 2 {
				t.Errorf("priorities exact %d prefix %d short %d wild %d none %d", p("exact"), p("prefix"), p("short"), p("wild"), p("none"))
			}
			if r := c.HTTP.Routers["ns-wild-rule-0-path-0"].Rule; !strings.HasSuffix(r, " && !Host(`a.w.test`)") {
				t.Errorf("wildcard rule %q", r)
			}
			if r := c.HTTP.Routers["ns-none-rule-0-path-0"].Rule; !strings.HasSuffix(r, " && !HostRegexp(`^[^.]+\\.w\\.test$`) && !Host(`a.w.test`)") {
				t.Errorf("host-less rule %q", r)
			}
		}},
		{desc: "rewrite-target", ings: []*netv1.Ingress{ing("a", "a.test", "/api(/|$)(.*)", netv1.PathTypeImplementationSpecific, "web", ann("rewrite-target", "/$2"))},
			check: func(t *testing.T, c *dynamic.Configuration, _ map[string][]problem) {
				r := c.HTTP.Routers["ns-a-rule-0-path-0"]
				if r.Rule != "Host(`a.test`) && PathRegexp(`(?i)^/api(/|$)(.*)`)" {
					t.Errorf("rule %q", r.Rule)
				}
				m := c.HTTP.Middlewares["ns-a-rule-0-path-0-rewrite-target"]
				if m == nil || m.ReplacePathRegex.Regex != "(?i)^(?:/api(/|$)(.*)).*$" || m.ReplacePathRegex.Replacement != "/${2}" || r.Middlewares[len(r.Middlewares)-1] != "ns-a-rule-0-path-0-rewrite-target" {
					t.Errorf("rewrite %+v %v", m, r.Middlewares)
				}
			}},
		{desc: "strict path type", ings: []*netv1.Ingress{ing("a", "a.test", "/api(/|$)(.*)", netv1.PathTypePrefix, "web", nil)},
			check: func(t *testing.T, c *dynamic.Configuration, probs map[string][]problem) {
				if len(c.HTTP.Routers) != 0 || len(probs["ns/a"]) != 1 || !probs["ns/a"][0].Fatal || len(c.Problems) != 2 {
					t.Errorf("routers %v problems %v %v", c.HTTP.Routers, probs, c.Problems)
				}
			}},
		{desc: "strict path type off", opts: func(o *static.KubernetesIngressNGINXProvider) { o.StrictValidatePathType = false },
			ings: []*netv1.Ingress{ing("a", "a.test", "/api(/|$)(.*)", netv1.PathTypePrefix, "web", ann("use-regex", "true"))},
			check: func(t *testing.T, c *dynamic.Configuration, _ map[string][]problem) {
				if r := c.HTTP.Routers["ns-a-rule-0-path-0"]; r == nil || !strings.Contains(r.Rule, "PathRegexp") {
					t.Errorf("router %+v", r)
				}
			}},
		{desc: "tls and ssl redirect", ings: func() []*netv1.Ingress {
			i := ing("a", "a.test", "/", netv1.PathTypePrefix, "web", nil)
			i.Spec.TLS = []netv1.IngressTLS{{Hosts: []string{"a.test"}, SecretName: "cert"}}
			j := ing("b", "b.test", "/", netv1.PathTypePrefix, "web", ann("ssl-redirect", "false"))
			j.Spec.TLS = []netv1.IngressTLS{{Hosts: []string{"b.test"}, SecretName: "missing"}}
			return []*netv1.Ingress{i, j}
		}(), check: func(t *testing.T, c *dynamic.Configuration, probs map[string][]problem) {
			if r := c.HTTP.Routers["ns-a-rule-0-path-0"]; r.Middlewares[0] != "ns-a-redirect-scheme" {
				t.Errorf("plain router %v", r.Middlewares)
			}
			if r := c.HTTP.Routers["ns-a-rule-0-path-0-tls"]; slices.Contains(r.Middlewares, "ns-a-redirect-scheme") {
				t.Errorf("tls router redirects %v", r.Middlewares)
			}
			if m := c.HTTP.Middlewares["ns-a-redirect-scheme"]; m.RedirectScheme.StatusCode != 308 {
				t.Errorf("redirect %+v", m.RedirectScheme)
			}
			if r := c.HTTP.Routers["ns-b-rule-0-path-0"]; slices.Contains(r.Middlewares, "ns-b-redirect-scheme") {
				t.Errorf("ssl-redirect false still redirects")
			}
			if len(c.TLS.Certificates) != 1 || c.TLS.Certificates[0].CertFile != "CRT" {
				t.Errorf("certificates %v", c.TLS.Certificates)
			}
			if len(probs["ns/b"]) != 1 || !strings.Contains(probs["ns/b"][0].Msg, "not found") {
				t.Errorf("missing secret %v", probs)
			}
		}},
		{desc: "basic auth from both secret formats", ings: []*netv1.Ingress{
			ing("a", "a.test", "/", netv1.PathTypePrefix, "web", ann("auth-type", "basic", "auth-secret", "users", "auth-realm", "R")),
			ing("b", "b.test", "/", netv1.PathTypePrefix, "web", ann("auth-type", "basic", "auth-secret", "map", "auth-secret-type", "auth-map")),
			ing("c", "c.test", "/", netv1.PathTypePrefix, "web", ann("auth-type", "basic", "auth-secret", "nope")),
			ing("d", "d.test", "/", netv1.PathTypePrefix, "web", ann("auth-type", "basic", "auth-secret", "other/users")),
		}, check: func(t *testing.T, c *dynamic.Configuration, probs map[string][]problem) {
			if b := c.HTTP.Middlewares["ns-a-basic-auth"].BasicAuth; len(b.Users) != 2 || b.Realm != "R" {
				t.Errorf("auth-file %+v", b)
			}
			if b := c.HTTP.Middlewares["ns-b-basic-auth"].BasicAuth; strings.Join(b.Users, ",") != "carol:$apr1$a$b,dave:{SHA}c" {
				t.Errorf("auth-map %+v", b)
			}
			for _, n := range []string{"c", "d"} {
				if _, ok := c.HTTP.Routers["ns-"+n+"-rule-0-path-0"]; ok || len(probs["ns/"+n]) == 0 || !probs["ns/"+n][0].Fatal {
					t.Errorf("%s served without its users: %v", n, probs["ns/"+n])
				}
			}
		}},
		{desc: "canary by weight and header", ings: func() []*netv1.Ingress {
			m := ing("main", "a.test", "/", netv1.PathTypePrefix, "web", nil)
			c := ing("can", "a.test", "/", netv1.PathTypePrefix, "canary", ann("canary", "true", "canary-weight", "20", "canary-by-header", "X-Canary"))
			return []*netv1.Ingress{c, m}
		}(), check: func(t *testing.T, c *dynamic.Configuration, _ map[string][]problem) {
			r := c.HTTP.Routers["ns-main-rule-0-path-0"]
			w := c.HTTP.Services[r.Service]
			if w == nil || w.Weighted == nil || *w.Weighted.Services[0].Weight != 80 || *w.Weighted.Services[1].Weight != 20 || w.Weighted.Services[1].Name != "ns-can-canary-80" {
				t.Fatalf("weighted %+v", w)
			}
			h := c.HTTP.Routers["ns-main-rule-0-path-0-canary-header"]
			if h == nil || h.Service != "ns-can-canary-80" || !strings.HasSuffix(h.Rule, "Header(`X-Canary`, `always`)") {
				t.Fatalf("header router %+v", h)
			}
			if n := c.HTTP.Routers["ns-main-rule-0-path-0-canary-header-never"]; n == nil || n.Service != "ns-main-web-80" {
				t.Fatalf("never router %+v", n)
			}
		}},
		{desc: "missing service reported, router kept", ings: []*netv1.Ingress{ing("a", "a.test", "/", netv1.PathTypePrefix, "nope", nil)},
			check: func(t *testing.T, c *dynamic.Configuration, probs map[string][]problem) {
				if r := c.HTTP.Routers["ns-a-rule-0-path-0"]; r == nil || c.HTTP.Services[r.Service] != nil || len(probs["ns/a"]) != 1 {
					t.Errorf("router %+v problems %v", r, probs)
				}
			}},
		{desc: "snippet served with a warning", ings: []*netv1.Ingress{ing("a", "a.test", "/", netv1.PathTypePrefix, "web", ann("configuration-snippet", "return 200;"))},
			check: func(t *testing.T, c *dynamic.Configuration, _ map[string][]problem) {
				if _, ok := c.HTTP.Routers["ns-a-rule-0-path-0"]; !ok || len(c.Problems) != 2 || !c.Problems[0].Warning {
					t.Errorf("problems %+v", c.Problems)
				}
			}},
		{desc: "limits answer 503, CORS preflight 204", ings: []*netv1.Ingress{ing("a", "a.test", "/", netv1.PathTypePrefix, "web", map[string]string{
			Prefix + "limit-connections": "2", Prefix + "limit-rps": "5", Prefix + "enable-cors": "true",
		})},
			check: func(t *testing.T, c *dynamic.Configuration, _ map[string][]problem) {
				m := c.HTTP.Middlewares
				if f := m["ns-a-limit-connections"]; f == nil || f.InFlightReq.Amount != 2 || f.InFlightReq.StatusCode != 503 {
					t.Errorf("limit-connections %+v", f)
				}
				if r := m["ns-a-limit-rps"]; r == nil || r.RateLimit.StatusCode != 503 {
					t.Errorf("limit-rps %+v", r)
				}
				if h := m["ns-a-cors"]; h == nil || h.Headers.CORSPreflightStatus != 204 || h.Headers.AccessControlAllowOriginList[0] != "*" {
					t.Errorf("cors %+v", h)
				}
			}},
		{desc: "custom-http-errors without a default backend: ignored with a warning", ings: []*netv1.Ingress{ing("a", "a.test", "/", netv1.PathTypePrefix, "web", map[string]string{
			Prefix + "custom-http-errors": "404,503",
		})},
			check: func(t *testing.T, c *dynamic.Configuration, _ map[string][]problem) {
				r := c.HTTP.Routers["ns-a-rule-0-path-0"]
				if r == nil || slices.Contains(r.Middlewares, "ns-a-rule-0-path-0-custom-http-errors") || len(c.Problems) == 0 ||
					!c.Problems[0].Warning || !strings.Contains(c.Problems[0].Error, "defaultBackendService") {
					t.Errorf("router %+v problems %+v", r, c.Problems)
				}
			}},
		{desc: "custom-http-errors to the default backend; the option as default", opts: func(o *static.KubernetesIngressNGINXProvider) {
			o.DefaultBackendService = "ns/web"
			o.CustomHTTPErrors = []string{"502"}
		}, ings: []*netv1.Ingress{
			ing("a", "a.test", "/", netv1.PathTypePrefix, "web", map[string]string{Prefix + "custom-http-errors": "404, 503, 200, x"}),
			ing("b", "b.test", "/", netv1.PathTypePrefix, "web", nil),
			ing("c", "c.test", "/", netv1.PathTypePrefix, "web", map[string]string{Prefix + "custom-http-errors": ""}),
		},
			check: func(t *testing.T, c *dynamic.Configuration, _ map[string][]problem) {
				r := c.HTTP.Routers["ns-a-rule-0-path-0-tls"]
				e := c.HTTP.Middlewares["ns-a-rule-0-path-0-custom-http-errors"]
				if r == nil || r.Middlewares[0] != "ns-a-rule-0-path-0-custom-http-errors" || e == nil {
					t.Fatalf("router %+v", r)
				}
				want := &dynamic.ErrorPage{Status: []string{"404", "503"}, Service: "default-backend", Query: "/", NGINXHeaders: true,
					RequestHeaders: map[string]string{"X-Namespace": "ns", "X-Ingress-Name": "a", "X-Service-Name": "web", "X-Service-Port": "80"}}
				if !reflect.DeepEqual(e.Errors, want) {
					t.Errorf("errors %+v", e.Errors)
				}
				if b := c.HTTP.Middlewares["ns-b-rule-0-path-0-custom-http-errors"]; b == nil || !reflect.DeepEqual(b.Errors.Status, []string{"502"}) {
					t.Errorf("option default %+v", b)
				}
				if _, ok := c.HTTP.Middlewares["ns-c-rule-0-path-0-custom-http-errors"]; ok {
					t.Error("an empty annotation overrides the option")
				}
				if c.HTTP.Services["default-backend"] == nil {
					t.Error("no default-backend service")
				}
			}},
		{desc: "from-to-www-redirect both ways, skipped for a named host and a wildcard", ings: []*netv1.Ingress{
			ing("a", "a.test", "/", netv1.PathTypePrefix, "web", ann("from-to-www-redirect", "true")),
			ing("b", "www.b.test", "/", netv1.PathTypePrefix, "web", ann("from-to-www-redirect", "true")),
			ing("c", "c.test", "/", netv1.PathTypePrefix, "web", ann("from-to-www-redirect", "true")),
			ing("c2", "www.c.test", "/", netv1.PathTypePrefix, "web", nil),
			ing("d", "*.d.test", "/", netv1.PathTypePrefix, "web", ann("from-to-www-redirect", "true")),
		},
			check: func(t *testing.T, c *dynamic.Configuration, _ map[string][]problem) {
				r := c.HTTP.Routers["ns-a-rule-0-from-to-www-redirect"]
				if r == nil || r.Rule != "Host(`www.a.test`) && PathPrefix(`/`)" || r.Service != "noop@internal" || c.HTTP.Routers["ns-a-rule-0-from-to-www-redirect-tls"] == nil {
					t.Fatalf("router %+v", r)
				}
				m := c.HTTP.Middlewares[r.Middlewares[0]].RedirectRegex
				re := regexp.MustCompile(m.Regex)
				if got := re.ReplaceAllString("https://www.a.test:8443/x?y=1", strings.ReplaceAll(m.Replacement, "$$", "$")); got != "https://a.test:8443/x?y=1" || m.StatusCode != 308 {
					t.Fatalf("redirect %+v -> %s", m, got)
				}
				if r := c.HTTP.Routers["ns-b-rule-0-from-to-www-redirect"]; r == nil || r.Rule != "Host(`b.test`) && PathPrefix(`/`)" {
					t.Fatalf("www to bare %+v", r)
				}
				if c.HTTP.Routers["ns-c-rule-0-from-to-www-redirect"] != nil || c.HTTP.Routers["ns-d-rule-0-from-to-www-redirect"] != nil {
					t.Fatal("redirect for a named host or a wildcard")
				}
			}},
		{desc: "auth-tls-secret: a TLS option per Ingress with the CA, on the TLS routers only", ings: []*netv1.Ingress{
			ing("a", "a.test", "/", netv1.PathTypePrefix, "web", ann("auth-tls-secret", "ns/ca")),
			ing("b", "b.test", "/", netv1.PathTypePrefix, "web", ann("auth-tls-secret", "ca", "auth-tls-verify-client", "optional", "auth-tls-pass-certificate-to-upstream", "true")),
			ing("c", "c.test", "/", netv1.PathTypePrefix, "web", ann("auth-tls-secret", "ns/nope")),
			ing("d", "d.test", "/", netv1.PathTypePrefix, "web", ann("auth-tls-secret", "users")),
			ing("e", "e.test", "/", netv1.PathTypePrefix, "web", nil),
		},
			check: func(t *testing.T, c *dynamic.Configuration, probs map[string][]problem) {
				o, ok := c.TLS.Options["ns-a-auth-tls"]
				if !ok || o.ClientAuth.ClientAuthType != "RequireAndVerifyClientCert" || len(o.ClientAuth.CAFiles) != 1 || o.ClientAuth.CAFiles[0] != "CA" {
					t.Fatalf("option %+v", o)
				}
				if r := c.HTTP.Routers["ns-a-rule-0-path-0-tls"]; r.TLS.Options != "ns-a-auth-tls" {
					t.Fatalf("tls router %+v", r.TLS)
				}
				if r := c.HTTP.Routers["ns-a-rule-0-path-0"]; r.TLS != nil {
					t.Fatal("plain router with TLS")
				}
				if m := c.HTTP.Middlewares["ns-a-auth-tls-headers"]; m == nil || !m.PassTLSClientCert.NGINXHeaders || m.PassTLSClientCert.PEM || !slices.Contains(c.HTTP.Routers["ns-a-rule-0-path-0"].Middlewares, "ns-a-auth-tls-headers") {
					t.Fatalf("headers %+v", m)
				}
				if m := c.HTTP.Middlewares["ns-b-auth-tls-headers-pem"]; m == nil || !m.PassTLSClientCert.PEM {
					t.Fatalf("pass certificate %+v", m)
				}
				if o := c.TLS.Options["ns-b-auth-tls"]; o.ClientAuth.ClientAuthType != "VerifyClientCertIfGiven" {
					t.Fatalf("optional %+v", o)
				}
				for _, n := range []string{"c", "d"} {
					if c.HTTP.Routers["ns-"+n+"-rule-0-path-0-tls"] != nil || len(probs["ns/"+n]) == 0 || !probs["ns/"+n][0].Fatal {
						t.Errorf("%s served without its CA: %v", n, probs["ns/"+n])
					}
				}
				if r := c.HTTP.Routers["ns-e-rule-0-path-0-tls"]; r.TLS.Options != "" {
					t.Fatalf("option leaked to the next Ingress: %+v", r.TLS)
				}
			}},
		{desc: "ssl-passthrough: a TCP router per host to the endpoints", opts: func(o *static.KubernetesIngressNGINXProvider) { o.HTTPSEntryPoint = "websecure" },
			ings: []*netv1.Ingress{ing("a", "a.test", "/", netv1.PathTypePrefix, "web", ann("ssl-passthrough", "true")),
				ing("b", "", "/", netv1.PathTypePrefix, "web", ann("ssl-passthrough", "true"))},
			check: func(t *testing.T, c *dynamic.Configuration, probs map[string][]problem) {
				r := c.TCP.Routers["ns-a-rule-0-ssl-passthrough"]
				if r == nil || r.Rule != "HostSNI(`a.test`)" || r.TLS == nil || !r.TLS.Passthrough || r.EntryPoints[0] != "websecure" || r.Service != "ns-a-rule-0-ssl-passthrough" {
					t.Fatalf("router %+v", r)
				}
				if s := c.TCP.Services[r.Service].LoadBalancer; len(s.Servers) != 1 || s.Servers[0].Address != "10.0.0.1:8080" {
					t.Fatalf("service %+v", s)
				}
				if len(c.TCP.Routers) != 1 || len(probs["ns/b"]) == 0 {
					t.Fatalf("host-less rule passed through: %v %v", c.TCP.Routers, probs)
				}
			}},
		{desc: "digest auth from an htdigest secret; basic lines refused", ings: []*netv1.Ingress{
			ing("a", "a.test", "/", netv1.PathTypePrefix, "web", ann("auth-type", "digest", "auth-secret", "digest")),
			ing("b", "b.test", "/", netv1.PathTypePrefix, "web", ann("auth-type", "digest", "auth-secret", "users")),
		},
			check: func(t *testing.T, c *dynamic.Configuration, probs map[string][]problem) {
				m := c.HTTP.Middlewares["ns-a-digest-auth"]
				if m == nil || m.DigestAuth.Realm != "Office" || !slices.Equal(m.DigestAuth.Users, []string{"alice:Office:0123", "bob:Office:4567"}) ||
					!slices.Contains(c.HTTP.Routers["ns-a-rule-0-path-0"].Middlewares, "ns-a-digest-auth") {
					t.Fatalf("digest %+v", m)
				}
				if c.HTTP.Routers["ns-b-rule-0-path-0"] != nil || len(probs["ns/b"]) == 0 || !probs["ns/b"][0].Fatal {
					t.Fatalf("htpasswd lines served as digest: %v", probs["ns/b"])
				}
			}},
		{desc: "server-alias: more hosts for the rules, not the ones another rule names", ings: []*netv1.Ingress{
			ing("a", "a.test", "/", netv1.PathTypePrefix, "web", ann("server-alias", "b.test, A2.test,*.w.test,bad host,b.test")),
			ing("b", "b.test", "/", netv1.PathTypePrefix, "web", nil),
		},
			check: func(t *testing.T, c *dynamic.Configuration, probs map[string][]problem) {
				r := c.HTTP.Routers["ns-a-rule-0-path-0"]
				want := "(Host(`a.test`) || Host(`a2.test`) || HostRegexp(`^[^.]+\\.w\\.test$`)) && PathPrefix(`/`)"
				if r == nil || r.Rule != want {
					t.Fatalf("rule %q, want %q", r.Rule, want)
				}
				if _, err := rules.Parse(r.Rule); err != nil {
					t.Fatal(err)
				}
				if len(probs["ns/a"]) != 1 || !strings.Contains(probs["ns/a"][0].String(), "bad host") {
					t.Fatalf("problems %v", probs["ns/a"])
				}
			}},
		{desc: "default-backend while the service has no usable endpoint", ings: []*netv1.Ingress{
			ing("a", "a.test", "/", netv1.PathTypePrefix, "empty", ann("default-backend", "canary")),
			ing("b", "b.test", "/", netv1.PathTypePrefix, "web", ann("default-backend", "canary")),
		},
			check: func(t *testing.T, c *dynamic.Configuration, _ map[string][]problem) {
				if s := c.HTTP.Services["ns-a-empty-80"].LoadBalancer.Servers; len(s) != 1 || s[0].URL != "http://10.0.1.1:8080" {
					t.Fatalf("fallback servers %+v", s)
				}
				if s := c.HTTP.Services["ns-b-web-80"].LoadBalancer.Servers; len(s) != 1 || s[0].URL != "http://10.0.0.1:8080" {
					t.Fatalf("servers of a backend with endpoints %+v", s)
				}
			}},
		{desc: "entrypoints and non-TLS routers off", opts: func(o *static.KubernetesIngressNGINXProvider) {
			o.HTTPSEntryPoint = "websecure"
			o.DisableNonTLSRouters = true
		}, ings: []*netv1.Ingress{ing("a", "a.test", "/", netv1.PathTypePrefix, "web", nil)},
			check: func(t *testing.T, c *dynamic.Configuration, _ map[string][]problem) {
				if len(c.HTTP.Routers) != 1 || c.HTTP.Routers["ns-a-rule-0-path-0-tls"].EntryPoints[0] != "websecure" {
					t.Errorf("routers %+v", c.HTTP.Routers)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			o := opts()
			if tc.opts != nil {
				tc.opts(o)
			}
			res := translate(o, tc.ings, objs())
			tc.check(t, res.conf, res.problems)
		})
	}
}

func TestHandles(t *testing.T) {
	ours := map[string]bool{"nginx": true}
	cls := func(s string) *string { return &s }
	for _, tc := range []struct {
		class   *string
		ann     string
		without bool
		want    bool
	}{
		{class: cls("nginx"), want: true},
		{class: cls("traefik"), want: false},
		{class: cls("traefik"), ann: "nginx", want: false},
		{ann: "nginx", want: true},
		{ann: "other", want: false},
		{want: false},
		{without: true, want: true},
		{ann: "other", without: true, want: false},
	} {
		i := &netv1.Ingress{Spec: netv1.IngressSpec{IngressClassName: tc.class}}
		if tc.ann != "" {
			i.Annotations = map[string]string{legacyClassAnnotation: tc.ann}
		}
		if got := handles(i, ours, "nginx", tc.without); got != tc.want {
			t.Errorf("%+v: %v", tc, got)
		}
	}
}

func TestInit(t *testing.T) {
	for _, tc := range []struct {
		set  func(*static.KubernetesIngressNGINXProvider)
		want string
	}{
		{set: func(o *static.KubernetesIngressNGINXProvider) { o.AllowSnippetAnnotations = true }, want: "allowSnippetAnnotations"},
		{set: func(o *static.KubernetesIngressNGINXProvider) {
			o.WatchNamespace, o.WatchNamespaceSelector = "a", "b=c"
		}, want: "mutually exclusive"},
		{set: func(o *static.KubernetesIngressNGINXProvider) { o.WatchNamespaceSelector = "a in (" }, want: "watchNamespaceSelector"},
		{set: func(o *static.KubernetesIngressNGINXProvider) { o.PublishService = "nope" }, want: "publishService"},
		{set: func(o *static.KubernetesIngressNGINXProvider) { o.PublishStatusAddress = "1.2.3.4, bad host" }, want: "publishStatusAddress"},
		{set: func(o *static.KubernetesIngressNGINXProvider) { o.CustomHTTPErrors = []string{"404"} }, want: "customHTTPErrors: needs defaultBackendService"},
		{set: func(o *static.KubernetesIngressNGINXProvider) {
			o.CustomHTTPErrors, o.DefaultBackendService = []string{"404,abc"}, "ns/db"
		}, want: "customHTTPErrors"},
		{set: func(o *static.KubernetesIngressNGINXProvider) {
			o.CustomHTTPErrors, o.DefaultBackendService = []string{"404", "502,503"}, "ns/db"
		}, want: ""},
		{set: func(o *static.KubernetesIngressNGINXProvider) { o.ProxyBuffering = true }, want: "proxyBuffering"},
		{set: func(o *static.KubernetesIngressNGINXProvider) { o.ProxyNextUpstream = "error http_502" }, want: "proxyNextUpstream"},
		{set: func(o *static.KubernetesIngressNGINXProvider) { o.DisableNonTLSRouters, o.HTTPEntryPoint = true, "web" }, want: "disableNonTLSRouters"},
		{set: func(o *static.KubernetesIngressNGINXProvider) { o.GlobalAuthURL = "ftp://x" }, want: "globalAuthURL"},
		{set: func(o *static.KubernetesIngressNGINXProvider) {}, want: ""},
	} {
		o := opts()
		o.Endpoint = "https://127.0.0.1:6443"
		tc.set(o)
		err := New(*o).Init()
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want %q, got %v", tc.want, err)
		}
	}
}

// FuzzTranslate: a main Ingress and a canary with fuzzed host, path,
// path type and routing annotations. The translation never panics; every
// router rule it emits parses; every regex middleware compiles; every
// middleware a router names is defined.
func FuzzTranslate(f *testing.F) {
	f.Add("a.test", "/api(/|$)(.*)", uint8(2), "/$2", "true", "X-Canary", "^v(1|2)$", "beta")
	f.Add("*.w.test", "/", uint8(1), "", "false", "X-B", "", "c")
	f.Add("", "/x", uint8(0), "/$1/$host", "true", "", "(", "")
	f.Add("h.test", "/a b", uint8(2), "$", "1", "X`Y", "a`b", "k=v")
	f.Add("www.h.test", "/", uint8(1), "", "true", "*.x.test, a.test", "http://b/", "https://c/")
	f.Fuzz(func(t *testing.T, host, path string, pt uint8, rewrite, regex, header, pattern, cookie string) {
		host = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '*' {
				return r
			}
			return -1
		}, host)
		types := []netv1.PathType{netv1.PathTypeExact, netv1.PathTypePrefix, netv1.PathTypeImplementationSpecific}
		ptype := types[int(pt)%len(types)]
		main := ing("main", host, path, ptype, "web", ann("rewrite-target", rewrite, "use-regex", regex, "app-root", path, "permanent-redirect", rewrite,
			"server-alias", header+","+cookie, "from-to-www-redirect", regex, "ssl-passthrough", regex, "proxy-redirect-from", pattern, "proxy-redirect-to", cookie))
		can := ing("can", host, path, ptype, "canary", ann("canary", "true", "canary-weight", "10", "canary-by-header", header,
			"canary-by-header-pattern", pattern, "canary-by-cookie", cookie))
		for _, strict := range []bool{true, false} {
			o := opts()
			o.StrictValidatePathType = strict
			res := translate(o, []*netv1.Ingress{main, can}, objs())
			c := res.conf
			for name, r := range c.HTTP.Routers {
				if _, err := rules.ParseHTTP(r.Rule); err != nil {
					t.Fatalf("router %s: rule %q: %v", name, r.Rule, err)
				}
				for _, m := range r.Middlewares {
					if c.HTTP.Middlewares[m] == nil {
						t.Fatalf("router %s: middleware %s undefined", name, m)
					}
				}
			}
			for name, m := range c.HTTP.Middlewares {
				if rp := m.ReplacePathRegex; rp != nil {
					if _, err := regexp.Compile(rp.Regex); err != nil {
						t.Fatalf("middleware %s: %v", name, err)
					}
				}
				if rr := m.RedirectRegex; rr != nil {
					if _, err := regexp.Compile(rr.Regex); err != nil {
						t.Fatalf("middleware %s: %v", name, err)
					}
				}
			}
		}
	})
}

func TestCORSOrigins(t *testing.T) {
	tests := []struct {
		in          []string
		list        []string
		allow, deny []string
	}{
		{in: []string{"*"}, list: []string{"*"}},
		{in: []string{"https://a.test", "*"}, list: []string{"*"}},
		{in: []string{"https://a.test", "https://*.b.test:8443"},
			allow: []string{"https://a.test", "HTTPS://A.TEST", "https://x-1.b.test:8443"},
			deny:  []string{"https://a.test.evil", "https://x.y.b.test:8443", "https://b.test:8443", "https://x.b.test", "http://a.test"}},
	}
	for _, tc := range tests {
		list, res := corsOrigins(tc.in)
		if !reflect.DeepEqual(list, tc.list) {
			t.Errorf("%v: list %v", tc.in, list)
		}
		match := func(o string) bool {
			for _, r := range res {
				if regexp.MustCompile(r).MatchString(o) {
					return true
				}
			}
			return false
		}
		for _, o := range tc.allow {
			if !match(o) {
				t.Errorf("%v: %s refused", tc.in, o)
			}
		}
		for _, o := range tc.deny {
			if match(o) {
				t.Errorf("%v: %s allowed", tc.in, o)
			}
		}
	}
}

// TestProviderOnlyFieldsChangeTheHash: fields absent from the JSON (so
// from the hash that decides whether a configuration is sent) are carried
// by the middleware names.
func TestProviderOnlyFieldsChangeTheHash(t *testing.T) {
	hash := func(a map[string]string) string {
		return dynamic.Hash(translate(opts(), []*netv1.Ingress{ing("a", "a.test", "/", netv1.PathTypePrefix, "web", a)}, objs()).conf)
	}
	for _, pair := range [][2]map[string]string{
		{ann("proxy-redirect-from", "http://b/", "proxy-redirect-to", "https://a/"), ann("proxy-redirect-from", "http://b/", "proxy-redirect-to", "https://c/")},
		{ann("auth-url", "http://auth.test/"), ann("auth-url", "http://auth.test/", "auth-method", "POST")},
		{ann("proxy-cookie-path", "/ /a/"), ann("proxy-cookie-path", "/ /b/")},
		{ann("auth-tls-secret", "ca"), ann("auth-tls-secret", "ca", "auth-tls-pass-certificate-to-upstream", "true")},
	} {
		if hash(pair[0]) == hash(pair[1]) {
			t.Errorf("%v and %v hash the same", pair[0], pair[1])
		}
	}
}
