package gateway

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gatev1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/k8s"
)

// Controller names this provider answers for: Traefik's, so existing
// GatewayClasses work unchanged, and Switchyard's own.
const (
	ControllerName           = "traefik.io/gateway-controller"
	SwitchyardControllerName = "switchyard.io/gateway-controller"
)

const (
	groupGateway = gatev1.GroupName // gateway.networking.k8s.io
	kindGateway  = "Gateway"
	kindService  = "Service"
	kindSecret   = "Secret"
	kindHTTP     = "HTTPRoute"
	kindGRPC     = "GRPCRoute"
	kindTLS      = "TLSRoute"
	kindTCP      = "TCPRoute"
	// annotationNativeLB makes a Service's ClusterIP its only server.
	annotationNativeLB = "traefik.io/service.nativelb"
)

// Store is what the translation reads: informer caches in the provider,
// plain slices in tests.
type Store interface {
	GatewayClasses() []*gatev1.GatewayClass
	Gateways() []*gatev1.Gateway
	HTTPRoutes() []*gatev1.HTTPRoute
	GRPCRoutes() []*gatev1.GRPCRoute
	TLSRoutes() []*gatev1.TLSRoute
	TCPRoutes() []*gatev1.TCPRoute
	ReferenceGrants(ns string) []*gatev1.ReferenceGrant
	Service(ns, name string) *corev1.Service
	EndpointSlices(ns, svc string) []*discoveryv1.EndpointSlice
	Secret(ns, name string) *corev1.Secret
	Namespace(name string) *corev1.Namespace
}

// EntryPoint is a static entrypoint as listeners see it.
type EntryPoint struct {
	Name string
	Port int32
	UDP  bool
}

// Options shape the translation.
type Options struct {
	EntryPoints       []EntryPoint
	NativeLBByDefault bool
	// Addresses go to every Gateway's status.addresses.
	Addresses []gatev1.GatewayStatusAddress
}

// Status is what the translation wants the objects' status to be. Route
// statuses hold only the parents this controller owns.
type Status struct {
	GatewayClasses map[string]gatev1.GatewayClassStatus
	Gateways       map[types.NamespacedName]gatev1.GatewayStatus
	Routes         map[RouteKey][]gatev1.RouteParentStatus
}

// RouteKey names a route of some kind.
type RouteKey struct {
	Kind string
	types.NamespacedName
}

// listener is a Gateway listener and what was found about it.
type listener struct {
	gw        *gatev1.Gateway
	spec      gatev1.Listener
	ep        string
	valid     bool // routes can attach and traffic flows
	kinds     []gatev1.RouteGroupKind
	attached  int32
	conds     []metav1.Condition
	passthru  bool
	tlsConfig bool // HTTPS or TLS terminate with certificates loaded
}

type builder struct {
	// transport is the serversTransport of the rule being translated
	// (HTTPRoute timeouts), "" for the default one.
	transport string
	st        Store
	opts      Options
	conf      *dynamic.Configuration
	status    Status
	certs     map[string]bool // secret ns/name already added
}

// Build translates the Gateway API objects into a dynamic configuration and
// the status every object should have. It never fails: an invalid object is
// left out and its status says why.
func Build(st Store, opts Options) (*dynamic.Configuration, Status) {
	b := &builder{st: st, opts: opts, conf: dynamic.New(), certs: map[string]bool{},
		status: Status{
			GatewayClasses: map[string]gatev1.GatewayClassStatus{},
			Gateways:       map[types.NamespacedName]gatev1.GatewayStatus{},
			Routes:         map[RouteKey][]gatev1.RouteParentStatus{},
		}}
	classes := map[string]*gatev1.GatewayClass{}
	for _, gc := range st.GatewayClasses() {
		if c := string(gc.Spec.ControllerName); c != ControllerName && c != SwitchyardControllerName {
			continue
		}
		classes[gc.Name] = gc
		var s gatev1.GatewayClassStatus
		meta.SetStatusCondition(&s.Conditions, metav1.Condition{
			Type: string(gatev1.GatewayClassConditionStatusAccepted), Status: metav1.ConditionTrue,
			Reason: string(gatev1.GatewayClassReasonAccepted), Message: "handled by switchyard",
			ObservedGeneration: gc.Generation,
		})
		for _, f := range supportedFeatures {
			s.SupportedFeatures = append(s.SupportedFeatures, gatev1.SupportedFeature{Name: gatev1.FeatureName(f)})
		}
		b.status.GatewayClasses[gc.Name] = s
	}

	gateways := map[types.NamespacedName][]*listener{}
	for _, gw := range sortedByName(st.Gateways()) {
		if _, ok := classes[string(gw.Spec.GatewayClassName)]; !ok {
			continue
		}
		gateways[types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}] = b.listeners(gw)
	}

	for _, r := range sortedByName(st.HTTPRoutes()) {
		b.httpRoute(r, gateways)
	}
	for _, r := range sortedByName(st.GRPCRoutes()) {
		b.grpcRoute(r, gateways)
	}
	for _, r := range sortedByName(st.TLSRoutes()) {
		b.tlsRoute(r, gateways)
	}
	for _, r := range sortedByName(st.TCPRoutes()) {
		b.tcpRoute(r, gateways)
	}

	for key, ls := range gateways {
		b.status.Gateways[key] = b.gatewayStatus(ls)
	}
	return b.conf, b.status
}

