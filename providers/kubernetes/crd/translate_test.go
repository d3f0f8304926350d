package crd

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/crd/api/v1alpha1"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/k8s"
	"sigs.k8s.io/yaml"
)

// fakeCluster serves Services, endpoints and Secrets from maps.
type fakeCluster struct {
	services map[string]*corev1.Service
	eps      map[string][]k8s.Endpoint // ns/name
	secrets  map[string]*corev1.Secret
}

func (f *fakeCluster) Service(ns, name string) (*corev1.Service, bool) {
	s, ok := f.services[ns+"/"+name]
	return s, ok
}

func (f *fakeCluster) Endpoints(svc *corev1.Service, _ corev1.ServicePort) []k8s.Endpoint {
	return f.eps[svc.Namespace+"/"+svc.Name]
}

func (f *fakeCluster) Secret(ns, name string) (*corev1.Secret, bool) {
	s, ok := f.secrets[ns+"/"+name]
	return s, ok
}

func (f *fakeCluster) ConfigMap(string, string) (*corev1.ConfigMap, bool) { return nil, false }

func newFake() *fakeCluster {
	svc := func(ns, name string, typ corev1.ServiceType, ports ...corev1.ServicePort) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{Type: typ, Ports: ports, ClusterIP: "10.96.0.10", ExternalName: "ext.example.net"}}
	}
	return &fakeCluster{
		services: map[string]*corev1.Service{
			"default/whoami": svc("default", "whoami", corev1.ServiceTypeClusterIP, corev1.ServicePort{Name: "http", Port: 80}, corev1.ServicePort{Name: "https", Port: 443}),
			"other/whoami":   svc("other", "whoami", corev1.ServiceTypeClusterIP, corev1.ServicePort{Name: "http", Port: 80}),
			"default/ext":    svc("default", "ext", corev1.ServiceTypeExternalName, corev1.ServicePort{Port: 80}),
			"default/empty":  svc("default", "empty", corev1.ServiceTypeClusterIP, corev1.ServicePort{Port: 80}),
		},
		eps: map[string][]k8s.Endpoint{
			"default/whoami": {{Address: "10.0.0.1", Port: 8080, Ready: true}, {Address: "10.0.0.2", Port: 8080, Ready: false, Terminating: true}},
			"other/whoami":   {{Address: "10.1.0.1", Port: 8080, Ready: true}},
		},
		secrets: map[string]*corev1.Secret{
			"default/ba":       {Type: corev1.SecretTypeBasicAuth, Data: map[string][]byte{"username": []byte("alice"), "password": []byte("pw")}},
			"default/htpasswd": {Data: map[string][]byte{"users": []byte("bob:$apr1$x$y\n\n# comment\ncarol:{SHA}abc\n")}},
			"default/cert":     {Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": []byte("CERT"), "tls.key": []byte("KEY")}},
		},
	}
}

