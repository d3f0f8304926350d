package integration

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// Deployment artefacts (deploy/helm/switchyard, deploy/manifests, the
// Dockerfile) checked against the real API server: every rendered object
// is applied (server-side apply: the API server validates each one), the
// plain manifests are what the chart renders, and the image's build stage
// makes a static binary that runs as a non-root user.

var (
	helmOnce sync.Once
	helmBin  string
	helmErr  error
)

// requireHelm builds Helm once (integration/helm/build.sh, cached in
// ~/.cache/switchyard/helm-VERSION; make helm does it ahead).
func requireHelm(t testing.TB) string {
	t.Helper()
	helmOnce.Do(func() { helmBin, helmErr = cachedBuild(filepath.Join(repoRoot, "integration", "helm", "build.sh")) })
	if helmErr != nil {
		t.Fatalf("helm: %v", helmErr)
	}
	return helmBin
}

// deployHelm runs the helm binary in the repository root and returns its
// standard output, or an error carrying its standard error.
func deployHelm(t testing.TB, args ...string) (string, error) {
	t.Helper()
	bin := requireHelm(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = repoRoot
	dir := t.TempDir()
	// No repositories, plugins or caches of the user's.
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+dir+"/cache", "HELM_CONFIG_HOME="+dir+"/config", "HELM_DATA_HOME="+dir+"/data")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

const deployChartDir = "deploy/helm/switchyard"

// deployHelmTemplate renders the chart as release in namespace ns with --set
// values.
func deployHelmTemplate(t testing.TB, release, ns string, sets ...string) (string, error) {
	t.Helper()
	args := []string{"template", release, deployChartDir, "--namespace", ns}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	return deployHelm(t, args...)
}

// deployParse decodes a multi-document YAML stream into objects.
func deployParse(t testing.TB, text string) []*unstructured.Unstructured {
	t.Helper()
	dec := kyaml.NewYAMLOrJSONDecoder(strings.NewReader(text), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("decode rendered YAML: %v", err)
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out
}

// deployFind returns the objects of one kind.
func deployFind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// deployOne returns the only object of kind, converted to T.
func deployOne[T any](t testing.TB, objs []*unstructured.Unstructured, kind string) *T {
	t.Helper()
	f := deployFind(objs, kind)
	if len(f) != 1 {
		t.Fatalf("%d objects of kind %s, want 1", len(f), kind)
	}
	v := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(f[0].Object, v); err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
	return v
}

// applyObjects server-side applies objs (namespaced ones without a
// namespace go to ns), so that the API server validates every object as
// a cluster would. Cluster-scoped objects are deleted when the test ends
// (namespaces never finish deleting here, their content does not matter).
func deployApply(t testing.TB, k *kubeCluster, ns string, objs []*unstructured.Unstructured) {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(k.Config)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := restmapper.GetAPIGroupResources(dc)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDiscoveryRESTMapper(groups)
	dyn, err := dynamic.NewForConfig(k.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("%s %s: %v", gvk, o.GetName(), err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			if o.GetNamespace() == "" {
				o.SetNamespace(ns)
			}
			ri = dyn.Resource(m.Resource).Namespace(o.GetNamespace())
		}
		if gvk.Kind != "Namespace" {
			name := o.GetName()
			t.Cleanup(func() { _ = ri.Delete(context.Background(), name, metav1.DeleteOptions{}) })
		}
		if _, err := ri.Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: "switchyard-tests", Force: true}); err != nil {
			t.Fatalf("apply %s %s/%s: %v", gvk.Kind, o.GetNamespace(), o.GetName(), err)
		}
	}
}

// checkDeployment asserts what every rendering must keep: non-root,
// read-only root, no capability but NET_BIND_SERVICE when a port needs
// it, probes on /ping, the downward API for leader election, and a grace
// period that covers the entry points' shutdown.
func deployCheckDeployment(t testing.TB, d *appsv1.Deployment, wantBind bool) {
	t.Helper()
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers", len(spec.Containers))
	}
	c := spec.Containers[0]
	if psc := spec.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("pod securityContext %+v: want runAsNonRoot and a non-zero runAsUser", psc)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Fatalf("container securityContext %+v: want readOnlyRootFilesystem, no privilege escalation", sc)
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("capabilities %+v: want drop [ALL]", sc.Capabilities)
	}
	var add []corev1.Capability
	if sc.Capabilities != nil {
		add = sc.Capabilities.Add
	}
	if wantBind && !slices.Equal(add, []corev1.Capability{"NET_BIND_SERVICE"}) || !wantBind && len(add) != 0 {
		t.Errorf("capabilities add %v (want NET_BIND_SERVICE: %v)", add, wantBind)
	}
	if spec.EnableServiceLinks == nil || *spec.EnableServiceLinks {
		t.Error("enableServiceLinks must be false: a Service named switchyard would inject SWITCHYARD_* variables")
	}
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			env[e.Name] = e.ValueFrom.FieldRef.FieldPath
		}
	}
	if env["POD_NAME"] != "metadata.name" || env["POD_NAMESPACE"] != "metadata.namespace" {
		t.Errorf("downward API env %v: want POD_NAME=metadata.name, POD_NAMESPACE=metadata.namespace", env)
	}
	for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/ping" || p.HTTPGet.Port.String() != "traefik" {
			t.Errorf("%s probe %+v: want GET /ping on port traefik", name, p)
		}
	}
	if !slices.Contains(c.Args, "--configFile=/etc/switchyard/switchyard.yml") {
		t.Errorf("args %v: want the static file from the ConfigMap", c.Args)
	}
	if spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds < 15 {
		t.Errorf("terminationGracePeriodSeconds %v: want at least requestAcceptGraceTimeout + graceTimeOut (15 s by default)", spec.TerminationGracePeriodSeconds)
	}
}

// staticConfigOf returns the switchyard.yml of the rendered ConfigMap.
func deployStaticConfig(t testing.TB, objs []*unstructured.Unstructured) string {
	t.Helper()
	cm := deployOne[corev1.ConfigMap](t, objs, "ConfigMap")
	s, ok := cm.Data["switchyard.yml"]
	if !ok {
		t.Fatalf("ConfigMap %s has no switchyard.yml", cm.Name)
	}
	return s
}

