package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubeIngressCheck: switchyard check validates the provider's static
// options without contacting the API server (its endpoint is closed) and
// names the option of each error.
func TestKubeIngressCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := "entryPoints:\n  web:\n    address: \":0\"\nproviders:\n  kubernetesIngress:\n    endpoint: \"https://127.0.0.1:1\"\n    token: \"t\"\n"
	for name, c := range map[string]struct {
		extra string
		want  string
	}{
		"good":          {"    labelSelector: \"app=web,tier!=db\"\n    ingressEndpoint:\n      ip: \"192.0.2.1\"\n      hostname: \"lb.example.com\"\n", ""},
		"selector":      {"    labelSelector: \"a b c\"\n", "providers.kubernetesIngress: labelSelector"},
		"crossns":       {"    allowCrossNamespace: true\n", "providers.kubernetesIngress: allowCrossNamespace"},
		"endpoint-both": {"    ingressEndpoint:\n      ip: \"192.0.2.1\"\n      publishedService: \"ns/svc\"\n", "ingressEndpoint: publishedService excludes ip and hostname"},
		"endpoint-none": {"    ingressEndpoint:\n      hostname: \"\"\n", "ingressEndpoint: one of ip, hostname or publishedService is required"},
		"endpoint-ip":   {"    ingressEndpoint:\n      ip: \"not-an-ip\"\n", "ingressEndpoint.ip \"not-an-ip\""},
		"published":     {"    ingressEndpoint:\n      publishedService: \"just-a-name\"\n", "ingressEndpoint.publishedService \"just-a-name\""},
		"namespace":     {"    namespaces: [\"Bad_NS\"]\n", "namespaces: \"Bad_NS\""},
		"throttle":      {"    throttleDuration: -1s\n", "throttleDuration"},
		"unknown":       {"    nosuchOption: 1\n", "nosuchOption"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(dir, name+".yml")
			if err := os.WriteFile(p, []byte(base+c.extra), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out := runCmd(t, dir, nil, 20*time.Second, "check", "--configFile="+p)
			switch {
			case c.want == "" && code != 0:
				t.Errorf("exit %d:\n%s", code, out)
			case c.want != "" && (code == 0 || !strings.Contains(out, c.want)):
				t.Errorf("exit %d, want an error with %q:\n%s", code, c.want, out)
			}
		})
	}
}

// TestKubeIngressStrictAndNativeLB: strictPrefixMatching matches whole
// path elements; service.nativelb makes the ClusterIP the only server.
func TestKubeIngressStrictAndNativeLB(t *testing.T) {
	t.Parallel()
	k := requireKube(t)
	ns := k.Namespace(t)
	ip, port := pod(t, "pod")
	k.ServiceWithEndpoints(t, ns, "svc", "http", 80, port, KubeEndpoint{IP: ip, Ready: true})
	k.ServiceWithEndpoints(t, ns, "native", "http", 80, port, KubeEndpoint{IP: ip, Ready: true})
	annotateService(t, k, ns, "native", map[string]string{"traefik.ingress.kubernetes.io/service.nativelb": "true"})
	svc, err := k.Client.CoreV1().Services(ns).Get(context.Background(), "native", metav1.GetOptions{})
	if err != nil || svc.Spec.ClusterIP == "" {
		t.Fatalf("native service: %v %+v", err, svc)
	}
	ke := startKubeIngress(t, k, []string{ns}, "    strictPrefixMatching: true\n", "")
	ke.apply(t, &netv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "strict"},
		Spec: netv1.IngressSpec{Rules: []netv1.IngressRule{
			ingRule("strict.example.com", ingPath("/foo", netv1.PathTypePrefix, "svc", 80)),
			ingRule("native.example.com", ingPath("/", netv1.PathTypePrefix, "native", 80)),
		}},
	})
	rd := ke.WaitRouters(ns + "-strict-strict-example-com-foo@kubernetes")
	if r := rd.Routers[ns+"-strict-strict-example-com-foo@kubernetes"]; r.Rule != "Host(`strict.example.com`) && (Path(`/foo`) || PathPrefix(`/foo/`))" {
		t.Errorf("strict rule: %q", r.Rule)
	}
	ke.served(t, "/foo", "strict.example.com", "pod")
	ke.served(t, "/foo/bar", "strict.example.com", "pod")
	ke.status(t, "/foobar", "strict.example.com", 404)
	want := "http://" + svc.Spec.ClusterIP + ":80"
	ke.WaitAPI(20*time.Second, "nativeLB server "+want, func(rd *Rawdata) bool {
		_, ok := rd.Services[ns+"-native-80@kubernetes"].ServerStatus[want]
		return ok && len(rd.Services[ns+"-native-80@kubernetes"].ServerStatus) == 1
	})
}

// TestKubeIngressNoClassLookup: with disableClusterScopeResources no
// IngressClass is read: an Ingress naming a class is ignored, one with the
// class annotation is served.
func TestKubeIngressNoClassLookup(t *testing.T) {
	t.Parallel()
	k := requireKube(t)
	ns := k.Namespace(t)
	ip, port := pod(t, "pod")
	k.ServiceWithEndpoints(t, ns, "svc", "http", 80, port, KubeEndpoint{IP: ip, Ready: true})
	ke := startKubeIngress(t, k, []string{ns}, "    disableClusterScopeResources: true\n", "")
	ke.apply(t, simpleIngress("by-name", "name.example.com", "svc", 80))
	byAnn := simpleIngress("by-annotation", "ann.example.com", "svc", 80)
	byAnn.Annotations = map[string]string{"kubernetes.io/ingress.class": ke.class}
	ke.apply(t, byAnn)
	ke.served(t, "/", "ann.example.com", "pod")
	time.Sleep(500 * time.Millisecond)
	rd := ke.WaitAPI(5*time.Second, "api", func(*Rawdata) bool { return true })
	for n := range rd.Routers {
		if strings.HasSuffix(n, "@kubernetes") && !strings.Contains(n, "by-annotation") {
			t.Errorf("router %s served: an Ingress naming a class must be ignored", n)
		}
	}
}
