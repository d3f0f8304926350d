package integration

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/switchyard-proxy/switchyard/middlewares/digestauth"
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
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "exact", "nginx", "plain.example.test", "/app", netv1.PathTypeExact, "api", nil))
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "no-host", "nginx", "", "/", netv1.PathTypePrefix, "api", nil))
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "wildcard", "nginx", "*.wild.test", "/", netv1.PathTypePrefix, "api", nil))
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "fromwww", "nginx", "fw.example.test", "/", netv1.PathTypePrefix, "web",
		map[string]string{"nginx.ingress.kubernetes.io/from-to-www-redirect": "true"}))
	clientCA := newCA(t, "nginx client CA")
	if _, err := k.Client.CoreV1().Secrets(ns).Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "client-ca", Namespace: ns},
		Data: map[string][]byte{"ca.crt": []byte(clientCA.PEM)}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mtlsIng := nginxSimpleIngress(ns, "mtls", "nginx", "mtls.example.test", "/", netv1.PathTypePrefix, "web",
		map[string]string{"nginx.ingress.kubernetes.io/auth-tls-secret": ns + "/client-ca", "nginx.ingress.kubernetes.io/auth-tls-verify-client": "on",
			"nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream": "true"})
	mtlsIng.Spec.TLS = []netv1.IngressTLS{{Hosts: []string{"mtls.example.test"}}}
	nginxCreateIngress(t, k, mtlsIng)
	passCertPEM, passKeyPEM := clientCA.issue(t, "pass-backend", []string{"pass.example.test"}, false)
	passCert, err := tls.X509KeyPair([]byte(passCertPEM), []byte(passKeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	passIP := kn.NewIP(t)
	passPort := serveTCPEchoIn(t, kn, passIP, 0, "pass", &passCert)
	k.ServiceWithEndpoints(t, ns, "pass", "https", 80, int32(passPort), KubeEndpoint{IP: passIP, Ready: true})
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "pass", "nginx", "pass.example.test", "/", netv1.PathTypePrefix, "pass",
		map[string]string{"nginx.ingress.kubernetes.io/ssl-passthrough": "true"}))
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "alias", "nginx", "alias.example.test", "/", netv1.PathTypePrefix, "web",
		map[string]string{"nginx.ingress.kubernetes.io/server-alias": "alias2.example.test, plain.example.test"}))
	rip, rport := kn.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "sid=1; Domain=internal.svc; Path=/login; HttpOnly")
		http.Redirect(w, r, "http://internal.svc:8080/login?next=1", http.StatusFound)
	}))
	k.ServiceWithEndpoints(t, ns, "redir", "http", 80, int32(rport), KubeEndpoint{IP: rip, Ready: true})
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "redir", "nginx", "redir.example.test", "/", netv1.PathTypePrefix, "redir",
		map[string]string{"nginx.ingress.kubernetes.io/proxy-redirect-from": "http://internal.svc:8080/", "nginx.ingress.kubernetes.io/proxy-redirect-to": "https://redir.example.test/app/",
			"nginx.ingress.kubernetes.io/proxy-cookie-domain": "internal.svc redir.example.test", "nginx.ingress.kubernetes.io/proxy-cookie-path": "/ /app/"}))
	k.ServiceWithEndpoints(t, ns, "empty", "http", 80, 8080, KubeEndpoint{IP: kn.NewIP(t), Ready: false})
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "fallback", "nginx", "fb.example.test", "/", netv1.PathTypePrefix, "empty",
		map[string]string{"nginx.ingress.kubernetes.io/default-backend": "api"}))
	digestHA1 := digestauth.HA1("alice", "Office", "secret")
	if _, err := k.Client.CoreV1().Secrets(ns).Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "digest", Namespace: ns},
		Data: map[string][]byte{"auth": []byte("alice:Office:" + digestHA1 + "\n")}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "digest", "nginx", "digest.example.test", "/", netv1.PathTypePrefix, "web",
		map[string]string{"nginx.ingress.kubernetes.io/auth-type": "digest", "nginx.ingress.kubernetes.io/auth-secret": "digest"}))
	tlsIng := nginxSimpleIngress(ns, "secure", "nginx", "secure.example.test", "/", netv1.PathTypePrefix, "web", nil)
	tlsIng.Spec.TLS = []netv1.IngressTLS{{Hosts: []string{"secure.example.test"}}}
	nginxCreateIngress(t, k, tlsIng)

	e := newEnv(t)
	e.WriteStatic("yml", nginxStatic(k, ns, ""))
	e.Start()
	base := e.URL("web")
	waitNginx(t, base+"/app/x", "plain.example.test", func(r Reply) bool { return r.Status == 200 })

	t.Run("prefix matches whole path elements", func(t *testing.T) {
		// /apple and / match no location of the server: 404 as in NGINX,
		// even with a wildcard server and a default server around.
		for path, want := range map[string]int{"/app": 200, "/app/": 200, "/app/a/b": 200, "/apple": 404, "/": 404} {
			if r := do(t, request{url: base + path, host: "plain.example.test"}); r.Status != want {
				t.Errorf("%s: %d, want %d", path, r.Status, want)
			}
		}
	})
	t.Run("priorities as NGINX picks server and location", func(t *testing.T) {
		for _, c := range []struct{ host, path, want string }{
			{"plain.example.test", "/app", "api"},   // exact location before the prefix one
			{"plain.example.test", "/app/x", "web"}, // the prefix
			{"any.wild.test", "/x", "api"},          // the wildcard server
			{"nohost.test", "/x", "api"},            // the default server
		} {
			r := waitNginx(t, base+c.path, c.host, func(r Reply) bool { return r.Status == 200 })
			if got := nginxParseEcho(t, r.Body).Name; got != c.want {
				t.Errorf("%s%s: %s, want %s", c.host, c.path, got, c.want)
			}
		}
	})
	t.Run("other class not served", func(t *testing.T) {
		// Not ours: the request goes to the default server (the Ingress
		// without host), never to the other class's backend.
		if r := do(t, request{url: base + "/", host: "other.example.test"}); r.Status != 200 || nginxParseEcho(t, r.Body).Name != "api" {
			t.Errorf("Ingress of class traefik: %d %s", r.Status, r.Body)
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
		if r := do(t, request{url: base + "/app/x", host: "plain.example.test"}); r.Status != 200 {
			t.Errorf("plain host: %d", r.Status)
		}
	})
	t.Run("from-to-www-redirect", func(t *testing.T) {
		r := waitNginx(t, base+"/p?q=1", "www.fw.example.test", func(r Reply) bool { return r.Status == 308 })
		if loc := r.Header.Get("Location"); loc != "http://fw.example.test/p?q=1" {
			t.Errorf("Location %q", loc)
		}
		if r := do(t, request{url: base + "/p", host: "fw.example.test"}); r.Status != 200 || nginxParseEcho(t, r.Body).Name != "web" {
			t.Errorf("the host itself: %d %s", r.Status, r.Body)
		}
	})
	t.Run("auth-tls-secret client certificates", func(t *testing.T) {
		crt, key := clientCA.issue(t, "client", nil, true)
		pair, err := tls.X509KeyPair([]byte(crt), []byte(key))
		if err != nil {
			t.Fatal(err)
		}
		var body string
		get := func(certs []tls.Certificate) (int, error) {
			c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{
				InsecureSkipVerify: true, ServerName: "mtls.example.test", Certificates: certs}}} //nolint:gosec // the default certificate is self-signed
			defer c.CloseIdleConnections()
			req, _ := http.NewRequest(http.MethodGet, "https://"+e.Addr("websecure")+"/x", nil)
			req.Host = "mtls.example.test"
			req.Header.Set("Ssl-Client-Verify", "forged")
			resp, err := c.Do(req)
			if err != nil {
				return 0, err
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			return resp.StatusCode, nil
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			st, err := get([]tls.Certificate{pair})
			if err == nil && st == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("with a client certificate: %d %v", st, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// auth-tls-pass-certificate-to-upstream: ingress-nginx's headers.
		h := nginxParseEcho(t, body).Header
		if h.Get("Ssl-Client-Verify") != "SUCCESS" || h.Get("Ssl-Client-Subject-Dn") != "CN=client" || h.Get("Ssl-Client-Issuer-Dn") != "CN=nginx client CA" ||
			!strings.HasPrefix(h.Get("Ssl-Client-Cert"), "-----BEGIN%20CERTIFICATE-----%0A") {
			t.Errorf("backend headers %v", h)
		}
		if st, err := get(nil); err == nil {
			t.Errorf("without a client certificate: %d, want a handshake failure", st)
		}
		other, okey := newCA(t, "other CA").issue(t, "client", nil, true)
		opair, _ := tls.X509KeyPair([]byte(other), []byte(okey))
		if st, err := get([]tls.Certificate{opair}); err == nil {
			t.Errorf("with a certificate of another CA: %d, want a handshake failure", st)
		}
		// Another host keeps serving without client certificates.
		req, _ := http.NewRequest(http.MethodGet, "https://"+e.Addr("websecure")+"/login", nil)
		req.Host = "secure.example.test"
		if resp, err := nginxHTTPSClient.Do(req); err != nil || resp.StatusCode != 200 {
			t.Errorf("other host: %v", err)
		} else {
			resp.Body.Close()
		}
	})
	t.Run("ssl-passthrough", func(t *testing.T) {
		// The backend's own certificate and bytes: the TLS is not terminated.
		e.waitFor(30*time.Second, "passthrough to the backend", func() bool {
			c, err := tlsDial(e.Addr("websecure"), &tls.Config{ServerName: "pass.example.test", InsecureSkipVerify: true}) //nolint:gosec // the test checks the peer by name
			if err != nil {
				return false
			}
			defer c.Close()
			if c.ConnectionState().PeerCertificates[0].Subject.CommonName != "pass-backend" {
				return false
			}
			got, _ := tcpExchange(c, "hi")
			return got == "pass|hi"
		})
	})
	t.Run("server-alias", func(t *testing.T) {
		for _, h := range []string{"alias.example.test", "alias2.example.test"} {
			if r := waitNginx(t, base+"/x", h, func(r Reply) bool { return r.Status == 200 }); nginxParseEcho(t, r.Body).Name != "web" {
				t.Errorf("%s: %s", h, r.Body)
			}
		}
		// An alias another Ingress names is left to that Ingress.
		if r := do(t, request{url: base + "/x", host: "plain.example.test"}); r.Status != 404 {
			t.Errorf("alias of a named host: %d", r.Status)
		}
	})
	t.Run("proxy-redirect and proxy-cookie", func(t *testing.T) {
		r := waitNginx(t, base+"/x", "redir.example.test", func(r Reply) bool { return r.Status == 302 })
		if loc := r.Header.Get("Location"); loc != "https://redir.example.test/app/login?next=1" {
			t.Errorf("Location %q", loc)
		}
		// proxy-cookie-domain and proxy-cookie-path.
		if c := r.Header.Get("Set-Cookie"); c != "sid=1; Domain=redir.example.test; Path=/app/login; HttpOnly" {
			t.Errorf("Set-Cookie %q", c)
		}
	})
	t.Run("default-backend annotation", func(t *testing.T) {
		// The path's Service has no ready endpoint: the default-backend serves.
		if r := waitNginx(t, base+"/x", "fb.example.test", func(r Reply) bool { return r.Status == 200 }); nginxParseEcho(t, r.Body).Name != "api" {
			t.Errorf("fallback: %s", r.Body)
		}
	})
	t.Run("auth-type digest", func(t *testing.T) {
		r := waitNginx(t, base+"/x", "digest.example.test", func(r Reply) bool { return r.Status == 401 })
		ch := r.Header.Get("WWW-Authenticate")
		if !strings.HasPrefix(ch, "Digest ") || !strings.Contains(ch, `realm="Office"`) {
			t.Fatalf("challenge %q", ch)
		}
		p := digestauth.ParseParams(ch[len("Digest "):])
		resp := digestauth.Response(digestHA1, "GET", "/x", p["nonce"], "00000001", "c0ffee", "auth")
		auth := fmt.Sprintf(`Digest username="alice", realm="Office", nonce=%q, uri="/x", qop=auth, nc=00000001, cnonce="c0ffee", response=%q, opaque=%q`, p["nonce"], resp, p["opaque"])
		if r := do(t, request{url: base + "/x", host: "digest.example.test", header: map[string]string{"Authorization": auth}}); r.Status != 200 || nginxParseEcho(t, r.Body).Name != "web" {
			t.Errorf("with credentials: %d %s", r.Status, r.Body)
		}
	})
	t.Run("endpoints follow the EndpointSlice", func(t *testing.T) {
		ip, port := kn.ServeHTTP(t, nginxEchoHandler("web-2"))
		k.SetEndpoints(t, ns, "web", "http", int32(port), KubeEndpoint{IP: ip, Ready: true})
		waitNginx(t, base+"/app/x", "plain.example.test", func(r Reply) bool {
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

// nginxApplyYAML decodes a multi-document YAML file with client-go and
// creates every object in ns.
func nginxApplyYAML(t testing.TB, k *kubeCluster, ns, text string) {
	t.Helper()
	ctx := context.Background()
	dec := scheme.Codecs.UniversalDeserializer()
	for i, doc := range strings.Split(text, "\n---\n") {
		if strings.TrimSpace(strings.Trim(doc, "-")) == "" {
			continue
		}
		obj, gvk, err := dec.Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		switch o := obj.(type) {
		case *netv1.Ingress:
			o.Namespace = ns
			_, err = k.Client.NetworkingV1().Ingresses(ns).Create(ctx, o, metav1.CreateOptions{})
		case *corev1.Secret:
			o.Namespace = ns
			_, err = k.Client.CoreV1().Secrets(ns).Create(ctx, o, metav1.CreateOptions{})
		case *corev1.ConfigMap:
			o.Namespace = ns
			_, err = k.Client.CoreV1().ConfigMaps(ns).Create(ctx, o, metav1.CreateOptions{})
		default:
			t.Fatalf("document %d: unexpected %v", i, gvk)
		}
		if err != nil {
			t.Fatalf("document %d (%v): %v", i, gvk, err)
		}
	}
}

// nginxSlowEcho is the echo backend; ?sleep=<duration> delays the answer.
func nginxSlowEcho(name string) http.Handler {
	echo := nginxEchoHandler(name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d, err := time.ParseDuration(r.URL.Query().Get("sleep")); err == nil && d < 10*time.Second {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		echo.ServeHTTP(w, r)
	})
}

// TestKubeIngressNGINXMigration: the Ingresses of
// testdata/ingress-nginx/migration.yaml (29 of them, with their Secrets
// and ConfigMap), applied unchanged, each answering through the real
// binary as ingress-nginx would: rewritten paths seen by the backend,
// 308/301/307/302 with their Location, 413, 403, 401 with the realm,
// forward auth with a copied header and the sign-in redirect, CORS
// headers, 503 over a rate limit, a 25 % canary measured over 400
// requests, header and cookie canaries, a sticky cookie, upstream vhost,
// custom headers from a ConfigMap, an HTTPS backend, a read timeout's 504,
// the legacy class annotation, another class left alone; a snippet
// ignored with a warning in the API and an Event; status written.
func TestKubeIngressNGINXMigration(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	k := requireKube(t)
	kn := requireKubeNet(t)
	nginxClass(t, k)
	ns := k.Namespace(t)

	for _, name := range []string{"storefront", "api", "legacy", "secure", "uploads", "admin", "web", "web-canary", "beta", "beta-canary"} {
		ip, port := kn.ServeHTTP(t, nginxSlowEcho(name))
		k.ServiceWithEndpoints(t, ns, name, "http", 80, int32(port), KubeEndpoint{IP: ip, Ready: true})
	}
	// Two pods behind the sticky service, on the same target port.
	ipA, ipB := kn.NewIP(t), kn.NewIP(t)
	lnA := kn.Listen(t, ipA, 0)
	port := lnA.Addr().(*net.TCPAddr).Port
	lnB := kn.Listen(t, ipB, port)
	for ln, name := range map[net.Listener]string{lnA: "sticky-a", lnB: "sticky-b"} {
		srv := &http.Server{Handler: nginxEchoHandler(name), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
	}
	k.ServiceWithEndpoints(t, ns, "sticky", "http", 80, int32(port), KubeEndpoint{IP: ipA, Ready: true}, KubeEndpoint{IP: ipB, Ready: true})
	// An HTTPS-only backend.
	crt, key := selfSigned(t)
	pair, err := tls.X509KeyPair(crt, key)
	if err != nil {
		t.Fatal(err)
	}
	tip := kn.NewIP(t)
	tln := tls.NewListener(kn.Listen(t, tip, 0), &tls.Config{Certificates: []tls.Certificate{pair}})
	tsrv := &http.Server{Handler: nginxEchoHandler("tls-backend"), ReadHeaderTimeout: 10 * time.Second}
	go tsrv.Serve(tln)
	t.Cleanup(func() { tsrv.Close() })
	k.ServiceWithEndpoints(t, ns, "tls-backend", "https", 443, int32(tln.Addr().(*net.TCPAddr).Port), KubeEndpoint{IP: tip, Ready: true})
	// The authentication service: "Bearer good" is alice.
	aip, aport := kn.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// auth-method POST: a GET from the client is checked with a POST.
		if r.Header.Get("Authorization") != "Bearer good" || r.Method != http.MethodPost {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-Auth-User", "alice")
		w.WriteHeader(http.StatusOK)
	}))

	text, err := os.ReadFile("testdata/ingress-nginx/migration.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(text), "\nkind: Ingress\n"); n < 20 {
		t.Fatalf("%d Ingresses in the migration set", n)
	}
	nginxApplyYAML(t, k, ns, strings.ReplaceAll(string(text), "__AUTH_HOST__", net.JoinHostPort(aip, strconv.Itoa(aport))))

	e := newEnv(t)
	e.WriteStatic("yml", nginxStatic(k, ns, `    publishStatusAddress: "192.0.2.10"
    globalAllowedResponseHeaders:
      - X-Frame-Options
      - X-Content-Type-Options
`))
	start := time.Now()
	e.Start()
	base := e.URL("web")
	get := func(host, path string, hdr map[string]string) Reply {
		t.Helper()
		return do(t, request{url: base + path, host: host, header: hdr})
	}
	waitNginx(t, base+"/", "shop.migrate.test", func(r Reply) bool { return r.Status == 200 })
	waitNginx(t, base+"/", "tlsb.migrate.test", func(r Reply) bool { return r.Status == 200 })
	t.Logf("29 Ingresses served %v after start", time.Since(start).Round(time.Millisecond))

	t.Run("storefront", func(t *testing.T) {
		if r := get("shop.migrate.test", "/cart", nil); r.Status != 200 || nginxParseEcho(t, r.Body).Name != "storefront" {
			t.Errorf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("rewrite capture groups", func(t *testing.T) {
		for path, want := range map[string]string{"/v1/users/42": "/users/42", "/V1/users": "/users", "/v1": "/"} {
			r := get("api.migrate.test", path, nil)
			if r.Status != 200 || nginxParseEcho(t, r.Body).Path != want {
				t.Errorf("%s: %d %s, want path %s", path, r.Status, r.Body, want)
			}
		}
		if r := get("api.migrate.test", "/v2/users", nil); r.Status != 404 {
			t.Errorf("/v2: %d", r.Status)
		}
	})
	t.Run("rewrite whole path", func(t *testing.T) {
		for _, path := range []string{"/old", "/old/page", "/oldies"} {
			if r := get("legacy.migrate.test", path+"?q=1", nil); r.Status != 200 || nginxParseEcho(t, r.Body).Path != "/new" || nginxParseEcho(t, r.Body).Query != "q=1" {
				t.Errorf("%s: %d %s", path, r.Status, r.Body)
			}
		}
	})
	t.Run("tls and ssl-redirect", func(t *testing.T) {
		r := get("secure.migrate.test", "/cart?x=1", nil)
		if r.Status != 308 || r.Header.Get("Location") != "https://secure.migrate.test/cart?x=1" {
			t.Errorf("redirect: %d %q", r.Status, r.Header.Get("Location"))
		}
		conn, err := tls.Dial("tcp", e.Addr("websecure"), &tls.Config{ServerName: "secure.migrate.test", InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		cn := conn.ConnectionState().PeerCertificates[0].Subject.CommonName
		conn.Close()
		if cn != "secure.migrate.test" {
			t.Errorf("certificate served for secure.migrate.test: CN %q, want the Secret's", cn)
		}
		req, _ := http.NewRequest(http.MethodGet, "https://"+e.Addr("websecure")+"/cart", nil)
		req.Host = "secure.migrate.test"
		resp, err := nginxHTTPSClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("https: %d", resp.StatusCode)
		}
		if r := get("force.migrate.test", "/", nil); r.Status != 308 || r.Header.Get("Location") != "https://force.migrate.test/" {
			t.Errorf("force-ssl-redirect: %d %q", r.Status, r.Header.Get("Location"))
		}
		if r := get("plain-tls.migrate.test", "/", nil); r.Status != 200 {
			t.Errorf("ssl-redirect false: %d", r.Status)
		}
	})
	t.Run("proxy-body-size 413", func(t *testing.T) {
		if r := do(t, request{method: "POST", url: base + "/upload", host: "uploads.migrate.test", body: strings.Repeat("x", 2048)}); r.Status != 413 {
			t.Errorf("2 KiB: %d", r.Status)
		}
		if r := do(t, request{method: "POST", url: base + "/upload", host: "uploads.migrate.test", body: strings.Repeat("x", 100)}); r.Status != 200 {
			t.Errorf("100 B: %d", r.Status)
		}
	})
	t.Run("cors", func(t *testing.T) {
		r := do(t, request{method: "OPTIONS", url: base + "/items", host: "cors.migrate.test", header: map[string]string{
			"Origin": "https://app.migrate.test", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "Authorization",
		}})
		h := r.Header
		if r.Status != 204 || h.Get("Access-Control-Allow-Origin") != "https://app.migrate.test" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			h.Get("Access-Control-Max-Age") != "600" || h.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Errorf("preflight: %d %v", r.Status, h)
		}
		if nginxBodyIsEcho(r.Body) {
			t.Errorf("preflight reached the backend")
		}
		r = get("cors.migrate.test", "/items", map[string]string{"Origin": "https://pr-7.preview.migrate.test"})
		if r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != "https://pr-7.preview.migrate.test" || r.Header.Get("Access-Control-Expose-Headers") != "X-Request-Id" {
			t.Errorf("wildcard origin: %d %v", r.Status, r.Header)
		}
		if r = get("cors.migrate.test", "/items", map[string]string{"Origin": "https://evil.test"}); r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("foreign origin allowed: %v", r.Header)
		}
		// The wildcard is one DNS label, as ingress-nginx's; an OPTIONS
		// request from an origin not allowed goes to the backend.
		if r = get("cors.migrate.test", "/items", map[string]string{"Origin": "https://a.b.preview.migrate.test"}); r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("two-label origin allowed: %v", r.Header)
		}
		r = do(t, request{method: "OPTIONS", url: base + "/items", host: "cors.migrate.test", header: map[string]string{
			"Origin": "https://evil.test", "Access-Control-Request-Method": "POST",
		}})
		if r.Status != 200 || !nginxBodyIsEcho(r.Body) || r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("foreign preflight: %d %v", r.Status, r.Header)
		}
	})
	t.Run("source ranges 403", func(t *testing.T) {
		for _, h := range []string{"internal.migrate.test", "blocked.migrate.test"} {
			if r := get(h, "/", nil); r.Status != 403 {
				t.Errorf("%s: %d", h, r.Status)
			}
		}
	})
	t.Run("basic auth", func(t *testing.T) {
		r := get("admin.migrate.test", "/", nil)
		if r.Status != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), `realm="Authentication Required - admin"`) {
			t.Errorf("no credentials: %d %q", r.Status, r.Header.Get("WWW-Authenticate"))
		}
		if r := get("admin.migrate.test", "/", map[string]string{"Authorization": basicAuthHeader("admin", "wrong")}); r.Status != 401 {
			t.Errorf("wrong password: %d", r.Status)
		}
		if r := get("admin.migrate.test", "/", map[string]string{"Authorization": basicAuthHeader("admin", "s3cret")}); r.Status != 200 {
			t.Errorf("auth-file user: %d", r.Status)
		}
		if r := get("ops.migrate.test", "/", map[string]string{"Authorization": basicAuthHeader("ops", "opspass")}); r.Status != 200 {
			t.Errorf("auth-map user: %d", r.Status)
		}
		if r := get("ops.migrate.test", "/", nil); r.Status != 401 {
			t.Errorf("auth-map without credentials: %d", r.Status)
		}
	})
	t.Run("forward auth", func(t *testing.T) {
		r := get("sso.migrate.test", "/me?tab=1", nil)
		if r.Status != 302 || r.Header.Get("Location") != "https://login.migrate.test/start?rd=http%3A%2F%2Fsso.migrate.test%2Fme%3Ftab%3D1" {
			t.Errorf("denied: %d %q, want 302 to the sign-in page", r.Status, r.Header.Get("Location"))
		}
		r = get("sso.migrate.test", "/me", map[string]string{"Authorization": "Bearer good"})
		if r.Status != 200 || nginxParseEcho(t, r.Body).Header.Get("X-Auth-User") != "alice" {
			t.Errorf("allowed: %d %s", r.Status, r.Body)
		}
	})
	t.Run("rate limit", func(t *testing.T) {
		codes := map[int]int{}
		for range 12 {
			codes[get("rl.migrate.test", "/", nil).Status]++
		}
		if codes[200] < 1 || codes[503] < 5 || codes[200]+codes[503] != 12 {
			t.Errorf("12 requests at once with limit-rps 1, burst 2: %v (over the limit: 503, as ingress-nginx)", codes)
		}
	})
	t.Run("canary weight", func(t *testing.T) {
		const n = 400
		got := map[string]int{}
		for range n {
			r := get("web.migrate.test", "/", nil)
			got[nginxParseEcho(t, r.Body).Name]++
		}
		share := float64(got["web-canary"]) / n
		t.Logf("canary-weight 25: %v (%.1f %%)", got, share*100)
		if share < 0.17 || share > 0.33 || got["web"]+got["web-canary"] != n {
			t.Errorf("canary share %.2f, want 0.25 ± 0.08: %v", share, got)
		}
	})
	t.Run("canary header and cookie", func(t *testing.T) {
		for _, c := range []struct {
			hdr  map[string]string
			want string
		}{
			{nil, "beta"},
			{map[string]string{"X-Beta": "always"}, "beta-canary"},
			{map[string]string{"X-Beta": "never"}, "beta"},
			{map[string]string{"X-Beta": "maybe"}, "beta"},
			{map[string]string{"Cookie": "theme=dark; beta_user=always"}, "beta-canary"},
			{map[string]string{"Cookie": "beta_user=never"}, "beta"},
			{map[string]string{"X-Beta": "never", "Cookie": "beta_user=always"}, "beta"},
			{map[string]string{"X-Beta": "always", "Cookie": "beta_user=never"}, "beta-canary"},
		} {
			if r := get("beta.migrate.test", "/", c.hdr); nginxParseEcho(t, r.Body).Name != c.want {
				t.Errorf("%v: %s, want %s", c.hdr, r.Body, c.want)
			}
		}
	})
	t.Run("sticky cookie", func(t *testing.T) {
		r := get("sticky.migrate.test", "/", nil)
		sc := r.Header.Get("Set-Cookie")
		if !strings.HasPrefix(sc, "SERVERID=") || !strings.Contains(sc, "Max-Age=3600") || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") {
			t.Fatalf("Set-Cookie %q", sc)
		}
		first := nginxParseEcho(t, r.Body).Name
		cookie, _, _ := strings.Cut(sc, ";")
		for range 10 {
			if n := nginxParseEcho(t, get("sticky.migrate.test", "/", map[string]string{"Cookie": cookie}).Body).Name; n != first {
				t.Fatalf("with the cookie: %s, then %s", first, n)
			}
		}
		seen := map[string]bool{}
		for range 10 {
			seen[nginxParseEcho(t, get("sticky.migrate.test", "/", nil).Body).Name] = true
		}
		if len(seen) != 2 {
			t.Errorf("without the cookie both pods serve: %v", seen)
		}
	})
	t.Run("upstream vhost", func(t *testing.T) {
		echo := nginxParseEcho(t, get("vhost.migrate.test", "/x", nil).Body)
		if echo.Host != "internal.backend.local" || echo.Header.Get("X-Forwarded-Prefix") != "/vhost" {
			t.Errorf("backend saw Host %q, X-Forwarded-Prefix %q", echo.Host, echo.Header.Get("X-Forwarded-Prefix"))
		}
	})
	t.Run("redirects", func(t *testing.T) {
		for _, c := range []struct {
			host, path string
			code       int
			loc        string
		}{
			{"moved.migrate.test", "/any/page", 301, "https://new.migrate.test/welcome"},
			{"maint.migrate.test", "/", 307, "https://status.migrate.test/"},
			{"portal.migrate.test", "/", 302, "http://portal.migrate.test/portal"},
		} {
			if r := get(c.host, c.path, nil); r.Status != c.code || r.Header.Get("Location") != c.loc {
				t.Errorf("%s%s: %d %q, want %d %q", c.host, c.path, r.Status, r.Header.Get("Location"), c.code, c.loc)
			}
		}
		if r := get("portal.migrate.test", "/portal/home", nil); r.Status != 200 {
			t.Errorf("app-root only redirects /: %d", r.Status)
		}
	})
	t.Run("custom headers", func(t *testing.T) {
		h := get("headers.migrate.test", "/", nil).Header
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Powered-By") != "" {
			t.Errorf("headers %v", h)
		}
	})
	t.Run("snippet ignored with a warning", func(t *testing.T) {
		r := get("snippet.migrate.test", "/", nil)
		if r.Status != 200 || r.Header.Get("X-Snippet") != "" {
			t.Errorf("%d %v", r.Status, r.Header)
		}
		name := ns + "-snippet-rule-0-path-0@kubernetesingressnginx"
		rd := e.WaitAPI(10*time.Second, "snippet router warning", func(rd *Rawdata) bool { return rd.Routers[name].Status == "warning" })
		if !strings.Contains(strings.Join(rd.Routers[name].Error, " "), "configuration-snippet") {
			t.Errorf("router %+v", rd.Routers[name])
		}
		e.waitFor(20*time.Second, "Event on the snippet Ingress", func() bool {
			evs, err := k.Client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.name=snippet"})
			if err != nil {
				return false
			}
			for _, ev := range evs.Items {
				if ev.Type == corev1.EventTypeWarning && strings.Contains(ev.Message, "configuration-snippet") {
					return true
				}
			}
			return false
		})
	})
	t.Run("https backend", func(t *testing.T) {
		if r := get("tlsb.migrate.test", "/", nil); r.Status != 200 || nginxParseEcho(t, r.Body).Name != "tls-backend" {
			t.Errorf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("read timeout 504", func(t *testing.T) {
		t0 := time.Now()
		r := get("reports.migrate.test", "/?sleep=4s", nil)
		if r.Status != 504 || time.Since(t0) > 3500*time.Millisecond {
			t.Errorf("%d after %v", r.Status, time.Since(t0))
		}
		if r := get("reports.migrate.test", "/?sleep=10ms", nil); r.Status != 200 {
			t.Errorf("fast: %d", r.Status)
		}
	})
	t.Run("classes", func(t *testing.T) {
		if r := get("old.migrate.test", "/healthz", nil); r.Status != 200 {
			t.Errorf("legacy annotation: %d", r.Status)
		}
		if r := get("old.migrate.test", "/healthz/x", nil); r.Status != 404 {
			t.Errorf("Exact: %d", r.Status)
		}
		if r := get("other.migrate.test", "/", nil); r.Status != 404 {
			t.Errorf("another controller's Ingress: %d", r.Status)
		}
	})
	t.Run("status", func(t *testing.T) {
		e.waitFor(30*time.Second, "load-balancer status on the Ingresses", func() bool {
			ing, err := k.Client.NetworkingV1().Ingresses(ns).Get(context.Background(), "storefront", metav1.GetOptions{})
			return err == nil && len(ing.Status.LoadBalancer.Ingress) == 1 && ing.Status.LoadBalancer.Ingress[0].IP == "192.0.2.10"
		})
		ing, err := k.Client.NetworkingV1().Ingresses(ns).Get(context.Background(), "someone-else", metav1.GetOptions{})
		if err != nil || len(ing.Status.LoadBalancer.Ingress) != 0 {
			t.Errorf("status written on another controller's Ingress: %v %v", err, ing.Status)
		}
	})
}

func nginxBodyIsEcho(body string) bool { return strings.Contains(body, `"name"`) }

// TestKubeIngressNGINXOptions: the static options through the binary.
// watchNamespaceSelector (a namespace with the label is watched, one
// without is not); ingressClass + ingressClassByName (an IngressClass of
// another controller picked by name) and the legacy annotation equal to
// ingressClass; watchIngressWithoutClass; defaultBackendService as the
// catch-all, then an Ingress's spec.defaultBackend taking over;
// globalAuthURL with enable-global-auth "false" opting out;
// disableSvcExternalName; publishService's external IP as status. Then
// the life of an invalid Ingress: left out with the reason in the API and
// an Invalid Event, served once fixed, gone once deleted.
func TestKubeIngressNGINXOptions(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	k := requireKube(t)
	kn := requireKubeNet(t)
	ctx := context.Background()
	ns := k.Namespace(t)
	other := k.Namespace(t)
	label := "switchyard-nginx-options-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
	nsObj, err := k.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nsObj.Labels = map[string]string{"team": label}
	if _, err := k.Client.CoreV1().Namespaces().Update(ctx, nsObj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	className := "custom-" + label
	ic := &netv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: className}, Spec: netv1.IngressClassSpec{Controller: "example.com/another-controller"}}
	if _, err := k.Client.NetworkingV1().IngressClasses().Create(ctx, ic, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = k.Client.NetworkingV1().IngressClasses().Delete(context.Background(), className, metav1.DeleteOptions{})
	})

	for _, name := range []string{"web", "fallback", "ingress-default"} {
		nginxBackend(t, k, kn, ns, name)
	}
	nginxBackend(t, k, kn, other, "web")
	ext := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "external", Namespace: ns},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost", Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	if _, err := k.Client.CoreV1().Services(ns).Create(ctx, ext, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	front := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "front", Namespace: ns},
		Spec: corev1.ServiceSpec{ExternalIPs: []string{"192.0.2.20"}, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	if _, err := k.Client.CoreV1().Services(ns).Create(ctx, front, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	aip, aport := kn.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
	}))

	byName := nginxSimpleIngress(ns, "by-name", className, "byname.test", "/", netv1.PathTypePrefix, "web", nil)
	nginxCreateIngress(t, k, byName)
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "legacy", "", "legacy.test", "/", netv1.PathTypePrefix, "web",
		map[string]string{"kubernetes.io/ingress.class": className}))
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "classless", "", "classless.test", "/", netv1.PathTypePrefix, "web", nil))
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "no-global-auth", "", "open.test", "/", netv1.PathTypePrefix, "web",
		map[string]string{"nginx.ingress.kubernetes.io/enable-global-auth": "false"}))
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "external", "", "external.test", "/", netv1.PathTypePrefix, "external", nil))
	nginxCreateIngress(t, k, nginxSimpleIngress(other, "unwatched", "", "unwatched.test", "/", netv1.PathTypePrefix, "web", nil))
	bip, bport := kn.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			http.Error(w, "backend failure", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "broken-ok")
	}))
	k.ServiceWithEndpoints(t, ns, "broken", "http", 80, int32(bport), KubeEndpoint{IP: bip, Ready: true})
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "custom-errors", "", "errors.test", "/", netv1.PathTypePrefix, "broken",
		map[string]string{"nginx.ingress.kubernetes.io/enable-global-auth": "false", "nginx.ingress.kubernetes.io/custom-http-errors": "404, 503"}))

	e := newEnv(t)
	e.WriteStatic("yml", `entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 100ms
  kubernetesIngressNGINX:
`+k.ProviderYAML("    ")+`    watchNamespaceSelector: "team=`+label+`"
    ingressClass: "`+className+`"
    ingressClassByName: true
    watchIngressWithoutClass: true
    defaultBackendService: "`+ns+`/fallback"
    globalAuthURL: "http://`+net.JoinHostPort(aip, strconv.Itoa(aport))+`/check"
    disableSvcExternalName: true
    publishService: "`+ns+`/front"
`)
	e.Start()
	base := e.URL("web")
	good := map[string]string{"Authorization": "Bearer good"}
	waitNginx(t, base+"/", "open.test", func(r Reply) bool { return r.Status == 200 })

	t.Run("classes and namespaces", func(t *testing.T) {
		for host, want := range map[string]int{"byname.test": 200, "legacy.test": 200, "classless.test": 200} {
			if r := do(t, request{url: base + "/", host: host, header: good}); r.Status != want || nginxParseEcho(t, r.Body).Name != "web" {
				t.Errorf("%s: %d %s", host, r.Status, r.Body)
			}
		}
		// Another namespace's Ingress is not ours: the catch-all answers.
		if r := do(t, request{url: base + "/", host: "unwatched.test", header: good}); nginxParseEcho(t, r.Body).Name != "fallback" {
			t.Errorf("unwatched namespace: %d %s", r.Status, r.Body)
		}
	})
	t.Run("global auth", func(t *testing.T) {
		if r := do(t, request{url: base + "/", host: "classless.test"}); r.Status != 403 {
			t.Errorf("without credentials: %d", r.Status)
		}
		if r := do(t, request{url: base + "/", host: "open.test"}); r.Status != 200 {
			t.Errorf("enable-global-auth false: %d", r.Status)
		}
	})
	t.Run("custom-http-errors", func(t *testing.T) {
		// A 503 of the backend is answered by defaultBackendService with
		// ingress-nginx's headers, the status kept; a 200 passes.
		waitNginx(t, base+"/fail", "errors.test", func(r Reply) bool { return strings.Contains(r.Body, `"fallback"`) })
		r := do(t, request{url: base + "/fail?x=1", host: "errors.test", header: map[string]string{"Accept": "application/json"}})
		e := nginxParseEcho(t, r.Body)
		want := map[string]string{"X-Code": "503", "X-Format": "application/json", "X-Original-Uri": "/fail?x=1", "X-Namespace": ns,
			"X-Ingress-Name": "custom-errors", "X-Service-Name": "broken", "X-Service-Port": "80"}
		if r.Status != 503 || e.Path != "/" {
			t.Errorf("error page: %d path %q", r.Status, e.Path)
		}
		for k, v := range want {
			if e.Header.Get(k) != v {
				t.Errorf("%s = %q, want %q", k, e.Header.Get(k), v)
			}
		}
		if r := do(t, request{url: base + "/", host: "errors.test"}); r.Status != 200 || r.Body != "broken-ok" {
			t.Errorf("a 200: %d %q", r.Status, r.Body)
		}
	})
	t.Run("default backends", func(t *testing.T) {
		if r := do(t, request{url: base + "/anything", host: "nobody.test"}); r.Status != 200 || nginxParseEcho(t, r.Body).Name != "fallback" {
			t.Errorf("defaultBackendService: %d %s", r.Status, r.Body)
		}
		db := &netv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "catch-all", Namespace: ns, Annotations: map[string]string{"nginx.ingress.kubernetes.io/enable-global-auth": "false"}},
			Spec: netv1.IngressSpec{DefaultBackend: &netv1.IngressBackend{Service: &netv1.IngressServiceBackend{Name: "ingress-default", Port: netv1.ServiceBackendPort{Number: 80}}}}}
		nginxCreateIngress(t, k, db)
		waitNginx(t, base+"/anything", "nobody.test", func(r Reply) bool { return r.Status == 200 && nginxParseEcho(t, r.Body).Name == "ingress-default" })
		if r := do(t, request{url: base + "/", host: "open.test"}); nginxParseEcho(t, r.Body).Name != "web" {
			t.Errorf("a rule still wins over the default backend: %s", r.Body)
		}
	})
	t.Run("disableSvcExternalName", func(t *testing.T) {
		name := ns + "-external-rule-0-path-0@kubernetesingressnginx"
		rd := e.WaitAPI(10*time.Second, "external router", func(rd *Rawdata) bool { _, ok := rd.Routers[name]; return ok })
		if r := rd.Routers[name]; r.Status != "disabled" || !strings.Contains(strings.Join(r.Error, " "), "does not exist") {
			t.Errorf("router to an ExternalName service: %+v", r)
		}
	})
	t.Run("publishService status", func(t *testing.T) {
		e.waitFor(30*time.Second, "status from publishService", func() bool {
			ing, err := k.Client.NetworkingV1().Ingresses(ns).Get(ctx, "by-name", metav1.GetOptions{})
			return err == nil && len(ing.Status.LoadBalancer.Ingress) == 1 && ing.Status.LoadBalancer.Ingress[0].IP == "192.0.2.20"
		})
		ing, _ := k.Client.NetworkingV1().Ingresses(other).Get(ctx, "unwatched", metav1.GetOptions{})
		if len(ing.Status.LoadBalancer.Ingress) != 0 {
			t.Errorf("status on an unwatched Ingress: %v", ing.Status)
		}
	})
	t.Run("invalid Ingress lifecycle", func(t *testing.T) {
		bad := nginxSimpleIngress(ns, "bad", "", "bad.test", "/", netv1.PathTypePrefix, "web", map[string]string{
			"nginx.ingress.kubernetes.io/enable-global-auth":     "false",
			"nginx.ingress.kubernetes.io/whitelist-source-range": "10.0.0.0/8, not-a-range",
		})
		nginxCreateIngress(t, k, bad)
		name := ns + "-bad-rule-0-path-0@kubernetesingressnginx"
		rd := e.WaitAPI(15*time.Second, "invalid Ingress in the API", func(rd *Rawdata) bool { _, ok := rd.Routers[name]; return ok })
		if r := rd.Routers[name]; r.Status != "disabled" || !strings.Contains(strings.Join(r.Error, " "), "not-a-range") {
			t.Errorf("router %+v", r)
		}
		if r := do(t, request{url: base + "/", host: "bad.test"}); nginxBodyIsEcho(r.Body) && nginxParseEcho(t, r.Body).Name == "web" {
			t.Errorf("an Ingress with an invalid allow list reached its backend")
		}
		e.waitFor(20*time.Second, "Invalid Event", func() bool {
			evs, err := k.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=bad"})
			if err != nil {
				return false
			}
			for _, ev := range evs.Items {
				if ev.Reason == "Invalid" && strings.Contains(ev.Message, "not-a-range") {
					return true
				}
			}
			return false
		})
		cur, err := k.Client.NetworkingV1().Ingresses(ns).Get(ctx, "bad", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cur.Annotations["nginx.ingress.kubernetes.io/whitelist-source-range"] = "127.0.0.0/8"
		if _, err := k.Client.NetworkingV1().Ingresses(ns).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitNginx(t, base+"/", "bad.test", func(r Reply) bool { return r.Status == 200 && nginxParseEcho(t, r.Body).Name == "web" })
		if err := k.Client.NetworkingV1().Ingresses(ns).Delete(ctx, "bad", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitNginx(t, base+"/", "bad.test", func(r Reply) bool {
			return nginxBodyIsEcho(r.Body) && nginxParseEcho(t, r.Body).Name == "ingress-default"
		})
	})
}

// TestKubeIngressNGINXCheck: switchyard check refuses, by name, the
// options that have no equivalent, and contacts no API server.
func TestKubeIngressNGINXCheck(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	for opt, want := range map[string]string{
		"allowSnippetAnnotations: true":         "providers.kubernetesIngressNGINX: allowSnippetAnnotations",
		"proxyNextUpstream: \"error http_502\"": "providers.kubernetesIngressNGINX: proxyNextUpstream",
		"watchNamespaceSelector: \"a in (\"":    "providers.kubernetesIngressNGINX: watchNamespaceSelector",
		"publishService: \"nope\"":              "providers.kubernetesIngressNGINX: publishService",
		"proxyBodySize: 8388608":                "",
	} {
		e := newEnv(t)
		e.WriteStatic("yml", "providers:\n  kubernetesIngressNGINX:\n    endpoint: \"https://127.0.0.1:1\"\n    "+opt+"\n")
		code, out := runCmd(t, e.Dir, nil, 20*time.Second, "check", "--configFile="+e.StatPath)
		if want == "" {
			if code != 0 {
				t.Errorf("%s: exit %d\n%s", opt, code, out)
			}
			continue
		}
		if code == 0 || !strings.Contains(out, want) {
			t.Errorf("%s: exit %d, want an error naming %q:\n%s", opt, code, want, out)
		}
	}
}

// TestKubeIngressNGINXBackends: backend-protocol GRPC reaches an h2c
// backend over HTTP/2 and GRPCS a TLS one over h2; proxy-ssl-verify "on"
// with proxy-ssl-secret's ca.crt and proxy-ssl-name accepts the backend's
// certificate, and without the CA refuses it (502); limit-connections 1
// refuses a second concurrent request with 503, as ingress-nginx.
func TestKubeIngressNGINXBackends(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	k := requireKube(t)
	kn := requireKubeNet(t)
	nginxClass(t, k)
	ctx := context.Background()
	ns := k.Namespace(t)
	proto := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d, err := time.ParseDuration(r.URL.Query().Get("sleep")); err == nil && d < 5*time.Second {
			time.Sleep(d)
		}
		fmt.Fprintf(w, "%s tls=%v", r.Proto, r.TLS != nil)
	})
	// h2c (prior knowledge), as a gRPC server without TLS.
	hip := kn.NewIP(t)
	hln := kn.Listen(t, hip, 0)
	hsrv := &http.Server{Handler: proto, ReadHeaderTimeout: 10 * time.Second, Protocols: new(http.Protocols)}
	hsrv.Protocols.SetHTTP1(true)
	hsrv.Protocols.SetUnencryptedHTTP2(true)
	go hsrv.Serve(hln)
	t.Cleanup(func() { hsrv.Close() })
	k.ServiceWithEndpoints(t, ns, "grpc", "grpc", 50051, int32(hln.Addr().(*net.TCPAddr).Port), KubeEndpoint{IP: hip, Ready: true})
	// TLS with h2, certificate for "doc" from its own CA.
	crt, key := selfSigned(t)
	pair, err := tls.X509KeyPair(crt, key)
	if err != nil {
		t.Fatal(err)
	}
	sip := kn.NewIP(t)
	sln := kn.Listen(t, sip, 0)
	ssrv := &http.Server{Handler: proto, ReadHeaderTimeout: 10 * time.Second, TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}}}
	go ssrv.ServeTLS(sln, "", "")
	t.Cleanup(func() { ssrv.Close() })
	k.ServiceWithEndpoints(t, ns, "secure", "https", 443, int32(sln.Addr().(*net.TCPAddr).Port), KubeEndpoint{IP: sip, Ready: true})
	if _, err := k.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "backend-ca", Namespace: ns},
		Data: map[string][]byte{"ca.crt": crt}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ing := func(name, svc string, port int32, ann map[string]string) {
		i := nginxSimpleIngress(ns, name, "nginx", name+".test", "/", netv1.PathTypePrefix, svc, ann)
		i.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port.Number = port
		nginxCreateIngress(t, k, i)
	}
	const p = "nginx.ingress.kubernetes.io/"
	ing("grpc", "grpc", 50051, map[string]string{p + "backend-protocol": "GRPC"})
	ing("grpcs", "secure", 443, map[string]string{p + "backend-protocol": "GRPCS"})
	ing("verified", "secure", 443, map[string]string{p + "backend-protocol": "HTTPS", p + "proxy-ssl-verify": "on",
		p + "proxy-ssl-secret": ns + "/backend-ca", p + "proxy-ssl-name": "doc"})
	ing("unverifiable", "secure", 443, map[string]string{p + "backend-protocol": "HTTPS", p + "proxy-ssl-verify": "on", p + "proxy-ssl-name": "doc"})
	ing("limited", "grpc", 50051, map[string]string{p + "limit-connections": "1"})

	e := newEnv(t)
	e.WriteStatic("yml", nginxStatic(k, ns, ""))
	e.Start()
	base := e.URL("web")
	waitNginx(t, base+"/", "limited.test", func(r Reply) bool { return r.Status == 200 })
	for host, want := range map[string]string{
		"grpc.test":     "HTTP/2.0 tls=false",
		"grpcs.test":    "HTTP/2.0 tls=true",
		"verified.test": "tls=true",
	} {
		r := waitNginx(t, base+"/", host, func(r Reply) bool { return r.Status == 200 })
		if !strings.Contains(r.Body, want) {
			t.Errorf("%s: backend saw %q, want %q", host, r.Body, want)
		}
	}
	if r := do(t, request{url: base + "/", host: "unverifiable.test"}); r.Status != 502 {
		t.Errorf("proxy-ssl-verify without the CA: %d %s", r.Status, r.Body)
	}
	slow := make(chan Reply, 1)
	go func() { r, _ := tryDo(request{url: base + "/?sleep=1500ms", host: "limited.test"}); slow <- r }()
	deadline := time.Now().Add(1200 * time.Millisecond)
	got503 := false
	for time.Now().Before(deadline) && !got503 {
		time.Sleep(100 * time.Millisecond)
		got503 = do(t, request{url: base + "/", host: "limited.test"}).Status == 503
	}
	if r := <-slow; r.Status != 200 {
		t.Errorf("the slow request: %d", r.Status)
	}
	if !got503 {
		t.Errorf("limit-connections 1: a second concurrent request was never refused with 503 (ingress-nginx's limit-conn-status-code)")
	}
}