// knownProviders tells which Kubernetes providers the binary accepts
// (others land on main one by one): `switchyard check` refuses the key of
// a provider it does not have as an unknown key.
func deployKnownProviders(t testing.TB) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, p := range []string{"kubernetesIngress", "kubernetesIngressNGINX", "kubernetesCRD", "kubernetesGateway"} {
		dir := t.TempDir()
		f := filepath.Join(dir, "s.yml")
		if err := os.WriteFile(f, []byte("entryPoints:\n  web:\n    address: \"127.0.0.1:0\"\nproviders:\n  "+p+":\n    endpoint: \"https://127.0.0.1:1\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, text := runCmd(t, dir, nil, 30*time.Second, "check", "--configFile="+f)
		out[p] = code == 0 || !strings.Contains(text, "providers."+p)
	}
	return out
}

// TestKubeDeployChart renders the chart with several value sets, checks
// what each must keep, and applies every object to the real API server;
// value combinations that cannot work are refused at render time.
func TestKubeDeployChart(t *testing.T) {
	k := requireKube(t)
	if out, err := deployHelm(t, "lint", "--strict", deployChartDir); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
	cases := []struct {
		name     string
		sets     []string
		wantBind bool
		check    func(t *testing.T, ns string, objs []*unstructured.Unstructured)
	}{
		{name: "defaults", check: func(t *testing.T, ns string, objs []*unstructured.Unstructured) {
			svc := deployOne[corev1.Service](t, objs, "Service")
			if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || len(svc.Spec.Ports) != 2 {
				t.Errorf("service %s with %d ports, want LoadBalancer with web and websecure", svc.Spec.Type, len(svc.Spec.Ports))
			}
			for _, p := range svc.Spec.Ports {
				want := map[string]int32{"web": 80, "websecure": 443}[p.Name]
				if p.Port != want || p.TargetPort.String() != p.Name {
					t.Errorf("service port %+v: want %d to the container port named %s", p, want, p.Name)
				}
			}
			ic := deployOne[networkingv1.IngressClass](t, objs, "IngressClass")
			if ic.Spec.Controller != "traefik.io/ingress-controller" {
				t.Errorf("IngressClass controller %q", ic.Spec.Controller)
			}
			if len(deployFind(objs, "PodDisruptionBudget")) != 1 {
				t.Error("no PodDisruptionBudget with 2 replicas")
			}
			cfg := deployStaticConfig(t, objs)
			for _, want := range []string{"address: :8000", "address: :8443", "requestAcceptGraceTimeout: 5s", "graceTimeOut: 10s", "publishedService: " + ns + "/"} {
				if !strings.Contains(cfg, want) {
					t.Errorf("static configuration lacks %q:\n%s", want, cfg)
				}
			}
			cr := deployOne[rbacv1.ClusterRole](t, objs, "ClusterRole")
			deployCheckRules(t, cr.Rules, []string{"networking.k8s.io/ingresses:list", "networking.k8s.io/ingresses:watch", "networking.k8s.io/ingresses/status:update",
				"networking.k8s.io/ingressclasses:list", "/services:list", "/secrets:watch", "discovery.k8s.io/endpointslices:list", "/events:create", "/events:patch"},
				[]string{"/secrets:update", "/pods:list", "gateway.networking.k8s.io/gateways:list", "traefik.io/ingressroutes:list", "coordination.k8s.io/leases:get"})
			if len(deployFind(objs, "Role")) != 1 || deployFind(objs, "Role")[0].GetName() == "" {
				t.Error("want exactly one Role (leader election)")
			}
			role := deployOne[rbacv1.Role](t, objs, "Role")
			deployCheckRules(t, role.Rules, []string{"coordination.k8s.io/leases:get", "coordination.k8s.io/leases:create", "coordination.k8s.io/leases:update"}, []string{"coordination.k8s.io/leases:delete"})
		}},
		{name: "all-providers-namespaced-rbac", sets: []string{
			"providers.kubernetesCRD.enabled=true", "providers.kubernetesGateway.enabled=true",
			"providers.kubernetesGateway.gatewayClass.name=NS",
			"rbac.namespaced=true", "watchNamespaces={NS,NS-apps}",
		}, check: func(t *testing.T, ns string, objs []*unstructured.Unstructured) {
			if n := len(deployFind(objs, "Role")); n != 3 {
				t.Errorf("%d Roles, want one per watched namespace and one for leader election", n)
			}
			cr := deployOne[rbacv1.ClusterRole](t, objs, "ClusterRole")
			deployCheckRules(t, cr.Rules, []string{"networking.k8s.io/ingressclasses:list", "gateway.networking.k8s.io/gatewayclasses:watch", "gateway.networking.k8s.io/gatewayclasses/status:update", "/namespaces:list"},
				[]string{"/secrets:list", "networking.k8s.io/ingresses:list"})
			for _, r := range deployFind(objs, "Role") {
				var role rbacv1.Role
				_ = runtime.DefaultUnstructuredConverter.FromUnstructured(r.Object, &role)
				if role.Namespace == ns && strings.HasSuffix(role.Name, "-leader-election") {
					continue
				}
				deployCheckRules(t, role.Rules, []string{"traefik.io/ingressroutes:watch", "traefik.io/middlewares:list", "gateway.networking.k8s.io/httproutes:list",
					"gateway.networking.k8s.io/httproutes/status:update", "/secrets:list", "/configmaps:list"}, nil)
			}
			cfg := deployStaticConfig(t, objs)
			for _, p := range []string{"kubernetesIngress:", "kubernetesCRD:", "kubernetesGateway:", "- " + ns + "-apps"} {
				if !strings.Contains(cfg, p) {
					t.Errorf("static configuration lacks %q:\n%s", p, cfg)
				}
			}
		}},
		{name: "ingress-nginx-privileged-port-nodeport", wantBind: true, sets: []string{
			"providers.kubernetesIngress.enabled=false", "providers.kubernetesIngressNGINX.enabled=true",
			"providers.kubernetesIngressNGINX.createIngressClass=true", "providers.kubernetesIngressNGINX.options.ingressClass=nginx-NS",
			"ports.web.port=80", "service.type=NodePort", "watchNamespaces={NS}",
		}, check: func(t *testing.T, ns string, objs []*unstructured.Unstructured) {
			if n := len(deployFind(objs, "IngressClass")); n != 2 {
				t.Errorf("%d IngressClasses, want ours and nginx's", n)
			}
			cfg := deployStaticConfig(t, objs)
			for _, want := range []string{"kubernetesIngressNGINX:", "publishService: " + ns + "/", "watchNamespace: " + ns, "address: :80\n"} {
				if !strings.Contains(cfg, want) {
					t.Errorf("static configuration lacks %q:\n%s", want, cfg)
				}
			}
		}},
		{name: "clusterip-one-replica-no-class", sets: []string{"service.type=ClusterIP", "replicas=1", "ingressClass.enabled=false", "terminationGracePeriodSeconds=60"},
			check: func(t *testing.T, ns string, objs []*unstructured.Unstructured) {
				if len(deployFind(objs, "PodDisruptionBudget")) != 0 || len(deployFind(objs, "IngressClass")) != 0 {
					t.Error("a PodDisruptionBudget with one replica, or an IngressClass though disabled")
				}
				if d := deployOne[appsv1.Deployment](t, objs, "Deployment"); *d.Spec.Template.Spec.TerminationGracePeriodSeconds != 60 {
					t.Errorf("terminationGracePeriodSeconds %d, want 60", *d.Spec.Template.Spec.TerminationGracePeriodSeconds)
				}
			}},
	}
	known := deployKnownProviders(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := k.Namespace(t)
			release := fmt.Sprintf("sy%d", i)
			// Cluster-scoped names are per namespace: the shared API
			// server outlives the test.
			sets := []string{"fullnameOverride=" + ns, "ingressClass.name=" + ns}
			for _, s := range tc.sets {
				sets = append(sets, strings.ReplaceAll(s, "NS", ns))
			}
			for _, s := range sets {
				if strings.HasPrefix(s, "watchNamespaces=") {
					for _, w := range strings.Split(strings.Trim(strings.TrimPrefix(s, "watchNamespaces="), "{}"), ",") {
						if w != ns {
							deployNamespace(t, k, w)
						}
					}
				}
			}
			out, err := deployHelmTemplate(t, release, ns, sets...)
			if err != nil {
				t.Fatal(err)
			}
			objs := deployParse(t, out)
			if len(deployFind(objs, "GatewayClass")) > 0 {
				requireGatewayAPI(t, k)
			}
			deployCheckDeployment(t, deployOne[appsv1.Deployment](t, objs, "Deployment"), tc.wantBind)
			tc.check(t, ns, objs)
			deployApply(t, k, ns, objs)
			// The API server kept the objects as rendered.
			d, err := k.Client.AppsV1().Deployments(ns).Get(context.Background(), ns, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			deployCheckDeployment(t, d, tc.wantBind)
			deployCheckStatic(t, k, deployStaticConfig(t, objs), known)
		})
	}

	t.Run("refused-values", func(t *testing.T) {
		for _, c := range []struct {
			sets []string
			want string
		}{
			{[]string{"terminationGracePeriodSeconds=10"}, "must be at least lifecycle.requestAcceptGraceTimeout + lifecycle.graceTimeOut (15)"},
			{[]string{"rbac.namespaced=true"}, "rbac.namespaced needs watchNamespaces"},
			{[]string{"providers.kubernetesIngressNGINX.enabled=true", "watchNamespaces={a,b}"}, "watches one namespace or all"},
			{[]string{"providers.kubernetesIngress.enabled=false"}, "no provider enabled"},
			{[]string{"ports.traefik=null"}, "ports.traefik is required"},
			// values.schema.json
			{[]string{"service.type=Foo"}, "value must be one of 'LoadBalancer', 'NodePort', 'ClusterIP'"},
			{[]string{"ports.web.port=0"}, "/ports/web/port"},
			{[]string{"providers.kubernetesFoo.enabled=true"}, "additional properties 'kubernetesFoo' not allowed"},
			{[]string{"leaderElection.leaseDuration=15"}, "/leaderElection/leaseDuration"},
		} {
			_, err := deployHelmTemplate(t, "bad", "default", c.sets...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("--set %v: error %v, want one containing %q", c.sets, err, c.want)
			}
		}
	})
}

