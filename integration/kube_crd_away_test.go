package integration

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// apiRelay forwards TCP connections to the API server; Stop cuts every
// connection and stops listening, Start listens again on the same address:
// the API server "goes away" for one switchyard without stopping the
// shared one.
type apiRelay struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func newAPIRelay(t testing.TB, target string) *apiRelay {
	t.Helper()
	r := &apiRelay{addr: "127.0.0.1:" + strconv.Itoa(freePort(t)), target: target, conns: map[net.Conn]bool{}}
	r.Start(t)
	t.Cleanup(r.Stop)
	return r
}

func (r *apiRelay) Start(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.ln = ln
	r.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", r.target)
			if err != nil {
				c.Close()
				continue
			}
			r.mu.Lock()
			r.conns[c], r.conns[u] = true, true
			r.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); u.Close() }()
			go func() { _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
}

func (r *apiRelay) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln != nil {
		r.ln.Close()
		r.ln = nil
	}
	for c := range r.conns {
		c.Close()
	}
	r.conns = map[net.Conn]bool{}
}

// TestKubeCRDAPIServerAway: with the API server unreachable (every
// connection cut, nothing listening), the last configuration keeps
// serving; a change made meanwhile is applied once it is back.
func TestKubeCRDAPIServerAway(t *testing.T) {
	k := requireKube(t)
	kn := requireKubeNet(t)
	requireCRDs(t, k)
	ns := k.Namespace(t)
	ip, port := kn.ServeHTTP(t, echoPod("pod-1"))
	k.ServiceWithEndpoints(t, ns, "whoami", "http", 80, int32(port), KubeEndpoint{IP: ip, Ready: true})
	mustApply(t, k, ns, `
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: app
spec:
  entryPoints: [web]
  routes:
  - match: Host(`+"`app.example.com`"+`)
    services:
    - name: whoami
      port: 80
`)
	u, err := url.Parse(k.URL)
	if err != nil {
		t.Fatal(err)
	}
	relay := newAPIRelay(t, u.Host)
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
    endpoint: "https://`+relay.addr+`"
    token: "`+kubeAdminToken+`"
    certAuthFilePath: "`+k.CAFile+`"
    namespaces: [`+ns+`]
`)
	e.Start()
	e.waitStatus(request{url: e.URL("web") + "/", host: "app.example.com"}, http.StatusOK)

	relay.Stop()
	// A change while away: a second route.
	mustApply(t, k, ns, `
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: later
spec:
  entryPoints: [web]
  routes:
  - match: Host(`+"`later.example.com`"+`)
    services:
    - name: whoami
      port: 80
`)
	deadline := time.Now().Add(3 * time.Second)
	n := 0
	for time.Now().Before(deadline) {
		rep := do(t, request{url: e.URL("web") + "/", host: "app.example.com"})
		if rep.Status != http.StatusOK || parseEcho(t, rep.Body).Name != "pod-1" {
			t.Fatalf("while the API server is away: %d %s", rep.Status, rep.Body)
		}
		n++
		time.Sleep(20 * time.Millisecond)
	}
	if e.Proc.Exited() {
		t.Fatal("switchyard exited while the API server was away")
	}
	t.Logf("%d requests served over 3 s with the API server away", n)

	relay.Start(t)
	back := time.Now()
	// client-go's reflectors retry with a backoff (up to tens of seconds
	// after repeated failures): a generous bound.
	e.waitFor(60*time.Second, "the IngressRoute created while away is served", func() bool {
		rep, err := tryDo(request{url: e.URL("web") + "/", host: "later.example.com"})
		return err == nil && rep.Status == http.StatusOK
	})
	t.Logf("change made while away served %v after the API server came back", time.Since(back).Round(10*time.Millisecond))
}
