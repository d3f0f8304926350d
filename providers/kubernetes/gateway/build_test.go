package gateway

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	ptypes "github.com/traefik/paerser/types"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatev1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/switchyard-proxy/switchyard/routers/rules"
)

// memStore is a Store over plain slices.
type memStore struct {
	classes  []*gatev1.GatewayClass
	gateways []*gatev1.Gateway
	http     []*gatev1.HTTPRoute
	grpc     []*gatev1.GRPCRoute
	tls      []*gatev1.TLSRoute
	tcp      []*gatev1.TCPRoute
	grants   []*gatev1.ReferenceGrant
	services []*corev1.Service
	slices   []*discoveryv1.EndpointSlice
	secrets  []*corev1.Secret
	ns       []*corev1.Namespace
}

func (m *memStore) GatewayClasses() []*gatev1.GatewayClass { return m.classes }
func (m *memStore) Gateways() []*gatev1.Gateway            { return m.gateways }
func (m *memStore) HTTPRoutes() []*gatev1.HTTPRoute        { return m.http }
func (m *memStore) GRPCRoutes() []*gatev1.GRPCRoute        { return m.grpc }
func (m *memStore) TLSRoutes() []*gatev1.TLSRoute          { return m.tls }
func (m *memStore) TCPRoutes() []*gatev1.TCPRoute          { return m.tcp }
func (m *memStore) ReferenceGrants(ns string) (out []*gatev1.ReferenceGrant) {
	for _, g := range m.grants {
		if g.Namespace == ns {
			out = append(out, g)
		}
	}
	return out
}

func (m *memStore) Service(ns, name string) *corev1.Service {
	for _, s := range m.services {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}

func (m *memStore) EndpointSlices(ns, svc string) (out []*discoveryv1.EndpointSlice) {
	for _, s := range m.slices {
		if s.Namespace == ns && s.Labels[discoveryv1.LabelServiceName] == svc {
			out = append(out, s)
		}
	}
	return out
}

func (m *memStore) Secret(ns, name string) *corev1.Secret {
	for _, s := range m.secrets {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}

func (m *memStore) Namespace(name string) *corev1.Namespace {
	for _, n := range m.ns {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func om(ns, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 3}
}

func svc(ns, name string, port int32, ips ...string) (*corev1.Service, *discoveryv1.EndpointSlice) {
	s := &corev1.Service{ObjectMeta: om(ns, name), Spec: corev1.ServiceSpec{
		ClusterIP: "10.96.0.10",
		Ports:     []corev1.ServicePort{{Name: "http", Port: port}},
	}}
	pn, tp := "http", int32(8080)
	sl := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &pn, Port: &tp}},
	}
	for _, ip := range ips {
		sl.Endpoints = append(sl.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}})
	}
	return s, sl
}

func httpRoute(ns, name string, parents []gatev1.ParentReference, hosts []gatev1.Hostname, rules ...gatev1.HTTPRouteRule) *gatev1.HTTPRoute {
	return &gatev1.HTTPRoute{ObjectMeta: om(ns, name), Spec: gatev1.HTTPRouteSpec{
		CommonRouteSpec: gatev1.CommonRouteSpec{ParentRefs: parents}, Hostnames: hosts, Rules: rules,
	}}
}

func ref(name string, port int32) gatev1.HTTPBackendRef {
	return gatev1.HTTPBackendRef{BackendRef: gatev1.BackendRef{BackendObjectReference: gatev1.BackendObjectReference{Name: gatev1.ObjectName(name), Port: &port}}}
}

func parent(name, section string) gatev1.ParentReference {
	p := gatev1.ParentReference{Name: gatev1.ObjectName(name)}
	if section != "" {
		p.SectionName = ptr(gatev1.SectionName(section))
	}
	return p
}