// supportedFeatures are published on accepted GatewayClasses
// (status.supportedFeatures), as the conformance suite reads them.
var supportedFeatures = []string{
	"Gateway", "GatewayPort8080", "HTTPRoute", "HTTPRouteHostRewrite", "HTTPRouteMethodMatching",
	"HTTPRoutePathRedirect", "HTTPRoutePathRewrite", "HTTPRoutePortRedirect", "HTTPRouteQueryParamMatching",
	"HTTPRouteRequestMirror", "HTTPRouteResponseHeaderModification", "HTTPRouteSchemeRedirect",
	"GRPCRoute", "ReferenceGrant", "TLSRoute", "TCPRoute",
}

func sortedByName[T metav1.Object](in []T) []T {
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b T) int {
		return cmp.Or(cmp.Compare(a.GetNamespace(), b.GetNamespace()), cmp.Compare(a.GetName(), b.GetName()))
	})
	return out
}

func cond(typ string, ok bool, reason, msg string, gen int64) metav1.Condition {
	s := metav1.ConditionFalse
	if ok {
		s = metav1.ConditionTrue
	}
	return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: msg, ObservedGeneration: gen}
}

// routeKindsFor are the route kinds a protocol carries.
func routeKindsFor(p gatev1.ProtocolType) []string {
	switch p {
	case gatev1.HTTPProtocolType, gatev1.HTTPSProtocolType:
		return []string{kindHTTP, kindGRPC}
	case gatev1.TLSProtocolType:
		return []string{kindTLS}
	case gatev1.TCPProtocolType:
		return []string{kindTCP}
	}
	return nil
}

