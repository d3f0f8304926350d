package integration

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestKubeCRDMoreKinds: an errors Middleware whose page comes from a
// Kubernetes Service, a failover TraefikService following the main
// service's health check, and MiddlewareTCP ipAllowList refusing and
// allowing TCP connections, through the binary and the real API server.
func TestKubeCRDMoreKinds(t *testing.T) {
	k := requireKube(t)
	kn := requireKubeNet(t)
	requireCRDs(t, k)
	ns := k.Namespace(t)
	ipA, portA := kn.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fail":
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "backend error body")
		case "/health":
			w.WriteHeader(http.StatusInternalServerError) // always unhealthy
		default:
			_, _ = io.WriteString(w, "app")
		}
	}))
	k.ServiceWithEndpoints(t, ns, "app", "http", 80, int32(portA), KubeEndpoint{IP: ipA, Ready: true})
	ipE, portE := kn.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "custom error page for "+r.URL.Path)
	}))
	k.ServiceWithEndpoints(t, ns, "errpage", "http", 80, int32(portE), KubeEndpoint{IP: ipE, Ready: true})
	ipB, portB := kn.ServeHTTP(t, echoPod("backup"))
	k.ServiceWithEndpoints(t, ns, "backup", "http", 80, int32(portB), KubeEndpoint{IP: ipB, Ready: true})
	ipT := kn.NewIP(t)
	portT := serveTCPEchoIn(t, kn, ipT, 0, "tcp", nil)
	k.ServiceWithEndpoints(t, ns, "echo", "tcp", 7000, int32(portT), KubeEndpoint{IP: ipT, Ready: true})

	mustApply(t, k, ns, `
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata:
  name: errors
spec:
  errors:
    status: ["500-599"]
    query: /{status}.html
    service:
      name: errpage
      port: 80
---
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata:
  name: fo
spec:
  failover:
    service:
      name: app
      port: 80
      healthCheck:
        path: /health
        interval: 1s
        timeout: 1s
    fallback:
      name: backup
      port: 80
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: kinds
spec:
  entryPoints: [web]
  routes:
  - match: Host(`+"`errors.example.com`"+`)
    middlewares: [{name: errors}]
    services: [{name: app, port: 80}]
  - match: Host(`+"`failover.example.com`"+`)
    services: [{name: fo, kind: TraefikService}]
---
apiVersion: traefik.io/v1alpha1
kind: MiddlewareTCP
metadata:
  name: far-away
spec:
  ipAllowList:
    sourceRange: ["10.0.0.0/8"]
---
apiVersion: traefik.io/v1alpha1
kind: MiddlewareTCP
metadata:
  name: local
spec:
  ipAllowList:
    sourceRange: ["127.0.0.1/32"]
---
apiVersion: traefik.io/v1alpha1
kind: IngressRouteTCP
metadata:
  name: denied
spec:
  entryPoints: [tcpdenied]
  routes:
  - match: HostSNI(`+"`*`"+`)
    middlewares: [{name: far-away}]
    services: [{name: echo, port: 7000}]
---
apiVersion: traefik.io/v1alpha1
kind: IngressRouteTCP
metadata:
  name: allowed
spec:
  entryPoints: [tcpallowed]
  routes:
  - match: HostSNI(`+"`*`"+`)
    middlewares: [{name: local}]
    services: [{name: echo, port: 7000}]
`)
	e := newEnv(t)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  tcpdenied:
    address: "<% addr "tcpdenied" %>"
  tcpallowed:
    address: "<% addr "tcpallowed" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  kubernetesCRD:
`+k.ProviderYAML("    ")+"    namespaces: ["+ns+"]\n")
	e.Start()
	e.waitCRDRouters(ns + "-kinds-" + routeHash("Host(`errors.example.com`)") + "@kubernetescrd")

	t.Run("errors page from a Service", func(t *testing.T) {
		rep := e.waitStatus(request{url: e.URL("web") + "/fail", host: "errors.example.com"}, http.StatusServiceUnavailable)
		if rep.Body != "custom error page for /503.html" {
			t.Fatalf("error page: %q", rep.Body)
		}
	})
	t.Run("failover on the main service's health", func(t *testing.T) {
		rep := e.waitStatus(request{url: e.URL("web") + "/", host: "failover.example.com"}, http.StatusOK)
		e.waitFor(30*time.Second, "the fallback serves once the main service is unhealthy", func() bool {
			rep, _ = tryDo(request{url: e.URL("web") + "/", host: "failover.example.com"})
			return rep.Status == http.StatusOK && strings.Contains(rep.Body, `"backup"`)
		})
	})
	t.Run("MiddlewareTCP ipAllowList", func(t *testing.T) {
		exchange := func(addr string) string {
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				return ""
			}
			defer c.Close()
			got, _ := tcpExchange(c, "ping")
			return got
		}
		e.waitFor(30*time.Second, "the allowed TCP route echoes", func() bool { return exchange(e.Addr("tcpallowed")) == "tcp|ping" })
		if got := exchange(e.Addr("tcpdenied")); got != "" {
			t.Fatalf("a client outside the allow list got %q", got)
		}
	})
}
