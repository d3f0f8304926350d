package integration

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestKubeCRDTLSStoreAndTransport: a ServersTransport (serverName and a
// root CA from a Secret) lets a route reach an HTTPS backend whose
// certificate names neither its address nor the Service; the same route
// without it fails verification (502). A TLSStore "default" serves its
// default certificate from a Secret to a client with an unknown SNI on a
// route with `tls: {}`.
func TestKubeCRDTLSStoreAndTransport(t *testing.T) {
	k := requireKube(t)
	kn := requireKubeNet(t)
	requireCRDs(t, k)
	ns := k.Namespace(t)
	ca := newCA(t, "backend-ca")
	beCertPEM, beKeyPEM := ca.issue(t, "backend.internal", []string{"backend.internal"}, false)
	beCert, err := tls.X509KeyPair([]byte(beCertPEM), []byte(beKeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	ip := kn.NewIP(t)
	ln := tls.NewListener(kn.Listen(t, ip, 0), &tls.Config{Certificates: []tls.Certificate{beCert}})
	srv := &http.Server{Handler: echoPod("tls-pod"), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	port := ln.Addr().(interface{ String() string }).String()
	_, p := splitHostPortInt(t, port)
	k.ServiceWithEndpoints(t, ns, "secure-backend", "https", 443, int32(p), KubeEndpoint{IP: ip, Ready: true})

	storeCA := newCA(t, "store-ca")
	defCert, defKey := storeCA.issue(t, "store-default", []string{"default.example.com"}, false)
	mustApply(t, k, ns, fmt.Sprintf(`
apiVersion: v1
kind: Secret
metadata:
  name: backend-ca
stringData:
  ca.crt: %q
---
apiVersion: v1
kind: Secret
metadata:
  name: default-cert
type: kubernetes.io/tls
stringData:
  tls.crt: %q
  tls.key: %q
---
apiVersion: traefik.io/v1alpha1
kind: ServersTransport
metadata:
  name: internal
spec:
  serverName: backend.internal
  rootCAs:
  - secret: backend-ca
  forwardingTimeouts:
    dialTimeout: 5s
    responseHeaderTimeout: 30
---
apiVersion: traefik.io/v1alpha1
kind: TLSStore
metadata:
  name: default
spec:
  defaultCertificate:
    secretName: default-cert
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: backend
spec:
  entryPoints: [web]
  routes:
  - match: Host(`+"`verified.example.com`"+`)
    services:
    - name: secure-backend
      port: 443
      serversTransport: internal
  - match: Host(`+"`unverified.example.com`"+`)
    services:
    - name: secure-backend
      port: https   # another name than the verified route's service (default-secure-backend-https)
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: tls-default
spec:
  entryPoints: [websecure]
  routes:
  - match: PathPrefix(`+"`/`"+`)
    services:
    - name: secure-backend
      port: 443
      serversTransport: internal
  tls: {}
`, ca.PEM, defCert, defKey))

	e := newEnv(t)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  websecure:
    address: "<% addr "websecure" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  kubernetesCRD:
`+k.ProviderYAML("    ")+"    namespaces: ["+ns+"]\n")
	e.Start()
	e.waitCRDRouters(ns + "-backend-" + routeHash("Host(`verified.example.com`)") + "@kubernetescrd")

	t.Run("ServersTransport with serverName and rootCAs", func(t *testing.T) {
		rep := e.waitStatus(request{url: e.URL("web") + "/", host: "verified.example.com"}, http.StatusOK)
		if parseEcho(t, rep.Body).Name != "tls-pod" {
			t.Fatalf("answered %s", rep.Body)
		}
		if rep := do(t, request{url: e.URL("web") + "/", host: "unverified.example.com"}); rep.Status != http.StatusBadGateway {
			t.Fatalf("without the transport the backend's certificate must fail verification: %d", rep.Status)
		}
	})
	t.Run("TLSStore default certificate", func(t *testing.T) {
		e.waitFor(30*time.Second, "the default store's certificate is served", func() bool {
			c, err := tlsDial(e.Addr("websecure"), &tls.Config{ServerName: "unknown.example.org", RootCAs: storeCA.pool(), InsecureSkipVerify: true})
			if err != nil {
				return false
			}
			defer c.Close()
			return c.ConnectionState().PeerCertificates[0].Subject.CommonName == "store-default"
		})
	})
}

func splitHostPortInt(t testing.TB, hp string) (string, int) {
	t.Helper()
	var h string
	var p int
	i := len(hp) - 1
	for i >= 0 && hp[i] != ':' {
		i--
	}
	h = hp[:i]
	if _, err := fmt.Sscanf(hp[i+1:], "%d", &p); err != nil {
		t.Fatal(err)
	}
	return h, p
}
