package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Middleware is an HTTP middleware, referenced by IngressRoutes of its
// namespace (or of any namespace with allowCrossNamespace).
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
type Middleware struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata"`

	Spec MiddlewareSpec `json:"spec"`
}

// MiddlewareSpec is exactly one middleware kind. Kinds whose options are
// plain values use the dynamic configuration's types; kinds that read
// Secrets or reference Services have Kubernetes-specific fields.
type MiddlewareSpec struct {
	AddPrefix         *dynamic.AddPrefix         `json:"addPrefix,omitempty"`
	StripPrefix       *dynamic.StripPrefix       `json:"stripPrefix,omitempty"`
	StripPrefixRegex  *dynamic.StripPrefixRegex  `json:"stripPrefixRegex,omitempty"`
	ReplacePath       *dynamic.ReplacePath       `json:"replacePath,omitempty"`
	ReplacePathRegex  *dynamic.ReplacePathRegex  `json:"replacePathRegex,omitempty"`
	Chain             *Chain                     `json:"chain,omitempty"`
	IPAllowList       *dynamic.IPAllowList       `json:"ipAllowList,omitempty"`
	IPDenyList        *dynamic.IPDenyList        `json:"ipDenyList,omitempty"`
	Headers           *dynamic.Headers           `json:"headers,omitempty"`
	Errors            *ErrorPage                 `json:"errors,omitempty"`
	RateLimit         *RateLimit                 `json:"rateLimit,omitempty"`
	RedirectRegex     *RedirectRegex             `json:"redirectRegex,omitempty"`
	RedirectScheme    *RedirectScheme            `json:"redirectScheme,omitempty"`
	BasicAuth         *BasicAuth                 `json:"basicAuth,omitempty"`
	DigestAuth        *DigestAuth                `json:"digestAuth,omitempty"`
	ForwardAuth       *ForwardAuth               `json:"forwardAuth,omitempty"`
	InFlightReq       *InFlightReq               `json:"inFlightReq,omitempty"`
	Buffering         *dynamic.Buffering         `json:"buffering,omitempty"`
	CircuitBreaker    *CircuitBreaker            `json:"circuitBreaker,omitempty"`
	Compress          *dynamic.Compress          `json:"compress,omitempty"`
	PassTLSClientCert *dynamic.PassTLSClientCert `json:"passTLSClientCert,omitempty"`
	Retry             *Retry                     `json:"retry,omitempty"`
	ContentType       *dynamic.ContentType       `json:"contentType,omitempty"`
	GrpcWeb           *dynamic.GrpcWeb           `json:"grpcWeb,omitempty"`
	// Plugin is a plugin's configuration (plugins are not supported by
	// Switchyard: such a Middleware is reported).
	Plugin map[string]apiextensionsv1.JSON `json:"plugin,omitempty"`
}

// Chain runs other Middlewares of the namespace in order.
type Chain struct {
	Middlewares []MiddlewareRef `json:"middlewares,omitempty"`
}

// ErrorPage serves an error page from a Service for some statuses.
type ErrorPage struct {
	// Status lists statuses or ranges ("500-599").
	Status []string `json:"status,omitempty"`
	// StatusRewrites maps statuses or ranges to the status sent instead.
	StatusRewrites map[string]int `json:"statusRewrites,omitempty"`
	// Service serves the error page.
	Service Service `json:"service,omitempty"`
	// Query is the path asked of the service ({status}, {url} replaced).
	Query string `json:"query,omitempty"`
}

// RateLimit is a token bucket per source.
type RateLimit struct {
	// +kubebuilder:validation:Minimum=0
	Average int64 `json:"average,omitempty"`
	// Period of the average (default 1s); an integer is seconds.
	Period *intstr.IntOrString `json:"period,omitempty"`
	// +kubebuilder:validation:Minimum=0
	Burst           *int64                   `json:"burst,omitempty"`
	SourceCriterion *dynamic.SourceCriterion `json:"sourceCriterion,omitempty"`
	// Redis shares the buckets between replicas.
	Redis *Redis `json:"redis,omitempty"`
}

// Redis is the connection of a shared rate limit; credentials come from
// a Secret.
type Redis struct {
	Endpoints []string `json:"endpoints,omitempty"`
	// TLS towards Redis, with certificates from Secrets.
	TLS *ClientTLS `json:"tls,omitempty"`
	// Secret names a Secret of the namespace with "username" and
	// "password" keys.
	Secret         string              `json:"secret,omitempty"`
	DB             int                 `json:"db,omitempty"`
	PoolSize       int                 `json:"poolSize,omitempty"`
	MinIdleConns   int                 `json:"minIdleConns,omitempty"`
	MaxActiveConns int                 `json:"maxActiveConns,omitempty"`
	ReadTimeout    *intstr.IntOrString `json:"readTimeout,omitempty"`
	WriteTimeout   *intstr.IntOrString `json:"writeTimeout,omitempty"`
	DialTimeout    *intstr.IntOrString `json:"dialTimeout,omitempty"`
	DenyOnError    *bool               `json:"denyOnError,omitempty"`
}

