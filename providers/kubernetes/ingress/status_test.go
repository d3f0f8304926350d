package ingress

import (
	"log/slog"
	"testing"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/switchyard-proxy/switchyard/config/static"
)

func TestStatusDesired(t *testing.T) {
	w := newStatusWriter(nil, nil, &static.KubernetesIngressEndpoint{IP: "192.0.2.1", Hostname: "lb.example.com"}, nil, "", nil, slog.Default())
	got, ok := w.desired()
	if !ok || len(got) != 1 || got[0].IP != "192.0.2.1" || got[0].Hostname != "lb.example.com" {
		t.Errorf("ip+hostname: %+v %v", got, ok)
	}

	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	w = newStatusWriter(nil, nil, &static.KubernetesIngressEndpoint{PublishedService: "ns/front"}, idx, "ns/front", nil, slog.Default())
	if _, ok := w.desired(); ok {
		t.Error("missing published service: something to write")
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "front"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}}
	_ = idx.Add(svc)
	if _, ok := w.desired(); ok {
		t.Error("LoadBalancer without an address: something to write")
	}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.1", Ports: []corev1.PortStatus{{Port: 443, Protocol: corev1.ProtocolTCP}}}}
	_ = idx.Update(svc)
	got, ok = w.desired()
	if !ok || got[0].IP != "203.0.113.1" || got[0].Ports[0].Port != 443 {
		t.Errorf("LoadBalancer: %+v", got)
	}
	svc2 := svc.DeepCopy()
	svc2.Spec.Type, svc2.Spec.ExternalIPs = corev1.ServiceTypeClusterIP, []string{"198.51.100.1", "198.51.100.2"}
	_ = idx.Update(svc2)
	if got, ok = w.desired(); !ok || len(got) != 2 || got[1].IP != "198.51.100.2" {
		t.Errorf("ClusterIP externalIPs: %+v", got)
	}
	svc2.Spec.Type = corev1.ServiceTypeNodePort
	_ = idx.Update(svc2)
	if _, ok = w.desired(); ok {
		t.Error("NodePort without Node reads: something to write")
	}
	nodes := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	synced, started := false, 0
	w.startNodes = func(func()) (cache.Indexer, cache.InformerSynced) {
		started++
		return nodes, func() bool { return synced }
	}
	if _, ok = w.desired(); ok || !w.pending {
		t.Errorf("NodePort, Node cache not synced: ok %v pending %v", ok, w.pending)
	}
	synced = true
	if _, ok = w.desired(); ok {
		t.Error("NodePort, no node: something to write")
	}
	node := func(name string, addrs ...corev1.NodeAddress) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Addresses: addrs}}
	}
	_ = nodes.Add(node("b", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.2"}, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "203.0.113.9"}))
	_ = nodes.Add(node("a", corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "203.0.113.7"}, corev1.NodeAddress{Type: corev1.NodeHostName, Address: "a"}))
	_ = nodes.Add(node("c", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.3"}))
	_ = nodes.Add(node("d", corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "203.0.113.9"}))
	got, ok = w.desired()
	if !ok || len(got) != 2 || got[0].IP != "203.0.113.7" || got[1].IP != "203.0.113.9" || got[0].Hostname != "" {
		t.Errorf("NodePort: %+v %v", got, ok)
	}
	if started != 1 {
		t.Errorf("Node informer started %d times", started)
	}

	e := "boom"
	a := netv1.IngressLoadBalancerIngress{IP: "1.2.3.4", Ports: []netv1.IngressPortStatus{{Port: 80, Error: &e}}}
	b := a
	b.Ports = []netv1.IngressPortStatus{{Port: 80, Error: &e}}
	if !lbEqual(a, b) {
		t.Error("equal statuses differ")
	}
	b.Ports = []netv1.IngressPortStatus{{Port: 80}}
	if lbEqual(a, b) {
		t.Error("an error on a port is a difference")
	}
}
