package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// IngressRouteTCP is a TCP router: HostSNI rules to Kubernetes Services,
// TLS terminated or passed through.
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
type IngressRouteTCP struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata"`

	Spec IngressRouteTCPSpec `json:"spec"`
}

// IngressRouteTCPSpec is the desired state of an IngressRouteTCP.
type IngressRouteTCPSpec struct {
	Routes      []RouteTCP `json:"routes"`
	EntryPoints []string   `json:"entryPoints,omitempty"`
	TLS         *TLSTCP    `json:"tls,omitempty"`
}

// RouteTCP is one TCP router.
type RouteTCP struct {
	// Match is the rule (HostSNI, HostSNIRegexp, ClientIP, ALPN).
	Match string `json:"match"`
	// +optional
	Priority int `json:"priority,omitempty"`
	// +kubebuilder:validation:Enum=v3;v2
	// +optional
	Syntax      string            `json:"syntax,omitempty"`
	Services    []ServiceTCP      `json:"services,omitempty"`
	Middlewares []ObjectReference `json:"middlewares,omitempty"`
}

// ObjectReference names an object of a namespace.
type ObjectReference struct {
	Name string `json:"name"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// TLSTCP configures TLS on an IngressRouteTCP.
type TLSTCP struct {
	SecretName string `json:"secretName,omitempty"`
	// Passthrough forwards the TLS connection as it is.
	Passthrough  bool             `json:"passthrough,omitempty"`
	Options      *ObjectReference `json:"options,omitempty"`
	Store        *ObjectReference `json:"store,omitempty"`
	CertResolver string           `json:"certResolver,omitempty"`
	Domains      []dynamic.Domain `json:"domains,omitempty"`
}

// ServiceTCP is a Kubernetes Service port as a TCP target.
type ServiceTCP struct {
	Name string `json:"name"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Port of the Service, by number or name.
	Port intstr.IntOrString `json:"port"`
	// +kubebuilder:validation:Minimum=0
	Weight           *int   `json:"weight,omitempty"`
	ServersTransport string `json:"serversTransport,omitempty"`
	// TLS connects to the servers over TLS.
	TLS           bool                   `json:"tls,omitempty"`
	ProxyProtocol *dynamic.ProxyProtocol `json:"proxyProtocol,omitempty"`
	// TerminationDelay is deprecated (use a ServersTransportTCP).
	TerminationDelay *int  `json:"terminationDelay,omitempty"`
	NativeLB         *bool `json:"nativeLB,omitempty"`
	NodePortLB       bool  `json:"nodePortLB,omitempty"`
}