func deployNamespace(t testing.TB, k *kubeCluster, name string) {
	t.Helper()
	_, err := k.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// checkRules asserts that rules grant every "group/resource:verb" of want
// and none of deny.
func deployCheckRules(t testing.TB, rules []rbacv1.PolicyRule, want, deny []string) {
	t.Helper()
	granted := map[string]bool{}
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					granted[g+"/"+res+":"+v] = true
				}
			}
		}
	}
	for _, w := range want {
		if !granted[w] {
			t.Errorf("RBAC does not grant %s", w)
		}
	}
	for _, d := range deny {
		if granted[d] {
			t.Errorf("RBAC grants %s, which no provider needs", d)
		}
	}
}

// deployCheckStatic runs `switchyard check` on the rendered static
// configuration when the binary has every provider it enables. Out of a
// cluster the providers take the API server from $KUBECONFIG.
func deployCheckStatic(t testing.TB, k *kubeCluster, cfg string, known map[string]bool) {
	t.Helper()
	var m struct {
		Providers map[string]any `yaml:"providers"`
	}
	if err := yaml.Unmarshal([]byte(cfg), &m); err != nil {
		t.Fatalf("static configuration is not YAML: %v\n%s", err, cfg)
	}
	for p := range m.Providers {
		if !known[p] {
			t.Logf("switchyard check skipped: provider %s is not in this binary yet", p)
			return
		}
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "switchyard.yml")
	if err := os.WriteFile(f, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := runCmd(t, dir, []string{"KUBECONFIG=" + k.Kubeconfig}, 30*time.Second, "check", "--configFile="+f); code != 0 {
		t.Errorf("switchyard check refuses the chart's static configuration (exit %d):\n%s\n%s", code, out, cfg)
	}
}

// deployRenderManifests renders deploy/manifests as `make manifests` does,
// into a temporary copy of the tree, and returns its directory.
func deployRenderManifests(t testing.TB) string {
	t.Helper()
	bin := requireHelm(t)
	tmp := t.TempDir()
	// render-manifests.sh writes into the tree it runs from: run a copy.
	for _, d := range []string{"deploy/helm", "deploy/manifests", "integration/helm"} {
		if err := os.MkdirAll(filepath.Join(tmp, filepath.Dir(d)), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("cp", "-r", filepath.Join(repoRoot, d), filepath.Join(tmp, d)).CombinedOutput(); err != nil {
			t.Fatalf("cp %s: %v: %s", d, err, out)
		}
	}
	if out, err := exec.Command(filepath.Join(tmp, "deploy/helm/render-manifests.sh"), bin).CombinedOutput(); err != nil {
		t.Fatalf("render-manifests.sh: %v\n%s", err, out)
	}
	return filepath.Join(tmp, "deploy/manifests")
}

// deployManifestFiles lists the YAML files of a manifests directory in
// the order kubectl apply -f takes them (by name: 00-namespace.yaml first).
func deployManifestFiles(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 || filepath.Base(files[0]) != "00-namespace.yaml" {
		t.Fatalf("manifests %v: want 00-namespace.yaml first", files)
	}
	return files
}

// deployManifestObjects reads every object of the plain manifests.
func deployManifestObjects(t testing.TB) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	for _, f := range deployManifestFiles(t, filepath.Join(repoRoot, "deploy/manifests")) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, deployParse(t, string(b))...)
	}
	return objs
}

