package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// IngressRouteUDP is a UDP router: entrypoints to Kubernetes Services.
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
type IngressRouteUDP struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata"`

	Spec IngressRouteUDPSpec `json:"spec"`
}

// IngressRouteUDPSpec is the desired state of an IngressRouteUDP.
type IngressRouteUDPSpec struct {
	Routes      []RouteUDP `json:"routes"`
	EntryPoints []string   `json:"entryPoints,omitempty"`
}

// RouteUDP is one UDP router.
type RouteUDP struct {
	Services []ServiceUDP `json:"services,omitempty"`
}

// ServiceUDP is a Kubernetes Service port as a UDP target.
type ServiceUDP struct {
	Name string `json:"name"`
	// +optional
	Namespace string             `json:"namespace,omitempty"`
	Port      intstr.IntOrString `json:"port"`
	// +kubebuilder:validation:Minimum=0
	Weight     *int  `json:"weight,omitempty"`
	NativeLB   *bool `json:"nativeLB,omitempty"`
	NodePortLB bool  `json:"nodePortLB,omitempty"`
}