// listeners checks every listener of a Gateway: an entrypoint with its
// port, a supported protocol, no conflict, certificates, route kinds.
func (b *builder) listeners(gw *gatev1.Gateway) []*listener {
	gen := gw.Generation
	var out []*listener
	for _, spec := range gw.Spec.Listeners {
		l := &listener{gw: gw, spec: spec, valid: true}
		accepted, acceptedReason, acceptedMsg := true, string(gatev1.ListenerReasonAccepted), "listener accepted"
		resolved, resolvedReason, resolvedMsg := true, string(gatev1.ListenerReasonResolvedRefs), "references resolved"
		conflicted, conflictReason, conflictMsg := false, string(gatev1.ListenerReasonNoConflicts), "no conflicts"

		kinds := routeKindsFor(spec.Protocol)
		if kinds == nil {
			accepted, acceptedReason = false, string(gatev1.ListenerReasonUnsupportedProtocol)
			acceptedMsg = fmt.Sprintf("protocol %q is not supported (HTTP, HTTPS, TLS and TCP are)", spec.Protocol)
		} else {
			for _, ep := range b.opts.EntryPoints {
				if ep.Port == spec.Port && !ep.UDP {
					l.ep = ep.Name
					break
				}
			}
			if l.ep == "" {
				accepted, acceptedReason = false, string(gatev1.ListenerReasonPortUnavailable)
				acceptedMsg = fmt.Sprintf("no TCP entrypoint listens on port %d: a listener's port must be an entrypoint's port", spec.Port)
			}
		}
		// Route kinds: the protocol's, or those asked for that it carries.
		if spec.AllowedRoutes != nil && len(spec.AllowedRoutes.Kinds) > 0 {
			for _, k := range spec.AllowedRoutes.Kinds {
				g := groupGateway
				if k.Group != nil {
					g = string(*k.Group)
				}
				if g == groupGateway && slices.Contains(kinds, string(k.Kind)) {
					l.kinds = append(l.kinds, gatev1.RouteGroupKind{Group: ptr(gatev1.Group(groupGateway)), Kind: k.Kind})
					continue
				}
				resolved, resolvedReason = false, string(gatev1.ListenerReasonInvalidRouteKinds)
				resolvedMsg = fmt.Sprintf("route kind %s/%s is not supported on a %s listener", g, k.Kind, spec.Protocol)
			}
		} else {
			for _, k := range kinds {
				l.kinds = append(l.kinds, gatev1.RouteGroupKind{Group: ptr(gatev1.Group(groupGateway)), Kind: gatev1.Kind(k)})
			}
		}
		// TLS.
		switch spec.Protocol {
		case gatev1.HTTPSProtocolType, gatev1.TLSProtocolType:
			mode := gatev1.TLSModeTerminate
			if spec.TLS != nil && spec.TLS.Mode != nil {
				mode = *spec.TLS.Mode
			}
			if mode == gatev1.TLSModePassthrough {
				if spec.Protocol == gatev1.HTTPSProtocolType {
					accepted, acceptedReason = false, string(gatev1.ListenerReasonUnsupportedValue)
					acceptedMsg = "an HTTPS listener terminates TLS (use a TLS listener for passthrough)"
				}
				l.passthru = true
				break
			}
			if spec.TLS == nil || len(spec.TLS.CertificateRefs) == 0 {
				resolved, resolvedReason = false, string(gatev1.ListenerReasonInvalidCertificateRef)
				resolvedMsg = "TLS termination needs certificateRefs"
				break
			}
			if ok, reason, msg := b.certificates(gw, spec.TLS.CertificateRefs); !ok {
				resolved, resolvedReason, resolvedMsg = false, reason, msg
			} else {
				l.tlsConfig = true
			}
		}
		// Conflicts with an earlier listener on the same port.
		for _, o := range out {
			if o.spec.Port != spec.Port {
				continue
			}
			if !compatible(o.spec.Protocol, spec.Protocol) {
				conflicted, conflictReason = true, string(gatev1.ListenerReasonProtocolConflict)
				conflictMsg = fmt.Sprintf("listener %q uses port %d with protocol %s", o.spec.Name, spec.Port, o.spec.Protocol)
				break
			}
			if o.spec.Protocol == spec.Protocol && hostnameOf(o.spec.Hostname) == hostnameOf(spec.Hostname) {
				conflicted, conflictReason = true, string(gatev1.ListenerReasonHostnameConflict)
				conflictMsg = fmt.Sprintf("listener %q has the same port, protocol and hostname", o.spec.Name)
				break
			}
		}
		l.valid = accepted && resolved && !conflicted
		programmed, progReason, progMsg := l.valid, string(gatev1.ListenerReasonProgrammed), "listener programmed on entrypoint "+l.ep
		if !l.valid {
			progReason, progMsg = string(gatev1.ListenerReasonInvalid), "listener is not valid"
		}
		l.conds = []metav1.Condition{
			cond(string(gatev1.ListenerConditionAccepted), accepted, acceptedReason, acceptedMsg, gen),
			cond(string(gatev1.ListenerConditionResolvedRefs), resolved, resolvedReason, resolvedMsg, gen),
			cond(string(gatev1.ListenerConditionConflicted), conflicted, conflictReason, conflictMsg, gen),
			cond(string(gatev1.ListenerConditionProgrammed), programmed, progReason, progMsg, gen),
		}
		out = append(out, l)
	}
	return out
}

// compatible: HTTP with HTTP; HTTPS and TLS share a port (SNI decides);
// TCP alone.
func compatible(a, b gatev1.ProtocolType) bool {
	if a == b {
		return true
	}
	tlsLike := func(p gatev1.ProtocolType) bool { return p == gatev1.HTTPSProtocolType || p == gatev1.TLSProtocolType }
	return tlsLike(a) && tlsLike(b)
}

