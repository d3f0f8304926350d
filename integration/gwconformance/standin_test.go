package gwconformance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// standIn plays what a cluster would: the deployment controller (one Pod
// per replica), the kubelet (each Pod is an echo server on a fresh address
// of the test network namespace, answering like the conformance echo-basic
// image, then marked Ready with that podIP) and the endpoint-slice
// controller (one EndpointSlice per selector Service from its ready Pods).
// It only acts in namespaces whose name starts with prefix.
type standIn struct {
	t      testing.TB
	cs     kubernetes.Interface
	kn     *kubeNet
	prefix string

	mu   sync.Mutex
	pods map[string]bool // ns/name already running
	kick chan struct{}
}

func startStandIn(ctx context.Context, t testing.TB, cs kubernetes.Interface, kn *kubeNet, prefix string) {
	s := &standIn{t: t, cs: cs, kn: kn, prefix: prefix, pods: map[string]bool{}, kick: make(chan struct{}, 1)}
	f := informers.NewSharedInformerFactory(cs, 0)
	fire := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.fire() },
		UpdateFunc: func(any, any) { s.fire() },
		DeleteFunc: func(any) { s.fire() },
	}
	deps := f.Apps().V1().Deployments()
	svcs := f.Core().V1().Services()
	pods := f.Core().V1().Pods()
	for _, i := range []cache.SharedIndexInformer{deps.Informer(), svcs.Informer(), pods.Informer()} {
		_, _ = i.AddEventHandler(fire)
	}
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.kick:
			}
			s.reconcile(ctx, deps.Lister().List, svcs.Lister().List, pods.Lister().List)
		}
	}()
}

func (s *standIn) fire() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *standIn) reconcile(ctx context.Context,
	listDeps func(labels.Selector) ([]*appsv1.Deployment, error),
	listSvcs func(labels.Selector) ([]*corev1.Service, error),
	listPods func(labels.Selector) ([]*corev1.Pod, error),
) {
	deps, _ := listDeps(labels.Everything())
	pods, _ := listPods(labels.Everything())
	for _, d := range deps {
		if !strings.HasPrefix(d.Namespace, s.prefix) {
			continue
		}
		want := 1
		if d.Spec.Replicas != nil {
			want = int(*d.Spec.Replicas)
		}
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil {
			continue
		}
		have := 0
		for _, p := range pods {
			if p.Namespace == d.Namespace && sel.Matches(labels.Set(p.Labels)) && p.DeletionTimestamp == nil {
				have++
			}
		}
		for i := have; i < want; i++ {
			s.createPod(ctx, d, i)
		}
	}
	// Pods created by us but not running yet (or restarted tests).
	pods, _ = listPods(labels.Everything())
	for _, p := range pods {
		if strings.HasPrefix(p.Namespace, s.prefix) {
			s.runPod(ctx, p)
		}
	}
	svcs, _ := listSvcs(labels.Everything())
	pods, _ = listPods(labels.Everything())
	for _, svc := range svcs {
		if strings.HasPrefix(svc.Namespace, s.prefix) && len(svc.Spec.Selector) > 0 {
			s.writeSlice(ctx, svc, pods)
		}
	}
}

func (s *standIn) createPod(ctx context.Context, d *appsv1.Deployment, i int) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: d.Namespace}}
	if _, err := s.cs.CoreV1().ServiceAccounts(d.Namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		s.t.Logf("stand-in: service account in %s: %v", d.Namespace, err)
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("%s-%d-%d", d.Name, time.Now().UnixNano()%100000, i),
			Namespace: d.Namespace,
			Labels:    d.Spec.Template.Labels,
		},
		Spec: *d.Spec.Template.Spec.DeepCopy(),
	}
	p.Spec.AutomountServiceAccountToken = ptrTo(false)
	p.Spec.NodeName = "standin"
	if _, err := s.cs.CoreV1().Pods(d.Namespace).Create(ctx, p, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		s.t.Logf("stand-in: pod for %s/%s: %v", d.Namespace, d.Name, err)
	}
}

