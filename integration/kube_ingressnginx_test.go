package integration

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// nginxEcho is what the ingress-nginx tests' backends answer: who they
// are and the request as they received it.
type nginxEcho struct {
	Name   string      `json:"name"`
	Path   string      `json:"path"`
	Query  string      `json:"query"`
	Host   string      `json:"host"`
	Header http.Header `json:"header"`
}

func nginxEchoHandler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(nginxEcho{Name: name, Path: r.URL.Path, Query: r.URL.RawQuery, Host: r.Host, Header: r.Header})
	})
}

func nginxParseEcho(t testing.TB, body string) nginxEcho {
	t.Helper()
	var e nginxEcho
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("backend answer %q: %v", tail(body, 300), err)
	}
	return e
}

// nginxBackend starts an echo backend in the test network and a Service
// "name" (port 80, named http) whose EndpointSlice points at it.
func nginxBackend(t testing.TB, k *kubeCluster, kn *kubeNet, ns, name string) {
	t.Helper()
	ip, port := kn.ServeHTTP(t, nginxEchoHandler(name))
	k.ServiceWithEndpoints(t, ns, name, "http", 80, int32(port), KubeEndpoint{IP: ip, Ready: true})
}

// nginxClass creates the IngressClass "nginx" of ingress-nginx's
// controller, once for the shared API server.
func nginxClass(t testing.TB, k *kubeCluster) {
	t.Helper()
	ic := &netv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: netv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}
	if _, err := k.Client.NetworkingV1().IngressClasses().Create(context.Background(), ic, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("ingress class: %v", err)
	}
}

// nginxStatic is the static configuration of the ingress-nginx tests:
// web (plain), websecure (TLS routers) and the API; extra is added under
// providers.kubernetesIngressNGINX.
func nginxStatic(k *kubeCluster, ns, extra string) string {
	return `entryPoints:
  web:
    address: "<% addr "web" %>"
  websecure:
    address: "<% addr "websecure" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
log:
  level: DEBUG
providers:
  providersThrottleDuration: 100ms
  kubernetesIngressNGINX:
` + k.ProviderYAML("    ") + `    watchNamespace: "` + ns + `"
` + extra
}

// nginxHTTPSClient trusts anything (the default certificate is self-signed)
// and never follows redirects.
var nginxHTTPSClient = &http.Client{
	Transport: &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableCompression: true},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
	Timeout: 30 * time.Second,
}

// waitNginx polls url with host until the answer satisfies ok (30 s).
func waitNginx(t testing.TB, url, host string, ok func(Reply) bool) Reply {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last Reply
	var lastErr error
	for time.Now().Before(deadline) {
		last, lastErr = tryDo(request{url: url, host: host})
		if lastErr == nil && ok(last) {
			return last
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("GET %s (Host %s): last answer %d %q, error %v", url, host, last.Status, tail(last.Body, 300), lastErr)
	return last
}

func nginxCreateIngress(t testing.TB, k *kubeCluster, ing *netv1.Ingress) {
	t.Helper()
	if _, err := k.Client.NetworkingV1().Ingresses(ing.Namespace).Create(context.Background(), ing, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ingress %s: %v", ing.Name, err)
	}
}

func nginxPathType(p netv1.PathType) *netv1.PathType { return &p }

func nginxSimpleIngress(ns, name, class, host, path string, pt netv1.PathType, svc string, ann map[string]string) *netv1.Ingress {
	ing := &netv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: ann},
		Spec: netv1.IngressSpec{Rules: []netv1.IngressRule{{Host: host, IngressRuleValue: netv1.IngressRuleValue{HTTP: &netv1.HTTPIngressRuleValue{
			Paths: []netv1.HTTPIngressPath{{Path: path, PathType: nginxPathType(pt), Backend: netv1.IngressBackend{Service: &netv1.IngressServiceBackend{
				Name: svc, Port: netv1.ServiceBackendPort{Number: 80},
			}}}},
		}}}}},
	}
	if class != "" {
		ing.Spec.IngressClassName = &class
	}
	return ing
}