// TestKubeDeployManifests: deploy/manifests is what the chart renders
// (make manifests leaves no diff) and the API server accepts all of it, in
// the order kubectl apply -f deploy/manifests/ creates it.
func TestKubeDeployManifests(t *testing.T) {
	k := requireKube(t)
	fresh := deployRenderManifests(t)
	names := func(files []string) []string {
		var out []string
		for _, f := range files {
			out = append(out, filepath.Base(f))
		}
		return out
	}
	have := deployManifestFiles(t, filepath.Join(repoRoot, "deploy/manifests"))
	if got, want := names(have), names(deployManifestFiles(t, fresh)); !slices.Equal(got, want) {
		t.Errorf("deploy/manifests holds %v, the chart renders %v (run make manifests)", got, want)
	}
	for _, f := range deployManifestFiles(t, fresh) {
		want, _ := os.ReadFile(f)
		got, err := os.ReadFile(filepath.Join(repoRoot, "deploy/manifests", filepath.Base(f)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("deploy/manifests/%s is not what the chart renders (run make manifests): %v", filepath.Base(f), err)
		}
	}
	objs := deployManifestObjects(t)
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.GetKind()]++
		if o.GetKind() != "Namespace" && o.GetKind() != "ClusterRole" && o.GetKind() != "ClusterRoleBinding" && o.GetKind() != "IngressClass" && o.GetNamespace() != "switchyard" {
			t.Errorf("%s %s in namespace %q, want switchyard", o.GetKind(), o.GetName(), o.GetNamespace())
		}
	}
	for kind, n := range map[string]int{"Namespace": 1, "ServiceAccount": 1, "ClusterRole": 1, "ClusterRoleBinding": 1, "Role": 1, "RoleBinding": 1,
		"ConfigMap": 1, "Service": 1, "Deployment": 1, "IngressClass": 1, "PodDisruptionBudget": 1} {
		if kinds[kind] != n {
			t.Errorf("%d objects of kind %s, want %d", kinds[kind], kind, n)
		}
	}
	deployCheckDeployment(t, deployOne[appsv1.Deployment](t, objs, "Deployment"), false)
	deployApply(t, k, "switchyard", objs)
	deployCheckStatic(t, k, deployStaticConfig(t, objs), deployKnownProviders(t))
}

// TestKubeDeployImage checks the Dockerfile's invariants (no registry is
// reachable here, so the image itself is not built) and runs its build
// stage's script: the binary must be static and run as the image's user.
func TestKubeDeployImage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	stages := regexp.MustCompile(`(?m)^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$`).FindAllStringSubmatch(df, -1)
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage Dockerfile, found %d FROM lines", len(stages))
	}
	// The build stage: golang at a full Go release, not older than go.mod's.
	goVer := regexp.MustCompile(`(?m)^ARG GO_VERSION=(\d+\.\d+\.\d+)$`).FindStringSubmatch(df)
	if goVer == nil || stages[0][1] != "golang:${GO_VERSION}-bookworm" {
		t.Fatalf("build stage %q: want golang:${GO_VERSION}-bookworm with ARG GO_VERSION=X.Y.Z pinned", stages[0][1])
	}
	gomod, _ := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	modVer := regexp.MustCompile(`(?m)^go (\d+\.\d+(?:\.\d+)?)$`).FindSubmatch(gomod)
	if modVer == nil || deployVersionLess(goVer[1], string(modVer[1])) {
		t.Errorf("Dockerfile Go %s is older than go.mod's %s", goVer[1], modVer)
	}
	// The final stage: scratch, or a distroless image pinned by digest.
	final := stages[len(stages)-1][1]
	if final != "scratch" && !regexp.MustCompile(`^gcr\.io/distroless/static-debian\d+(:[\w.-]+)?@sha256:[0-9a-f]{64}$`).MatchString(final) {
		t.Errorf("final stage %q: want scratch or distroless/static pinned by digest", final)
	}
	finalPart := df[strings.LastIndex(df, "\nFROM "):]
	user := regexp.MustCompile(`(?m)^USER\s+(\d+)(?::(\d+))?\s*$`).FindStringSubmatch(finalPart)
	if user == nil || user[1] == "0" || user[2] == "0" {
		t.Errorf("final stage: want USER <non-zero uid>:<non-zero gid>, got %v", user)
	}
	for _, want := range []string{
		"deploy/docker/build.sh /rootfs/usr/local/bin/switchyard", // the build is the script tested below
		"/etc/ssl/certs/ca-certificates.crt",                      // CA bundle for backends and the API server
		`ENTRYPOINT ["/usr/local/bin/switchyard"]`,
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if regexp.MustCompile(`(?m)^EXPOSE .*\b([1-9]\d{0,2}|10[01]\d|102[0-3])\b`).MatchString(finalPart) {
		t.Error("the image exposes a port below 1024 (it runs without capabilities)")
	}
	script, _ := os.ReadFile(filepath.Join(repoRoot, "deploy/docker/build.sh"))
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/switchyard"} {
		if !strings.Contains(string(script), want) {
			t.Errorf("deploy/docker/build.sh lacks %q", want)
		}
	}
	// .dockerignore keeps what the build needs.
	ign, _ := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	for _, line := range strings.Split(string(ign), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, need := range []string{"go.mod", "go.sum", "cmd", "cmd/switchyard", "deploy", "deploy/docker/build.sh", "internal", "providers"} {
			if ok, _ := filepath.Match(strings.TrimPrefix(line, "**/"), need); ok {
				t.Errorf(".dockerignore %q drops %s, which the build needs", line, need)
			}
		}
	}

	// The build stage's script makes a static binary...
	bin := deployImageBinary(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("binary has a %v program header: not static", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) != 0 {
		t.Errorf("binary needs %v", libs)
	}
	if f.Section(".debug_info") != nil || f.Section(".symtab") != nil {
		t.Error("binary keeps DWARF or a symbol table (-s -w)")
	}
	if data, err := os.ReadFile(bin); err == nil && bytes.Contains(data, []byte(repoRoot+"/")) {
		t.Errorf("binary contains the build path %s (-trimpath)", repoRoot)
	}
	// ...that runs as the image's user.
	uid, _ := strconv.Atoi(user[1])
	gid := uid
	if user[2] != "" {
		gid, _ = strconv.Atoi(user[2])
	}
	if !isRoot() {
		t.Skip("running as another user needs root")
	}
	out, err := deployRunAs(uid, gid, filepath.Dir(bin), bin, "version")
	if err != nil || !strings.Contains(out, "v0.0.0-test") {
		t.Errorf("%s version as %d:%d: %v\n%s", bin, uid, gid, err, out)
	}
}

var (
	imageBinOnce sync.Once
	imageBin     string
	imageBinErr  error
)

