package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	sigsyaml "sigs.k8s.io/yaml"
)

// The kubernetesCRD provider's tests apply the CRDs generated into
// deploy/crds/ (the API server's validation of the generated schemas is
// part of what they prove), then objects written as YAML, as a user would.

var (
	crdsOnce sync.Once
	crdsErr  error
)

// requireCRDs applies deploy/crds/all/crds.yaml with the apiextensions
// clientset once per run and waits until every CRD is Established.
func requireCRDs(t testing.TB, k *kubeCluster) {
	t.Helper()
	crdsOnce.Do(func() { crdsErr = applyCRDs(k) })
	if crdsErr != nil {
		t.Fatalf("apply CRDs: %v", crdsErr)
	}
}

func applyCRDs(k *kubeCluster) error {
	data, err := os.ReadFile(filepath.Join("..", "deploy", "crds", "all", "crds.yaml"))
	if err != nil {
		return err
	}
	cs, err := apiextensionsclient.NewForConfig(k.Config)
	if err != nil {
		return err
	}
	ctx := context.Background()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var names []string
	for {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := dec.Decode(&crd); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return err
		}
		if crd.Name == "" {
			continue
		}
		names = append(names, crd.Name)
		cur, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = cs.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &crd, metav1.CreateOptions{})
		case err == nil:
			crd.ResourceVersion = cur.ResourceVersion
			_, err = cs.ApiextensionsV1().CustomResourceDefinitions().Update(ctx, &crd, metav1.UpdateOptions{})
		}
		if err != nil {
			return fmt.Errorf("CRD %s: %w", crd.Name, err)
		}
	}
	if len(names) != 10 {
		return fmt.Errorf("%d CRDs in deploy/crds/all/crds.yaml, 10 expected", len(names))
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range names {
		for {
			c, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, n, metav1.GetOptions{})
			if err == nil && crdEstablished(c) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s not established after 30s (%v)", n, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

func crdEstablished(c *apiextensionsv1.CustomResourceDefinition) bool {
	for _, cond := range c.Status.Conditions {
		if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
			return true
		}
	}
	return false
}

var traefikResources = map[string]string{
	"IngressRoute": "ingressroutes", "IngressRouteTCP": "ingressroutetcps", "IngressRouteUDP": "ingressrouteudps",
	"Middleware": "middlewares", "MiddlewareTCP": "middlewaretcps", "TraefikService": "traefikservices",
	"TLSOption": "tlsoptions", "TLSStore": "tlsstores", "ServersTransport": "serverstransports",
	"ServersTransportTCP": "serverstransporttcps",
}

// crdApply creates or replaces the objects of a multi-document YAML in
// namespace ns (traefik.io kinds through the dynamic client, Secrets and
// other core kinds too). It returns the API server's error, if any, so a
// test can check that an invalid object is refused by the schema.
func crdApply(k *kubeCluster, ns, text string) error {
	dc, err := dynamic.NewForConfig(k.Config)
	if err != nil {
		return err
	}
	ctx := context.Background()
	for _, doc := range strings.Split(text, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var obj map[string]any
		if err := sigsyaml.Unmarshal([]byte(doc), &obj); err != nil {
			return fmt.Errorf("yaml: %w\n%s", err, doc)
		}
		u := &unstructured.Unstructured{Object: obj}
		u.SetNamespace(ns)
		gv, err := schema.ParseGroupVersion(u.GetAPIVersion())
		if err != nil {
			return err
		}
		res, ok := traefikResources[u.GetKind()]
		if gv.Group != "traefik.io" {
			res, ok = strings.ToLower(u.GetKind())+"s", true
		}
		if !ok {
			return fmt.Errorf("unknown kind %s", u.GetKind())
		}
		ri := dc.Resource(gv.WithResource(res)).Namespace(ns)
		cur, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = ri.Create(ctx, u, metav1.CreateOptions{})
		case err == nil:
			u.SetResourceVersion(cur.GetResourceVersion())
			_, err = ri.Update(ctx, u, metav1.UpdateOptions{})
		}
		if err != nil {
			return fmt.Errorf("%s %s/%s: %w", u.GetKind(), ns, u.GetName(), err)
		}
	}
	return nil
}