// TestKubeIngressNGINXBasic: the first slice through the real binary and
// API server. An Ingress of class nginx is served (Prefix matching whole
// path elements), one of another class is not; rewrite-target with
// capture groups rewrites the path the backend sees (case-insensitive
// regex, as NGINX's location ~*); an Ingress with TLS redirects plain
// HTTP with 308 and serves HTTPS; endpoints changing in the EndpointSlice
// move traffic.
func TestKubeIngressNGINXBasic(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	k := requireKube(t)
	kn := requireKubeNet(t)
	nginxClass(t, k)
	ns := k.Namespace(t)
	nginxBackend(t, k, kn, ns, "web")
	nginxBackend(t, k, kn, ns, "api")

	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "plain", "nginx", "plain.example.test", "/app", netv1.PathTypePrefix, "web", nil))
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "other-class", "traefik", "other.example.test", "/", netv1.PathTypePrefix, "web", nil))
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "rewrite", "nginx", "rw.example.test", "/api(/|$)(.*)", netv1.PathTypeImplementationSpecific, "api",
		map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": "/$2", "nginx.ingress.kubernetes.io/use-regex": "true"}))
	tlsIng := nginxSimpleIngress(ns, "secure", "nginx", "secure.example.test", "/", netv1.PathTypePrefix, "web", nil)
	tlsIng.Spec.TLS = []netv1.IngressTLS{{Hosts: []string{"secure.example.test"}}}
	nginxCreateIngress(t, k, tlsIng)

	e := newEnv(t)
	e.WriteStatic("yml", nginxStatic(k, ns, ""))
	e.Start()
	base := e.URL("web")
	waitNginx(t, base+"/app/x", "plain.example.test", func(r Reply) bool { return r.Status == 200 })

	t.Run("prefix matches whole path elements", func(t *testing.T) {
		for path, want := range map[string]int{"/app": 200, "/app/": 200, "/app/a/b": 200, "/apple": 404, "/": 404} {
			if r := do(t, request{url: base + path, host: "plain.example.test"}); r.Status != want {
				t.Errorf("%s: %d, want %d", path, r.Status, want)
			}
		}
	})
	t.Run("other class not served", func(t *testing.T) {
		if r := do(t, request{url: base + "/", host: "other.example.test"}); r.Status != 404 {
			t.Errorf("Ingress of class traefik served: %d", r.Status)
		}
	})
	t.Run("rewrite-target capture groups", func(t *testing.T) {
		for path, want := range map[string]string{"/api/users/7": "/users/7", "/API/users": "/users", "/api": "/", "/api/": "/"} {
			r := waitNginx(t, base+path+"?x=1", "rw.example.test", func(r Reply) bool { return r.Status == 200 })
			got := nginxParseEcho(t, r.Body)
			if got.Path != want || got.Query != "x=1" || got.Name != "api" {
				t.Errorf("%s: backend saw %q ?%s (%s), want %q ?x=1", path, got.Path, got.Query, got.Name, want)
			}
		}
		if r := do(t, request{url: base + "/apiary", host: "rw.example.test"}); r.Status != 404 {
			t.Errorf("/apiary: %d, want 404 (the regex needs / or the end after /api)", r.Status)
		}
	})
	t.Run("ssl-redirect 308", func(t *testing.T) {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			r := do(t, request{method: m, url: base + "/login?next=%2Fhome", host: "secure.example.test"})
			if r.Status != 308 || r.Header.Get("Location") != "https://secure.example.test/login?next=%2Fhome" {
				t.Errorf("%s: %d Location %q", m, r.Status, r.Header.Get("Location"))
			}
		}
		req, _ := http.NewRequest(http.MethodGet, "https://"+e.Addr("websecure")+"/login", nil)
		req.Host = "secure.example.test"
		resp, err := nginxHTTPSClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("https: %d", resp.StatusCode)
		}
		// A host without TLS is not redirected.
		if r := do(t, request{url: base + "/app", host: "plain.example.test"}); r.Status != 200 {
			t.Errorf("plain host: %d", r.Status)
		}
	})
	t.Run("endpoints follow the EndpointSlice", func(t *testing.T) {
		ip, port := kn.ServeHTTP(t, nginxEchoHandler("web-2"))
		k.SetEndpoints(t, ns, "web", "http", int32(port), KubeEndpoint{IP: ip, Ready: true})
		waitNginx(t, base+"/app", "plain.example.test", func(r Reply) bool {
			return r.Status == 200 && nginxParseEcho(t, r.Body).Name == "web-2"
		})
	})
	rd := e.WaitAPI(10*time.Second, "routers", func(rd *Rawdata) bool {
		_, ok := rd.Routers[ns+"-plain-rule-0-path-0@kubernetesingressnginx"]
		return ok
	})
	if r := rd.Routers[ns+"-secure-rule-0-path-0@kubernetesingressnginx"]; !strings.Contains(strings.Join(r.Middlewares, ","), "redirect-scheme") {
		t.Errorf("plain router of the TLS Ingress: %+v", r)
	}
	_ = fmt.Sprint
	_ = corev1.ServiceTypeClusterIP
}
