package integration

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	netv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/switchyard-proxy/switchyard/internal/whoami"
)

// kubeIngressEnv is switchyard running the kubernetesIngress provider
// against the shared API server, watching the test's namespaces only, and
// the IngressClass of the test (controller traefik.io/ingress-controller):
// Ingresses of other tests and other classes are never seen.
type kubeIngressEnv struct {
	*Env
	k     *kubeCluster
	ns    string
	class string
}

// startKubeIngress starts switchyard with the provider options extra
// (YAML lines indented by four spaces) added to the connection and the
// namespace and class filters; eps are more entrypoints (indented by two
// spaces), more are more providers (indented by two spaces).
func startKubeIngress(t *testing.T, k *kubeCluster, namespaces []string, extra, eps string, more ...string) *kubeIngressEnv {
	t.Helper()
	return startKubeIngressDyn(t, k, namespaces, extra, eps, "", more...)
}

// startKubeIngressDyn is startKubeIngress with a file provider serving dyn
// (when not empty).
func startKubeIngressDyn(t *testing.T, k *kubeCluster, namespaces []string, extra, eps, dyn string, more ...string) *kubeIngressEnv {
	t.Helper()
	requireBinary(t)
	e := newEnv(t)
	if dyn != "" {
		e.WriteDynamic("yml", dyn)
		more = append(more, "  file:\n    filename: \""+e.DynPath+"\"\n")
	}
	ke := &kubeIngressEnv{Env: e, k: k, ns: namespaces[0], class: "sy-" + namespaces[0]}
	ke.ingressClass(t, ke.class, "traefik.io/ingress-controller")
	classLine := `    ingressClass: "` + ke.class + `"
`
	if strings.Contains(extra, "ingressClass:") {
		classLine = ""
	}
	conn := k.ProviderYAML("    ")
	if strings.Contains(extra, "endpoint:") {
		conn = ""
	}
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
`+eps+`
api:
  insecure: true
log:
  level: DEBUG
providers:
  providersThrottleDuration: 10ms
  kubernetesIngress:
`+conn+`    namespaces: ["`+strings.Join(namespaces, `", "`)+`"]
`+classLine+extra+strings.Join(more, ""))
	// The status Lease lives in the test's namespace, not "default".
	e.StartWithEnv([]string{"POD_NAMESPACE=" + ke.ns, "POD_NAME=" + podName(t)})
	return ke
}

var podSeq atomic.Int64

// podName names each switchyard of the run differently (leader identity).
func podName(t *testing.T) string {
	return fmt.Sprintf("switchyard-%d", podSeq.Add(1))
}

// ingressClass creates a cluster-scoped IngressClass, removed after the test.
func (ke *kubeIngressEnv) ingressClass(t *testing.T, name, controller string) {
	t.Helper()
	ic := &netv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: netv1.IngressClassSpec{Controller: controller}}
	ctx := context.Background()
	if _, err := ke.k.Client.NetworkingV1().IngressClasses().Create(ctx, ic, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("ingress class %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = ke.k.Client.NetworkingV1().IngressClasses().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// apply creates or replaces an Ingress; an empty namespace is the test's
// and a nil class is the test's class.
func (ke *kubeIngressEnv) apply(t *testing.T, ing *netv1.Ingress) *netv1.Ingress {
	t.Helper()
	if ing.Namespace == "" {
		ing.Namespace = ke.ns
	}
	if ing.Spec.IngressClassName == nil && ing.Annotations["kubernetes.io/ingress.class"] == "" {
		ing.Spec.IngressClassName = ptrTo(ke.class)
	}
	c := ke.k.Client.NetworkingV1().Ingresses(ing.Namespace)
	ctx := context.Background()
	cur, err := c.Get(ctx, ing.Name, metav1.GetOptions{})
	switch {
	case err == nil:
		ing.ResourceVersion = cur.ResourceVersion
		ing, err = c.Update(ctx, ing, metav1.UpdateOptions{})
	case apierrors.IsNotFound(err):
		ing, err = c.Create(ctx, ing, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatalf("ingress %s: %v", ing.Name, err)
	}
	return ing
}

func (ke *kubeIngressEnv) deleteIngress(t *testing.T, name string) {
	t.Helper()
	if err := ke.k.Client.NetworkingV1().Ingresses(ke.ns).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete ingress %s: %v", name, err)
	}
}

// ingPath is one path of a rule, to a Service port by number or name.
func ingPath(path string, pt netv1.PathType, svc string, port any) netv1.HTTPIngressPath {
	b := &netv1.IngressServiceBackend{Name: svc}
	switch p := port.(type) {
	case int:
		b.Port.Number = int32(p)
	case string:
		b.Port.Name = p
	}
	return netv1.HTTPIngressPath{Path: path, PathType: &pt, Backend: netv1.IngressBackend{Service: b}}
}

func ingRule(host string, paths ...netv1.HTTPIngressPath) netv1.IngressRule {
	return netv1.IngressRule{Host: host, IngressRuleValue: netv1.IngressRuleValue{HTTP: &netv1.HTTPIngressRuleValue{Paths: paths}}}
}

// pod serves a whoami named name in the test network and returns its IP and port.
func pod(t *testing.T, name string) (string, int32) {
	t.Helper()
	ip, port := requireKubeNet(t).ServeHTTP(t, whoami.New(name))
	return ip, int32(port)
}

// served waits until GET url with Host host is answered by backend.
func (ke *kubeIngressEnv) served(t *testing.T, path, host, backend string) {
	t.Helper()
	waitServed(t, ke.Env, ke.URL("web")+path, host, backend)
}

// status waits until GET path with Host host answers code.
func (ke *kubeIngressEnv) status(t *testing.T, path, host string, code int) {
	t.Helper()
	var last string
	ke.waitFor(20*time.Second, fmt.Sprintf("%s (Host %q) answers %d", path, host, code), func() bool {
		rep, err := tryDo(request{url: ke.URL("web") + path, host: host})
		if err != nil {
			last = err.Error()
			return false
		}
		last = fmt.Sprintf("%d %s", rep.Status, backendName(rep.Body))
		return rep.Status == code
	})
	_ = last
}

// TestKubeIngressPaths: hosts, the three path types, ports by number and
// by name, a global default backend, Traefik's router names and rules,
// and endpoints following EndpointSlice changes.
func TestKubeIngressPaths(t *testing.T) {
	t.Parallel()
	k := requireKube(t)
	ns := k.Namespace(t)
	ipA, portA := pod(t, "pod-a")
	ipB, portB := pod(t, "pod-b")
	ipD, portD := pod(t, "pod-default")
	k.ServiceWithEndpoints(t, ns, "svc-a", "http", 80, portA, KubeEndpoint{IP: ipA, Ready: true})
	k.ServiceWithEndpoints(t, ns, "svc-b", "web", 8080, portB, KubeEndpoint{IP: ipB, Ready: true})
	k.ServiceWithEndpoints(t, ns, "svc-d", "http", 80, portD, KubeEndpoint{IP: ipD, Ready: true})
	ke := startKubeIngress(t, k, []string{ns}, "", "")

	ke.apply(t, &netv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "shop"},
		Spec: netv1.IngressSpec{Rules: []netv1.IngressRule{
			ingRule("shop.example.com",
				ingPath("/exact", netv1.PathTypeExact, "svc-a", 80),
				ingPath("/pre", netv1.PathTypePrefix, "svc-b", "web"),
				ingPath("/impl", netv1.PathTypeImplementationSpecific, "svc-a", "http"),
			),
			ingRule("*.wild.example.com", ingPath("/", netv1.PathTypePrefix, "svc-b", 8080)),
		}},
	})
	ke.apply(t, &netv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "fallback"},
		Spec: netv1.IngressSpec{DefaultBackend: &netv1.IngressBackend{Service: &netv1.IngressServiceBackend{
			Name: "svc-d", Port: netv1.ServiceBackendPort{Number: 80}}}},
	})
	exact := ns + "-shop-shop-example-com-exact"
	rd := ke.WaitRouters(exact+"@kubernetes", ns+"-shop-shop-example-com-pre@kubernetes", ns+"-shop-shop-example-com-impl@kubernetes",
		ns+"-shop-wild-example-com@kubernetes", "default-router@kubernetes")
	if r := rd.Routers[exact+"@kubernetes"]; r.Rule != "Host(`shop.example.com`) && Path(`/exact`)" || r.Service != ns+"-svc-a-80@kubernetes" || r.Status != "enabled" {
		t.Errorf("exact router: %+v", r)
	}
	if r := rd.Routers[ns+"-shop-wild-example-com@kubernetes"]; r.Rule != "HostRegexp(`^[a-zA-Z0-9-]+\\.wild\\.example\\.com$`) && PathPrefix(`/`)" {
		t.Errorf("wildcard router rule: %q", r.Rule)
	}
	if r := rd.Routers["default-router@kubernetes"]; r.Priority != -2147483648 || r.Service != "default-backend@kubernetes" {
		t.Errorf("default router: %+v", r)
	}

	ke.served(t, "/exact", "shop.example.com", "pod-a")
	ke.served(t, "/pre/x/y", "shop.example.com", "pod-b")
	ke.served(t, "/prefix-too", "shop.example.com", "pod-b") // Traefik's PathPrefix is by characters
	ke.served(t, "/impl/z", "shop.example.com", "pod-a")
	ke.served(t, "/", "api.wild.example.com", "pod-b")
	ke.served(t, "/exact/more", "shop.example.com", "pod-default") // Exact does not match; the default backend does
	ke.served(t, "/", "other.example.org", "pod-default")

	// Endpoints move: svc-a's pod is replaced.
	ipA2, portA2 := pod(t, "pod-a2")
	moved := time.Now()
	k.SetEndpoints(t, ns, "svc-a", "http", portA2, KubeEndpoint{IP: ipA2, Ready: true})
	_ = portA
	ke.served(t, "/exact", "shop.example.com", "pod-a2")
	t.Logf("EndpointSlice update to traffic on the new pod: %v", time.Since(moved).Round(time.Millisecond))

	// The Ingress goes: its routers go.
	ke.deleteIngress(t, "shop")
	ke.WaitAPI(20*time.Second, "shop routers gone", func(rd *Rawdata) bool {
		_, ok := rd.Routers[exact+"@kubernetes"]
		return !ok
	})
	ke.served(t, "/exact", "shop.example.com", "pod-default")
}