// deployImageBinary builds switchyard with the Dockerfile's build stage
// (deploy/docker/build.sh) once per run, into a directory the image's user
// can read: TestKubeDeployImage checks it, the pod tests run it.
func deployImageBinary(t testing.TB) string {
	t.Helper()
	imageBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "switchyard-image-")
		if err != nil {
			imageBinErr = err
			return
		}
		atExit(func() { os.RemoveAll(dir) })
		if err := os.Chmod(dir, 0o755); err != nil {
			imageBinErr = err
			return
		}
		bin := filepath.Join(dir, "switchyard")
		start := time.Now()
		cmd := exec.Command(filepath.Join(repoRoot, "deploy/docker/build.sh"), bin, "v0.0.0-test")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			imageBinErr = fmt.Errorf("deploy/docker/build.sh: %v\n%s", err, out)
			return
		}
		imageBin = bin
		fmt.Fprintf(os.Stderr, "integration: deploy/docker/build.sh built the image's binary in %v\n", time.Since(start).Round(time.Millisecond))
	})
	if imageBinErr != nil {
		t.Fatal(imageBinErr)
	}
	return imageBin
}

// deployRunAs runs bin as uid:gid with an empty environment but HOME.
func deployRunAs(uid, gid int, dir, bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=/nonexistent"}
	cmd.SysProcAttr = deployCredential(uid, gid)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// versionLess compares dotted numeric versions.
func deployVersionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// credential makes a started process run as uid:gid with no
// supplementary groups.
func deployCredential(uid, gid int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, Pdeathsig: syscall.SIGKILL}
}

// ---------------------------------------------------------------------------
// Running the manifests: a "pod" is the image's binary (built by the
// Dockerfile's build stage script) started the way the kubelet would start
// the Deployment's container, minus the container runtime: in a mount namespace of its own where /etc holds only what the
// image has (the CA bundle, passwd, group) plus the ConfigMap at
// /etc/switchyard/switchyard.yml, /var/run/secrets/kubernetes.io/serviceaccount
// holds the service account's token and CA (in-cluster authentication,
// KUBERNETES_SERVICE_HOST/PORT pointing at the API server), /tmp is an
// empty tmpfs (the emptyDir), the root filesystem is read-only, and the
// process runs as 65532:65532 with no capability and no_new_privs. Only the
// entry point addresses differ from the manifests' ConfigMap (loopback
// ports of the test run instead of :8000, :8443, :8080).

const deployPodScript = `set -eu
D="$1"; BIN="$2"
mount -t tmpfs -o mode=755 tmpfs /usr/local/bin
touch /usr/local/bin/switchyard
mount --bind "$BIN" /usr/local/bin/switchyard
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/secrets/kubernetes.io/serviceaccount
cp "$D/sa/token" "$D/sa/ca.crt" "$D/sa/namespace" /run/secrets/kubernetes.io/serviceaccount/
mount -o remount,ro /run
mount -t tmpfs -o mode=755 tmpfs /etc
mkdir -p /etc/ssl/certs /etc/switchyard
cp "$D/etc/ca-certificates.crt" /etc/ssl/certs/
cp "$D/etc/passwd" "$D/etc/group" /etc/
cp "$D/etc/switchyard.yml" /etc/switchyard/
mount -o remount,ro /etc
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -o remount,bind,ro /
exec setpriv --reuid=65532 --regid=65532 --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
  /usr/local/bin/switchyard --configFile=/etc/switchyard/switchyard.yml
`

// deployPod is one running replica with its entry point ports.
type deployPod struct {
	*Proc
	Name  string
	Ports map[string]int // entry point name -> loopback port
}

// URL is http://127.0.0.1:<port of entry point ep>.
func (p *deployPod) URL(ep string) string { return fmt.Sprintf("http://127.0.0.1:%d", p.Ports[ep]) }

// deployStartPod starts a replica named name (POD_NAME) in namespace
// switchyard with the static configuration cfg (the ConfigMap's), the
// bearer token as its service account token, and extra environment.
func deployStartPod(t testing.TB, k *kubeCluster, name, cfg, token string, env ...string) *deployPod {
	t.Helper()
	requireBinary(t)
	if !isRoot() {
		t.Skip("a pod's mount namespace needs root")
	}
	for _, tool := range []string{"unshare", "setpriv", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (util-linux)", tool)
		}
	}
	pod := &deployPod{Name: name, Ports: map[string]int{}}
	var m map[string]any
	if err := yaml.Unmarshal([]byte(cfg), &m); err != nil {
		t.Fatal(err)
	}
	eps, _ := m["entryPoints"].(map[string]any)
	for ep, v := range eps {
		pod.Ports[ep] = freePort(t)
		v.(map[string]any)["address"] = fmt.Sprintf("127.0.0.1:%d", pod.Ports[ep])
	}
	local, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	hostCA, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		hostCA = []byte{} // the file must exist; its content does not matter here
	}
	apiCA, err := os.ReadFile(k.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string][]byte{
		"sa/token": []byte(token), "sa/ca.crt": apiCA, "sa/namespace": []byte("switchyard"),
		"etc/ca-certificates.crt": hostCA, "etc/switchyard.yml": local,
		"etc/passwd": []byte("nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n"), "etc/group": []byte("nonroot:x:65532:\n"),
	} {
		f := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	host, port, _ := strings.Cut(strings.TrimPrefix(k.URL, "https://"), ":")
	p := &Proc{t: t, out: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", deployPodScript, "sh", dir, deployImageBinary(t))
	p.cmd.Dir = "/"
	// What the kubelet gives the container: the Deployment's variables
	// and the API server's address; nothing of the test run's.
	p.cmd.Env = append([]string{
		"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=/nonexistent",
		"KUBERNETES_SERVICE_HOST=" + host, "KUBERNETES_SERVICE_PORT=" + port,
		"POD_NAME=" + name, "POD_NAMESPACE=switchyard",
	}, env...)
	p.cmd.Stdout = p.out
	p.cmd.Stderr = io.MultiWriter(p.out, p.stderr)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start pod %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() || *verbose {
			t.Logf("---- output of pod %s ----\n%s---- end of output ----", name, p.Output())
		}
	})
	pod.Proc = p
	deployWait(t, 30*time.Second, "pod "+name+" answers /ping", func() bool {
		if p.Exited() {
			t.Fatalf("pod %s exited: %v\n%s", name, p.err, p.Output())
		}
		r, err := tryDo(request{url: pod.URL("traefik") + "/ping"})
		return err == nil && r.Status == 200
	})
	return pod
}