func hostnameOf(h *gatev1.Hostname) string {
	if h == nil {
		return ""
	}
	return string(*h)
}

// certificates loads a listener's certificate Secrets into the TLS store.
func (b *builder) certificates(gw *gatev1.Gateway, refs []gatev1.SecretObjectReference) (bool, string, string) {
	for _, ref := range refs {
		group, kind := "", kindSecret
		if ref.Group != nil {
			group = string(*ref.Group)
		}
		if ref.Kind != nil {
			kind = string(*ref.Kind)
		}
		if group != "" || kind != kindSecret {
			return false, string(gatev1.ListenerReasonInvalidCertificateRef), fmt.Sprintf("certificateRef %s/%s: only core Secrets are supported", group, kind)
		}
		ns := gw.Namespace
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		if ns != gw.Namespace && !b.granted(groupGateway, kindGateway, gw.Namespace, "", kindSecret, ns, string(ref.Name)) {
			return false, string(gatev1.ListenerReasonRefNotPermitted), fmt.Sprintf("certificateRef %s/%s: no ReferenceGrant allows it", ns, ref.Name)
		}
		s := b.st.Secret(ns, string(ref.Name))
		if s == nil {
			return false, string(gatev1.ListenerReasonInvalidCertificateRef), fmt.Sprintf("secret %s/%s not found", ns, ref.Name)
		}
		crt, key := s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey]
		if len(crt) == 0 || len(key) == 0 || !validKeyPair(crt, key) {
			return false, string(gatev1.ListenerReasonInvalidCertificateRef), fmt.Sprintf("secret %s/%s has no valid tls.crt/tls.key pair", ns, ref.Name)
		}
		id := ns + "/" + string(ref.Name)
		if !b.certs[id] {
			b.certs[id] = true
			b.conf.TLS.Certificates = append(b.conf.TLS.Certificates, &dynamic.CertAndStores{
				Certificate: dynamic.Certificate{CertFile: dynamic.FileOrContent(crt), KeyFile: dynamic.FileOrContent(key)},
			})
		}
	}
	return true, "", ""
}

// granted reports whether a ReferenceGrant in the target namespace allows
// a reference from (group, kind, namespace) to (group, kind, name).
func (b *builder) granted(fromGroup, fromKind, fromNs, toGroup, toKind, toNs, toName string) bool {
	for _, g := range b.st.ReferenceGrants(toNs) {
		from := slices.ContainsFunc(g.Spec.From, func(f gatev1.ReferenceGrantFrom) bool {
			return string(f.Group) == fromGroup && string(f.Kind) == fromKind && string(f.Namespace) == fromNs
		})
		if !from {
			continue
		}
		if slices.ContainsFunc(g.Spec.To, func(t gatev1.ReferenceGrantTo) bool {
			return string(t.Group) == toGroup && string(t.Kind) == toKind && (t.Name == nil || *t.Name == "" || string(*t.Name) == toName)
		}) {
			return true
		}
	}
	return false
}

func (b *builder) gatewayStatus(ls []*listener) gatev1.GatewayStatus {
	var s gatev1.GatewayStatus
	if len(ls) == 0 {
		return s
	}
	gw := ls[0].gw
	s.Addresses = slices.Clone(b.opts.Addresses)
	anyValid, allValid := false, true
	for _, l := range ls {
		anyValid = anyValid || l.valid
		allValid = allValid && l.valid
		s.Listeners = append(s.Listeners, gatev1.ListenerStatus{
			Name: l.spec.Name, SupportedKinds: nonNilKinds(l.kinds), AttachedRoutes: l.attached, Conditions: l.conds,
		})
	}
	if allValid {
		s.Conditions = append(s.Conditions, cond(string(gatev1.GatewayConditionAccepted), true, string(gatev1.GatewayReasonAccepted), "gateway accepted", gw.Generation))
	} else {
		s.Conditions = append(s.Conditions, cond(string(gatev1.GatewayConditionAccepted), anyValid, string(gatev1.GatewayReasonListenersNotValid), "some listeners are not valid", gw.Generation))
	}
	if anyValid {
		s.Conditions = append(s.Conditions, cond(string(gatev1.GatewayConditionProgrammed), true, string(gatev1.GatewayReasonProgrammed), "gateway programmed", gw.Generation))
	} else {
		s.Conditions = append(s.Conditions, cond(string(gatev1.GatewayConditionProgrammed), false, string(gatev1.GatewayReasonInvalid), "no valid listener", gw.Generation))
	}
	return s
}

