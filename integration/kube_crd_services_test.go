package integration

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestKubeCRDTraefikService: TraefikServices through the real API server
// and the binary: weighted (a 3:1 split measured over 200 requests),
// nested (a TraefikService referencing another one and a Service),
// mirroring (every request copied to a mirror Service), and a route with
// two weighted Services inline.
func TestKubeCRDTraefikService(t *testing.T) {
	k := requireKube(t)
	kn := requireKubeNet(t)
	requireCRDs(t, k)
	ns := k.Namespace(t)
	for _, n := range []string{"a", "b"} {
		ip, port := kn.ServeHTTP(t, echoPod("pod-"+n))
		k.ServiceWithEndpoints(t, ns, "svc-"+n, "http", 80, int32(port), KubeEndpoint{IP: ip, Ready: true})
	}
	var mirrored atomic.Int64
	ipm, portm := kn.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mirrored.Add(1)
		w.WriteHeader(http.StatusTeapot)
	}))
	k.ServiceWithEndpoints(t, ns, "svc-mirror", "http", 8080, int32(portm), KubeEndpoint{IP: ipm, Ready: true})
	mustApply(t, k, ns, `
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata:
  name: split
spec:
  weighted:
    services:
    - name: svc-a
      port: 80
      weight: 3
    - name: svc-b
      port: 80
      weight: 1
---
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata:
  name: nested
spec:
  weighted:
    services:
    - name: split
      kind: TraefikService
      weight: 1
    - name: svc-b
      port: 80
      weight: 1
---
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata:
  name: mirror
spec:
  mirroring:
    name: svc-a
    port: 80
    mirrors:
    - name: svc-mirror
      port: 8080
      percent: 100
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: ts
spec:
  entryPoints: [web]
  routes:
  - match: Host(`+"`split.example.com`"+`)
    services:
    - name: split
      kind: TraefikService
  - match: Host(`+"`nested.example.com`"+`)
    services:
    - name: nested
      kind: TraefikService
  - match: Host(`+"`mirror.example.com`"+`)
    services:
    - name: mirror
      kind: TraefikService
  - match: Host(`+"`inline.example.com`"+`)
    services:
    - name: svc-a
      port: 80
      weight: 1
    - name: svc-b
      port: 80
      weight: 1
`)
	e := newEnv(t)
	e.WriteStatic("yml", crdStatic(k, "    namespaces: ["+ns+"]\n"))
	e.Start()
	rt := func(match string) string { return ns + "-ts-" + routeHash(match) + "@kubernetescrd" }
	rd := e.waitCRDRouters(rt("Host(`split.example.com`)"), rt("Host(`nested.example.com`)"), rt("Host(`mirror.example.com`)"), rt("Host(`inline.example.com`)"))
	if s := rd.Services[ns+"-split@kubernetescrd"]; s.Status != "enabled" {
		t.Fatalf("TraefikService split in the API: %+v", s)
	}

	count := func(host string, n int) map[string]int {
		t.Helper()
		got := map[string]int{}
		for range n {
			rep := do(t, request{url: e.URL("web") + "/", host: host})
			if rep.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", host, rep.Status, rep.Body)
			}
			got[parseEcho(t, rep.Body).Name]++
		}
		return got
	}
	t.Run("weighted 3:1", func(t *testing.T) {
		e.waitStatus(request{url: e.URL("web") + "/", host: "split.example.com"}, http.StatusOK)
		got := count("split.example.com", 200)
		// Smooth weighted round robin is exact over whole cycles; allow
		// a margin all the same.
		if a := got["pod-a"]; a < 140 || a > 160 || got["pod-a"]+got["pod-b"] != 200 {
			t.Fatalf("split over 200 requests: %v (150/50 expected)", got)
		}
		t.Logf("split over 200 requests: %v", got)
	})
	t.Run("nested", func(t *testing.T) {
		got := count("nested.example.com", 80)
		// nested = 1/2 split (3/4 a, 1/4 b) + 1/2 b: a 3/8, b 5/8.
		if got["pod-a"] < 20 || got["pod-a"] > 40 || got["pod-a"]+got["pod-b"] != 80 {
			t.Fatalf("nested over 80 requests: %v (a 30, b 50 expected)", got)
		}
		t.Logf("nested over 80 requests: %v", got)
	})
	t.Run("inline weighted", func(t *testing.T) {
		got := count("inline.example.com", 40)
		if got["pod-a"] < 15 || got["pod-a"] > 25 {
			t.Fatalf("two inline services over 40 requests: %v", got)
		}
	})
	t.Run("mirroring", func(t *testing.T) {
		before := mirrored.Load()
		got := count("mirror.example.com", 10)
		if got["pod-a"] != 10 {
			t.Fatalf("mirror route answered from %v", got)
		}
		e.waitFor(10*time.Second, fmt.Sprintf("10 requests mirrored (have %d)", mirrored.Load()-before), func() bool {
			return mirrored.Load()-before >= 10
		})
	})
}