// objects decodes YAML documents into Objects, as the provider's
// unstructured conversion would.
func objects(t *testing.T, docs string) *Objects {
	t.Helper()
	objs := &Objects{}
	for _, d := range strings.Split(docs, "\n---\n") {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(d), &tm); err != nil {
			t.Fatal(err)
		}
		j, err := yaml.YAMLToJSON([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		var dst any
		switch tm.Kind {
		case v1alpha1.KindIngressRoute:
			v := &v1alpha1.IngressRoute{}
			objs.IngressRoutes, dst = append(objs.IngressRoutes, v), v
		case v1alpha1.KindIngressRouteTCP:
			v := &v1alpha1.IngressRouteTCP{}
			objs.IngressRouteTCPs, dst = append(objs.IngressRouteTCPs, v), v
		case v1alpha1.KindIngressRouteUDP:
			v := &v1alpha1.IngressRouteUDP{}
			objs.IngressRouteUDPs, dst = append(objs.IngressRouteUDPs, v), v
		case v1alpha1.KindMiddleware:
			v := &v1alpha1.Middleware{}
			objs.Middlewares, dst = append(objs.Middlewares, v), v
		case v1alpha1.KindTraefikService:
			v := &v1alpha1.TraefikService{}
			objs.TraefikServices, dst = append(objs.TraefikServices, v), v
		case v1alpha1.KindTLSOption:
			v := &v1alpha1.TLSOption{}
			objs.TLSOptions, dst = append(objs.TLSOptions, v), v
		case v1alpha1.KindServersTransport:
			v := &v1alpha1.ServersTransport{}
			objs.ServersTransports, dst = append(objs.ServersTransports, v), v
		case v1alpha1.KindServersTransportTCP:
			v := &v1alpha1.ServersTransportTCP{}
			objs.ServersTransportTCPs, dst = append(objs.ServersTransportTCPs, v), v
		default:
			t.Fatalf("kind %q", tm.Kind)
		}
		if err := json.Unmarshal(j, dst); err != nil {
			t.Fatal(err)
		}
	}
	return objs
}

func TestTranslate(t *testing.T) {
	key := func(ns, name, match string) string { return normalize(makeID(ns, routeKey(name, match))) }
	tests := []struct {
		name  string
		opts  Options
		docs  string
		check func(t *testing.T, c *dynamic.Configuration, reps []Report)
	}{
		{
			name: "route to a service port, ready endpoints only, middleware names",
			docs: `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: app, namespace: default}
spec:
  entryPoints: [web]
  routes:
  - match: Host(` + "`a`" + `)
    priority: 7
    middlewares: [{name: strip}, {name: auth@file}]
    services: [{name: whoami, port: 80}]`,
			check: func(t *testing.T, c *dynamic.Configuration, reps []Report) {
				r := c.HTTP.Routers[key("default", "app", "Host(`a`)")]
				if r == nil || r.Service != "default-whoami-80" || r.Priority != 7 || strings.Join(r.Middlewares, ",") != "default-strip,auth@file" {
					t.Fatalf("router %+v (routers %v)", r, c.HTTP.Routers)
				}
				s := c.HTTP.Services["default-whoami-80"].LoadBalancer
				if len(s.Servers) != 1 || s.Servers[0].URL != "http://10.0.0.1:8080" || !*s.PassHostHeader {
					t.Fatalf("service %+v", s)
				}
			},
		},
		{
			name: "port 443 means https; named port in the service name",
			docs: `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: app, namespace: default}
spec:
  routes:
  - match: Host(` + "`a`" + `)
    services: [{name: whoami, port: https}]`,
			check: func(t *testing.T, c *dynamic.Configuration, _ []Report) {
				s := c.HTTP.Services["default-whoami-https"]
				if s == nil || s.LoadBalancer.Servers[0].URL != "https://10.0.0.1:8080" {
					t.Fatalf("services %v", c.HTTP.Services)
				}
			},
		},
		{
			name: "cross-namespace refused and reported",
			docs: `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: app, namespace: default}
spec:
  routes:
  - match: Host(` + "`a`" + `)
    services: [{name: whoami, namespace: other, port: 80}]`,
			check: func(t *testing.T, c *dynamic.Configuration, reps []Report) {
				if len(c.HTTP.Routers) != 0 || len(reps) != 1 || len(c.Problems) != 1 || c.Problems[0].Kind != "router" ||
					!strings.Contains(c.Problems[0].Error, "allowCrossNamespace") {
					t.Fatalf("routers %v reports %v problems %+v", c.HTTP.Routers, reps, c.Problems)
				}
			},
		},
		{
			name: "cross-namespace allowed",
			opts: Options{AllowCrossNamespace: true},
			docs: `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: app, namespace: default}
spec:
  routes:
  - match: Host(` + "`a`" + `)
    services: [{name: whoami, namespace: other, port: 80}]`,
			check: func(t *testing.T, c *dynamic.Configuration, _ []Report) {
				if s := c.HTTP.Services["other-whoami-80"]; s == nil || s.LoadBalancer.Servers[0].URL != "http://10.1.0.1:8080" {
					t.Fatalf("services %v", c.HTTP.Services)
				}
			},
		},
		{
			name: "ExternalName refused by default, empty services refused, allowed by options",
			docs: `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: app, namespace: default}
spec:
  routes:
  - match: Host(` + "`ext`" + `)
    services: [{name: ext, port: 80}]
  - match: Host(` + "`empty`" + `)
    services: [{name: empty, port: 80}]`,
			check: func(t *testing.T, c *dynamic.Configuration, reps []Report) {
				if len(c.HTTP.Routers) != 0 || len(reps) != 2 || !strings.Contains(reps[0].Err.Error(), "allowExternalNameServices") || !strings.Contains(reps[1].Err.Error(), "allowEmptyServices") {
					t.Fatalf("routers %v reports %v", c.HTTP.Routers, reps)
				}
			},
		},
		{
			name: "ExternalName and empty allowed",
			opts: Options{AllowExternalNameServices: true, AllowEmptyServices: true},
			docs: `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: app, namespace: default}
spec:
  routes:
  - match: Host(` + "`ext`" + `)
    services: [{name: ext, port: 80}]
  - match: Host(` + "`empty`" + `)
    services: [{name: empty, port: 80}]`,
			check: func(t *testing.T, c *dynamic.Configuration, reps []Report) {
				if len(reps) != 0 || c.HTTP.Services["default-ext-80"].LoadBalancer.Servers[0].URL != "http://ext.example.net:80" ||
					len(c.HTTP.Services["default-empty-80"].LoadBalancer.Servers) != 0 {
					t.Fatalf("services %v reports %v", c.HTTP.Services, reps)
				}
			},
		},
		{
			name: "nativeLBByDefault uses the cluster IP",
			opts: Options{NativeLBByDefault: true},
			docs: `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: app, namespace: default}
spec:
  routes:
  - match: Host(` + "`a`" + `)
    services: [{name: whoami, port: 80}]`,
			check: func(t *testing.T, c *dynamic.Configuration, _ []Report) {
				if s := c.HTTP.Services["default-whoami-80"]; s.LoadBalancer.Servers[0].URL != "http://10.96.0.10:80" {
					t.Fatalf("service %+v", s.LoadBalancer)
				}
			},
		},
		{
			name: "middlewares: basicAuth from Secrets, durations, exactly one kind",
			docs: `apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: ba, namespace: default}
spec: {basicAuth: {secret: ba}}
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: ht, namespace: default}
spec: {basicAuth: {secret: htpasswd, realm: r}}
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: rl, namespace: default}
spec: {rateLimit: {average: 10, period: 1m}}
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: rl2, namespace: default}
spec: {rateLimit: {average: 10, period: 30}}
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: two, namespace: default}
spec: {addPrefix: {prefix: /a}, stripPrefix: {prefixes: [/b]}}
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: none, namespace: default}
spec: {}
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: chain, namespace: default}
spec: {chain: {middlewares: [{name: ba}, {name: x, namespace: other}]}}`,
			check: func(t *testing.T, c *dynamic.Configuration, reps []Report) {
				m := c.HTTP.Middlewares
				if u := m["default-ba"].BasicAuth.Users; len(u) != 1 || !strings.HasPrefix(u[0], "alice:{SHA}") {
					t.Fatalf("basic-auth secret users %v", u)
				}
				if u := m["default-ht"].BasicAuth.Users; len(u) != 2 || u[1] != "carol:{SHA}abc" {
					t.Fatalf("htpasswd users %v", u)
				}
				if p := m["default-rl"].RateLimit.Period; time.Duration(p) != time.Minute {
					t.Fatalf("period %v", p)
				}
				if p := m["default-rl2"].RateLimit.Period; time.Duration(p) != 30*time.Second {
					t.Fatalf("integer period %v", p)
				}
				for _, n := range []string{"default-two", "default-none", "default-chain"} {
					if m[n] != nil {
						t.Fatalf("%s should be refused: %+v", n, m[n])
					}
				}
				if len(c.Problems) != 3 {
					t.Fatalf("problems %+v", c.Problems)
				}
			},
		},
		{
			name: "TraefikService weighted and mirroring, TLS options and secret",
			docs: `apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: wrr, namespace: default}
spec:
  weighted:
    services:
    - {name: whoami, port: 80, weight: 3}
    - {name: other, kind: TraefikService}
---
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: mirror, namespace: default}
spec:
  mirroring:
    name: whoami
    port: 80
    mirrors: [{name: wrr, kind: TraefikService, percent: 10}]
---
apiVersion: traefik.io/v1alpha1
kind: TLSOption
metadata: {name: modern, namespace: default}
spec: {minVersion: VersionTLS13}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: app, namespace: default}
spec:
  routes:
  - match: Host(` + "`a`" + `)
    services: [{name: mirror, kind: TraefikService}]
  tls:
    secretName: cert
    options: {name: modern}`,
			check: func(t *testing.T, c *dynamic.Configuration, reps []Report) {
				w := c.HTTP.Services["default-wrr"].Weighted
				if len(w.Services) != 2 || w.Services[0].Name != "default-whoami-80" || *w.Services[0].Weight != 3 || w.Services[1].Name != "default-other" || *w.Services[1].Weight != 1 {
					t.Fatalf("weighted %+v", w)
				}
				m := c.HTTP.Services["default-mirror"].Mirroring
				if m.Service != "default-whoami-80" || m.Mirrors[0].Name != "default-wrr" || m.Mirrors[0].Percent != 10 {
					t.Fatalf("mirroring %+v", m)
				}
				r := c.HTTP.Routers[key("default", "app", "Host(`a`)")]
				if r.Service != "default-mirror" || r.TLS == nil || r.TLS.Options != "default-modern" {
					t.Fatalf("router %+v", r)
				}
				if c.TLS.Options["default-modern"].MinVersion != "VersionTLS13" || len(c.TLS.Certificates) != 1 || c.TLS.Certificates[0].CertFile != "CERT" {
					t.Fatalf("tls %+v", c.TLS)
				}
			},
		},
		{
			name: "ingressClass",
			opts: Options{IngressClass: "internal"},
			docs: `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: mine, namespace: default, annotations: {kubernetes.io/ingress.class: internal}}
spec:
  routes:
  - match: Host(` + "`a`" + `)
    services: [{name: whoami, port: 80}]
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: unannotated, namespace: default}
spec:
  routes:
  - match: Host(` + "`b`" + `)
    services: [{name: whoami, port: 80}]`,
			check: func(t *testing.T, c *dynamic.Configuration, _ []Report) {
				if len(c.HTTP.Routers) != 1 || c.HTTP.Routers[key("default", "mine", "Host(`a`)")] == nil {
					t.Fatalf("routers %v", c.HTTP.Routers)
				}
			},
		},
		{
			name: "tcp and udp",
			docs: `apiVersion: traefik.io/v1alpha1
kind: IngressRouteTCP
metadata: {name: db, namespace: default}
spec:
  entryPoints: [tcp]
  routes:
  - match: HostSNI(` + "`*`" + `)
    services: [{name: whoami, port: 80, weight: 2}]
---
apiVersion: traefik.io/v1alpha1
kind: IngressRouteUDP
metadata: {name: dns, namespace: default}
spec:
  routes:
  - services: [{name: whoami, port: http}]`,
			check: func(t *testing.T, c *dynamic.Configuration, reps []Report) {
				k := key("default", "db", "HostSNI(`*`)")
				r := c.TCP.Routers[k]
				if r == nil || r.Service != k || c.TCP.Services[k].Weighted.Services[0].Name != k+"-whoami-80" {
					t.Fatalf("tcp %+v %v", r, c.TCP.Services)
				}
				if a := c.TCP.Services[k+"-whoami-80"].LoadBalancer.Servers[0].Address; a != "10.0.0.1:8080" {
					t.Fatalf("tcp server %s", a)
				}
				if u := c.UDP.Routers["default-dns-0"]; u == nil || c.UDP.Services["default-dns-0-whoami-http"].LoadBalancer.Servers[0].Address != "10.0.0.1:8080" {
					t.Fatalf("udp %+v %v", u, c.UDP.Services)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, reps := Translate(objects(t, tt.docs), newFake(), tt.opts, nil)
			tt.check(t, c, reps)
		})
	}
}

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		in   *intstr.IntOrString
		want time.Duration
		err  bool
	}{
		{nil, 5 * time.Second, false},
		{&intstr.IntOrString{Type: intstr.Int, IntVal: 3}, 3 * time.Second, false},
		{&intstr.IntOrString{Type: intstr.String, StrVal: "42"}, 42 * time.Second, false},
		{&intstr.IntOrString{Type: intstr.String, StrVal: "150ms"}, 150 * time.Millisecond, false},
		{&intstr.IntOrString{Type: intstr.String, StrVal: "soon"}, 0, true},
	} {
		got, err := duration(tt.in, 5*time.Second)
		if (err != nil) != tt.err || (!tt.err && time.Duration(got) != tt.want) {
			t.Errorf("duration(%v) = %v, %v", tt.in, got, err)
		}
	}
}

