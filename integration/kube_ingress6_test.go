package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubeIngressRBAC runs the provider as the unprivileged user
// "switchyard" with exactly the rights docs/providers/kubernetes-ingress.md
// lists, publishing the address of a LoadBalancer Service: routes are
// served, the Service's load-balancer address is copied to the Ingress
// status (and follows when it changes), service.sticky.cookie sets the
// cookie.
func TestKubeIngressRBAC(t *testing.T) {
	t.Parallel()
	k := requireKube(t)
	ns := k.Namespace(t)
	ctx := context.Background()
	role := "switchyard-ingress-" + ns
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: role}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"services", "secrets"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses", "ingressclasses"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses/status"}, Verbs: []string{"update"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}},
	}}
	if _, err := k.Client.RbacV1().ClusterRoles().Create(ctx, cr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = k.Client.RbacV1().ClusterRoles().Delete(context.Background(), role, metav1.DeleteOptions{})
	})
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: kubeSwitchyardUser}}}
	if _, err := k.Client.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = k.Client.RbacV1().ClusterRoleBindings().Delete(context.Background(), role, metav1.DeleteOptions{})
	})

	ip, port := pod(t, "pod")
	k.ServiceWithEndpoints(t, ns, "svc", "http", 80, port, KubeEndpoint{IP: ip, Ready: true})
	annotateService(t, k, ns, "svc", map[string]string{
		"traefik.ingress.kubernetes.io/service.sticky.cookie":      "true",
		"traefik.ingress.kubernetes.io/service.sticky.cookie.name": "sid",
	})
	front := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "front", Namespace: ns},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	_, err := k.Client.CoreV1().Services(ns).Create(ctx, front, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setLB := func(ip, host string) {
		t.Helper()
		s, err := k.Client.CoreV1().Services(ns).Get(ctx, "front", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip, Hostname: host}}
		if _, err := k.Client.CoreV1().Services(ns).UpdateStatus(ctx, s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	setLB("203.0.113.5", "")

	// token names a file holding it (Traefik accepts a value or a path).
	tokenFile := writeFile(t, t.TempDir(), "token", kubeSwitchyardToken+"\n")
	ke := startKubeIngress(t, k, []string{ns}, `    endpoint: "`+k.URL+`"
    token: "`+tokenFile+`"
    certAuthFilePath: "`+k.CAFile+`"
    ingressEndpoint:
      publishedService: "`+ns+`/front"
`, "")
	ke.apply(t, simpleIngress("rbac", "rbac.example.com", "svc", 80))
	ke.served(t, "/", "rbac.example.com", "pod")
	rep := do(t, request{url: ke.URL("web") + "/", host: "rbac.example.com"})
	if c := rep.Header.Get("Set-Cookie"); !strings.HasPrefix(c, "sid=") {
		t.Errorf("sticky cookie: Set-Cookie %q", c)
	}
	lbIs := func(want string) func() bool {
		return func() bool {
			i, err := k.Client.NetworkingV1().Ingresses(ns).Get(ctx, "rbac", metav1.GetOptions{})
			if err != nil || len(i.Status.LoadBalancer.Ingress) != 1 {
				return false
			}
			e := i.Status.LoadBalancer.Ingress[0]
			return e.IP+e.Hostname == want
		}
	}
	ke.waitFor(40*time.Second, "status copied from the published service", lbIs("203.0.113.5"))
	setLB("", "lb.example.net")
	ke.waitFor(20*time.Second, "status follows the published service", lbIs("lb.example.net"))
	if out := ke.Proc.Output(); strings.Contains(out, "forbidden") {
		i := strings.Index(out, "forbidden")
		t.Errorf("a request was forbidden with the documented rights: %s", out[max(0, i-300):min(len(out), i+200)])
	}
}
