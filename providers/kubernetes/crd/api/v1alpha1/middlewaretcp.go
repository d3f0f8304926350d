package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// MiddlewareTCP is a TCP middleware.
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
type MiddlewareTCP struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata"`

	Spec MiddlewareTCPSpec `json:"spec"`
}

// MiddlewareTCPSpec is exactly one TCP middleware kind.
type MiddlewareTCPSpec struct {
	InFlightConn *dynamic.TCPInFlightConn `json:"inFlightConn,omitempty"`
	IPAllowList  *dynamic.TCPIPAllowList  `json:"ipAllowList,omitempty"`
	IPDenyList   *dynamic.TCPIPAllowList  `json:"ipDenyList,omitempty"`
	// MQTTInFlightConn (Switchyard extension) limits the connections of
	// each MQTT client (by client ID or user name).
	MQTTInFlightConn *dynamic.TCPMQTTInFlightConn `json:"mqttInFlightConn,omitempty"`
}