func TestNaming(t *testing.T) {
	if got := routeKey("test-route", "Host(`example.com`)"); len(got) != len("test-route-")+20 {
		t.Fatalf("routeKey %q: 20 hex digits expected", got)
	}
	if got := normalize("default-my.app_v2"); got != "default-my-app-v2" {
		t.Fatalf("normalize %q", got)
	}
}

func TestServiceConflict(t *testing.T) {
	docs := `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: a, namespace: default}
spec:
  routes:
  - match: Host(` + "`a`" + `)
    services: [{name: whoami, port: 80, strategy: p2c}]
  - match: Host(` + "`b`" + `)
    services: [{name: whoami, port: 80}]
  - match: Host(` + "`c`" + `)
    services: [{name: whoami, port: 80, strategy: p2c}]`
	c, _ := Translate(objects(t, docs), newFake(), Options{}, nil)
	if s := c.HTTP.Services["default-whoami-80"]; s.LoadBalancer.Strategy != "p2c" || len(c.HTTP.Routers) != 3 {
		t.Fatalf("first definition kept: %+v, routers %d", s.LoadBalancer, len(c.HTTP.Routers))
	}
	if len(c.Problems) != 1 || !c.Problems[0].Warning || c.Problems[0].Name != "default-whoami-80" {
		t.Fatalf("one warning on the service expected: %+v", c.Problems)
	}
}