func nonNilKinds(k []gatev1.RouteGroupKind) []gatev1.RouteGroupKind {
	if k == nil {
		return []gatev1.RouteGroupKind{}
	}
	return k
}

// ---------------------------------------------------------------------------
// Attaching routes to listeners.

// attachment is a route attached to one listener, with its effective
// hostnames.
type attachment struct {
	l     *listener
	hosts []string
}

// parentResult is the outcome of one parentRef.
type parentResult struct {
	ref     gatev1.ParentReference
	gen     int64
	atts    []attachment
	reason  string // Accepted reason when no attachment
	message string
	ours    bool
}

// attach resolves a route's parentRefs against our Gateways.
func attach(kind string, obj metav1.Object, refs []gatev1.ParentReference, hostnames []gatev1.Hostname, gateways map[types.NamespacedName][]*listener, st Store) []parentResult {
	var out []parentResult
	for _, ref := range refs {
		group, k := groupGateway, kindGateway
		if ref.Group != nil {
			group = string(*ref.Group)
		}
		if ref.Kind != nil {
			k = string(*ref.Kind)
		}
		if group != groupGateway || k != kindGateway {
			continue // not a Gateway: another controller's business
		}
		ns := obj.GetNamespace()
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		ls, ok := gateways[types.NamespacedName{Namespace: ns, Name: string(ref.Name)}]
		if !ok {
			continue // not one of our Gateways
		}
		res := parentResult{ref: ref, gen: obj.GetGeneration(), ours: true,
			reason: string(gatev1.RouteReasonNoMatchingParent), message: "no listener matches the parentRef"}
		notAllowed, noHost := false, false
		for _, l := range ls {
			if ref.SectionName != nil && *ref.SectionName != l.spec.Name {
				continue
			}
			if ref.Port != nil && *ref.Port != l.spec.Port {
				continue
			}
			if !slices.ContainsFunc(l.kinds, func(rk gatev1.RouteGroupKind) bool { return string(rk.Kind) == kind }) ||
				!namespaceAllowed(l, obj.GetNamespace(), st) {
				notAllowed = true
				continue
			}
			hosts, ok := intersect(hostnameOf(l.spec.Hostname), hostnames)
			if !ok {
				noHost = true
				continue
			}
			l.attached++
			if l.valid {
				res.atts = append(res.atts, attachment{l: l, hosts: hosts})
			} else {
				res.atts = append(res.atts, attachment{l: l}) // accepted, not programmed
			}
		}
		if len(res.atts) == 0 {
			switch {
			case noHost:
				res.reason, res.message = string(gatev1.RouteReasonNoMatchingListenerHostname), "no listener hostname matches the route's hostnames"
			case notAllowed:
				res.reason, res.message = string(gatev1.RouteReasonNotAllowedByListeners), "the listeners' allowedRoutes refuse this route"
			}
		}
		out = append(out, res)
	}
	return out
}

func namespaceAllowed(l *listener, routeNs string, st Store) bool {
	from := gatev1.NamespacesFromSame
	var sel *metav1.LabelSelector
	if ar := l.spec.AllowedRoutes; ar != nil && ar.Namespaces != nil {
		if ar.Namespaces.From != nil {
			from = *ar.Namespaces.From
		}
		sel = ar.Namespaces.Selector
	}
	switch from {
	case gatev1.NamespacesFromAll:
		return true
	case gatev1.NamespacesFromSame:
		return routeNs == l.gw.Namespace
	case gatev1.NamespacesFromSelector:
		if sel == nil {
			return false
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return false
		}
		ns := st.Namespace(routeNs)
		return ns != nil && s.Matches(labels.Set(ns.Labels))
	}
	return false
}