// deployWait polls cond every 100 ms until it holds or timeout passes.
func deployWait(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s never happened", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// deploySetup applies the plain manifests, gives the Service the address
// a cloud load balancer would, and returns the service account's token
// and the static configuration of the ConfigMap.
func deploySetup(t testing.TB, k *kubeCluster) (token, cfg string) {
	t.Helper()
	if !deployKnownProviders(t)["kubernetesIngress"] {
		t.Skip("the kubernetesIngress provider the manifests enable is not in this binary yet")
	}
	objs := deployManifestObjects(t)
	deployApply(t, k, "switchyard", objs)
	ctx := context.Background()
	svc, err := k.Client.CoreV1().Services("switchyard").Get(ctx, "switchyard", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.7"}}
	if _, err := k.Client.CoreV1().Services("switchyard").UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A lease left by an earlier test's replica would delay this one.
	_ = k.Client.CoordinationV1().Leases("switchyard").Delete(ctx, "switchyard-ingress", metav1.DeleteOptions{})
	tr, err := k.Client.CoreV1().ServiceAccounts("switchyard").CreateToken(ctx, "switchyard", &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptrTo(int64(3600))},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("service account token: %v", err)
	}
	return tr.Status.Token, deployStaticConfig(t, objs)
}

// deployForbidden returns the log lines that report a request refused by
// RBAC. Refusals to create content (Events) in a namespace being
// terminated are not RBAC: namespaces of earlier tests never finish
// terminating here (no controller-manager), and their objects remain.
func deployForbidden(log string) string {
	var bad []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(strings.ToLower(line), "forbidden") && !strings.Contains(line, "because it is being terminated") {
			bad = append(bad, line)
		}
	}
	return strings.Join(bad, "\n")
}

// deployIngress creates an Ingress of class switchyard: host -> service:80.
func deployIngress(t testing.TB, k *kubeCluster, ns, name, host, service string) {
	t.Helper()
	prefix := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptrTo("switchyard"),
			Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: service, Port: networkingv1.ServiceBackendPort{Number: 80}},
				}}},
			}}}},
		},
	}
	if _, err := k.Client.NetworkingV1().Ingresses(ns).Create(context.Background(), ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Later tests' controllers must not find it in the namespace that
	// never finishes terminating.
	t.Cleanup(func() {
		_ = k.Client.NetworkingV1().Ingresses(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// deployStatusIPs is the load-balancer status of an Ingress.
func deployStatusIPs(k *kubeCluster, ns, name string) string {
	ing, err := k.Client.NetworkingV1().Ingresses(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return "error: " + err.Error()
	}
	var ips []string
	for _, in := range ing.Status.LoadBalancer.Ingress {
		ips = append(ips, in.IP)
	}
	return strings.Join(ips, ",")
}

// deployLeaseHolder is the holder of the kubernetesIngress Lease.
func deployLeaseHolder(k *kubeCluster) string {
	l, err := k.Client.CoordinationV1().Leases("switchyard").Get(context.Background(), "switchyard-ingress", metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// deployRoutes reports whether a request for host through ep of pod gets
// body from the backend.
func deployRoutes(pod *deployPod, host, body string) bool {
	r, err := tryDo(request{url: pod.URL("web") + "/", host: host})
	return err == nil && r.Status == 200 && strings.Contains(r.Body, body)
}

// TestKubeDeployRBAC runs the plain manifests' configuration as a pod would
// (in-cluster service account, non-root, read-only root): the ClusterRole
// and the leader-election Role are enough to read, route, write Ingress
// status and Events and hold the Lease, with no "forbidden" in the log.
// A role missing one verb gets a log line that names the resource and the
// verb, and the process keeps running.
func TestKubeDeployRBAC(t *testing.T) {
	k := requireKube(t)
	kn := requireKubeNet(t)
	token, cfg := deploySetup(t, k)
	ns := k.Namespace(t)
	ip, port := kn.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "deploy-backend") }))
	k.ServiceWithEndpoints(t, ns, "web", "http", 80, int32(port), KubeEndpoint{IP: ip, Ready: true})
	deployIngress(t, k, ns, "app", "app.deploy.test", "web")
	deployIngress(t, k, ns, "broken", "broken.deploy.test", "missing")
	short := []string{"LEADER_ELECTION_LEASE_DURATION=3s", "LEADER_ELECTION_RENEW_DEADLINE=2s", "LEADER_ELECTION_RETRY_PERIOD=500ms"}

	t.Run("enough", func(t *testing.T) {
		start := time.Now()
		pod := deployStartPod(t, k, "switchyard-rbac", cfg, token, short...)
		deployWait(t, 30*time.Second, "traffic routed by the Ingress", func() bool { return deployRoutes(pod, "app.deploy.test", "deploy-backend") })
		t.Logf("routing %v after start", time.Since(start).Round(time.Millisecond))
		deployWait(t, 30*time.Second, "Ingress status from the published Service", func() bool { return deployStatusIPs(k, ns, "app") == "203.0.113.7" })
		deployWait(t, 30*time.Second, "Lease held", func() bool { return deployLeaseHolder(k) == "switchyard-rbac" })
		deployWait(t, 30*time.Second, "Warning Event on the broken Ingress", func() bool {
			evs, err := k.Client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.name=broken"})
			return err == nil && len(evs.Items) > 0
		})
		t.Logf("status, lease and event %v after start", time.Since(start).Round(time.Millisecond))
		if bad := deployForbidden(pod.Output()); bad != "" {
			t.Errorf("the manifests' RBAC is not enough: the log says forbidden:\n%s", bad)
		}

		// Graceful shutdown as the Deployment expects it: after SIGTERM
		// /ping answers 503 (the readiness probe takes the pod out of the
		// Service) while requests are still served for
		// requestAcceptGraceTimeout (5 s), then the process exits, well
		// within terminationGracePeriodSeconds (20 s).
		term := time.Now()
		pod.Signal(syscall.SIGTERM)
		deployWait(t, 4*time.Second, "/ping answers 503 after SIGTERM", func() bool {
			r, err := tryDo(request{url: pod.URL("traefik") + "/ping"})
			return err == nil && r.Status == 503
		})
		if !deployRoutes(pod, "app.deploy.test", "deploy-backend") {
			t.Error("a request during requestAcceptGraceTimeout was not served")
		}
		if code := pod.Wait(20 * time.Second); code != 0 {
			t.Errorf("exit code %d after SIGTERM", code)
		}
		t.Logf("exit %v after SIGTERM (requestAcceptGraceTimeout 5s, graceTimeOut 10s, terminationGracePeriodSeconds 20)", time.Since(term).Round(time.Millisecond))
		// The leader released its Lease on the way out: a successor in
		// a rollout takes over at once, not after the lease duration.
		if h := deployLeaseHolder(k); h != "" {
			t.Errorf("lease still names %q after a clean exit: not released", h)
		}
	})

	t.Run("missing-verb", func(t *testing.T) {
		// The manifests' ClusterRole without list on EndpointSlices,
		// bound to user switchyard (the harness's second token) with the
		// leader-election Role.
		ctx := context.Background()
		cr, err := k.Client.RbacV1().ClusterRoles().Get(ctx, "switchyard", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		trimmed := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "switchyard-trimmed-" + ns}}
		for _, r := range cr.Rules {
			if slices.Contains(r.Resources, "endpointslices") {
				r.Verbs = slices.DeleteFunc(slices.Clone(r.Verbs), func(v string) bool { return v == "list" })
			}
			trimmed.Rules = append(trimmed.Rules, r)
		}
		user := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: kubeSwitchyardUser}}
		if _, err := k.Client.RbacV1().ClusterRoles().Create(ctx, trimmed, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = k.Client.RbacV1().ClusterRoles().Delete(context.Background(), trimmed.Name, metav1.DeleteOptions{})
		})
		crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: trimmed.Name}, Subjects: user,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: trimmed.Name}}
		if _, err := k.Client.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = k.Client.RbacV1().ClusterRoleBindings().Delete(context.Background(), crb.Name, metav1.DeleteOptions{})
		})
		rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: trimmed.Name, Namespace: "switchyard"}, Subjects: user,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "switchyard-leader-election"}}
		if _, err := k.Client.RbacV1().RoleBindings("switchyard").Create(ctx, rb, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = k.Client.RbacV1().RoleBindings("switchyard").Delete(context.Background(), rb.Name, metav1.DeleteOptions{})
		})

		pod := deployStartPod(t, k, "switchyard-trimmed", cfg, kubeSwitchyardToken, short...)
		want := `cannot list resource \"endpointslices\" in API group \"discovery.k8s.io\"`
		deployWait(t, 30*time.Second, "a log line naming the forbidden list of endpointslices", func() bool {
			return strings.Contains(pod.Output(), want) || strings.Contains(pod.Output(), strings.ReplaceAll(want, `\"`, `"`))
		})
		for _, line := range strings.Split(pod.Output(), "\n") {
			if strings.Contains(line, "endpointslices") {
				t.Logf("log: %s", line)
				break
			}
		}
		// Still up, still answering its probes.
		time.Sleep(time.Second)
		if pod.Exited() {
			t.Fatalf("switchyard exited on a forbidden list: %v", pod.err)
		}
		if r, err := tryDo(request{url: pod.URL("traefik") + "/ping"}); err != nil || r.Status != 200 {
			t.Errorf("/ping after the forbidden list: %v %v", r.Status, err)
		}
	})
}