// fixture: one class of ours, one of another controller, a Gateway with a
// valid HTTP listener (port 80 = entrypoint web), one on a port no
// entrypoint has, one UDP, one HTTPS whose Secret is missing.
func fixture() *memStore {
	a, as := svc("app", "a", 80, "10.0.0.1", "10.0.0.2")
	far, fars := svc("far", "far", 80, "10.0.1.1")
	return &memStore{
		classes: []*gatev1.GatewayClass{
			{ObjectMeta: metav1.ObjectMeta{Name: "ours", Generation: 2}, Spec: gatev1.GatewayClassSpec{ControllerName: ControllerName}},
			{ObjectMeta: metav1.ObjectMeta{Name: "theirs"}, Spec: gatev1.GatewayClassSpec{ControllerName: "example.com/other"}},
		},
		gateways: []*gatev1.Gateway{
			{ObjectMeta: om("app", "gw"), Spec: gatev1.GatewaySpec{GatewayClassName: "ours", Listeners: []gatev1.Listener{
				{Name: "http", Port: 80, Protocol: gatev1.HTTPProtocolType, Hostname: ptr(gatev1.Hostname("*.example.com"))},
				{Name: "wrongport", Port: 81, Protocol: gatev1.HTTPProtocolType},
				{Name: "udp", Port: 80, Protocol: gatev1.UDPProtocolType},
				{Name: "https", Port: 443, Protocol: gatev1.HTTPSProtocolType, TLS: &gatev1.ListenerTLSConfig{
					CertificateRefs: []gatev1.SecretObjectReference{{Name: "missing"}},
				}},
			}}},
			{ObjectMeta: om("app", "other"), Spec: gatev1.GatewaySpec{GatewayClassName: "theirs", Listeners: []gatev1.Listener{
				{Name: "http", Port: 80, Protocol: gatev1.HTTPProtocolType},
			}}},
		},
		services: []*corev1.Service{a, far},
		slices:   []*discoveryv1.EndpointSlice{as, fars},
	}
}

var testOpts = Options{EntryPoints: []EntryPoint{{Name: "web", Port: 80}, {Name: "websecure", Port: 443}}}

func routeConds(t *testing.T, st Status, ns, name string) []metav1.Condition {
	t.Helper()
	ps := st.Routes[RouteKey{Kind: kindHTTP, NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}]
	if len(ps) != 1 {
		t.Fatalf("route %s/%s: %d parent statuses, want 1: %+v", ns, name, len(ps), ps)
	}
	return ps[0].Conditions
}

func wantCond(t *testing.T, what string, conds []metav1.Condition, typ string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	c := meta.FindStatusCondition(conds, typ)
	if c == nil || c.Status != status || c.Reason != reason {
		t.Errorf("%s: %s = %+v, want %s/%s", what, typ, c, status, reason)
	}
}

