package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubeCRDRBACAndSelection runs the provider as the unprivileged
// "switchyard" user with exactly the rules docs/providers/kubernetes-crd.md
// lists, and checks labelSelector and the default ingressClass selection:
// only labelled objects, without a class annotation or with "traefik", are
// served; the Warning Event on an invalid one is written with those rights.
func TestKubeCRDRBACAndSelection(t *testing.T) {
	k := requireKube(t)
	kn := requireKubeNet(t)
	requireCRDs(t, k)
	ns := k.Namespace(t)
	ctx := context.Background()
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "switchyard-crd-" + ns},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"traefik.io"}, Verbs: []string{"get", "list", "watch"}, Resources: []string{
				"ingressroutes", "ingressroutetcps", "ingressrouteudps", "middlewares", "middlewaretcps",
				"traefikservices", "tlsoptions", "tlsstores", "serverstransports", "serverstransporttcps",
			}},
			{APIGroups: []string{""}, Verbs: []string{"get", "list", "watch"}, Resources: []string{"services", "secrets", "configmaps"}},
			{APIGroups: []string{"discovery.k8s.io"}, Verbs: []string{"get", "list", "watch"}, Resources: []string{"endpointslices"}},
			{APIGroups: []string{"events.k8s.io"}, Verbs: []string{"create", "patch"}, Resources: []string{"events"}},
		},
	}
	if _, err := k.Client.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Bound in the test's namespace only: the provider watches that one.
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "switchyard-crd", Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: "rbac.authorization.k8s.io", Name: kubeSwitchyardUser}},
	}
	if _, err := k.Client.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = k.Client.RbacV1().ClusterRoles().Delete(context.Background(), role.Name, metav1.DeleteOptions{})
	})

	ip, port := kn.ServeHTTP(t, echoPod("pod"))
	k.ServiceWithEndpoints(t, ns, "whoami", "http", 80, int32(port), KubeEndpoint{IP: ip, Ready: true})
	route := func(name, labels, annotations, host, svc string) string {
		return `
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: ` + name + `
  labels: {` + labels + `}
  annotations: {` + annotations + `}
spec:
  entryPoints: [web]
  routes:
  - match: Host(` + "`" + host + "`" + `)
    services:
    - name: ` + svc + `
      port: 80
`
	}
	mustApply(t, k, ns, strings.Join([]string{
		route("shown", "expose: \"yes\"", "", "shown.example.com", "whoami"),
		route("hidden", "", "", "hidden.example.com", "whoami"),
		route("nginx-class", "expose: \"yes\"", "kubernetes.io/ingress.class: nginx", "nginx.example.com", "whoami"),
		route("traefik-class", "expose: \"yes\"", "kubernetes.io/ingress.class: traefik", "traefik.example.com", "whoami"),
		route("missing", "expose: \"yes\"", "", "missing.example.com", "nope"),
	}, "\n---\n"))

	e := newEnv(t)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  kubernetesCRD:
    endpoint: "`+k.URL+`"
    token: "`+kubeSwitchyardToken+`"
    certAuthFilePath: "`+k.CAFile+`"
    namespaces: [`+ns+`]
    labelSelector: "expose=yes"
`)
	e.Start()
	r := func(name, host string) string {
		return ns + "-" + name + "-" + routeHash("Host(`"+host+"`)") + "@kubernetescrd"
	}
	rd := e.waitCRDRouters(r("shown", "shown.example.com"), r("traefik-class", "traefik.example.com"), r("missing", "missing.example.com"))
	for _, n := range []string{r("hidden", "hidden.example.com"), r("nginx-class", "nginx.example.com")} {
		if _, ok := rd.Routers[n]; ok {
			t.Fatalf("router %s should not exist (label selector / ingress class)", n)
		}
	}
	e.waitStatus(request{url: e.URL("web") + "/", host: "shown.example.com"}, http.StatusOK)
	e.waitStatus(request{url: e.URL("web") + "/", host: "traefik.example.com"}, http.StatusOK)
	if rep := do(t, request{url: e.URL("web") + "/", host: "hidden.example.com"}); rep.Status != http.StatusNotFound {
		t.Fatalf("unlabelled IngressRoute served: %d", rep.Status)
	}
	if m := rd.Routers[r("missing", "missing.example.com")]; m.Status != "disabled" || len(m.Error) == 0 || !strings.Contains(m.Error[0], "not found") {
		t.Fatalf("route to a missing Service: %+v", m)
	}
	e.waitFor(30*time.Second, "a Warning Event written with the documented rights", func() bool {
		evs, err := k.Client.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		for _, ev := range evs.Items {
			if ev.Regarding.Name == "missing" && ev.Type == "Warning" && ev.ReportingController == "switchyard" {
				return true
			}
		}
		return false
	})
	if strings.Contains(e.Proc.Output(), "forbidden") {
		t.Fatalf("an API call was forbidden with the documented rules:\n%s", e.Proc.Output())
	}
}

// TestKubeCRDCheck: `switchyard check` validates the provider's static
// options without contacting anything (no API server at the endpoint), and
// names the key of a bad one; the same configuration fails `run` at load.
func TestKubeCRDCheck(t *testing.T) {
	for _, tc := range []struct {
		name, extra, want string
		ok                bool
	}{
		{"valid", "    labelSelector: \"app in (a,b)\"\n    throttleDuration: 1s\n    allowCrossNamespace: true\n", "", true},
		{"bad label selector", "    labelSelector: \"app in (\"\n", "providers.kubernetesCRD: labelSelector", false},
		{"bad endpoint", "    endpoint: \"127.0.0.1:6443\"\n", "providers.kubernetesCRD: endpoint", false},
		{"unknown option", "    allowCrossNamespaces: true\n", "allowCrossNamespaces", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
providers:
  kubernetesCRD:
    token: "x"
`+func() string {
				if strings.Contains(tc.extra, "endpoint:") {
					return tc.extra
				}
				return "    endpoint: \"https://127.0.0.1:1\"\n" + tc.extra
			}())
			code, out := runCmd(t, e.Dir, nil, 20*time.Second, "check", "--configFile="+e.StatPath)
			if tc.ok != (code == 0) || !strings.Contains(out, tc.want) {
				t.Fatalf("check exit %d (ok %v expected), output:\n%s", code, tc.ok, out)
			}
			if !tc.ok {
				code, out = runCmd(t, e.Dir, nil, 20*time.Second, "--configFile="+e.StatPath)
				if code == 0 || !strings.Contains(out, tc.want) {
					t.Fatalf("run exit %d, output:\n%s", code, out)
				}
			}
		})
	}
}
