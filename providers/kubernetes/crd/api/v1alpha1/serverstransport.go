package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// ServersTransport configures the connections to HTTP servers, referenced
// by name from a Service of an IngressRoute or TraefikService.
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
type ServersTransport struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata"`

	Spec ServersTransportSpec `json:"spec"`
}

// ServersTransportSpec is the transport's configuration.
type ServersTransportSpec struct {
	ServerName         string `json:"serverName,omitempty"`
	InsecureSkipVerify bool   `json:"insecureSkipVerify,omitempty"`
	// RootCAs are CA certificates from ConfigMaps or Secrets.
	RootCAs []RootCA `json:"rootCAs,omitempty"`
	// RootCAsSecrets is deprecated: use RootCAs.
	RootCAsSecrets []string `json:"rootCAsSecrets,omitempty"`
	// CertificatesSecrets are client certificates (kubernetes.io/tls Secrets).
	CertificatesSecrets []string `json:"certificatesSecrets,omitempty"`
	// +kubebuilder:validation:Minimum=-1
	MaxIdleConnsPerHost int                 `json:"maxIdleConnsPerHost,omitempty"`
	ForwardingTimeouts  *ForwardingTimeouts `json:"forwardingTimeouts,omitempty"`
	DisableHTTP2        bool                `json:"disableHTTP2,omitempty"`
	PeerCertURI         string              `json:"peerCertURI,omitempty"`
	// Spiffe checks the servers' SPIFFE identities (Traefik's option).
	// Not supported by Switchyard (no SPIFFE Workload API client): a
	// ServersTransport that sets it is refused.
	Spiffe *Spiffe `json:"spiffe,omitempty"`
}

// Spiffe is Traefik's SPIFFE option of a servers transport: the allowed
// SPIFFE IDs (they take precedence) or trust domain.
type Spiffe struct {
	IDs         []string `json:"ids,omitempty"`
	TrustDomain string   `json:"trustDomain,omitempty"`
}

// RootCA is a CA certificate in a ConfigMap or a Secret of the namespace
// ("tls.ca" or "ca.crt" key).
type RootCA struct {
	ConfigMap string `json:"configMap,omitempty"`
	Secret    string `json:"secret,omitempty"`
}

// ForwardingTimeouts bound the phases of a forwarded request; an integer
// is seconds.
type ForwardingTimeouts struct {
	DialTimeout           *intstr.IntOrString `json:"dialTimeout,omitempty"`
	ResponseHeaderTimeout *intstr.IntOrString `json:"responseHeaderTimeout,omitempty"`
	IdleConnTimeout       *intstr.IntOrString `json:"idleConnTimeout,omitempty"`
	ReadIdleTimeout       *intstr.IntOrString `json:"readIdleTimeout,omitempty"`
	PingTimeout           *intstr.IntOrString `json:"pingTimeout,omitempty"`
}

// ServersTransportTCP configures the connections to TCP servers.
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
type ServersTransportTCP struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata"`

	Spec ServersTransportTCPSpec `json:"spec"`
}

// ServersTransportTCPSpec is the TCP transport's configuration.
type ServersTransportTCPSpec struct {
	DialTimeout      *intstr.IntOrString    `json:"dialTimeout,omitempty"`
	DialKeepAlive    *intstr.IntOrString    `json:"dialKeepAlive,omitempty"`
	TerminationDelay *intstr.IntOrString    `json:"terminationDelay,omitempty"`
	ProxyProtocol    *dynamic.ProxyProtocol `json:"proxyProtocol,omitempty"`
	TLS              *TLSClientConfig       `json:"tls,omitempty"`
}

// TLSClientConfig is the TLS towards TCP servers.
type TLSClientConfig struct {
	ServerName          string   `json:"serverName,omitempty"`
	InsecureSkipVerify  bool     `json:"insecureSkipVerify,omitempty"`
	RootCAs             []RootCA `json:"rootCAs,omitempty"`
	CertificatesSecrets []string `json:"certificatesSecrets,omitempty"`
	PeerCertURI         string   `json:"peerCertURI,omitempty"`
	// Spiffe: as ServersTransport's (refused).
	Spiffe *Spiffe `json:"spiffe,omitempty"`
}