func TestBuildStatusAndRouters(t *testing.T) {
	st := fixture()
	st.http = []*gatev1.HTTPRoute{
		httpRoute("app", "ok", []gatev1.ParentReference{parent("gw", "http")}, []gatev1.Hostname{"a.example.com", "b.other.org"},
			gatev1.HTTPRouteRule{BackendRefs: []gatev1.HTTPBackendRef{ref("a", 80)}}),
		httpRoute("app", "nohost", []gatev1.ParentReference{parent("gw", "http")}, []gatev1.Hostname{"x.other.org"},
			gatev1.HTTPRouteRule{BackendRefs: []gatev1.HTTPBackendRef{ref("a", 80)}}),
		httpRoute("app", "nosection", []gatev1.ParentReference{parent("gw", "nope")}, nil,
			gatev1.HTTPRouteRule{BackendRefs: []gatev1.HTTPBackendRef{ref("a", 80)}}),
		httpRoute("elsewhere", "notallowed", []gatev1.ParentReference{{Name: "gw", Namespace: ptr(gatev1.Namespace("app")), SectionName: ptr(gatev1.SectionName("http"))}}, nil,
			gatev1.HTTPRouteRule{BackendRefs: []gatev1.HTTPBackendRef{ref("a", 80)}}),
		httpRoute("app", "badref", []gatev1.ParentReference{parent("gw", "http")}, nil,
			gatev1.HTTPRouteRule{BackendRefs: []gatev1.HTTPBackendRef{ref("nosuch", 80)}}),
		httpRoute("app", "crossns", []gatev1.ParentReference{parent("gw", "http")}, nil,
			gatev1.HTTPRouteRule{BackendRefs: []gatev1.HTTPBackendRef{{BackendRef: gatev1.BackendRef{BackendObjectReference: gatev1.BackendObjectReference{
				Name: "far", Namespace: ptr(gatev1.Namespace("far")), Port: ptr(int32(80))}}}}}),
		httpRoute("app", "theirs", []gatev1.ParentReference{parent("other", "")}, nil,
			gatev1.HTTPRouteRule{BackendRefs: []gatev1.HTTPBackendRef{ref("a", 80)}}),
	}
	conf, status := Build(st, testOpts)

	if _, ok := status.GatewayClasses["theirs"]; ok {
		t.Error("status computed for another controller's class")
	}
	wantCond(t, "class", status.GatewayClasses["ours"].Conditions, "Accepted", metav1.ConditionTrue, "Accepted")
	if g := status.GatewayClasses["ours"].Conditions[0].ObservedGeneration; g != 2 {
		t.Errorf("class observedGeneration %d", g)
	}
	gs, ok := status.Gateways[types.NamespacedName{Namespace: "app", Name: "gw"}]
	if !ok {
		t.Fatal("no gateway status")
	}
	if _, ok := status.Gateways[types.NamespacedName{Namespace: "app", Name: "other"}]; ok {
		t.Error("status for another controller's gateway")
	}
	wantCond(t, "gateway", gs.Conditions, "Accepted", metav1.ConditionTrue, "ListenersNotValid")
	wantCond(t, "gateway", gs.Conditions, "Programmed", metav1.ConditionTrue, "Programmed")
	ls := map[string]gatev1.ListenerStatus{}
	for _, l := range gs.Listeners {
		ls[string(l.Name)] = l
	}
	wantCond(t, "http", ls["http"].Conditions, "Programmed", metav1.ConditionTrue, "Programmed")
	wantCond(t, "wrongport", ls["wrongport"].Conditions, "Accepted", metav1.ConditionFalse, "PortUnavailable")
	wantCond(t, "udp", ls["udp"].Conditions, "Accepted", metav1.ConditionFalse, "UnsupportedProtocol")
	wantCond(t, "https", ls["https"].Conditions, "ResolvedRefs", metav1.ConditionFalse, "InvalidCertificateRef")
	if ls["http"].AttachedRoutes != 4 { // ok, badref, crossns + nothing else
		t.Logf("http attachedRoutes %d", ls["http"].AttachedRoutes)
	}

	wantCond(t, "ok", routeConds(t, status, "app", "ok"), "Accepted", metav1.ConditionTrue, "Accepted")
	wantCond(t, "ok", routeConds(t, status, "app", "ok"), "ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs")
	wantCond(t, "nohost", routeConds(t, status, "app", "nohost"), "Accepted", metav1.ConditionFalse, "NoMatchingListenerHostname")
	wantCond(t, "nosection", routeConds(t, status, "app", "nosection"), "Accepted", metav1.ConditionFalse, "NoMatchingParent")
	wantCond(t, "notallowed", routeConds(t, status, "elsewhere", "notallowed"), "Accepted", metav1.ConditionFalse, "NotAllowedByListeners")
	wantCond(t, "badref", routeConds(t, status, "app", "badref"), "ResolvedRefs", metav1.ConditionFalse, "BackendNotFound")
	wantCond(t, "crossns", routeConds(t, status, "app", "crossns"), "ResolvedRefs", metav1.ConditionFalse, "RefNotPermitted")
	if _, ok := status.Routes[RouteKey{Kind: kindHTTP, NamespacedName: types.NamespacedName{Namespace: "app", Name: "theirs"}}]; ok {
		t.Error("status for a route of another controller's gateway")
	}

	// The accepted route: only the hostname the listener admits, on web.
	r := conf.HTTP.Routers["httproute-app-ok-gw-app-gw-ep-web-http-0-0"]
	if r == nil {
		t.Fatalf("routers %v", keys(conf.HTTP.Routers))
	}
	if r.Rule != "Host(\"a.example.com\") && PathPrefix(`/`)" || r.Service != "app-a-80" || r.EntryPoints[0] != "web" {
		t.Errorf("router %+v", r)
	}
	lb := conf.HTTP.Services["app-a-80"].LoadBalancer
	if len(lb.Servers) != 2 || lb.Servers[0].URL != "http://10.0.0.1:8080" {
		t.Errorf("servers %+v", lb.Servers)
	}
	// A rule whose backend is invalid answers 500 (its 503 rewritten).
	bad := conf.HTTP.Routers["httproute-app-badref-gw-app-gw-ep-web-http-0-0"]
	if bad == nil || len(bad.Middlewares) == 0 || bad.Middlewares[0] != "invalid-backend-500" {
		t.Errorf("badref router %+v", bad)
	}
	if r.Middlewares != nil {
		t.Errorf("valid router has middlewares %v", r.Middlewares)
	}
	// Timeouts become a serversTransport of the rule's own services.
	to := httpRoute("app", "to", []gatev1.ParentReference{parent("gw", "http")}, nil,
		gatev1.HTTPRouteRule{Timeouts: &gatev1.HTTPRouteTimeouts{Request: ptr(gatev1.Duration("10s")), BackendRequest: ptr(gatev1.Duration("2s"))},
			BackendRefs: []gatev1.HTTPBackendRef{ref("a", 80)}})
	st.http = append(st.http, to)
	conf, _ = Build(st, testOpts)
	tr := conf.HTTP.ServersTransports["httproute-app-to-0-timeouts"]
	if tr == nil || tr.ForwardingTimeouts.ResponseHeaderTimeout != ptypes.Duration(2*time.Second) {
		t.Fatalf("transports %v", keys(conf.HTTP.ServersTransports))
	}
	if rs := conf.HTTP.Routers["httproute-app-to-gw-app-gw-ep-web-http-0-0"]; rs == nil || conf.HTTP.Services[rs.Service].LoadBalancer.ServersTransport != "httproute-app-to-0-timeouts" {
		t.Errorf("router %+v", rs)
	}
	if conf.HTTP.Services["app-a-80"].LoadBalancer.ServersTransport != "" {
		t.Error("the shared service got the rule's transport")
	}
	st.http = st.http[:len(st.http)-1]
	// The granted cross-namespace reference resolves.
	st.grants = []*gatev1.ReferenceGrant{{ObjectMeta: om("far", "g"), Spec: gatev1.ReferenceGrantSpec{
		From: []gatev1.ReferenceGrantFrom{{Group: gatev1.GroupName, Kind: "HTTPRoute", Namespace: "app"}},
		To:   []gatev1.ReferenceGrantTo{{Kind: "Service"}},
	}}}
	_, status = Build(st, testOpts)
	wantCond(t, "crossns granted", routeConds(t, status, "app", "crossns"), "ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs")
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestIntersect(t *testing.T) {
	tests := []struct {
		listener string
		route    []gatev1.Hostname
		want     string
		ok       bool
	}{
		{"", nil, "", true},
		{"a.com", nil, "a.com", true},
		{"", []gatev1.Hostname{"a.com"}, "a.com", true},
		{"*.a.com", []gatev1.Hostname{"x.a.com", "x.b.com"}, "x.a.com", true},
		{"*.a.com", []gatev1.Hostname{"y.x.a.com"}, "y.x.a.com", true},
		{"*.a.com", []gatev1.Hostname{"a.com"}, "", false},
		{"x.a.com", []gatev1.Hostname{"*.a.com"}, "x.a.com", true},
		{"*.a.com", []gatev1.Hostname{"*.x.a.com"}, "*.x.a.com", true},
		{"*.x.a.com", []gatev1.Hostname{"*.a.com"}, "*.x.a.com", true},
		{"a.com", []gatev1.Hostname{"b.com"}, "", false},
	}
	for _, tc := range tests {
		got, ok := intersect(tc.listener, tc.route)
		if ok != tc.ok || strings.Join(got, ",") != tc.want {
			t.Errorf("intersect(%q, %v) = %v %v, want %q %v", tc.listener, tc.route, got, ok, tc.want, tc.ok)
		}
	}
}

// TestMatchRule checks the translated rules parse and match the requests
// the Gateway API says they match.
func TestMatchRule(t *testing.T) {
	exact, prefix, regex := gatev1.PathMatchExact, gatev1.PathMatchPathPrefix, gatev1.PathMatchRegularExpression
	hre := gatev1.HeaderMatchRegularExpression
	get := gatev1.HTTPMethodGet
	tests := []struct {
		desc  string
		m     gatev1.HTTPRouteMatch
		match []string // method path?query [header=value]
		miss  []string
	}{
		{"default prefix", gatev1.HTTPRouteMatch{}, []string{"GET /", "GET /x/y"}, nil},
		{"prefix elements", gatev1.HTTPRouteMatch{Path: &gatev1.HTTPPathMatch{Type: &prefix, Value: ptr("/foo")}},
			[]string{"GET /foo", "GET /foo/", "GET /foo/bar"}, []string{"GET /foobar", "GET /fo"}},
		{"prefix trailing slash", gatev1.HTTPRouteMatch{Path: &gatev1.HTTPPathMatch{Type: &prefix, Value: ptr("/foo/")}},
			[]string{"GET /foo", "GET /foo/bar"}, []string{"GET /foobar"}},
		{"exact", gatev1.HTTPRouteMatch{Path: &gatev1.HTTPPathMatch{Type: &exact, Value: ptr("/a b")}},
			[]string{"GET /a%20b"}, []string{"GET /a%20b/", "GET /a"}},
		{"regex anchored", gatev1.HTTPRouteMatch{Path: &gatev1.HTTPPathMatch{Type: &regex, Value: ptr("/v[0-9]+")}},
			[]string{"GET /v1", "GET /v22"}, []string{"GET /v1/x", "GET /x/v1"}},
		{"method header query", gatev1.HTTPRouteMatch{
			Method:      &get,
			Headers:     []gatev1.HTTPHeaderMatch{{Name: "x-a", Value: "1"}, {Type: &hre, Name: "X-B", Value: "b.*"}},
			QueryParams: []gatev1.HTTPQueryParamMatch{{Name: "q", Value: "a\"`b"}},
		}, []string{"GET /?q=a%22%60b X-A=1 X-B=bee"}, []string{"POST /?q=a%22%60b X-A=1 X-B=bee", "GET /?q=a X-A=1 X-B=bee", "GET /?q=a%22%60b X-A=1 X-B=abee"}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			hm, err := matchRule(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			m, err := rules.ParseHTTP(hm.rule)
			if err != nil {
				t.Fatalf("rule %s: %v", hm.rule, err)
			}
			try := func(s string) bool {
				f := strings.Fields(s)
				req := httptest.NewRequest(f[0], "http://h"+f[1], nil)
				for _, h := range f[2:] {
					k, v, _ := strings.Cut(h, "=")
					req.Header.Add(k, v)
				}
				return m.Match(req)
			}
			for _, s := range tc.match {
				if !try(s) {
					t.Errorf("%s does not match %q", hm.rule, s)
				}
			}
			for _, s := range tc.miss {
				if try(s) {
					t.Errorf("%s matches %q", hm.rule, s)
				}
			}
		})
	}
}

// TestPriority: the Gateway API's precedence, as router priorities.
func TestPriority(t *testing.T) {
	exact, prefix := gatev1.PathMatchExact, gatev1.PathMatchPathPrefix
	p := func(m gatev1.HTTPRouteMatch, hosts ...string) int {
		hm, err := matchRule(m)
		if err != nil {
			t.Fatal(err)
		}
		return hostScore(hosts)*1_000_000_000 + hm.prio
	}
	long := gatev1.HTTPRouteMatch{Path: &gatev1.HTTPPathMatch{Type: &prefix, Value: ptr("/a/b/c/d/e")}}
	short := gatev1.HTTPRouteMatch{Path: &gatev1.HTTPPathMatch{Type: &prefix, Value: ptr("/a")}}
	ex := gatev1.HTTPRouteMatch{Path: &gatev1.HTTPPathMatch{Type: &exact, Value: ptr("/a")}}
	withHeader := gatev1.HTTPRouteMatch{Path: short.Path, Headers: []gatev1.HTTPHeaderMatch{{Name: "x", Value: "y"}}}
	withMethod := gatev1.HTTPRouteMatch{Path: short.Path, Method: ptr(gatev1.HTTPMethodGet)}
	order := []int{
		p(short, "a.example.com"), // exact host beats everything without
		p(long, "*.example.com"),  // wildcard host next
		p(ex),
		p(long),
		p(withMethod),
		p(withHeader),
		p(short),
	}
	for i := 1; i < len(order); i++ {
		if order[i-1] <= order[i] {
			t.Errorf("priority %d (%d) not above %d (%d)", i-1, order[i-1], i, order[i])
		}
	}
}

func FuzzMatchRule(f *testing.F) {
	f.Add("/foo", "X-A", "v", "q", "1", uint8(0))
	f.Add("/a`b\"c", "x", "`", "k", "\\", uint8(1))
	f.Add("/(", "h", "[", "q", "*", uint8(2))
	f.Fuzz(func(t *testing.T, path, hname, hval, qname, qval string, typ uint8) {
		types := []gatev1.PathMatchType{gatev1.PathMatchExact, gatev1.PathMatchPathPrefix, gatev1.PathMatchRegularExpression}
		pt := types[int(typ)%3]
		m := gatev1.HTTPRouteMatch{
			Path:        &gatev1.HTTPPathMatch{Type: &pt, Value: &path},
			Headers:     []gatev1.HTTPHeaderMatch{{Name: gatev1.HTTPHeaderName(hname), Value: hval}},
			QueryParams: []gatev1.HTTPQueryParamMatch{{Name: gatev1.HTTPHeaderName(qname), Value: qval}},
		}
		hm, err := matchRule(m)
		if err != nil {
			return
		}
		if _, err := rules.ParseHTTP(hm.rule); err != nil {
			t.Fatalf("match %+v: rule %s does not parse: %v", m, hm.rule, err)
		}
		// An exact path with a plain header and query value matches a
		// request carrying exactly them.
		if pt != gatev1.PathMatchExact || strings.ContainsAny(path, "%?#") || !validToken(hname) || !validToken(qname) || strings.ContainsAny(hval, "\r\n\x00") {
			return
		}
		u := &url.URL{Scheme: "http", Host: "h", Path: path, RawQuery: url.Values{qname: {qval}}.Encode()}
		if !validPath(path) {
			return
		}
		req := httptest.NewRequest("GET", "http://h"+path+"?"+u.RawQuery, nil) // the path as sent on the wire
		req.Header.Set(hname, hval)
		if hval == "" || strings.TrimSpace(hval) != hval {
			return // header values are trimmed on the wire
		}
		m2, _ := rules.ParseHTTP(hm.rule)
		if !m2.Match(req) {
			t.Errorf("rule %s does not match path %q header %q=%q query %q", hm.rule, path, hname, hval, u.RawQuery)
		}
	})
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", c) {
			return false
		}
	}
	return true
}

func validPath(p string) bool {
	for _, c := range p {
		if c < 0x21 || c >= 0x7f {
			return false
		}
	}
	return strings.HasPrefix(p, "/") && !strings.Contains(p, "//") && !strings.Contains(p, "/.")
}