// intersect is the hostnames a route serves on a listener: the route's
// that the listener's hostname admits (a wildcard narrowed to the more
// specific name); none on either side means the other's.
func intersect(listenerHost string, routeHosts []gatev1.Hostname) ([]string, bool) {
	if len(routeHosts) == 0 {
		if listenerHost == "" {
			return nil, true
		}
		return []string{listenerHost}, true
	}
	var out []string
	for _, rh := range routeHosts {
		h := strings.ToLower(string(rh))
		if listenerHost == "" {
			out = append(out, h)
			continue
		}
		lh := strings.ToLower(listenerHost)
		switch {
		case h == lh:
			out = append(out, h)
		case strings.HasPrefix(lh, "*.") && !strings.HasPrefix(h, "*.") && strings.HasSuffix(h, lh[1:]):
			out = append(out, h)
		case strings.HasPrefix(h, "*.") && !strings.HasPrefix(lh, "*.") && strings.HasSuffix(lh, h[1:]):
			out = append(out, lh)
		case strings.HasPrefix(h, "*.") && strings.HasPrefix(lh, "*."):
			if strings.HasSuffix(h, lh[1:]) {
				out = append(out, h)
			} else if strings.HasSuffix(lh, h[1:]) {
				out = append(out, lh)
			}
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	return out, len(out) > 0
}

// parentStatus is the status entry of one parentRef.
func parentStatus(p parentResult, resolvedOK bool, resolvedReason, resolvedMsg string, acceptErr string) gatev1.RouteParentStatus {
	s := gatev1.RouteParentStatus{ParentRef: p.ref, ControllerName: gatev1.GatewayController(ControllerName)}
	switch {
	case len(p.atts) == 0:
		s.Conditions = append(s.Conditions, cond(string(gatev1.RouteConditionAccepted), false, p.reason, p.message, p.gen))
	case acceptErr != "":
		s.Conditions = append(s.Conditions, cond(string(gatev1.RouteConditionAccepted), false, string(gatev1.RouteReasonUnsupportedValue), acceptErr, p.gen))
	default:
		s.Conditions = append(s.Conditions, cond(string(gatev1.RouteConditionAccepted), true, string(gatev1.RouteReasonAccepted), "route accepted", p.gen))
	}
	if resolvedOK {
		s.Conditions = append(s.Conditions, cond(string(gatev1.RouteConditionResolvedRefs), true, string(gatev1.RouteReasonResolvedRefs), "references resolved", p.gen))
	} else {
		s.Conditions = append(s.Conditions, cond(string(gatev1.RouteConditionResolvedRefs), false, resolvedReason, resolvedMsg, p.gen))
	}
	return s
}

// refs collects the first backend reference problem of a route.
type refs struct {
	ok      bool
	reason  string
	message string
}

func newRefs() *refs { return &refs{ok: true} }

func (r *refs) fail(reason, msg string) {
	if r.ok {
		r.ok, r.reason, r.message = false, reason, msg
	}
}

// ---------------------------------------------------------------------------
// Backends.

// backend resolves a backendRef to a service of the dynamic configuration
// ("" when it cannot be resolved; refs records why).
func (b *builder) backend(routeKind, routeNs string, ref gatev1.BackendObjectReference, defScheme string, r *refs) string {
	group, kind := "", kindService
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	if group != "" || kind != kindService {
		r.fail(string(gatev1.RouteReasonInvalidKind), fmt.Sprintf("backend %s/%s %s: only core Services are supported", group, kind, ref.Name))
		return ""
	}
	ns := routeNs
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	if ns != routeNs && !b.granted(groupGateway, routeKind, routeNs, "", kindService, ns, string(ref.Name)) {
		r.fail(string(gatev1.RouteReasonRefNotPermitted), fmt.Sprintf("backend %s/%s: no ReferenceGrant in %s allows %s references from %s", ns, ref.Name, ns, routeKind, routeNs))
		return ""
	}
	svc := b.st.Service(ns, string(ref.Name))
	if svc == nil {
		r.fail(string(gatev1.RouteReasonBackendNotFound), fmt.Sprintf("service %s/%s not found", ns, ref.Name))
		return ""
	}
	if ref.Port == nil {
		r.fail(string(gatev1.RouteReasonUnsupportedValue), fmt.Sprintf("backend %s/%s: port is required", ns, ref.Name))
		return ""
	}
	var sp corev1.ServicePort
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		sp = corev1.ServicePort{Port: *ref.Port}
	} else {
		var ok bool
		if sp, ok = k8s.ResolveTargetPort(svc, *ref.Port, ""); !ok {
			r.fail(string(gatev1.RouteReasonBackendNotFound), fmt.Sprintf("service %s/%s has no port %d", ns, ref.Name, *ref.Port))
			return ""
		}
	}
	scheme := defScheme
	if sp.AppProtocol != nil {
		switch *sp.AppProtocol {
		case "kubernetes.io/h2c":
			scheme = "h2c"
		case "https", "kubernetes.io/https":
			if routeKind == kindHTTP {
				scheme = "https"
			}
		}
	}
	name := fmt.Sprintf("%s-%s-%d", ns, ref.Name, *ref.Port)
	if scheme != "http" && scheme != "tcp" {
		name += "-" + scheme
	}
	transport := ""
	if scheme != "tcp" && b.transport != "" {
		transport = b.transport
		name += "-" + transport
	}
	addrs := b.addresses(svc, sp)
	if scheme == "tcp" {
		name += "-tcp"
		if _, ok := b.conf.TCP.Services[name]; !ok {
			lb := &dynamic.TCPServersLoadBalancer{}
			for _, a := range addrs {
				lb.Servers = append(lb.Servers, dynamic.TCPServer{Address: a})
			}
			b.conf.TCP.Services[name] = &dynamic.TCPService{LoadBalancer: lb}
		}
		return name
	}
	if _, ok := b.conf.HTTP.Services[name]; !ok {
		t := true
		lb := &dynamic.ServersLoadBalancer{PassHostHeader: &t, Strategy: dynamic.StrategyWRR, ServersTransport: transport}
		for _, a := range addrs {
			lb.Servers = append(lb.Servers, dynamic.Server{URL: scheme + "://" + a})
		}
		b.conf.HTTP.Services[name] = &dynamic.Service{LoadBalancer: lb}
	}
	return name
}

// addresses are host:port of a Service port's usable endpoints (or its
// ClusterIP with native load balancing, or its external name).
func (b *builder) addresses(svc *corev1.Service, sp corev1.ServicePort) []string {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return []string{joinHostPort(svc.Spec.ExternalName, sp.Port)}
	}
	native := b.opts.NativeLBByDefault
	if v, ok := svc.Annotations[annotationNativeLB]; ok {
		native = v == "true"
	}
	if native && svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone {
		return []string{joinHostPort(svc.Spec.ClusterIP, sp.Port)}
	}
	var out []string
	for _, e := range k8s.EndpointsFromSlices(b.st.EndpointSlices(svc.Namespace, svc.Name), sp.Name) {
		if e.Usable() {
			out = append(out, e.HostPort())
		}
	}
	return out
}

