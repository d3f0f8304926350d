package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// TestKubeCRDCrossNamespaceAndInvalid: a reference into another namespace
// is refused while allowCrossNamespace is false (the router is shown
// disabled with the reason, logged, and a Warning Event is written on the
// IngressRoute) and served once it is true; an object the generated schema
// refuses never reaches the provider; an invalid Middleware (its Secret is
// missing) disables only the router that uses it; the others serve.
func TestKubeCRDCrossNamespaceAndInvalid(t *testing.T) {
	k := requireKube(t)
	kn := requireKubeNet(t)
	requireCRDs(t, k)
	ns1, ns2 := k.Namespace(t), k.Namespace(t)
	ip, port := kn.ServeHTTP(t, echoPod("other-ns-pod"))
	k.ServiceWithEndpoints(t, ns2, "shared", "http", 80, int32(port), KubeEndpoint{IP: ip, Ready: true})
	ipL, portL := kn.ServeHTTP(t, echoPod("local-pod"))
	k.ServiceWithEndpoints(t, ns1, "local", "http", 80, int32(portL), KubeEndpoint{IP: ipL, Ready: true})
	mustApply(t, k, ns2, `
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata:
  name: prefix
spec:
  addPrefix:
    prefix: /added
`)

	t.Run("schema refuses", func(t *testing.T) {
		err := crdApply(k, ns1, `
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: no-routes
spec:
  entryPoints: [web]
`)
		if err == nil || !strings.Contains(err.Error(), "routes") {
			t.Fatalf("an IngressRoute without routes: %v (the schema requires routes)", err)
		}
		err = crdApply(k, ns1, `
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: bad-kind
spec:
  routes:
  - match: Host(`+"`x`"+`)
    services:
    - name: local
      kind: Pod
`)
		if err == nil || !strings.Contains(err.Error(), "Unsupported value") {
			t.Fatalf("a service of kind Pod: %v (the schema enumerates Service, TraefikService)", err)
		}
	})

	mustApply(t, k, ns1, `
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: cross
spec:
  entryPoints: [web]
  routes:
  - match: Host(`+"`cross.example.com`"+`)
    middlewares:
    - name: prefix
      namespace: `+ns2+`
    services:
    - name: shared
      namespace: `+ns2+`
      port: 80
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata:
  name: broken-auth
spec:
  basicAuth:
    secret: does-not-exist
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: local
spec:
  entryPoints: [web]
  routes:
  - match: Host(`+"`local.example.com`"+`)
    services:
    - name: local
      port: 80
  - match: Host(`+"`locked.example.com`"+`)
    middlewares:
    - name: broken-auth
    services:
    - name: local
      port: 80
`)
	// Traefik fields Switchyard cannot honour: kept by the schema (not
	// pruned: the provider sees them) and refused by name.
	mustApply(t, k, ns1, `
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata:
  name: hrw
spec:
  highestRandomWeight:
    services:
    - {name: local, port: 80, weight: 10}
---
apiVersion: traefik.io/v1alpha1
kind: ServersTransport
metadata:
  name: spiffe
spec:
  spiffe: {ids: ["spiffe://example.org/app"]}
`)
	dc, err := dynamic.NewForConfig(k.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ res, name, field string }{{"traefikservices", "hrw", "highestRandomWeight"}, {"serverstransports", "spiffe", "spiffe"}} {
		u, err := dc.Resource(schema.GroupVersionResource{Group: "traefik.io", Version: "v1alpha1", Resource: c.res}).Namespace(ns1).Get(context.Background(), c.name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", c.field); !ok {
			t.Fatalf("%s/%s: spec.%s pruned by the API server: %v", c.res, c.name, c.field, u.Object["spec"])
		}
	}
	cross := ns1 + "-cross-" + routeHash("Host(`cross.example.com`)") + "@kubernetescrd"
	local := ns1 + "-local-" + routeHash("Host(`local.example.com`)") + "@kubernetescrd"
	locked := ns1 + "-local-" + routeHash("Host(`locked.example.com`)") + "@kubernetescrd"
	static := func(allow bool) string {
		s := "    namespaces: [" + ns1 + ", " + ns2 + "]\n"
		if allow {
			s += "    allowCrossNamespace: true\n"
		}
		return s
	}

	t.Run("refused without allowCrossNamespace", func(t *testing.T) {
		e := newEnv(t)
		e.WriteStatic("yml", crdStatic(k, static(false)))
		e.Start()
		rd := e.waitCRDRouters(cross, local, locked)
		r := rd.Routers[cross]
		if r.Status != "disabled" || len(r.Error) == 0 || !strings.Contains(r.Error[0], "cross-namespace reference refused") {
			t.Fatalf("cross-namespace router in the API: %+v", r)
		}
		if r := rd.Routers[locked]; r.Status == "enabled" || len(r.Error) == 0 {
			t.Fatalf("router whose middleware is invalid: %+v", r)
		}
		if m := rd.Middlewares[ns1+"-broken-auth@kubernetescrd"]; m.Status != "disabled" || len(m.Error) == 0 || !strings.Contains(m.Error[0], "does-not-exist") {
			t.Fatalf("invalid middleware in the API: %+v", m)
		}
		e.waitStatus(request{url: e.URL("web") + "/", host: "local.example.com"}, http.StatusOK)
		if rep := do(t, request{url: e.URL("web") + "/", host: "cross.example.com"}); rep.Status != http.StatusNotFound {
			t.Fatalf("cross-namespace route answered %d", rep.Status)
		}
		if rep := do(t, request{url: e.URL("web") + "/", host: "locked.example.com"}); rep.Status == http.StatusOK {
			t.Fatalf("route with an invalid middleware answered %d", rep.Status)
		}
		if !strings.Contains(e.Proc.Output(), "cross-namespace reference refused") {
			t.Fatal("the refusal is not in the log")
		}
		for _, want := range []string{"highestRandomWeight is not supported", "spiffe is not supported"} {
			if !strings.Contains(e.Proc.Output(), want) {
				t.Fatalf("%q is not in the log", want)
			}
		}
		if s, ok := rd.Services[ns1+"-hrw@kubernetescrd"]; !ok || len(s.Error) == 0 || !strings.Contains(s.Error[0], "highestRandomWeight") {
			t.Fatalf("the refused TraefikService in the API: %+v", s)
		}
		e.waitFor(30*time.Second, "a Warning Event on the IngressRoute", func() bool {
			evs, err := k.Client.EventsV1().Events(ns1).List(context.Background(), metav1.ListOptions{})
			if err != nil {
				return false
			}
			for _, ev := range evs.Items {
				if ev.Regarding.Kind == "IngressRoute" && ev.Regarding.Name == "cross" && ev.Type == "Warning" && strings.Contains(ev.Note, "cross-namespace") {
					return true
				}
			}
			return false
		})
	})
	t.Run("served with allowCrossNamespace", func(t *testing.T) {
		e := newEnv(t)
		e.WriteStatic("yml", crdStatic(k, static(true)))
		e.Start()
		e.waitCRDRouters(cross)
		rep := e.waitStatus(request{url: e.URL("web") + "/x", host: "cross.example.com"}, http.StatusOK)
		if echo := parseEcho(t, rep.Body); echo.Name != "other-ns-pod" || echo.Path != "/added/x" {
			t.Fatalf("cross-namespace route reached %+v", echo)
		}
	})
}
