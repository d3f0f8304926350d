package integration

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func simpleIngress(name, host, svc string, port int) *netv1.Ingress {
	return &netv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       netv1.IngressSpec{Rules: []netv1.IngressRule{ingRule(host, ingPath("/", netv1.PathTypePrefix, svc, port))}},
	}
}

// TestKubeIngressSelection: which Ingresses are served (IngressClass of
// Traefik's or our controller, the class annotation, watched namespaces,
// labelSelector); ExternalName and empty services refused by default and
// served when allowed; an Ingress with a bad annotation shown disabled
// with the annotation named, logged, and a Warning Event on it, while
// the others serve.
func TestKubeIngressSelection(t *testing.T) {
	t.Parallel()
	k := requireKube(t)
	ns1, ns2, ns3 := k.Namespace(t), k.Namespace(t), k.Namespace(t)
	ip, port := pod(t, "pod")
	for _, ns := range []string{ns1, ns2, ns3} {
		k.ServiceWithEndpoints(t, ns, "svc", "http", 80, port, KubeEndpoint{IP: ip, Ready: true})
	}
	k.ServiceWithEndpoints(t, ns1, "nobody", "http", 80, 8080) // no endpoints
	e := newEnv(t)
	extHost, extPort, _ := net.SplitHostPort(strings.TrimPrefix(e.Backend("ext-backend"), "http://"))
	ep, _ := strconv.Atoi(extPort)
	if _, err := k.Client.CoreV1().Services(ns1).Create(context.Background(), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "ext", Namespace: ns1},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: extHost, Ports: []corev1.ServicePort{{Name: "http", Port: int32(ep)}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	ke := startKubeIngress(t, k, []string{ns1, ns2}, `    ingressClass: ""
    labelSelector: "team!=blocked"
`, "")
	syClass, otherClass := "sy-ctl-"+ns1, "other-"+ns1
	ke.ingressClass(t, syClass, "switchyard.io/ingress-controller")
	ke.ingressClass(t, otherClass, "example.com/other")

	withClass := func(i *netv1.Ingress, c string) *netv1.Ingress { i.Spec.IngressClassName = &c; return i }
	withAnn := func(i *netv1.Ingress, k, v string) *netv1.Ingress {
		if i.Annotations == nil {
			i.Annotations = map[string]string{}
		}
		i.Annotations[k] = v
		return i
	}
	ke.apply(t, simpleIngress("traefik-class", "a.example.com", "svc", 80))
	ke.apply(t, withClass(simpleIngress("sy-class", "b.example.com", "svc", 80), syClass))
	ke.apply(t, withClass(simpleIngress("other-class", "c.example.com", "svc", 80), otherClass))
	ke.apply(t, withAnn(simpleIngress("annotation", "d.example.com", "svc", 80), "kubernetes.io/ingress.class", "traefik"))
	ke.apply(t, withAnn(simpleIngress("nginx-annotation", "e.example.com", "svc", 80), "kubernetes.io/ingress.class", "nginx"))
	blocked := simpleIngress("blocked", "f.example.com", "svc", 80)
	blocked.Labels = map[string]string{"team": "blocked"}
	ke.apply(t, blocked)
	in2 := simpleIngress("in-ns2", "g.example.com", "svc", 80)
	in2.Namespace = ns2
	ke.apply(t, in2)
	in3 := simpleIngress("in-ns3", "h.example.com", "svc", 80)
	in3.Namespace, in3.Spec.IngressClassName = ns3, &ke.class
	ke.apply(t, in3)
	ke.apply(t, simpleIngress("ext", "ext.example.com", "ext", ep))
	ke.apply(t, simpleIngress("empty", "empty.example.com", "nobody", 80))
	ke.apply(t, withAnn(simpleIngress("invalid", "invalid.example.com", "svc", 80), "traefik.ingress.kubernetes.io/router.priority", "high"))

	r := func(ns, name, host string) string {
		return ns + "-" + name + "-" + strings.ReplaceAll(host, ".", "-") + "@kubernetes"
	}
	ke.WaitRouters(r(ns1, "traefik-class", "a.example.com"), r(ns1, "sy-class", "b.example.com"), r(ns1, "annotation", "d.example.com"),
		r(ns2, "in-ns2", "g.example.com"), r(ns1, "ext", "ext.example.com"), r(ns1, "empty", "empty.example.com"), r(ns1, "invalid", "invalid.example.com"))
	ke.served(t, "/", "b.example.com", "pod")
	ke.served(t, "/", "g.example.com", "pod")
	time.Sleep(time.Second) // every object above is in the caches by now
	rd := ke.WaitAPI(5*time.Second, "api", func(*Rawdata) bool { return true })
	for _, n := range []string{r(ns1, "other-class", "c.example.com"), r(ns1, "nginx-annotation", "e.example.com"), r(ns1, "blocked", "f.example.com"), r(ns3, "in-ns3", "h.example.com")} {
		if _, ok := rd.Routers[n]; ok {
			t.Errorf("%s served", n)
		}
	}
	for n, want := range map[string]string{
		r(ns1, "ext", "ext.example.com"):         "externalName services not allowed",
		r(ns1, "empty", "empty.example.com"):     "no ready endpoints",
		r(ns1, "invalid", "invalid.example.com"): "annotation traefik.ingress.kubernetes.io/router.priority: \"high\" is not an integer",
	} {
		if got := rd.Routers[n]; got.Status != "disabled" || !strings.Contains(strings.Join(got.Error, " "), want) {
			t.Errorf("%s: %+v (want disabled: %s)", n, got, want)
		}
	}
	ke.status(t, "/", "ext.example.com", 404)
	ke.waitFor(20*time.Second, "Warning Event on the invalid Ingress", func() bool {
		evs, err := k.Client.CoreV1().Events(ns1).List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.name=invalid"})
		if err != nil {
			return false
		}
		for _, ev := range evs.Items {
			if ev.Type == corev1.EventTypeWarning && ev.Reason == "IngressSkipped" && strings.Contains(ev.Message, "router.priority") {
				return true
			}
		}
		return false
	})
	if !strings.Contains(ke.Proc.Output(), "router.priority") {
		t.Error("log does not name the bad annotation")
	}

	// A second switchyard allowing ExternalName and empty services.
	ke2 := startKubeIngress(t, k, []string{ns1}, `    allowExternalNameServices: true
    allowEmptyServices: true
`, "")
	ke2.WaitRouters(r(ns1, "ext", "ext.example.com"), r(ns1, "empty", "empty.example.com"))
	ke2.served(t, "/", "ext.example.com", "ext-backend")
	ke2.status(t, "/", "empty.example.com", 503)
}
