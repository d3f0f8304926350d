// Package v1alpha1 holds the Go types of Switchyard's custom resources, in
// the shape Traefik documents for its traefik.io/v1alpha1 group
// (IngressRoute, IngressRouteTCP, IngressRouteUDP, Middleware,
// MiddlewareTCP, TraefikService, TLSOption, TLSStore, ServersTransport,
// ServersTransportTCP), so that objects written for Traefik apply
// unchanged. The CRD YAML under deploy/crds/ is generated from these types
// by controller-gen (make crds); where the shape of an option matches the
// dynamic model, the dynamic type is used as it is.
//
// +groupName=traefik.io
package v1alpha1

// Group and version of every kind of this package.
const (
	GroupName = "traefik.io"
	Version   = "v1alpha1"
)

// Kinds, as the API server names them.
const (
	KindIngressRoute        = "IngressRoute"
	KindIngressRouteTCP     = "IngressRouteTCP"
	KindIngressRouteUDP     = "IngressRouteUDP"
	KindMiddleware          = "Middleware"
	KindMiddlewareTCP       = "MiddlewareTCP"
	KindTraefikService      = "TraefikService"
	KindTLSOption           = "TLSOption"
	KindTLSStore            = "TLSStore"
	KindServersTransport    = "ServersTransport"
	KindServersTransportTCP = "ServersTransportTCP"
)

// Resources maps each kind to its plural resource name.
var Resources = map[string]string{
	KindIngressRoute:        "ingressroutes",
	KindIngressRouteTCP:     "ingressroutetcps",
	KindIngressRouteUDP:     "ingressrouteudps",
	KindMiddleware:          "middlewares",
	KindMiddlewareTCP:       "middlewaretcps",
	KindTraefikService:      "traefikservices",
	KindTLSOption:           "tlsoptions",
	KindTLSStore:            "tlsstores",
	KindServersTransport:    "serverstransports",
	KindServersTransportTCP: "serverstransporttcps",
}
