package ingress

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/k8s"
)

// statusWriter writes ingressEndpoint to status.loadBalancer of the
// Ingresses served, when this replica leads and the value changed. It runs
// beside the rebuild so a slow API server never delays routing.
type statusWriter struct {
	cs      kubernetes.Interface
	leader  *k8s.Leader
	ep      *static.KubernetesIngressEndpoint
	pub     cache.Indexer // the published Service, or nil
	pubKey  string
	current func(ns, name string) *netv1.Ingress // newest cached copy
	log     *slog.Logger
	mu      sync.Mutex
	served  []*netv1.Ingress
	wake    chan struct{}
	warnedN bool
	// Nodes, for a NodePort published Service: started on first need by
	// startNodes (nil: cluster-scope reads are disabled), so the Node read
	// right is needed only then.
	startNodes func(wake func()) (cache.Indexer, cache.InformerSynced)
	nodes      cache.Indexer
	nodesSync  cache.InformerSynced
	pending    bool // desired is waiting for the Node cache: retry
}

func newStatusWriter(cs kubernetes.Interface, leader *k8s.Leader, ep *static.KubernetesIngressEndpoint, pub cache.Indexer, pubKey string,
	current func(ns, name string) *netv1.Ingress, log *slog.Logger,
) *statusWriter {
	return &statusWriter{cs: cs, leader: leader, ep: ep, pub: pub, pubKey: pubKey, current: current, log: log, wake: make(chan struct{}, 1)}
}

// update hands over the Ingresses of the newest rebuild; it never blocks.
func (w *statusWriter) update(served []*netv1.Ingress) {
	w.mu.Lock()
	w.served = served
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *statusWriter) run(ctx context.Context) {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-w.leader.Changed():
		case <-retry.C:
		}
		if !w.leader.IsLeader() {
			continue
		}
		w.mu.Lock()
		served := w.served
		w.mu.Unlock()
		if !w.write(ctx, served) {
			retry.Reset(2 * time.Second)
		}
	}
}

// desired is the load-balancer status to publish; ok false: nothing to
// publish yet (the published Service is missing or has no address).
func (w *statusWriter) desired() ([]netv1.IngressLoadBalancerIngress, bool) {
	if w.pub == nil {
		return []netv1.IngressLoadBalancerIngress{{IP: w.ep.IP, Hostname: w.ep.Hostname}}, true
	}
	o, ok, _ := w.pub.GetByKey(w.pubKey)
	svc, _ := o.(*corev1.Service)
	if !ok || svc == nil {
		w.log.Debug("published service not found: ingress status not written", "service", w.pubKey)
		return nil, false
	}
	var out []netv1.IngressLoadBalancerIngress
	switch svc.Spec.Type {
	case corev1.ServiceTypeLoadBalancer:
		for _, in := range svc.Status.LoadBalancer.Ingress {
			e := netv1.IngressLoadBalancerIngress{IP: in.IP, Hostname: in.Hostname}
			for _, p := range in.Ports {
				e.Ports = append(e.Ports, netv1.IngressPortStatus{Port: p.Port, Protocol: p.Protocol, Error: p.Error})
			}
			out = append(out, e)
		}
	case corev1.ServiceTypeNodePort:
		// As Traefik: the nodes' external addresses.
		if w.startNodes == nil {
			if !w.warnedN {
				w.warnedN = true
				w.log.Warn("ingressEndpoint.publishedService: a NodePort service needs the Nodes, not read with disableClusterScopeResources; status not written", "service", w.pubKey)
			}
			return nil, false
		}
		if w.nodes == nil {
			w.log.Info("published service is a NodePort: watching Nodes for their external addresses", "service", w.pubKey)
			w.nodes, w.nodesSync = w.startNodes(w.poke)
		}
		if !w.nodesSync() {
			w.pending = true
			return nil, false
		}
		out = nodeAddresses(w.nodes.List())
	default:
		for _, ip := range svc.Spec.ExternalIPs {
			out = append(out, netv1.IngressLoadBalancerIngress{IP: ip})
		}
	}
	if len(out) == 0 {
		return nil, false
	}
	return out, true
}