// TestKubeDeployLeaderElection runs two replicas of the manifests'
// configuration on one Lease, each publishing a different address
// (ingressEndpoint.ip) so the Ingress status shows who wrote it: only the
// leader writes; both route. Killed without releasing the Lease, the
// leader is replaced within the lease duration (3 s here, through
// LEADER_ELECTION_*), and the new leader rewrites the status.
func TestKubeDeployLeaderElection(t *testing.T) {
	k := requireKube(t)
	kn := requireKubeNet(t)
	token, cfg := deploySetup(t, k)
	ns := k.Namespace(t)
	ip, port := kn.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "leader-backend") }))
	k.ServiceWithEndpoints(t, ns, "web", "http", 80, int32(port), KubeEndpoint{IP: ip, Ready: true})
	deployIngress(t, k, ns, "app", "leader.deploy.test", "web")

	withIP := func(addr string) string {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(cfg), &m); err != nil {
			t.Fatal(err)
		}
		m["providers"].(map[string]any)["kubernetesIngress"].(map[string]any)["ingressEndpoint"] = map[string]any{"ip": addr}
		out, err := yaml.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	const lease = 3 * time.Second
	env := []string{"LEADER_ELECTION_LEASE_DURATION=" + lease.String(), "LEADER_ELECTION_RENEW_DEADLINE=2s", "LEADER_ELECTION_RETRY_PERIOD=500ms"}

	a := deployStartPod(t, k, "switchyard-a", withIP("203.0.113.1"), token, env...)
	deployWait(t, 30*time.Second, "switchyard-a holds the Lease", func() bool { return deployLeaseHolder(k) == "switchyard-a" })
	deployWait(t, 30*time.Second, "status written by switchyard-a", func() bool { return deployStatusIPs(k, ns, "app") == "203.0.113.1" })
	b := deployStartPod(t, k, "switchyard-b", withIP("203.0.113.2"), token, env...)
	for _, p := range []*deployPod{a, b} {
		deployWait(t, 30*time.Second, p.Name+" routes", func() bool { return deployRoutes(p, "leader.deploy.test", "leader-backend") })
	}
	// Over a lease duration the follower never writes. The status is
	// watched, so a write that a later one undid is seen too.
	w, err := k.Client.NetworkingV1().Ingresses(ns).Watch(context.Background(), metav1.ListOptions{FieldSelector: "metadata.name=app"})
	if err != nil {
		t.Fatal(err)
	}
	timer := time.NewTimer(lease + time.Second)
observe:
	for {
		select {
		case ev := <-w.ResultChan():
			if ing, ok := ev.Object.(*networkingv1.Ingress); ok {
				for _, in := range ing.Status.LoadBalancer.Ingress {
					if in.IP != "203.0.113.1" {
						t.Errorf("status %s written while switchyard-a leads", in.IP)
					}
				}
			}
		case <-timer.C:
			break observe
		}
	}
	w.Stop()
	if h := deployLeaseHolder(k); h != "switchyard-a" {
		t.Fatalf("lease holder %q while switchyard-a runs", h)
	}
	if strings.Contains(b.Output(), "leading: this replica writes status") {
		t.Error("switchyard-b says it leads while switchyard-a holds the Lease")
	}

	// The leader dies without releasing the Lease.
	killed := time.Now()
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	deployWait(t, lease+30*time.Second, "switchyard-b takes the Lease", func() bool { return deployLeaseHolder(k) == "switchyard-b" })
	handover := time.Since(killed)
	deployWait(t, 30*time.Second, "status rewritten by switchyard-b", func() bool { return deployStatusIPs(k, ns, "app") == "203.0.113.2" })
	t.Logf("handover %v after the leader was killed (lease %v, retry 500ms); status rewritten %v after", handover.Round(time.Millisecond), lease, time.Since(killed).Round(time.Millisecond))
	// A loaded 2-core machine may be late by a few retry periods; a
	// handover that waits for anything but the lease (a second lease, a
	// restart) would take far longer.
	if handover > lease+5*time.Second {
		t.Errorf("handover took %v, want about the lease duration %v", handover, lease)
	}
	if !deployRoutes(b, "leader.deploy.test", "leader-backend") {
		t.Error("switchyard-b stopped routing")
	}
	if bad := deployForbidden(a.Output() + b.Output()); bad != "" {
		t.Errorf("forbidden in the replicas' logs:\n%s", bad)
	}
	_ = b.cmd.Process.Kill()
}

