package k8s

import (
	"net"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
)

// Endpoint is one address behind a Service port, from an EndpointSlice.
type Endpoint struct {
	Address     string // IP (or FQDN for FQDN slices)
	Port        int32
	Ready       bool
	Serving     bool
	Terminating bool
}

// HostPort is the address ready for a URL ("10.0.0.1:80", "[fd00::1]:80").
func (e Endpoint) HostPort() string {
	return net.JoinHostPort(e.Address, strconv.Itoa(int(e.Port)))
}

// Usable is the traffic rule: ready (which implies serving and not
// terminating). A nil Ready condition means ready, as the API documents.
func (e Endpoint) Usable() bool { return e.Ready && !e.Terminating }

// ServiceEndpoints lists the endpoints of one port of a Service from its
// EndpointSlices (label kubernetes.io/service-name), de-duplicated across
// slices, in a stable order. The port is matched by name, as EndpointSlice
// ports carry the Service port's name (empty for a single unnamed port).
func ServiceEndpoints(lister discoverylisters.EndpointSliceLister, svc *corev1.Service, port corev1.ServicePort) ([]Endpoint, error) {
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc.Name})
	slices_, err := lister.EndpointSlices(svc.Namespace).List(sel)
	if err != nil {
		return nil, err
	}
	return EndpointsFromSlices(slices_, port.Name), nil
}

// EndpointsFromSlices is ServiceEndpoints on slices already listed.
func EndpointsFromSlices(list []*discoveryv1.EndpointSlice, portName string) []Endpoint {
	seen := map[string]int{}
	var out []Endpoint
	for _, s := range list {
		if s.AddressType == discoveryv1.AddressTypeFQDN && len(list) > 1 {
			// FQDN slices mix badly with IP slices; take them only alone.
			continue
		}
		var port *discoveryv1.EndpointPort
		for i := range s.Ports {
			p := &s.Ports[i]
			if p.Port == nil {
				continue
			}
			if (p.Name == nil && portName == "") || (p.Name != nil && *p.Name == portName) {
				port = p
				break
			}
		}
		if port == nil {
			continue
		}
		for _, ep := range s.Endpoints {
			c := ep.Conditions
			ready := c.Ready == nil || *c.Ready
			serving := ready
			if c.Serving != nil {
				serving = *c.Serving
			}
			terminating := c.Terminating != nil && *c.Terminating
			for _, addr := range ep.Addresses {
				e := Endpoint{Address: addr, Port: *port.Port, Ready: ready, Serving: serving, Terminating: terminating}
				key := e.HostPort()
				if i, ok := seen[key]; ok {
					// The same address in two slices (during a slice
					// rewrite): the more usable state wins.
					if e.Usable() && !out[i].Usable() {
						out[i] = e
					}
					continue
				}
				seen[key] = len(out)
				out = append(out, e)
			}
		}
	}
	slices.SortFunc(out, func(a, b Endpoint) int {
		if a.Address != b.Address {
			if a.Address < b.Address {
				return -1
			}
			return 1
		}
		return int(a.Port - b.Port)
	})
	return out
}

// ResolveTargetPort finds the Service port a reference names: by number
// (the Service port, not the target port) or by name.
func ResolveTargetPort(svc *corev1.Service, number int32, name string) (corev1.ServicePort, bool) {
	for _, p := range svc.Spec.Ports {
		if (name != "" && p.Name == name) || (name == "" && number != 0 && p.Port == number) {
			return p, true
		}
	}
	if name == "" && number == 0 && len(svc.Spec.Ports) == 1 {
		return svc.Spec.Ports[0], true
	}
	return corev1.ServicePort{}, false
}