func TestTranslateMoreMiddlewares(t *testing.T) {
	docs := `apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: err, namespace: default}
spec:
  errors:
    status: ["500-599"]
    query: /{status}.html
    service: {name: whoami, port: 80}
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: fa, namespace: default}
spec:
  forwardAuth:
    address: https://auth.example.com/check
    authResponseHeaders: [X-User]
    tls: {caSecret: cert-ca, certSecret: cert}
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: cb, namespace: default}
spec:
  circuitBreaker: {expression: "NetworkErrorRatio() > 0.5", checkPeriod: 2}
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: plug, namespace: default}
spec:
  plugin:
    demo: {a: 1}
---
apiVersion: traefik.io/v1alpha1
kind: ServersTransport
metadata: {name: st, namespace: default}
spec:
  serverName: x.internal
  forwardingTimeouts: {dialTimeout: 3, idleConnTimeout: 1m}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: app, namespace: default}
spec:
  routes:
  - match: Host(` + "`a`" + `)
    services: [{name: whoami, namespace: other, port: 80, serversTransport: st}]`
	f := newFake()
	f.secrets["default/cert-ca"] = &corev1.Secret{Data: map[string][]byte{"ca.crt": []byte("CA")}}
	c, reps := Translate(objects(t, docs), f, Options{AllowCrossNamespace: true}, nil)
	m := c.HTTP.Middlewares
	if e := m["default-err"].Errors; e.Service != "default-whoami-80" || e.Query != "/{status}.html" || c.HTTP.Services["default-whoami-80"] == nil {
		t.Fatalf("errors %+v", e)
	}
	if fa := m["default-fa"].ForwardAuth; fa.TLS.CA != "CA" || fa.TLS.Cert != "CERT" || fa.TLS.Key != "KEY" || fa.AuthResponseHeaders[0] != "X-User" {
		t.Fatalf("forwardAuth %+v", fa)
	}
	if cb := m["default-cb"].CircuitBreaker; time.Duration(cb.CheckPeriod) != 2*time.Second || cb.ResponseCode != 503 {
		t.Fatalf("circuitBreaker %+v", cb)
	}
	if m["default-plug"] != nil || len(reps) != 1 || !strings.Contains(reps[0].Err.Error(), "plugin") {
		t.Fatalf("plugin middleware: %+v, reports %v", m["default-plug"], reps)
	}
	st := c.HTTP.ServersTransports["default-st"]
	if st == nil || time.Duration(st.ForwardingTimeouts.DialTimeout) != 3*time.Second || time.Duration(st.ForwardingTimeouts.IdleConnTimeout) != time.Minute || st.MaxIdleConnsPerHost != 200 {
		t.Fatalf("serversTransport %+v", st)
	}
	// The transport is looked up in the IngressRoute's namespace, as Traefik does.
	if lb := c.HTTP.Services["other-whoami-80"].LoadBalancer; lb.ServersTransport != "default-st" {
		t.Fatalf("serversTransport reference %q", lb.ServersTransport)
	}
}

