package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatev1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestKubeGatewayLeaderOnly: two replicas (POD_NAME a and b, one Lease in
// the test namespace, 3 s lease) both route, only the leader writes
// status. The leader is killed without releasing its Lease: a route created
// then gets no status while nobody leads (checked for 1 s, within the
// lease), then the other replica takes over and writes it.
func TestKubeGatewayLeaderOnly(t *testing.T) {
	s := newGatewaySetup(t)
	kn := requireKubeNet(t)
	ip, port := gwEcho(t, kn, "app")
	s.k.ServiceWithEndpoints(t, s.ns, "app", "http", 80, int32(port), KubeEndpoint{IP: ip, Ready: true})
	a := newEnv(t)
	gwStatic(a, s, "")
	webPort := a.Port("web")
	// Replica b serves the same port number on 127.0.0.2.
	b := newEnv(t)
	b.ports["traefik"] = freePort(t)
	b.StatPath = filepath.Join(b.Dir, "static.yml")
	static, err := os.ReadFile(a.StatPath)
	if err != nil {
		t.Fatal(err)
	}
	bStatic := []byte(fmt.Sprintf("entryPoints:\n  web:\n    address: \"127.0.0.2:%d\"\n  traefik:\n    address: \"127.0.0.1:%d\"\n", webPort, b.ports["traefik"]))
	bStatic = append(bStatic, static[indexAfterEntryPoints(static):]...)
	if err := os.WriteFile(b.StatPath, bStatic, 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(name string) []string {
		return []string{"POD_NAME=" + name, "POD_NAMESPACE=" + s.ns,
			"LEADER_ELECTION_LEASE_DURATION=3s", "LEADER_ELECTION_RENEW_DEADLINE=2s", "LEADER_ELECTION_RETRY_PERIOD=500ms"}
	}
	s.gateway(t, "gw", gatev1.Listener{Name: "http", Port: int32(webPort), Protocol: gatev1.HTTPProtocolType})
	route := func(name, prefix string) {
		s.httpRoute(t, &gatev1.HTTPRoute{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: gatev1.HTTPRouteSpec{
				CommonRouteSpec: gatev1.CommonRouteSpec{ParentRefs: []gatev1.ParentReference{gwParentRef("gw", "http")}},
				Rules:           []gatev1.HTTPRouteRule{{Matches: gwPathPrefix(prefix), BackendRefs: backends(gwBackendRef("app", 80, 1))}},
			},
		})
	}
	route("first", "/first")
	pa := a.StartWithEnv(env("a"))
	gwWaitCond(t, "first route (a leads)", s.routeParentConds("HTTPRoute", "first"), "Accepted", metav1.ConditionTrue, "Accepted")
	b.StartWithEnv(env("b"))
	// Both replicas route.
	gwWaitHTTP(t, request{url: fmt.Sprintf("http://127.0.0.1:%d/first", webPort)}, "replica a", func(r Reply) bool { return r.Status == 200 })
	gwWaitHTTP(t, request{url: fmt.Sprintf("http://127.0.0.2:%d/first", webPort)}, "replica b", func(r Reply) bool { return r.Status == 200 })

	// a dies holding the Lease.
	pa.Signal(syscall.SIGKILL)
	pa.Wait(10 * time.Second)
	killed := time.Now()
	route("second", "/second")
	// b routes the new route at once ...
	gwWaitHTTP(t, request{url: fmt.Sprintf("http://127.0.0.2:%d/second", webPort)}, "replica b serves the new route", func(r Reply) bool { return r.Status == 200 })
	// ... but does not write its status while it does not lead.
	for time.Since(killed) < time.Second {
		conds, _, err := s.routeParentConds("HTTPRoute", "second")()
		if err != nil {
			t.Fatal(err)
		}
		if len(conds) > 0 {
			t.Fatalf("status written %v after the leader died, within its lease: %+v", time.Since(killed), conds)
		}
		time.Sleep(100 * time.Millisecond)
	}
	gwWaitCond(t, "second route (b took over)", s.routeParentConds("HTTPRoute", "second"), "Accepted", metav1.ConditionTrue, "Accepted")
	t.Logf("status of the new route written %v after the leader was killed (lease 3 s)", time.Since(killed).Round(100*time.Millisecond))
}

// indexAfterEntryPoints is where a gwStatic file's entryPoints block ends
// (the api block follows it).
func indexAfterEntryPoints(b []byte) int {
	return strings.Index(string(b), "\napi:") + 1
}