// BasicAuth checks users from a Secret.
type BasicAuth struct {
	// Secret names a Secret of the namespace: kubernetes.io/basic-auth
	// (username, password) or opaque with a "users" key of htpasswd lines.
	Secret string `json:"secret,omitempty"`
	Realm  string `json:"realm,omitempty"`
	// RemoveHeader removes the Authorization header before forwarding.
	RemoveHeader bool `json:"removeHeader,omitempty"`
	// HeaderField carries the authenticated user to the backend.
	HeaderField string `json:"headerField,omitempty"`
}

// DigestAuth checks htdigest users from a Secret ("users" key).
type DigestAuth struct {
	Secret       string `json:"secret,omitempty"`
	RemoveHeader bool   `json:"removeHeader,omitempty"`
	Realm        string `json:"realm,omitempty"`
	HeaderField  string `json:"headerField,omitempty"`
}

// ForwardAuth delegates authentication to an external service.
type ForwardAuth struct {
	Address                  string   `json:"address,omitempty"`
	TrustForwardHeader       bool     `json:"trustForwardHeader,omitempty"`
	AuthResponseHeaders      []string `json:"authResponseHeaders,omitempty"`
	AuthResponseHeadersRegex string   `json:"authResponseHeadersRegex,omitempty"`
	AuthRequestHeaders       []string `json:"authRequestHeaders,omitempty"`
	// TLS towards the auth server, with certificates from Secrets.
	TLS                      *ClientTLS `json:"tls,omitempty"`
	AddAuthCookiesToResponse []string   `json:"addAuthCookiesToResponse,omitempty"`
	HeaderField              string     `json:"headerField,omitempty"`
	ForwardBody              bool       `json:"forwardBody,omitempty"`
	MaxBodySize              *int64     `json:"maxBodySize,omitempty"`
	PreserveLocationHeader   bool       `json:"preserveLocationHeader,omitempty"`
	PreserveRequestMethod    bool       `json:"preserveRequestMethod,omitempty"`
}

// ClientTLS is a TLS client configuration read from Secrets.
type ClientTLS struct {
	// CASecret names a Secret with the CA ("tls.ca" or "ca.crt" key).
	CASecret string `json:"caSecret,omitempty"`
	// CertSecret names a kubernetes.io/tls Secret with the client certificate.
	CertSecret         string `json:"certSecret,omitempty"`
	InsecureSkipVerify bool   `json:"insecureSkipVerify,omitempty"`
	CAOptional         *bool  `json:"caOptional,omitempty"`
}

// CircuitBreaker trips on an expression over recent traffic.
type CircuitBreaker struct {
	Expression       string              `json:"expression,omitempty"`
	CheckPeriod      *intstr.IntOrString `json:"checkPeriod,omitempty"`
	FallbackDuration *intstr.IntOrString `json:"fallbackDuration,omitempty"`
	RecoveryDuration *intstr.IntOrString `json:"recoveryDuration,omitempty"`
	ResponseCode     int                 `json:"responseCode,omitempty"`
}

// Retry re-sends a request on network errors.
type Retry struct {
	// +kubebuilder:validation:Minimum=0
	Attempts        int                 `json:"attempts,omitempty"`
	InitialInterval *intstr.IntOrString `json:"initialInterval,omitempty"`
}

// The dynamic redirect types carry a provider-only status code that
// Traefik's CRD does not expose: these two have the CRD's fields only.

// RedirectRegex redirects URLs matching a regexp.
type RedirectRegex struct {
	Regex       string `json:"regex,omitempty"`
	Replacement string `json:"replacement,omitempty"`
	Permanent   bool   `json:"permanent,omitempty"`
}

// RedirectScheme redirects to another scheme (and port).
type RedirectScheme struct {
	Scheme    string `json:"scheme,omitempty"`
	Port      string `json:"port,omitempty"`
	Permanent bool   `json:"permanent,omitempty"`
}

// The dynamic inFlightReq type carries a provider-only status code that
// Traefik's CRD does not expose: this one has the CRD's fields only.

// InFlightReq limits simultaneous requests per source.
type InFlightReq struct {
	Amount          int64                    `json:"amount,omitempty"`
	SourceCriterion *dynamic.SourceCriterion `json:"sourceCriterion,omitempty"`
}
