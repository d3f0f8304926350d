package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// TLSOption is a set of TLS parameters routers select by reference. A
// TLSOption named "default" (in any namespace) is the default options.
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
type TLSOption struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata"`

	Spec TLSOptionSpec `json:"spec"`
}

// TLSOptionSpec holds the TLS parameters.
type TLSOptionSpec struct {
	// MinVersion: VersionTLS10, VersionTLS11, VersionTLS12, VersionTLS13.
	MinVersion       string     `json:"minVersion,omitempty"`
	MaxVersion       string     `json:"maxVersion,omitempty"`
	CipherSuites     []string   `json:"cipherSuites,omitempty"`
	CurvePreferences []string   `json:"curvePreferences,omitempty"`
	ClientAuth       ClientAuth `json:"clientAuth,omitempty"`
	SniStrict        bool       `json:"sniStrict,omitempty"`
	// PreferServerCipherSuites is deprecated (ignored by Go).
	PreferServerCipherSuites *bool    `json:"preferServerCipherSuites,omitempty"`
	ALPNProtocols            []string `json:"alpnProtocols,omitempty"`
	DisableSessionTickets    bool     `json:"disableSessionTickets,omitempty"`
}

// ClientAuth configures client certificates (mTLS).
type ClientAuth struct {
	// SecretNames name Secrets of the namespace holding CA certificates
	// ("tls.ca" or "ca.crt" key).
	SecretNames []string `json:"secretNames,omitempty"`
	// +kubebuilder:validation:Enum=NoClientCert;RequestClientCert;RequireAnyClientCert;VerifyClientCertIfGiven;RequireAndVerifyClientCert
	ClientAuthType string `json:"clientAuthType,omitempty"`
}

// TLSStore is the default certificate store (only a TLSStore named
// "default" is used).
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
type TLSStore struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata"`

	Spec TLSStoreSpec `json:"spec"`
}

// TLSStoreSpec lists certificates and the default one.
type TLSStoreSpec struct {
	DefaultCertificate   *DefaultCertificate    `json:"defaultCertificate,omitempty"`
	DefaultGeneratedCert *dynamic.GeneratedCert `json:"defaultGeneratedCert,omitempty"`
	Certificates         []Certificate          `json:"certificates,omitempty"`
}

// DefaultCertificate is served when no certificate matches the SNI.
type DefaultCertificate struct {
	SecretName string `json:"secretName"`
}

// Certificate is a kubernetes.io/tls Secret of the namespace.
type Certificate struct {
	SecretName string `json:"secretName"`
}