func TestTraefikServiceFailoverAndChildMiddlewares(t *testing.T) {
	docs := `apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: fo, namespace: default}
spec:
  failover:
    service: {name: whoami, port: 80, healthCheck: {path: /health, interval: 5s}}
    fallback: {name: backup, kind: TraefikService}
---
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: fo-status, namespace: default}
spec:
  failover:
    service: {name: whoami, port: 80}
    fallback: {name: whoami, port: http}
    errors: {status: ["500-503"]}
---
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: child-mw, namespace: default}
spec:
  weighted:
    services:
    - {name: whoami, port: 80, middlewares: [{name: auth}]}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: app, namespace: default}
spec:
  routes:
  - match: Host(` + "`a`" + `)
    services: [{name: whoami, port: 80, middlewares: [{name: auth}]}]`
	c, reps := Translate(objects(t, docs), newFake(), Options{}, nil)
	f := c.HTTP.Services["default-fo"]
	if f == nil || f.Failover.Service != "default-whoami-80" || f.Failover.Fallback != "default-backup" ||
		time.Duration(c.HTTP.Services["default-whoami-80"].LoadBalancer.HealthCheck.Interval) != 5*time.Second {
		t.Fatalf("failover %+v", f)
	}
	// Refused rather than served without the auth middleware or with
	// another failover semantic.
	if c.HTTP.Services["default-fo-status"] != nil || c.HTTP.Services["default-child-mw"] != nil || len(c.HTTP.Routers) != 0 || len(reps) != 3 {
		t.Fatalf("services %v routers %v reports %v", c.HTTP.Services, c.HTTP.Routers, reps)
	}
}

