package integration

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/switchyard-proxy/switchyard/integration/kubetest"
)

// TestKubeIngressNodePortStatus runs on an API server of its own (Nodes
// are cluster-wide) as the unprivileged user with the documented rights
// plus the Node read right: ingressEndpoint.publishedService naming a
// NodePort Service copies the nodes' ExternalIP addresses (as Traefik) to
// the Ingress status, and follows a node added, changed and removed.
// Nodes are plain API objects here (no kubelet).
func TestKubeIngressNodePortStatus(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	k, err := kubetest.Start(repoRoot)
	if err != nil {
		t.Fatalf("private API server: %v", err)
	}
	t.Cleanup(k.Stop)
	ns := k.Namespace(t)
	ctx := context.Background()
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "switchyard"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"services", "secrets"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses", "ingressclasses"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses/status"}, Verbs: []string{"update"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}},
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list", "watch"}},
	}}
	if _, err := k.Client.RbacV1().ClusterRoles().Create(ctx, cr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "switchyard"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "switchyard"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: kubeSwitchyardUser}}}
	if _, err := k.Client.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	nodes := k.Client.CoreV1().Nodes()
	setNode := func(name string, addrs ...corev1.NodeAddress) {
		t.Helper()
		n, err := nodes.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			if n, err = nodes.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		n.Status.Addresses = addrs
		if _, err := nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ext := func(ip string) corev1.NodeAddress {
		return corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: ip}
	}
	internal := func(ip string) corev1.NodeAddress {
		return corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip}
	}
	setNode("node-a", internal("10.0.0.1"), ext("203.0.113.11"))
	setNode("node-b", internal("10.0.0.2")) // no external address

	ip, port := pod(t, "pod")
	k.ServiceWithEndpoints(t, ns, "svc", "http", 80, port, KubeEndpoint{IP: ip, Ready: true})
	front := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "front", Namespace: ns},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	if _, err := k.Client.CoreV1().Services(ns).Create(ctx, front, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tokenFile := writeFile(t, t.TempDir(), "token", kubeSwitchyardToken+"\n")
	ke := startKubeIngress(t, k, []string{ns}, `    endpoint: "`+k.URL+`"
    token: "`+tokenFile+`"
    certAuthFilePath: "`+k.CAFile+`"
    ingressEndpoint:
      publishedService: "`+ns+`/front"
`, "")
	ke.apply(t, simpleIngress("np", "np.example.com", "svc", 80))
	ke.served(t, "/", "np.example.com", "pod")
	statusIs := func(want ...string) func() bool {
		return func() bool {
			i, err := k.Client.NetworkingV1().Ingresses(ns).Get(ctx, "np", metav1.GetOptions{})
			if err != nil {
				return false
			}
			var got []string
			for _, e := range i.Status.LoadBalancer.Ingress {
				got = append(got, e.IP+e.Hostname)
			}
			return slices.Equal(got, want)
		}
	}
	ke.waitFor(40*time.Second, "status: the nodes' external address", statusIs("203.0.113.11"))
	setNode("node-b", internal("10.0.0.2"), ext("203.0.113.5"))
	ke.waitFor(20*time.Second, "status follows a node's new external address", statusIs("203.0.113.11", "203.0.113.5"))
	setNode("node-c", ext("203.0.113.5")) // the same address twice: once
	if err := nodes.Delete(ctx, "node-a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	ke.waitFor(20*time.Second, "status follows a node removed", statusIs("203.0.113.5"))
	if out := ke.Proc.Output(); strings.Contains(out, "forbidden") {
		i := strings.Index(out, "forbidden")
		t.Errorf("a request was forbidden with the documented rights: %s", out[max(0, i-300):min(len(out), i+200)])
	}
}
