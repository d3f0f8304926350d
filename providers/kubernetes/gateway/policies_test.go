package gateway

import (
	"strings"
	"testing"
	"time"

	ptypes "github.com/traefik/paerser/types"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatev1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Retry and sessionPersistence are implemented where the engine can honour
// them and refused by name (Accepted=False, UnsupportedValue) elsewhere.
func TestRetryAndSessionPersistence(t *testing.T) {
	const router = "httproute-app-r-gw-app-gw-ep-web-http-0-0"
	two := ref("a", 80)
	other := ref("a", 80)
	other.Weight = ptr(int32(3))
	cookie := ptr(gatev1.CookieBasedSessionPersistence)
	tests := []struct {
		name    string
		rule    gatev1.HTTPRouteRule
		refused string // part of the Accepted=False message; "" when accepted
	}{
		{name: "retry attempts and backoff", rule: gatev1.HTTPRouteRule{Retry: &gatev1.HTTPRouteRetry{Attempts: ptr(2), Backoff: ptr(gatev1.Duration("100ms"))}}},
		{name: "retry default attempts", rule: gatev1.HTTPRouteRule{Retry: &gatev1.HTTPRouteRetry{}}},
		{name: "retry zero attempts", rule: gatev1.HTTPRouteRule{Retry: &gatev1.HTTPRouteRetry{Attempts: ptr(0)}}},
		{name: "retry codes", rule: gatev1.HTTPRouteRule{Retry: &gatev1.HTTPRouteRetry{Codes: []gatev1.HTTPRouteRetryStatusCode{503}}}, refused: "retry.codes"},
		{name: "retry bad backoff", rule: gatev1.HTTPRouteRule{Retry: &gatev1.HTTPRouteRetry{Backoff: ptr(gatev1.Duration("soon"))}}, refused: "retry.backoff"},
		{name: "cookie", rule: gatev1.HTTPRouteRule{SessionPersistence: &gatev1.SessionPersistence{
			SessionName: ptr("sess"), AbsoluteTimeout: ptr(gatev1.Duration("1h")), Type: cookie}}},
		{name: "cookie default type, permanent", rule: gatev1.HTTPRouteRule{SessionPersistence: &gatev1.SessionPersistence{
			SessionName: ptr("sess"), AbsoluteTimeout: ptr(gatev1.Duration("10m")),
			CookieConfig: &gatev1.CookieConfig{LifetimeType: ptr(gatev1.PermanentCookieLifetimeType)}}}},
		{name: "header type", rule: gatev1.HTTPRouteRule{SessionPersistence: &gatev1.SessionPersistence{
			Type: ptr(gatev1.HeaderBasedSessionPersistence)}}, refused: "sessionPersistence.type"},
		{name: "session cookie with timeout", rule: gatev1.HTTPRouteRule{SessionPersistence: &gatev1.SessionPersistence{
			AbsoluteTimeout: ptr(gatev1.Duration("1h")), CookieConfig: &gatev1.CookieConfig{LifetimeType: ptr(gatev1.SessionCookieLifetimeType)}}},
			refused: "sessionPersistence.absoluteTimeout"},
		{name: "permanent without timeout", rule: gatev1.HTTPRouteRule{SessionPersistence: &gatev1.SessionPersistence{
			CookieConfig: &gatev1.CookieConfig{LifetimeType: ptr(gatev1.PermanentCookieLifetimeType)}}},
			refused: "sessionPersistence.absoluteTimeout"},
		{name: "several backends", rule: gatev1.HTTPRouteRule{SessionPersistence: &gatev1.SessionPersistence{SessionName: ptr("s")},
			BackendRefs: []gatev1.HTTPBackendRef{two, other}}, refused: "sessionPersistence: only supported on a rule with one backendRef"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := fixture()
			if tc.rule.BackendRefs == nil {
				tc.rule.BackendRefs = []gatev1.HTTPBackendRef{two}
			}
			st.http = []*gatev1.HTTPRoute{httpRoute("app", "r", []gatev1.ParentReference{parent("gw", "http")}, nil, tc.rule)}
			conf, status := Build(st, testOpts)
			conds := routeConds(t, status, "app", "r")
			if tc.refused != "" {
				wantCond(t, tc.name, conds, "Accepted", metav1.ConditionFalse, string(gatev1.RouteReasonUnsupportedValue))
				for _, c := range conds {
					if c.Type == "Accepted" && !strings.Contains(c.Message, tc.refused) {
						t.Errorf("message %q does not name %q", c.Message, tc.refused)
					}
				}
				if len(conf.HTTP.Routers) != 0 {
					t.Errorf("refused route has routers %v", keys(conf.HTTP.Routers))
				}
				return
			}
			wantCond(t, tc.name, conds, "Accepted", metav1.ConditionTrue, "Accepted")
			r := conf.HTTP.Routers[router]
			if r == nil {
				t.Fatalf("routers %v", keys(conf.HTTP.Routers))
			}
			if rr := tc.rule.Retry; rr != nil {
				want := 2 // one retry by default
				if rr.Attempts != nil {
					want = *rr.Attempts + 1
				}
				if want == 1 {
					if len(r.Middlewares) != 0 {
						t.Errorf("attempts 0 has middlewares %v", r.Middlewares)
					}
					return
				}
				if len(r.Middlewares) != 1 {
					t.Fatalf("middlewares %v", r.Middlewares)
				}
				m := conf.HTTP.Middlewares[r.Middlewares[0]]
				if m == nil || m.Retry == nil || m.Retry.Attempts != want {
					t.Fatalf("retry middleware %+v", m)
				}
				if rr.Backoff != nil && m.Retry.InitialInterval != ptypes.Duration(100*time.Millisecond) {
					t.Errorf("initialInterval %v", m.Retry.InitialInterval)
				}
			}
			if sp := tc.rule.SessionPersistence; sp != nil {
				s := conf.HTTP.Services[r.Service]
				if r.Service == "app-a-80" || s == nil || s.LoadBalancer == nil || s.LoadBalancer.Sticky == nil || s.LoadBalancer.Sticky.Cookie == nil {
					t.Fatalf("service %s: %+v", r.Service, s)
				}
				c := s.LoadBalancer.Sticky.Cookie
				d, _ := time.ParseDuration(string(*sp.AbsoluteTimeout))
				if c.Name != *sp.SessionName || c.MaxAge != int(d/time.Second) || len(s.LoadBalancer.Servers) != 2 {
					t.Errorf("cookie %+v, servers %v", c, s.LoadBalancer.Servers)
				}
				if conf.HTTP.Services["app-a-80"].LoadBalancer.Sticky != nil {
					t.Error("the shared service got the rule's sticky cookie")
				}
			}
		})
	}
}

