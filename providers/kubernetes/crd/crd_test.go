package crd

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/crd/api/v1alpha1"
)

func TestInit(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  static.KubernetesCRDProvider
		want string
	}{
		{"defaults", static.KubernetesCRDProvider{}, ""},
		{"all options", static.KubernetesCRDProvider{
			Endpoint: "https://10.0.0.1:6443", Namespaces: []string{"a", "b"}, LabelSelector: "app in (x, y),!legacy",
			IngressClass: "internal", ThrottleDuration: ptypes.Duration(time.Second), AllowCrossNamespace: true,
			AllowExternalNameServices: true, AllowEmptyServices: true, NativeLBByDefault: true, DisableClusterScopeResources: true,
		}, ""},
		{"bad selector", static.KubernetesCRDProvider{LabelSelector: "app in ("}, "labelSelector"},
		{"negative throttle", static.KubernetesCRDProvider{ThrottleDuration: ptypes.Duration(-time.Second)}, "throttleDuration"},
		{"empty namespace", static.KubernetesCRDProvider{Namespaces: []string{"a", ""}}, "namespaces"},
		{"endpoint without scheme", static.KubernetesCRDProvider{Endpoint: "10.0.0.1:6443"}, "endpoint"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := New(tt.cfg).Init()
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Init: %v (want an error naming %q)", err, tt.want)
			}
		})
	}
}

func TestCollectReportsUndecodable(t *testing.T) {
	good := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "traefik.io/v1alpha1", "kind": "IngressRoute",
		"metadata": map[string]any{"name": "b", "namespace": "ns"},
		"spec":     map[string]any{"routes": []any{map[string]any{"match": "Host(`a`)"}}},
	}}
	good2 := good.DeepCopy()
	good2.SetName("a")
	bad := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "traefik.io/v1alpha1", "kind": "IngressRoute",
		"metadata": map[string]any{"name": "bad", "namespace": "ns"},
		"spec":     map[string]any{"routes": "not a list"},
	}}
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	for _, o := range []*unstructured.Unstructured{good, bad, good2} {
		if err := idx.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	w := &watch{crds: map[string]cache.GenericLister{}}
	for _, k := range kinds {
		w.crds[k] = cache.NewGenericLister(cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{}), GVR(k).GroupResource())
	}
	w.crds[v1alpha1.KindIngressRoute] = cache.NewGenericLister(idx, GVR(v1alpha1.KindIngressRoute).GroupResource())
	objs, probs := collect(map[string]*watch{"": w})
	if len(objs.IngressRoutes) != 2 || objs.IngressRoutes[0].Name != "a" || objs.IngressRoutes[1].Name != "b" {
		t.Fatalf("decoded, in order: %+v", objs.IngressRoutes)
	}
	if len(probs) != 1 || probs[0].Name != "bad" || probs[0].Kind != v1alpha1.KindIngressRoute {
		t.Fatalf("problems %+v", probs)
	}
}
