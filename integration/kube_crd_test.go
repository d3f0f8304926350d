package integration

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestKubeCRDIngressRoute: the generated CRDs applied to the real API
// server, then an IngressRoute to a Service whose endpoints live in the
// test network namespace, through a stripPrefix, a headers and a
// basicAuth (users from a kubernetes.io/basic-auth Secret) Middleware; an
// endpoint change is followed.
func TestKubeCRDIngressRoute(t *testing.T) {
	k := requireKube(t)
	kn := requireKubeNet(t)
	requireCRDs(t, k)
	ns := k.Namespace(t)
	ip1, port := kn.ServeHTTP(t, echoPod("pod-1"))
	k.ServiceWithEndpoints(t, ns, "whoami", "http", 80, int32(port), KubeEndpoint{IP: ip1, Ready: true})
	mustApply(t, k, ns, `
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata:
  name: strip
spec:
  stripPrefix:
    prefixes: ["/api"]
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata:
  name: hdr
spec:
  headers:
    customRequestHeaders:
      X-From-Crd: "yes"
    customResponseHeaders:
      X-Served-By: switchyard
---
apiVersion: v1
kind: Secret
metadata:
  name: users
type: kubernetes.io/basic-auth
stringData:
  username: alice
  password: s3cret
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata:
  name: auth
spec:
  basicAuth:
    secret: users
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: app
spec:
  entryPoints: [web]
  routes:
  - match: Host(`+"`app.example.com`"+`) && PathPrefix(`+"`/api`"+`)
    kind: Rule
    middlewares:
    - name: strip
    - name: hdr
    services:
    - name: whoami
      port: 80
  - match: Host(`+"`app.example.com`"+`) && PathPrefix(`+"`/private`"+`)
    middlewares:
    - name: auth
    services:
    - name: whoami
      port: http
`)
	e := newEnv(t)
	e.WriteStatic("yml", crdStatic(k, "    namespaces: ["+ns+"]\n"))
	e.Start()
	router := ns + "-app-" + routeHash("Host(`app.example.com`) && PathPrefix(`/api`)") + "@kubernetescrd"
	rd := e.waitCRDRouters(router)
	if r := rd.Routers[router]; r.Service != ns+"-whoami-80@kubernetescrd" || len(r.Middlewares) != 2 || r.Middlewares[0] != ns+"-strip@kubernetescrd" {
		t.Fatalf("router as the API shows it: %+v", r)
	}

	t.Run("stripPrefix and headers", func(t *testing.T) {
		rep := e.waitStatus(request{url: e.URL("web") + "/api/users", host: "app.example.com"}, http.StatusOK)
		echo := parseEcho(t, rep.Body)
		if echo.Name != "pod-1" || echo.Path != "/users" || strings.Join(echo.Headers["X-From-Crd"], "") != "yes" {
			t.Fatalf("backend saw %+v", echo)
		}
		if rep.Header.Get("X-Served-By") != "switchyard" {
			t.Fatalf("response headers %v", rep.Header)
		}
	})
	t.Run("basicAuth from a Secret", func(t *testing.T) {
		rep := do(t, request{url: e.URL("web") + "/private", host: "app.example.com"})
		if rep.Status != http.StatusUnauthorized {
			t.Fatalf("no credentials: %d", rep.Status)
		}
		rep = do(t, request{url: e.URL("web") + "/private", host: "app.example.com", header: map[string]string{"Authorization": basicAuthHeader("alice", "s3cret")}})
		if rep.Status != http.StatusOK || parseEcho(t, rep.Body).Name != "pod-1" {
			t.Fatalf("alice: %d %s", rep.Status, rep.Body)
		}
		rep = do(t, request{url: e.URL("web") + "/private", host: "app.example.com", header: map[string]string{"Authorization": basicAuthHeader("alice", "wrong")}})
		if rep.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", rep.Status)
		}
	})
	t.Run("endpoint change under load, no failed request", func(t *testing.T) {
		// A new pod on its own address, same target port; the old one is
		// marked terminating but keeps serving, as a pod in its grace period.
		ip2 := kn.NewIP(t)
		srv := &http.Server{Handler: echoPod("pod-2")}
		go srv.Serve(kn.Listen(t, ip2, port))
		t.Cleanup(func() { srv.Close() })
		var (
			stop         atomic.Bool
			sent, failed atomic.Int64
			wg           sync.WaitGroup
			firstFailMu  sync.Mutex
			firstFailure string
		)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					rep, err := tryDo(request{url: e.URL("web") + "/api/x", host: "app.example.com"})
					sent.Add(1)
					if err != nil || rep.Status != http.StatusOK {
						failed.Add(1)
						firstFailMu.Lock()
						if firstFailure == "" {
							firstFailure = fmt.Sprintf("%d %q %v", rep.Status, rep.Body, err)
						}
						firstFailMu.Unlock()
					}
				}
			}()
		}
		time.Sleep(200 * time.Millisecond)
		changed := time.Now()
		k.SetEndpoints(t, ns, "whoami", "http", int32(port), KubeEndpoint{IP: ip2, Ready: true}, KubeEndpoint{IP: ip1, Ready: false, Terminating: true})
		e.waitFor(30*time.Second, "traffic moves to pod-2", func() bool {
			rep, err := tryDo(request{url: e.URL("web") + "/api/x", host: "app.example.com"})
			return err == nil && rep.Status == 200 && strings.Contains(rep.Body, `"pod-2"`)
		})
		t.Logf("EndpointSlice write to traffic on the new pod: %v", time.Since(changed).Round(time.Millisecond))
		time.Sleep(200 * time.Millisecond)
		stop.Store(true)
		wg.Wait()
		t.Logf("%d requests during the endpoint change, %d failed", sent.Load(), failed.Load())
		if failed.Load() != 0 {
			t.Fatalf("%d of %d requests failed during the endpoint change (first: %s)", failed.Load(), sent.Load(), firstFailure)
		}
		for range 20 {
			rep := do(t, request{url: e.URL("web") + "/api/x", host: "app.example.com"})
			if rep.Status != 200 || parseEcho(t, rep.Body).Name != "pod-2" {
				t.Fatalf("after the change: %d %s", rep.Status, rep.Body)
			}
		}
	})
	t.Run("deleted Middleware and IngressRoute followed", func(t *testing.T) {
		crdDelete(t, k, ns, "Middleware", "hdr")
		e.WaitAPI(30*time.Second, "router without its deleted middleware is disabled", func(rd *Rawdata) bool {
			r, ok := rd.Routers[router]
			return ok && r.Status == "disabled"
		})
		crdDelete(t, k, ns, "IngressRoute", "app")
		e.WaitAPI(30*time.Second, "routers of the deleted IngressRoute gone", func(rd *Rawdata) bool {
			_, ok := rd.Routers[router]
			return !ok
		})
		if rep := do(t, request{url: e.URL("web") + "/api/x", host: "app.example.com"}); rep.Status != http.StatusNotFound {
			t.Fatalf("after deletion: %d", rep.Status)
		}
	})
}