func TestGRPCSessionPersistence(t *testing.T) {
	st := fixture()
	st.gateways[0].Spec.Listeners[0].AllowedRoutes = nil
	port := gatev1.PortNumber(80)
	mk := func(sp *gatev1.SessionPersistence) []*gatev1.GRPCRoute {
		return []*gatev1.GRPCRoute{{ObjectMeta: om("app", "g"), Spec: gatev1.GRPCRouteSpec{
			CommonRouteSpec: gatev1.CommonRouteSpec{ParentRefs: []gatev1.ParentReference{parent("gw", "http")}},
			Rules: []gatev1.GRPCRouteRule{{SessionPersistence: sp, BackendRefs: []gatev1.GRPCBackendRef{{BackendRef: gatev1.BackendRef{
				BackendObjectReference: gatev1.BackendObjectReference{Name: "a", Port: &port}}}}}},
		}}}
	}
	st.grpc = mk(&gatev1.SessionPersistence{SessionName: ptr("g")})
	conf, _ := Build(st, testOpts)
	found := false
	for _, r := range conf.HTTP.Routers {
		s := conf.HTTP.Services[r.Service]
		found = s != nil && s.LoadBalancer != nil && s.LoadBalancer.Sticky != nil && s.LoadBalancer.Sticky.Cookie.Name == "g"
	}
	if !found {
		t.Errorf("no sticky service: routers %v", keys(conf.HTTP.Routers))
	}
	st.grpc = mk(&gatev1.SessionPersistence{Type: ptr(gatev1.HeaderBasedSessionPersistence)})
	conf, status := Build(st, testOpts)
	if len(conf.HTTP.Routers) != 0 {
		t.Errorf("refused route has routers")
	}
	for _, ps := range status.Routes {
		wantCond(t, "grpc header", ps[0].Conditions, "Accepted", metav1.ConditionFalse, string(gatev1.RouteReasonUnsupportedValue))
	}
}

// A route whose Gateway was deleted gets no status in the build: its
// parent entries of this controller are removed, other controllers' kept.
func TestStaleRouteParents(t *testing.T) {
	st := fixture()
	ours := gatev1.RouteParentStatus{ParentRef: parent("gone", "http"), ControllerName: ControllerName}
	theirs := gatev1.RouteParentStatus{ParentRef: parent("x", ""), ControllerName: "example.com/other"}
	orphan := httpRoute("app", "orphan", []gatev1.ParentReference{parent("gone", "http")}, nil,
		gatev1.HTTPRouteRule{BackendRefs: []gatev1.HTTPBackendRef{ref("a", 80)}})
	orphan.Status.Parents = []gatev1.RouteParentStatus{theirs, ours}
	live := httpRoute("app", "live", []gatev1.ParentReference{parent("gw", "http")}, nil,
		gatev1.HTTPRouteRule{BackendRefs: []gatev1.HTTPBackendRef{ref("a", 80)}})
	live.Status.Parents = []gatev1.RouteParentStatus{ours}
	foreign := httpRoute("app", "foreign", []gatev1.ParentReference{parent("x", "")}, nil)
	foreign.Status.Parents = []gatev1.RouteParentStatus{theirs}
	st.http = []*gatev1.HTTPRoute{orphan, live, foreign}
	st.tcp = []*gatev1.TCPRoute{{ObjectMeta: om("app", "t"), Status: gatev1.TCPRouteStatus{RouteStatus: gatev1.RouteStatus{Parents: []gatev1.RouteParentStatus{ours}}}}}

	_, status := Build(st, testOpts)
	stale := staleRoutes(st, status.Routes)
	want := map[RouteKey]bool{
		{Kind: kindHTTP, NamespacedName: types.NamespacedName{Namespace: "app", Name: "orphan"}}: true,
		{Kind: kindTCP, NamespacedName: types.NamespacedName{Namespace: "app", Name: "t"}}:       true,
	}
	if len(stale) != len(want) {
		t.Fatalf("stale %v, want %v", stale, want)
	}
	for _, k := range stale {
		if !want[k] {
			t.Errorf("stale %v", k)
		}
	}
	// What writeStatus writes for a stale route: the other controller's entry.
	out, changed := mergeParents(orphan.Status.Parents, nil, metav1.Now())
	if !changed || len(out) != 1 || out[0].ControllerName != "example.com/other" {
		t.Errorf("merged %+v changed=%v", out, changed)
	}
	if _, changed := mergeParents(foreign.Status.Parents, nil, metav1.Now()); changed {
		t.Error("a route without our entries changed")
	}
}