func TestRateLimitRedis(t *testing.T) {
	docs := `apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: rl, namespace: default}
spec:
  rateLimit:
    average: 100
    burst: 50
    redis:
      endpoints: ["redis:6379"]
      secret: redis-creds
      db: 2
      dialTimeout: 3
      readTimeout: 500ms
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: rl-missing, namespace: default}
spec:
  rateLimit:
    average: 1
    redis: {endpoints: ["redis:6379"], secret: nope}`
	f := newFake()
	f.secrets["default/redis-creds"] = &corev1.Secret{Data: map[string][]byte{"username": []byte("u"), "password": []byte("p")}}
	c, reps := Translate(objects(t, docs), f, Options{}, nil)
	r := c.HTTP.Middlewares["default-rl"].RateLimit
	if r.Burst != 50 || r.Redis == nil || r.Redis.Username != "u" || r.Redis.Password != "p" || r.Redis.DB != 2 ||
		time.Duration(*r.Redis.DialTimeout) != 3*time.Second || time.Duration(*r.Redis.ReadTimeout) != 500*time.Millisecond || r.Redis.WriteTimeout != nil {
		t.Fatalf("rateLimit %+v redis %+v", r, r.Redis)
	}
	if c.HTTP.Middlewares["default-rl-missing"] != nil || len(reps) != 1 || !strings.Contains(reps[0].Err.Error(), "redis") {
		t.Fatalf("missing redis secret: reports %v", reps)
	}
}

// Fields of Traefik's CRDs that Switchyard cannot honour are refused by
// name: the object is reported and left out, never served without them.
func TestRefusedTraefikFields(t *testing.T) {
	docs := `apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: hrw, namespace: default}
spec:
  highestRandomWeight:
    services:
    - {name: whoami, port: 80, weight: 10}
---
apiVersion: traefik.io/v1alpha1
kind: ServersTransport
metadata: {name: st, namespace: default}
spec:
  serverName: example.org
  spiffe: {ids: ["spiffe://example.org/app"], trustDomain: "spiffe://example.org"}
---
apiVersion: traefik.io/v1alpha1
kind: ServersTransportTCP
metadata: {name: sttcp, namespace: default}
spec:
  tls:
    serverName: example.org
    spiffe: {trustDomain: "spiffe://example.org"}
---
apiVersion: traefik.io/v1alpha1
kind: ServersTransport
metadata: {name: plain, namespace: default}
spec:
  serverName: example.org`
	c, reps := Translate(objects(t, docs), newFake(), Options{}, nil)
	if c.HTTP.Services["default-hrw"] != nil || c.HTTP.ServersTransports["default-st"] != nil || c.TCP.ServersTransports["default-sttcp"] != nil {
		t.Fatalf("refused objects translated: services %v transports %v tcp transports %v", keys(c.HTTP.Services), keys(c.HTTP.ServersTransports), keys(c.TCP.ServersTransports))
	}
	if c.HTTP.ServersTransports["default-plain"] == nil {
		t.Error("the valid transport is missing")
	}
	// Each object is reported (log and Event) naming the field; the
	// service's problem is also in the API.
	all := fmt.Sprint(reps)
	for _, want := range []string{"hrw highestRandomWeight is not supported", "st spiffe is not supported", "sttcp tls.spiffe is not supported"} {
		if !strings.Contains(all, want) {
			t.Errorf("no report naming %q: %v", want, reps)
		}
	}
	if len(c.Problems) != 1 || c.Problems[0].Name != "default-hrw" || !strings.Contains(c.Problems[0].Error, "highestRandomWeight") {
		t.Errorf("problems %+v", c.Problems)
	}
	if len(reps) != 3 {
		t.Errorf("reports %v, want 3", reps)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
