package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiext "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	gatev1 "sigs.k8s.io/gateway-api/apis/v1"
	gateclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
)

// The Gateway API CRDs the repository ships (deploy/gateway-api), installed
// once per run into the shared API server with the apiextensions clientset.

var (
	gwCRDOnce sync.Once
	gwCRDErr  error
	gwClient  *gateclient.Clientset
)

func requireGatewayAPI(t testing.TB, k *kubeCluster) *gateclient.Clientset {
	t.Helper()
	gwCRDOnce.Do(func() { gwClient, gwCRDErr = installGatewayCRDs(k) })
	if gwCRDErr != nil {
		t.Fatalf("Gateway API CRDs: %v", gwCRDErr)
	}
	return gwClient
}

func installGatewayCRDs(k *kubeCluster) (*gateclient.Clientset, error) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "gateway-api", "standard-install.yaml"))
	if err != nil {
		return nil, err
	}
	ext, err := apiext.NewForConfig(k.Config)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	var names []string
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		var crd apiextv1.CustomResourceDefinition
		if err := yaml.Unmarshal(doc, &crd); err != nil {
			return nil, err
		}
		if crd.Kind != "CustomResourceDefinition" {
			continue
		}
		if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, err
		}
		names = append(names, crd.Name)
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, n := range names {
		for {
			c, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, n, metav1.GetOptions{})
			if err == nil && crdEstablished(c) {
				break
			}
			if time.Now().After(deadline) {
				return nil, err
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return gateclient.NewForConfig(k.Config)
}

// gwEcho serves, in the test network namespace, a backend answering JSON
// with its name and what it received.
func gwEcho(t testing.TB, kn *kubeNet, name string) (string, int) {
	t.Helper()
	return kn.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Backend", name)
		json.NewEncoder(w).Encode(gwEchoReply{Name: name, Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Method: r.Method, Headers: r.Header})
	}))
}

type gwEchoReply struct {
	Name     string              `json:"name"`
	Host     string              `json:"host"`
	Path     string              `json:"path"`
	RawQuery string              `json:"rawQuery"`
	Method   string              `json:"method"`
	Headers  map[string][]string `json:"headers"`
}

func gwParseEcho(t testing.TB, body string) gwEchoReply {
	t.Helper()
	var e gwEchoReply
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("backend reply %q: %v", body, err)
	}
	return e
}

// gwSetup is a GatewayClass of this test only (selected by label, so
// parallel tests' switchyards never see each other's) and the static
// provider block that watches the test namespace.
type gwSetup struct {
	k     *kubeCluster
	gw    *gateclient.Clientset
	ns    string
	class string
}

func newGatewaySetup(t testing.TB) *gwSetup {
	t.Helper()
	k := requireKube(t)
	gc := requireGatewayAPI(t, k)
	ns := k.Namespace(t)
	s := &gwSetup{k: k, gw: gc, ns: ns, class: "sy-" + ns}
	_, err := gc.GatewayV1().GatewayClasses().Create(context.Background(), &gatev1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: s.class, Labels: map[string]string{"switchyard-test": ns}},
		Spec:       gatev1.GatewayClassSpec{ControllerName: "traefik.io/gateway-controller"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = gc.GatewayV1().GatewayClasses().Delete(context.Background(), s.class, metav1.DeleteOptions{})
	})
	return s
}

// ProviderYAML is the providers.kubernetesGateway block.
func (s *gwSetup) ProviderYAML() string {
	return "  kubernetesGateway:\n" + s.k.ProviderYAML("    ") +
		"    namespaces: [\"" + s.ns + "\"]\n" +
		"    labelSelector: \"switchyard-test=" + s.ns + "\"\n" +
		"    statusAddress:\n      ip: \"127.0.0.1\"\n"
}

// waitCond polls get until the condition typ has status want (and
// observedGeneration gen when gen > 0), failing after 30 s.
func gwWaitCond(t testing.TB, what string, get func() ([]metav1.Condition, int64, error), typ string, want metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last []metav1.Condition
	var lastErr error
	for {
		conds, gen, err := get()
		lastErr = err
		if err == nil {
			last = conds
			if c := meta.FindStatusCondition(conds, typ); c != nil && c.Status == want && (reason == "" || c.Reason == reason) && (gen == 0 || c.ObservedGeneration == gen) {
				return *c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: condition %s=%s (%s) not reached; last conditions %+v, error %v", what, typ, want, reason, last, lastErr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *gwSetup) routeParentConds(kind, name string) func() ([]metav1.Condition, int64, error) {
	return func() ([]metav1.Condition, int64, error) {
		ctx := context.Background()
		var parents []gatev1.RouteParentStatus
		var gen int64
		switch kind {
		case "HTTPRoute":
			r, err := s.gw.GatewayV1().HTTPRoutes(s.ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return nil, 0, err
			}
			parents, gen = r.Status.Parents, r.Generation
		case "GRPCRoute":
			r, err := s.gw.GatewayV1().GRPCRoutes(s.ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return nil, 0, err
			}
			parents, gen = r.Status.Parents, r.Generation
		case "TLSRoute":
			r, err := s.gw.GatewayV1().TLSRoutes(s.ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return nil, 0, err
			}
			parents, gen = r.Status.Parents, r.Generation
		case "TCPRoute":
			r, err := s.gw.GatewayV1().TCPRoutes(s.ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return nil, 0, err
			}
			parents, gen = r.Status.Parents, r.Generation
		}
		for _, p := range parents {
			if p.ControllerName == "traefik.io/gateway-controller" {
				return p.Conditions, gen, nil
			}
		}
		return nil, gen, nil
	}
}

func (s *gwSetup) gatewayConds(name string) func() ([]metav1.Condition, int64, error) {
	return func() ([]metav1.Condition, int64, error) {
		g, err := s.gw.GatewayV1().Gateways(s.ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return nil, 0, err
		}
		return g.Status.Conditions, g.Generation, nil
	}
}

func (s *gwSetup) listenerConds(gw, listener string) func() ([]metav1.Condition, int64, error) {
	return func() ([]metav1.Condition, int64, error) {
		g, err := s.gw.GatewayV1().Gateways(s.ns).Get(context.Background(), gw, metav1.GetOptions{})
		if err != nil {
			return nil, 0, err
		}
		for _, l := range g.Status.Listeners {
			if string(l.Name) == listener {
				return l.Conditions, g.Generation, nil
			}
		}
		return nil, g.Generation, nil
	}
}

// waitHTTP polls r until check accepts the reply (30 s).
func gwWaitHTTP(t testing.TB, r request, what string, check func(Reply) bool) Reply {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last Reply
	var lastErr error
	for {
		rep, err := tryDo(r)
		if err == nil && check(rep) {
			return rep
		}
		last, lastErr = rep, err
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s %s (Host %q): last reply %d %q, error %v", what, r.method, r.url, r.host, last.Status, strings.TrimSpace(last.Body), lastErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func gwPtr[T any](v T) *T { return &v }
