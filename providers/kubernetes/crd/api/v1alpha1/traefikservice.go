package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// TraefikService is a service over other services: weighted round robin
// or mirroring, whose targets are Kubernetes Services or other
// TraefikServices.
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
type TraefikService struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata"`

	Spec TraefikServiceSpec `json:"spec"`
}

// TraefikServiceSpec is exactly one of weighted, mirroring, failover or
// highestRandomWeight (the last refused).
type TraefikServiceSpec struct {
	// Weighted balances over services by weight.
	Weighted *WeightedRoundRobin `json:"weighted,omitempty"`
	// Mirroring sends to one service and copies to mirrors.
	Mirroring *Mirroring `json:"mirroring,omitempty"`
	// Failover sends to the fallback while the main service has no
	// healthy server (give the main service a healthCheck).
	Failover *Failover `json:"failover,omitempty"`
	// HighestRandomWeight picks a child service by consistent hashing of
	// the client's address (Traefik's HRW service). Not supported by
	// Switchyard, whose dynamic model has no such service (only the
	// servers-level "hrw" strategy): a TraefikService that sets it is
	// refused.
	HighestRandomWeight *HighestRandomWeight `json:"highestRandomWeight,omitempty"`
}

// HighestRandomWeight is Traefik's HRW service: weighted children.
type HighestRandomWeight struct {
	Services []Service `json:"services,omitempty"`
}

// Failover is a main service and its fallback.
type Failover struct {
	Service  Service `json:"service"`
	Fallback Service `json:"fallback"`
	// Errors switches to the fallback on response statuses (Traefik's
	// status-based failover). Not supported by Switchyard, whose failover
	// follows health checks: a TraefikService that sets it is refused.
	Errors *FailoverError `json:"errors,omitempty"`
}

// FailoverError lists the statuses that trigger a status-based failover.
type FailoverError struct {
	Status              []string `json:"status,omitempty"`
	MaxRequestBodyBytes *int64   `json:"maxRequestBodyBytes,omitempty"`
}

// WeightedRoundRobin balances over services by weight.
type WeightedRoundRobin struct {
	Services []Service `json:"services,omitempty"`
	// Sticky pins a client to a child service with a cookie.
	Sticky *dynamic.Sticky `json:"sticky,omitempty"`
}

// Mirroring forwards to its main service and copies requests to mirrors.
type Mirroring struct {
	LoadBalancerSpec `json:",inline"`

	// MirrorBody copies request bodies too (default true).
	MirrorBody *bool `json:"mirrorBody,omitempty"`
	// MaxBodySize is the largest body mirrored (-1, the default: no limit).
	MaxBodySize *int64          `json:"maxBodySize,omitempty"`
	Mirrors     []MirrorService `json:"mirrors,omitempty"`
	// Middlewares of the main service (not supported: refused).
	Middlewares []MiddlewareRef `json:"middlewares,omitempty"`
}

// MirrorService is a mirror and the share of requests it gets.
type MirrorService struct {
	LoadBalancerSpec `json:",inline"`

	// Percent of requests copied to this mirror.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	Percent int `json:"percent,omitempty"`
	// Middlewares of this mirror (not supported: refused).
	Middlewares []MiddlewareRef `json:"middlewares,omitempty"`
}
