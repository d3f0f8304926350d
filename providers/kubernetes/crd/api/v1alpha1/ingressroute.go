package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// IngressRoute is an HTTP router: rules on entrypoints to Kubernetes
// Services or TraefikServices, through Middlewares.
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
type IngressRoute struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata"`

	Spec IngressRouteSpec `json:"spec"`
}

// IngressRouteSpec is the desired state of an IngressRoute.
type IngressRouteSpec struct {
	// Routes is the list of routes, one router each.
	Routes []Route `json:"routes"`
	// EntryPoints are the entrypoints the routers listen on; empty means
	// the default entrypoints.
	EntryPoints []string `json:"entryPoints,omitempty"`
	// TLS makes the routers TLS-only.
	TLS *TLS `json:"tls,omitempty"`
	// ParentRefs names parent IngressRoutes (multi-layer routing).
	// Switchyard does not support multi-layer routing: an IngressRoute
	// that sets it is reported and skipped.
	ParentRefs []IngressRouteRef `json:"parentRefs,omitempty"`
}

// IngressRouteRef names an IngressRoute.
type IngressRouteRef struct {
	Name string `json:"name"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// Route is one router of an IngressRoute.
type Route struct {
	// Match is the router's rule.
	Match string `json:"match"`
	// Kind is always Rule.
	// +kubebuilder:validation:Enum=Rule
	// +optional
	Kind string `json:"kind,omitempty"`
	// Priority breaks ties between rules; 0 means the rule's length.
	// +optional
	Priority int `json:"priority,omitempty"`
	// Syntax is the rule syntax (v2 or v3); deprecated in Traefik.
	// +kubebuilder:validation:Enum=v3;v2
	// +optional
	Syntax string `json:"syntax,omitempty"`
	// Services are the targets (Kubernetes Services or TraefikServices);
	// more than one are balanced by weight.
	Services []Service `json:"services,omitempty"`
	// Middlewares are applied in order.
	Middlewares []MiddlewareRef `json:"middlewares,omitempty"`
	// Observability switches access logs, metrics and tracing for the router.
	Observability *dynamic.RouterObservabilityConfig `json:"observability,omitempty"`
}

// TLS configures the TLS of an IngressRoute's routers.
type TLS struct {
	// SecretName is a kubernetes.io/tls Secret of the IngressRoute's
	// namespace holding the certificate.
	SecretName string `json:"secretName,omitempty"`
	// Options references a TLSOption.
	Options *TLSOptionRef `json:"options,omitempty"`
	// Store references a TLSStore (only "default" exists).
	Store *TLSStoreRef `json:"store,omitempty"`
	// CertResolver names a certificate resolver of the static configuration.
	CertResolver string `json:"certResolver,omitempty"`
	// Domains are the domains the resolver gets certificates for.
	Domains []dynamic.Domain `json:"domains,omitempty"`
}

// TLSOptionRef references a TLSOption.
type TLSOptionRef struct {
	Name string `json:"name"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// TLSStoreRef references a TLSStore.
type TLSStoreRef struct {
	Name string `json:"name"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// MiddlewareRef references a Middleware.
type MiddlewareRef struct {
	// Name of the Middleware; "name@provider" references a middleware of
	// another provider.
	Name string `json:"name"`
	// Namespace of the Middleware; default the referencing object's.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// Service is a weighted target of a route or of a weighted TraefikService.
type Service struct {
	LoadBalancerSpec `json:",inline"`

	// Middlewares of this child only (Traefik's per-child middlewares).
	// Not supported by Switchyard: a service that sets them is refused and
	// reported rather than served without them.
	Middlewares []MiddlewareRef `json:"middlewares,omitempty"`
}

// LoadBalancerSpec references a Kubernetes Service (a load balancer over
// its endpoints) or a TraefikService.
type LoadBalancerSpec struct {
	// Name of the Service or TraefikService.
	Name string `json:"name"`
	// Kind is Service (default) or TraefikService.
	// +kubebuilder:validation:Enum=Service;TraefikService
	// +optional
	Kind string `json:"kind,omitempty"`
	// Namespace of the target; default the referencing object's.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Sticky pins clients to a server with a cookie.
	Sticky *dynamic.Sticky `json:"sticky,omitempty"`
	// Port of the Service, by number or name.
	// +optional
	Port intstr.IntOrString `json:"port,omitempty"`
	// Scheme towards the servers (http, https, h2c).
	Scheme string `json:"scheme,omitempty"`
	// Strategy is the load-balancing strategy (wrr, p2c, hrw, leasttime).
	// +kubebuilder:validation:Enum=wrr;p2c;hrw;leasttime
	// +optional
	Strategy string `json:"strategy,omitempty"`
	// PassHostHeader forwards the client's Host header (default true).
	PassHostHeader *bool `json:"passHostHeader,omitempty"`
	// ResponseForwarding tunes how responses are copied to the client.
	ResponseForwarding *ResponseForwarding `json:"responseForwarding,omitempty"`
	// ServersTransport names a ServersTransport of the namespace.
	ServersTransport string `json:"serversTransport,omitempty"`
	// Weight of this target when a route or TraefikService has several.
	// +kubebuilder:validation:Minimum=0
	Weight *int `json:"weight,omitempty"`
	// NativeLB sends to the Service's cluster IP instead of its endpoints.
	NativeLB *bool `json:"nativeLB,omitempty"`
	// NodePortLB sends to the nodes' NodePort (not supported).
	NodePortLB bool `json:"nodePortLB,omitempty"`
	// HealthCheck is an active health check of the servers.
	HealthCheck *ServerHealthCheck `json:"healthCheck,omitempty"`
	// PassiveHealthCheck ejects servers that fail on real traffic.
	PassiveHealthCheck *PassiveServerHealthCheck `json:"passiveHealthCheck,omitempty"`
}

// ResponseForwarding tunes how responses are copied to the client.
type ResponseForwarding struct {
	// FlushInterval between flushes (default 100ms; negative: after
	// every write).
	FlushInterval string `json:"flushInterval,omitempty"`
}

// ServerHealthCheck is an active health check.
type ServerHealthCheck struct {
	Scheme string `json:"scheme,omitempty"`
	// +kubebuilder:validation:Enum=http;grpc
	Mode     string `json:"mode,omitempty"`
	Path     string `json:"path,omitempty"`
	Method   string `json:"method,omitempty"`
	Status   int    `json:"status,omitempty"`
	Port     int    `json:"port,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	// Interval between checks (default 30s).
	Interval *intstr.IntOrString `json:"interval,omitempty"`
	// UnhealthyInterval between checks of an unhealthy server.
	UnhealthyInterval *intstr.IntOrString `json:"unhealthyInterval,omitempty"`
	// Timeout of one check (default 5s).
	Timeout         *intstr.IntOrString `json:"timeout,omitempty"`
	FollowRedirects *bool               `json:"followRedirects,omitempty"`
	Headers         map[string]string   `json:"headers,omitempty"`
}

// PassiveServerHealthCheck ejects servers that fail on real traffic.
type PassiveServerHealthCheck struct {
	FailureWindow     *intstr.IntOrString `json:"failureWindow,omitempty"`
	MaxFailedAttempts *int                `json:"maxFailedAttempts,omitempty"`
}