// poke makes run look again (a Node changed); it never blocks.
func (w *statusWriter) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// nodeAddresses is one entry per distinct ExternalIP address of the nodes,
// sorted so the status does not change with the cache's order.
func nodeAddresses(objs []any) []netv1.IngressLoadBalancerIngress {
	var ips []string
	for _, o := range objs {
		n, ok := o.(*corev1.Node)
		if !ok {
			continue
		}
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeExternalIP && a.Address != "" {
				ips = append(ips, a.Address)
			}
		}
	}
	slices.Sort(ips)
	ips = slices.Compact(ips)
	out := make([]netv1.IngressLoadBalancerIngress, 0, len(ips))
	for _, ip := range ips {
		out = append(out, netv1.IngressLoadBalancerIngress{IP: ip})
	}
	return out
}

// write updates every served Ingress whose status differs; false: some
// update failed (or the Node cache is not ready yet) and should be retried.
func (w *statusWriter) write(ctx context.Context, served []*netv1.Ingress) bool {
	w.pending = false
	want, ok := w.desired()
	if !ok {
		return !w.pending
	}
	good := true
	for _, ing := range served {
		// Leadership may come long after the rebuild: compare with and
		// update the newest copy, not the rebuild's.
		if cur := w.current(ing.Namespace, ing.Name); cur != nil {
			ing = cur
		} else {
			continue
		}
		if slices.EqualFunc(ing.Status.LoadBalancer.Ingress, want, lbEqual) {
			continue
		}
		c := ing.DeepCopy()
		c.Status.LoadBalancer.Ingress = want
		uctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := w.cs.NetworkingV1().Ingresses(c.Namespace).UpdateStatus(uctx, c, metav1.UpdateOptions{})
		cancel()
		if err != nil {
			// A conflict means a newer Ingress is on its way: the
			// rebuild it causes writes again.
			w.log.Warn("ingress status not written", "ingress", c.Namespace+"/"+c.Name, "error", err)
			good = false
			continue
		}
		w.log.Debug("ingress status written", "ingress", c.Namespace+"/"+c.Name)
	}
	return good
}

func lbEqual(a, b netv1.IngressLoadBalancerIngress) bool {
	return a.IP == b.IP && a.Hostname == b.Hostname && slices.EqualFunc(a.Ports, b.Ports, func(x, y netv1.IngressPortStatus) bool {
		return x.Port == y.Port && x.Protocol == y.Protocol && ((x.Error == nil) == (y.Error == nil)) && (x.Error == nil || *x.Error == *y.Error)
	})
}

// eventReporter records a Warning Event on an Ingress when what is wrong
// with it changes (not on every rebuild).
type eventReporter struct {
	b    record.EventBroadcaster
	rec  record.EventRecorder
	last map[string]string // Ingress UID -> errors last reported
}

func newEventReporter(cs kubernetes.Interface, log *slog.Logger) *eventReporter {
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")})
	return &eventReporter{b: b, rec: b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "switchyard"}), last: map[string]string{}}
}

func (e *eventReporter) report(reports []report) {
	now := map[string]string{}
	for _, r := range reports {
		uid := string(r.Ingress.UID)
		msg := ""
		for i, s := range r.Errors {
			if i > 0 {
				msg += "; "
			}
			msg += s
		}
		now[uid] = msg
		if e.last[uid] == msg {
			continue
		}
		if len(msg) > 1000 {
			msg = msg[:1000] + "..."
		}
		e.rec.Event(r.Ingress, corev1.EventTypeWarning, "IngressSkipped", msg)
	}
	e.last = now
}

func (e *eventReporter) stop() { e.b.Shutdown() }