// runPod starts the pod's echo servers once and marks it Ready.
func (s *standIn) runPod(ctx context.Context, p *corev1.Pod) {
	key := p.Namespace + "/" + p.Name
	s.mu.Lock()
	if s.pods[key] {
		s.mu.Unlock()
		return
	}
	s.pods[key] = true
	s.mu.Unlock()
	ip := s.kn.NewIP(s.t)
	env := map[string]string{}
	for _, c := range p.Spec.Containers {
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
	}
	if env["GRPC_ECHO_SERVER"] == "" && env["TCP_ECHO_SERVER"] == "" && env["UDP_ECHO_SERVER"] == "" {
		httpPort := env["HTTP_PORT"]
		if httpPort == "" {
			httpPort = "3000"
		}
		h2cPort := env["H2C_PORT"]
		if h2cPort == "" {
			h2cPort = "3001"
		}
		h := echoHandler(p.Namespace, p.Name, httpPort)
		for _, port := range []string{httpPort, h2cPort} {
			n, _ := strconv.Atoi(port)
			ln := s.kn.Listen(s.t, ip, n)
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
			if port == h2cPort {
				srv.Protocols = new(http.Protocols)
				srv.Protocols.SetHTTP1(true)
				srv.Protocols.SetUnencryptedHTTP2(true)
			}
			go srv.Serve(ln)
			s.t.Cleanup(func() { srv.Close() })
		}
	}
	cur, err := s.cs.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
	if err != nil {
		return
	}
	now := metav1.Now()
	cur.Status.Phase = corev1.PodRunning
	cur.Status.PodIP = ip
	cur.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	cur.Status.HostIP = ip
	cur.Status.StartTime = &now
	cur.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
	}
	if _, err := s.cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		s.t.Logf("stand-in: pod status %s: %v", key, err)
		s.mu.Lock()
		delete(s.pods, key)
		s.mu.Unlock()
		s.fire()
	}
}

func (s *standIn) writeSlice(ctx context.Context, svc *corev1.Service, pods []*corev1.Pod) {
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var eps []discoveryv1.Endpoint
	var ready []*corev1.Pod
	for _, p := range pods {
		if p.Namespace != svc.Namespace || !sel.Matches(labels.Set(p.Labels)) || p.Status.PodIP == "" {
			continue
		}
		ready = append(ready, p)
		eps = append(eps, discoveryv1.Endpoint{
			Addresses:  []string{p.Status.PodIP},
			Conditions: discoveryv1.EndpointConditions{Ready: ptrTo(true), Serving: ptrTo(true), Terminating: ptrTo(false)},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name},
		})
	}
	var ports []discoveryv1.EndpointPort
	for _, sp := range svc.Spec.Ports {
		tp := sp.TargetPort.IntVal
		if sp.TargetPort.StrVal != "" {
			for _, p := range ready {
				for _, c := range p.Spec.Containers {
					for _, cp := range c.Ports {
						if cp.Name == sp.TargetPort.StrVal {
							tp = cp.ContainerPort
						}
					}
				}
			}
		}
		if tp == 0 {
			tp = sp.Port
		}
		ports = append(ports, discoveryv1.EndpointPort{Name: ptrTo(sp.Name), Port: ptrTo(tp), Protocol: ptrTo(sp.Protocol), AppProtocol: sp.AppProtocol})
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: svc.Name + "-standin", Namespace: svc.Namespace,
			Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name, discoveryv1.LabelManagedBy: "switchyard-standin"},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   eps,
		Ports:       ports,
	}
	cur, err := s.cs.DiscoveryV1().EndpointSlices(svc.Namespace).Get(ctx, slice.Name, metav1.GetOptions{})
	switch {
	case err == nil:
		if len(cur.Endpoints) == len(eps) {
			return
		}
		slice.ResourceVersion = cur.ResourceVersion
		_, err = s.cs.DiscoveryV1().EndpointSlices(svc.Namespace).Update(ctx, slice, metav1.UpdateOptions{})
	case apierrors.IsNotFound(err):
		_, err = s.cs.DiscoveryV1().EndpointSlices(svc.Namespace).Create(ctx, slice, metav1.CreateOptions{})
	}
	if err != nil {
		s.t.Logf("stand-in: slice %s/%s: %v", svc.Namespace, slice.Name, err)
	}
}

// echoHandler answers like the conformance echo-basic image (v1.6.3):
// a JSON document with what the request looked like and where it landed;
// X-Echo-Set-Header asks for response headers.
func echoHandler(ns, pod, httpPort string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := map[string]any{
			"path": r.RequestURI, "host": r.Host, "method": r.Method, "proto": r.Proto,
			"headers": r.Header, "httpPort": httpPort, "namespace": ns, "ingress": "", "service": "", "pod": pod,
		}
		js, _ := json.MarshalIndent(body, "", " ")
		for _, list := range r.Header["X-Echo-Set-Header"] {
			for kv := range strings.SplitSeq(list, ",") {
				name, value, _ := strings.Cut(strings.TrimSpace(kv), ":")
				if len(w.Header()[name]) == 0 {
					w.Header()[name] = []string{value}
				} else {
					w.Header()[name][0] += "," + strings.TrimSpace(value)
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(js)
	})
}