// nginxCutProxy is a TCP proxy to the API server that the test can cut
// (listener and every connection closed) and restore on the same port.
type nginxCutProxy struct {
	t      testing.TB
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newNginxCutProxy(t testing.TB, target string) *nginxCutProxy {
	p := &nginxCutProxy{t: t, target: target}
	p.listen("127.0.0.1:0")
	t.Cleanup(p.cut)
	return p
}

func (p *nginxCutProxy) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatalf("proxy listen %s: %v", addr, err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); u.Close() }()
			go func() { _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
}

func (p *nginxCutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *nginxCutProxy) restore() { p.listen(p.addr) }

// TestKubeIngressNGINXAPIServerAway: the API server becoming unreachable
// (every connection to it cut) keeps the last configuration serving;
// once it is back, what changed meanwhile is picked up.
func TestKubeIngressNGINXAPIServerAway(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	k := requireKube(t)
	kn := requireKubeNet(t)
	nginxClass(t, k)
	ns := k.Namespace(t)
	nginxBackend(t, k, kn, ns, "web")
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "before", "nginx", "before.test", "/", netv1.PathTypePrefix, "web", nil))
	proxy := newNginxCutProxy(t, strings.TrimPrefix(k.URL, "https://"))

	e := newEnv(t)
	e.WriteStatic("yml", `entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 100ms
  kubernetesIngressNGINX:
    endpoint: "https://`+proxy.addr+`"
    token: "`+kubeAdminToken+`"
    certAuthFilePath: "`+k.CAFile+`"
    watchNamespace: "`+ns+`"
`)
	e.Start()
	base := e.URL("web")
	waitNginx(t, base+"/", "before.test", func(r Reply) bool { return r.Status == 200 })

	proxy.cut()
	nginxCreateIngress(t, k, nginxSimpleIngress(ns, "during", "nginx", "during.test", "/", netv1.PathTypePrefix, "web", nil))
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if r := do(t, request{url: base + "/", host: "before.test"}); r.Status != 200 {
			t.Fatalf("API server away: the last configuration stopped serving: %d", r.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := do(t, request{url: base + "/", host: "during.test"}); r.Status != 404 {
		t.Fatalf("an Ingress created while away served already: %d", r.Status)
	}
	proxy.restore()
	back := time.Now()
	// client-go's reflectors back off up to about 30 s between retries.
	deadline = time.Now().Add(60 * time.Second)
	for {
		if r, err := tryDo(request{url: base + "/", host: "during.test"}); err == nil && r.Status == 200 {
			t.Logf("the Ingress created while away served %v after the API server came back", time.Since(back).Round(100*time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the Ingress created while the API server was away is not served 60 s after it came back")
		}
		if r := do(t, request{url: base + "/", host: "before.test"}); r.Status != 200 {
			t.Fatalf("while reconnecting: %d", r.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