func joinHostPort(h string, p int32) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]:" + strconv.Itoa(int(p))
	}
	return h + ":" + strconv.Itoa(int(p))
}

// emptyService is where the share of traffic of an invalid backend goes:
// a load balancer without servers (answers 503, which internalError turns
// into the 500 the Gateway API requires).
func (b *builder) emptyService() string {
	const name = "invalid-backend"
	if _, ok := b.conf.HTTP.Services[name]; !ok {
		t := true
		b.conf.HTTP.Services[name] = &dynamic.Service{LoadBalancer: &dynamic.ServersLoadBalancer{PassHostHeader: &t, Strategy: dynamic.StrategyWRR}}
	}
	return name
}

// internalError is the middleware of routers whose rule has an invalid
// backend (or none): the 503 of the service without servers becomes a 500,
// as the Gateway API requires for requests to an invalid backendRef.
func (b *builder) internalError() string {
	const name = "invalid-backend-500"
	if _, ok := b.conf.HTTP.Middlewares[name]; !ok {
		b.conf.HTTP.Middlewares[name] = &dynamic.Middleware{Errors: &dynamic.ErrorPage{
			Status: []string{"503"}, StatusRewrites: map[string]int{"503": 500}, Service: b.emptyService(),
		}}
	}
	return name
}

func ptr[T any](v T) *T { return &v }