// mustApply is crdApply failing the test. The test's traefik.io objects
// and Secrets are deleted when it ends: namespaces never finish
// terminating here, and a later test's switchyard watching every namespace
// must not find them.
func mustApply(t testing.TB, k *kubeCluster, ns, text string) {
	t.Helper()
	t.Cleanup(func() { crdCleanup(k, ns) })
	if err := crdApply(k, ns, text); err != nil {
		t.Fatal(err)
	}
}

// crdCleanup deletes every traefik.io object and Secret of namespace ns.
func crdCleanup(k *kubeCluster, ns string) {
	dc, err := dynamic.NewForConfig(k.Config)
	if err != nil {
		return
	}
	ctx := context.Background()
	for _, res := range traefikResources {
		gvr := schema.GroupVersionResource{Group: "traefik.io", Version: "v1alpha1", Resource: res}
		_ = dc.Resource(gvr).Namespace(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	}
	_ = k.Client.CoreV1().Secrets(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
}

// crdDelete deletes one traefik.io object.
func crdDelete(t testing.TB, k *kubeCluster, ns, kind, name string) {
	t.Helper()
	dc, err := dynamic.NewForConfig(k.Config)
	if err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "traefik.io", Version: "v1alpha1", Resource: traefikResources[kind]}
	if err := dc.Resource(gvr).Namespace(ns).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// crdStatic is a static configuration with web and API entrypoints and a
// kubernetesCRD provider block (connection lines added).
func crdStatic(k *kubeCluster, extra string) string {
	return `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
log:
  level: DEBUG
providers:
  providersThrottleDuration: 10ms
  kubernetesCRD:
` + k.ProviderYAML("    ") + extra
}

// echoPod is a backend answering JSON: its name, the path and headers.
func echoPod(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"name": name, "path": r.URL.Path, "host": r.Host, "headers": r.Header})
	})
}

// echoReply decodes an echoPod answer.
type echoReply struct {
	Name    string              `json:"name"`
	Path    string              `json:"path"`
	Host    string              `json:"host"`
	Headers map[string][]string `json:"headers"`
}

func parseEcho(t testing.TB, body string) echoReply {
	t.Helper()
	var e echoReply
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("not an echo answer: %q", body)
	}
	return e
}

// waitStatus polls a request until it answers want (30 s bound).
func (e *Env) waitStatus(r request, want int) Reply {
	e.t.Helper()
	var last Reply
	var lastErr error
	defer func() {
		if e.t.Failed() {
			e.t.Logf("last answer: %d %q %v", last.Status, last.Body, lastErr)
		}
	}()
	e.waitFor(30*time.Second, fmt.Sprintf("%s (Host %s) answers %d", r.url, r.host, want), func() bool {
		last, lastErr = tryDo(r)
		return lastErr == nil && last.Status == want
	})
	return last
}

// routeHash is the 20 hex digits (10 bytes) Traefik puts in an IngressRoute's router
// names: sha256 of the route's match.
func routeHash(match string) string {
	sum := sha256.Sum256([]byte(match))
	return hex.EncodeToString(sum[:10])
}

func basicAuthHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// waitCRDRouters waits (30 s: the informers sync first) until every named
// router is in /api/rawdata.
func (e *Env) waitCRDRouters(names ...string) *Rawdata {
	e.t.Helper()
	return e.WaitAPI(30*time.Second, fmt.Sprintf("routers %v in /api/rawdata", names), func(rd *Rawdata) bool {
		for _, n := range names {
			if _, ok := rd.Routers[n]; !ok {
				return false
			}
		}
		return true
	})
}