// TestKubeDeployAllProviders renders the chart with every Kubernetes
// provider enabled and namespaced RBAC (Roles in the watched namespace, a
// small ClusterRole for cluster-scoped reads), applies it, and runs it as
// a pod: an Ingress, an ingress-nginx Ingress, an IngressRoute and an
// HTTPRoute are all served, the status of each kind is written, and no
// request of the four providers is forbidden.
func TestKubeDeployAllProviders(t *testing.T) {
	k := requireKube(t)
	kn := requireKubeNet(t)
	known := deployKnownProviders(t)
	for _, p := range []string{"kubernetesIngress", "kubernetesIngressNGINX", "kubernetesCRD", "kubernetesGateway"} {
		if !known[p] {
			t.Skipf("provider %s is not in this binary yet", p)
		}
	}
	requireCRDs(t, k)
	requireGatewayAPI(t, k)
	ns := k.Namespace(t)
	release := "switchyard-all"
	out, err := deployHelmTemplate(t, release, "switchyard",
		"providers.kubernetesIngressNGINX.enabled=true", "providers.kubernetesIngressNGINX.createIngressClass=true",
		"providers.kubernetesIngressNGINX.options.ingressClass=nginx-"+ns,
		"providers.kubernetesCRD.enabled=true",
		"providers.kubernetesGateway.enabled=true", "providers.kubernetesGateway.gatewayClass.name="+ns,
		"ingressClass.name="+ns, "rbac.namespaced=true", "watchNamespaces={"+ns+"}")
	if err != nil {
		t.Fatal(err)
	}
	objs := deployParse(t, out)
	deployNamespace(t, k, "switchyard")
	deployApply(t, k, "switchyard", objs)
	ctx := context.Background()
	svc, err := k.Client.CoreV1().Services("switchyard").Get(ctx, release, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.9"}}
	if _, err := k.Client.CoreV1().Services("switchyard").UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"switchyard-ingress", "switchyard-ingress-nginx", "switchyard-gateway"} {
		_ = k.Client.CoordinationV1().Leases("switchyard").Delete(ctx, l, metav1.DeleteOptions{})
	}
	tr, err := k.Client.CoreV1().ServiceAccounts("switchyard").CreateToken(ctx, release, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptrTo(int64(3600))},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	ip, port := kn.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "all-backend") }))
	k.ServiceWithEndpoints(t, ns, "web", "http", 80, int32(port), KubeEndpoint{IP: ip, Ready: true})
	deployIngress(t, k, ns, "ing", "ing.deploy.test", "web")
	nginx := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "nginx", Namespace: ns}, Spec: networkingv1.IngressSpec{
		IngressClassName: ptrTo("nginx-" + ns),
		Rules: []networkingv1.IngressRule{{Host: "nginx.deploy.test", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: ptrTo(networkingv1.PathTypePrefix), Backend: networkingv1.IngressBackend{
				Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}},
			}}},
		}}}},
	}}
	if _, err := k.Client.NetworkingV1().Ingresses(ns).Create(ctx, nginx, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = k.Client.NetworkingV1().Ingresses(ns).Delete(context.Background(), "nginx", metav1.DeleteOptions{})
	})
	// deployIngress names class "switchyard": this release's is ns.
	ing, _ := k.Client.NetworkingV1().Ingresses(ns).Get(ctx, "ing", metav1.GetOptions{})
	ing.Spec.IngressClassName = ptrTo(ns)
	if _, err := k.Client.NetworkingV1().Ingresses(ns).Update(ctx, ing, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	deployApply(t, k, ns, deployParse(t, `
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: ir}
spec:
  entryPoints: [web]
  routes:
    - match: Host(`+"`crd.deploy.test`"+`)
      kind: Rule
      services: [{name: web, port: 80}]
`))

	env := []string{"LEADER_ELECTION_LEASE_DURATION=3s", "LEADER_ELECTION_RENEW_DEADLINE=2s", "LEADER_ELECTION_RETRY_PERIOD=500ms"}
	pod := deployStartPod(t, k, "switchyard-all-0", deployStaticConfig(t, objs), tr.Status.Token, env...)
	// Gateway listeners bind to the entry point of their port: the pod's.
	deployApply(t, k, ns, deployParse(t, fmt.Sprintf(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: %s
  listeners:
    - {name: http, protocol: HTTP, port: %d}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: hr}
spec:
  parentRefs: [{name: gw}]
  hostnames: [gw.deploy.test]
  rules:
    - backendRefs: [{name: web, port: 80}]
`, ns, pod.Ports["web"])))

	for _, host := range []string{"ing.deploy.test", "nginx.deploy.test", "crd.deploy.test", "gw.deploy.test"} {
		deployWait(t, 30*time.Second, host+" served", func() bool { return deployRoutes(pod, host, "all-backend") })
	}
	for _, name := range []string{"ing", "nginx"} {
		deployWait(t, 30*time.Second, "status of Ingress "+name, func() bool { return deployStatusIPs(k, ns, name) == "203.0.113.9" })
	}
	dyn, err := dynamic.NewForConfig(k.Config)
	if err != nil {
		t.Fatal(err)
	}
	gwRes := dyn.Resource(schemaGVR("gateway.networking.k8s.io", "v1", "gateways")).Namespace(ns)
	deployWait(t, 30*time.Second, "Gateway status with the Service's address and Programmed", func() bool {
		gw, err := gwRes.Get(ctx, "gw", metav1.GetOptions{})
		if err != nil {
			return false
		}
		addrs, _, _ := unstructured.NestedSlice(gw.Object, "status", "addresses")
		conds, _, _ := unstructured.NestedSlice(gw.Object, "status", "conditions")
		programmed := false
		for _, c := range conds {
			if m, ok := c.(map[string]any); ok && m["type"] == "Programmed" && m["status"] == "True" {
				programmed = true
			}
		}
		return programmed && len(addrs) == 1 && addrs[0].(map[string]any)["value"] == "203.0.113.9"
	})
	if bad := deployForbidden(pod.Output()); bad != "" {
		t.Errorf("the chart's RBAC is not enough for the four providers: the log says forbidden:\n%s", bad)
	}
	_ = pod.cmd.Process.Kill()
}

func schemaGVR(group, version, resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: group, Version: version, Resource: resource}
}
