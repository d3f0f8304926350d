package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatev1 "sigs.k8s.io/gateway-api/apis/v1"
)

// gwStatic is a static configuration with the entrypoints the Gateway
// tests use (listener ports are these entrypoints' ports) and the API.
func gwStatic(e *Env, s *gwSetup, extraEPs string) {
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "127.0.0.1:<% port "web" %>"
  traefik:
    address: "127.0.0.1:<% port "traefik" %>"
`+extraEPs+`
api:
  insecure: true
providers:
  providersThrottleDuration: 200ms
`+s.ProviderYAML())
}

func (s *gwSetup) gateway(t testing.TB, name string, listeners ...gatev1.Listener) {
	t.Helper()
	_, err := s.gw.GatewayV1().Gateways(s.ns).Create(context.Background(), &gatev1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns},
		Spec:       gatev1.GatewaySpec{GatewayClassName: gatev1.ObjectName(s.class), Listeners: listeners},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func (s *gwSetup) httpRoute(t testing.TB, r *gatev1.HTTPRoute) {
	t.Helper()
	r.Namespace = s.ns
	if _, err := s.gw.GatewayV1().HTTPRoutes(s.ns).Create(context.Background(), r, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func gwParentRef(gw string, section string) gatev1.ParentReference {
	p := gatev1.ParentReference{Name: gatev1.ObjectName(gw)}
	if section != "" {
		p.SectionName = gwPtr(gatev1.SectionName(section))
	}
	return p
}

func gwBackendRef(svc string, port int32, weight int32) gatev1.HTTPBackendRef {
	return gatev1.HTTPBackendRef{BackendRef: gatev1.BackendRef{
		BackendObjectReference: gatev1.BackendObjectReference{Name: gatev1.ObjectName(svc), Port: gwPtr(port)},
		Weight:                 gwPtr(weight),
	}}
}

func gwPathPrefix(p string) []gatev1.HTTPRouteMatch {
	return []gatev1.HTTPRouteMatch{{Path: &gatev1.HTTPPathMatch{Type: gwPtr(gatev1.PathMatchPathPrefix), Value: gwPtr(p)}}}
}

// TestKubeGatewayHTTP: a GatewayClass of ours, a Gateway with an HTTP
// listener on the web entrypoint's port and an HTTPRoute with a path
// prefix, through the real binary and API server: traffic reaches the
// Service's endpoint, and the status of every object is written back
// (GatewayClass Accepted, Gateway Accepted/Programmed with the address,
// listener attachedRoutes, route parent Accepted/ResolvedRefs), with
// observedGeneration. A listener whose port is no entrypoint's says so.
func TestKubeGatewayHTTP(t *testing.T) {
	s := newGatewaySetup(t)
	kn := requireKubeNet(t)
	e := newEnv(t)
	ip, port := gwEcho(t, kn, "app")
	s.k.ServiceWithEndpoints(t, s.ns, "app", "http", 80, int32(port), KubeEndpoint{IP: ip, Ready: true})
	gwStatic(e, s, "")
	webPort := int32(e.Port("web"))
	s.gateway(t, "gw",
		gatev1.Listener{Name: "http", Port: webPort, Protocol: gatev1.HTTPProtocolType},
		gatev1.Listener{Name: "nowhere", Port: 1, Protocol: gatev1.HTTPProtocolType, Hostname: gwPtr(gatev1.Hostname("nowhere.example"))},
	)
	s.httpRoute(t, &gatev1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "app"},
		Spec: gatev1.HTTPRouteSpec{
			CommonRouteSpec: gatev1.CommonRouteSpec{ParentRefs: []gatev1.ParentReference{gwParentRef("gw", "http")}},
			Rules: []gatev1.HTTPRouteRule{{
				Matches:     gwPathPrefix("/app"),
				BackendRefs: []gatev1.HTTPBackendRef{gwBackendRef("app", 80, 1)},
			}},
		},
	})
	e.Start()

	rep := gwWaitHTTP(t, request{url: e.URL("web") + "/app/x"}, "route served", func(r Reply) bool { return r.Status == 200 })
	if got := gwParseEcho(t, rep.Body); got.Name != "app" || got.Path != "/app/x" {
		t.Fatalf("backend saw %+v", got)
	}
	// Prefixes match whole path elements.
	if r := do(t, request{url: e.URL("web") + "/application"}); r.Status != 404 {
		t.Errorf("/application: %d, want 404", r.Status)
	}
	if r := do(t, request{url: e.URL("web") + "/app"}); r.Status != 200 {
		t.Errorf("/app: %d, want 200", r.Status)
	}

	ctx := context.Background()
	gwWaitCond(t, "GatewayClass", func() ([]metav1.Condition, int64, error) {
		gc, err := s.gw.GatewayV1().GatewayClasses().Get(ctx, s.class, metav1.GetOptions{})
		if err != nil {
			return nil, 0, err
		}
		return gc.Status.Conditions, gc.Generation, nil
	}, "Accepted", metav1.ConditionTrue, "Accepted")
	gwWaitCond(t, "Gateway", s.gatewayConds("gw"), "Programmed", metav1.ConditionTrue, "Programmed")
	// One listener is invalid: the Gateway is accepted with the reason.
	gwWaitCond(t, "Gateway", s.gatewayConds("gw"), "Accepted", metav1.ConditionTrue, "ListenersNotValid")
	gwWaitCond(t, "listener http", s.listenerConds("gw", "http"), "Programmed", metav1.ConditionTrue, "Programmed")
	c := gwWaitCond(t, "listener nowhere", s.listenerConds("gw", "nowhere"), "Accepted", metav1.ConditionFalse, "PortUnavailable")
	t.Logf("listener nowhere: %s", c.Message)
	gwWaitCond(t, "HTTPRoute", s.routeParentConds("HTTPRoute", "app"), "Accepted", metav1.ConditionTrue, "Accepted")
	gwWaitCond(t, "HTTPRoute", s.routeParentConds("HTTPRoute", "app"), "ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs")
	g, err := s.gw.GatewayV1().Gateways(s.ns).Get(ctx, "gw", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Status.Addresses) != 1 || g.Status.Addresses[0].Value != "127.0.0.1" {
		t.Errorf("gateway addresses %+v", g.Status.Addresses)
	}
	for _, l := range g.Status.Listeners {
		if l.Name == "http" && l.AttachedRoutes != 1 {
			t.Errorf("listener http attachedRoutes %d, want 1", l.AttachedRoutes)
		}
	}
	// Status is written only when it changes: once settled, nothing is
	// rewritten (the provider keeps rebuilding on events meanwhile: an
	// EndpointSlice update here).
	rvs := func() string {
		g, err1 := s.gw.GatewayV1().Gateways(s.ns).Get(ctx, "gw", metav1.GetOptions{})
		r, err2 := s.gw.GatewayV1().HTTPRoutes(s.ns).Get(ctx, "app", metav1.GetOptions{})
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		return g.ResourceVersion + "/" + r.ResourceVersion
	}
	before := rvs()
	s.k.SetEndpoints(t, s.ns, "app", "http", int32(port), KubeEndpoint{IP: ip, Ready: true}, KubeEndpoint{IP: "198.18.255.254", Ready: false})
	time.Sleep(2 * time.Second)
	if after := rvs(); after != before {
		t.Errorf("status rewritten without a change: resourceVersions %s -> %s", before, after)
	}
	// The router is in the API, named as Traefik names it.
	name := fmt.Sprintf("httproute-%s-app-gw-%s-gw-ep-web-http-0-0@kubernetesgateway", s.ns, s.ns)
	e.WaitRouters(name)

	// The Gateway deleted: the route is no longer served, and the leader
	// removes its parent entry from the route's status (another
	// controller's entry stays).
	r, err := s.gw.GatewayV1().HTTPRoutes(s.ns).Get(ctx, "app", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.Status.Parents = append(r.Status.Parents, gatev1.RouteParentStatus{
		ParentRef: gwParentRef("elsewhere", ""), ControllerName: "example.com/other",
		Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", LastTransitionTime: metav1.Now()}},
	})
	if _, err := s.gw.GatewayV1().HTTPRoutes(s.ns).UpdateStatus(ctx, r, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.gw.GatewayV1().Gateways(s.ns).Delete(ctx, "gw", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	gwWaitHTTP(t, request{url: e.URL("web") + "/app/x"}, "route gone with its Gateway", func(r Reply) bool { return r.Status == 404 })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r, err := s.gw.GatewayV1().HTTPRoutes(s.ns).Get(ctx, "app", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ours, others := 0, 0
		for _, p := range r.Status.Parents {
			if p.ControllerName == "traefik.io/gateway-controller" {
				ours++
			} else {
				others++
			}
		}
		if ours == 0 {
			if others != 1 {
				t.Errorf("other controller's parent entries: %d, want 1", others)
			}
			t.Logf("parent entry removed %v after the Gateway's deletion", time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("route status still has our parent entry: %+v", r.Status.Parents)
		}
	}
}
