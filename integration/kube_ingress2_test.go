package integration

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/switchyard-proxy/switchyard/internal/whoami"
)

func (ke *kubeIngressEnv) secret(t *testing.T, name string, data map[string][]byte) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ke.ns}, Type: corev1.SecretTypeOpaque, Data: data}
	if _, err := ke.k.Client.CoreV1().Secrets(ke.ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		t.Fatalf("secret %s: %v", name, err)
	}
}

// annotateService sets annotations on a Service.
func annotateService(t *testing.T, k *kubeCluster, ns, name string, ann map[string]string) {
	t.Helper()
	ctx := context.Background()
	s, err := k.Client.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Annotations = ann
	if _, err := k.Client.CoreV1().Services(ns).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestKubeIngressTLSAndAnnotations: TLS from a Secret with an SNI client
// (router.tls, router.entrypoints), a broken Secret on another Ingress
// reported while both keep serving, router.middlewares naming a file
// provider middleware, router.priority, and service.serversscheme https
// with service.serverstransport to a TLS backend.
func TestKubeIngressTLSAndAnnotations(t *testing.T) {
	t.Parallel()
	k := requireKube(t)
	kn := requireKubeNet(t)
	ns := k.Namespace(t)
	ca := newCA(t, "kube-ingress-ca")
	crt, key := ca.issue(t, "secure.example.com", []string{"secure.example.com"}, false)

	ipA, portA := pod(t, "pod-a")
	ipB, portB := pod(t, "pod-b")
	k.ServiceWithEndpoints(t, ns, "svc-a", "http", 80, portA, KubeEndpoint{IP: ipA, Ready: true})
	k.ServiceWithEndpoints(t, ns, "svc-b", "http", 80, portB, KubeEndpoint{IP: ipB, Ready: true})
	// A backend speaking TLS only, on a port named "http": the annotation
	// alone makes the scheme https.
	tip := kn.NewIP(t)
	bcrt, bkey := ca.issue(t, tip, []string{tip}, false)
	pair, err := tls.X509KeyPair([]byte(bcrt), []byte(bkey))
	if err != nil {
		t.Fatal(err)
	}
	ln := kn.Listen(t, tip, 0)
	srv := &http.Server{Handler: whoami.New("pod-tls"), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair}}))
	t.Cleanup(func() { srv.Close() })
	k.ServiceWithEndpoints(t, ns, "svc-tls", "http", 80, int32(ln.Addr().(*net.TCPAddr).Port), KubeEndpoint{IP: tip, Ready: true})
	annotateService(t, k, ns, "svc-tls", map[string]string{
		"traefik.ingress.kubernetes.io/service.serversscheme":       "https",
		"switchyard.ingress.kubernetes.io/service.serverstransport": "insecure@file",
	})

	ke := startKubeIngressWithFile(t, k, ns, `
http:
  middlewares:
    tag:
      headers:
        customResponseHeaders:
          X-From-File: "yes"
  serversTransports:
    insecure:
      insecureSkipVerify: true
tls:
  options:
    modern:
      minVersion: VersionTLS13
`)
	ke.secret(t, "good", map[string][]byte{"tls.crt": []byte(crt), "tls.key": []byte(key)})
	ke.secret(t, "broken", map[string][]byte{"tls.crt": []byte("not a certificate"), "tls.key": []byte("nor a key")})
	ke.apply(t, &netv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "secure", Annotations: map[string]string{
			"traefik.ingress.kubernetes.io/router.tls":         "true",
			"traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
			"traefik.ingress.kubernetes.io/router.middlewares": "tag@file",
			"traefik.ingress.kubernetes.io/router.tls.options": "modern@file",
		}},
		Spec: netv1.IngressSpec{
			TLS:   []netv1.IngressTLS{{Hosts: []string{"secure.example.com"}, SecretName: "good"}},
			Rules: []netv1.IngressRule{ingRule("secure.example.com", ingPath("/", netv1.PathTypePrefix, "svc-a", 80))},
		},
	})
	ke.apply(t, &netv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "badtls"},
		Spec: netv1.IngressSpec{
			TLS:   []netv1.IngressTLS{{Hosts: []string{"bad.example.com"}, SecretName: "broken"}},
			Rules: []netv1.IngressRule{ingRule("bad.example.com", ingPath("/", netv1.PathTypePrefix, "svc-b", 80))},
		},
	})
	ke.apply(t, &netv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "prio-low"},
		Spec:       netv1.IngressSpec{Rules: []netv1.IngressRule{ingRule("prio.example.com", ingPath("/api", netv1.PathTypePrefix, "svc-a", 80))}},
	})
	ke.apply(t, &netv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "prio-high", Annotations: map[string]string{"switchyard.ingress.kubernetes.io/router.priority": "1000"}},
		Spec:       netv1.IngressSpec{Rules: []netv1.IngressRule{ingRule("prio.example.com", ingPath("/", netv1.PathTypePrefix, "svc-b", 80))}},
	})
	ke.apply(t, &netv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "tlsback"},
		Spec:       netv1.IngressSpec{Rules: []netv1.IngressRule{ingRule("tlsback.example.com", ingPath("/", netv1.PathTypePrefix, "svc-tls", 80))}},
	})
	secure := ns + "-secure-secure-example-com@kubernetes"
	rd := ke.WaitRouters(secure, ns+"-badtls-bad-example-com@kubernetes", ns+"-prio-high-prio-example-com@kubernetes", ns+"-tlsback-tlsback-example-com@kubernetes")
	if r := rd.Routers[secure]; r.Status != "enabled" || strings.Join(r.EntryPoints, ",") != "websecure" || strings.Join(r.Middlewares, ",") != "tag@file" {
		t.Errorf("secure router: %+v", r)
	}

	// The SNI client verifies the certificate from the Secret.
	tr := &http.Transport{TLSClientConfig: &tls.Config{ServerName: "secure.example.com", RootCAs: ca.pool()}}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var body string
	var hdr http.Header
	ke.waitFor(20*time.Second, "https://secure.example.com served with the Secret's certificate", func() bool {
		req, _ := http.NewRequest(http.MethodGet, "https://"+ke.Addr("websecure")+"/", nil)
		req.Host = "secure.example.com"
		resp, err := hc.Do(req)
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body, hdr = string(b), resp.Header
		return resp.StatusCode == 200
	})
	if backendName(body) != "pod-a" || hdr.Get("X-From-File") != "yes" {
		t.Errorf("secure: backend %q, X-From-File %q", backendName(body), hdr.Get("X-From-File"))
	}
	// router.tls.options: TLS 1.2 refused for this host.
	if c, err := tlsDial(ke.Addr("websecure"), &tls.Config{ServerName: "secure.example.com", RootCAs: ca.pool(), MaxVersion: tls.VersionTLS12}); err == nil {
		c.Close()
		t.Error("TLS 1.2 accepted despite router.tls.options modern@file (minVersion TLS 1.3)")
	}
	// router.entrypoints: not on web.
	if rep := do(t, request{url: ke.URL("web") + "/", host: "secure.example.com"}); rep.Status != 404 {
		t.Errorf("secure router on web: %d", rep.Status)
	}
	// The broken Secret is reported; its Ingress still serves over HTTP.
	ke.served(t, "/", "bad.example.com", "pod-b")
	ke.waitFor(10*time.Second, "broken secret logged", func() bool {
		return strings.Contains(ke.Proc.Output(), "secret "+ns+"/broken: not a valid certificate")
	})
	rd = ke.WaitAPI(20*time.Second, "the broken Secret shown on its router", func(rd *Rawdata) bool {
		return strings.Contains(strings.Join(rd.Routers[ns+"-badtls-bad-example-com@kubernetes"].Error, " "), "secret "+ns+"/broken: not a valid certificate")
	})
	t.Logf("badtls router: status %s, error %v", rd.Routers[ns+"-badtls-bad-example-com@kubernetes"].Status, rd.Routers[ns+"-badtls-bad-example-com@kubernetes"].Error)
	// The Secret is rotated (a certificate from another CA): served after the watch sees it.
	ca2 := newCA(t, "kube-ingress-ca2")
	crt2, key2 := ca2.issue(t, "secure.example.com", []string{"secure.example.com"}, false)
	sec, err := k.Client.CoreV1().Secrets(ns).Get(context.Background(), "good", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sec.Data = map[string][]byte{"tls.crt": []byte(crt2), "tls.key": []byte(key2)}
	if _, err := k.Client.CoreV1().Secrets(ns).Update(context.Background(), sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ke.waitFor(20*time.Second, "rotated certificate served", func() bool {
		c, err := tlsDial(ke.Addr("websecure"), &tls.Config{ServerName: "secure.example.com", RootCAs: ca2.pool()})
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	// router.priority 1000 on "/" beats the longer "/api" rule.
	ke.served(t, "/api/x", "prio.example.com", "pod-b")
	// https to the TLS backend through the file provider's transport.
	ke.served(t, "/", "tlsback.example.com", "pod-tls")
}

// startKubeIngressWithFile is startKubeIngress with a websecure entrypoint
// and a file provider holding dyn.
func startKubeIngressWithFile(t *testing.T, k *kubeCluster, ns, dyn string) *kubeIngressEnv {
	t.Helper()
	// The file is written by the env the helper makes: render it there.
	return startKubeIngressDyn(t, k, []string{ns}, "", `  websecure:
    address: "<% addr "websecure" %>"
`, dyn)
}
