// Package crd is the kubernetesCRD provider: it watches Switchyard's
// custom resources (Traefik's traefik.io/v1alpha1 kinds: IngressRoute,
// IngressRouteTCP, IngressRouteUDP, Middleware, MiddlewareTCP,
// TraefikService, TLSOption, TLSStore, ServersTransport,
// ServersTransportTCP) with dynamic informers, and Services,
// EndpointSlices, Secrets and ConfigMaps with typed ones, and sends one
// whole dynamic configuration after every change (throttled).
package crd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynclient "k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/crd/api/v1alpha1"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/k8s"
)

// ProviderName is the provider's suffix in qualified names (name@kubernetescrd).
const ProviderName = "kubernetescrd"

// Provider is the kubernetesCRD provider.
type Provider struct {
	cfg      static.KubernetesCRDProvider
	selector labels.Selector
	log      *slog.Logger
}

// New returns the provider for its static configuration; Init validates it.
func New(cfg static.KubernetesCRDProvider) *Provider {
	return &Provider{cfg: cfg, log: slog.Default().With("provider", ProviderName)}
}

// Init validates the static options; it contacts nothing.
func (p *Provider) Init() error {
	sel, err := labels.Parse(p.cfg.LabelSelector)
	if err != nil {
		return fmt.Errorf("labelSelector %q: %w", p.cfg.LabelSelector, err)
	}
	p.selector = sel
	if p.cfg.ThrottleDuration < 0 {
		return fmt.Errorf("throttleDuration: %v is negative", time.Duration(p.cfg.ThrottleDuration))
	}
	for _, ns := range p.cfg.Namespaces {
		if ns == "" {
			return errors.New("namespaces: an empty namespace name")
		}
	}
	if p.cfg.Endpoint != "" && !strings.HasPrefix(p.cfg.Endpoint, "http://") && !strings.HasPrefix(p.cfg.Endpoint, "https://") {
		return fmt.Errorf("endpoint %q: an http:// or https:// URL expected", p.cfg.Endpoint)
	}
	return nil
}

// GVR is the resource of a kind of the traefik.io/v1alpha1 group.
func GVR(kind string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: v1alpha1.GroupName, Version: v1alpha1.Version, Resource: v1alpha1.Resources[kind]}
}

// kinds in a fixed order.
var kinds = []string{
	v1alpha1.KindIngressRoute, v1alpha1.KindIngressRouteTCP, v1alpha1.KindIngressRouteUDP,
	v1alpha1.KindMiddleware, v1alpha1.KindMiddlewareTCP, v1alpha1.KindTraefikService,
	v1alpha1.KindTLSOption, v1alpha1.KindTLSStore, v1alpha1.KindServersTransport, v1alpha1.KindServersTransportTCP,
}

// watch holds the informers of one namespace (or of all).
type watch struct {
	crds       map[string]cache.GenericLister
	services   corelisters.ServiceLister
	slices     discoverylisters.EndpointSliceLister
	secrets    corelisters.SecretLister
	configMaps corelisters.ConfigMapLister
}

// Provide watches until ctx is done. The API server being away keeps the
// last configuration serving: the informers retry, and nothing is sent
// until they have something new.
func (p *Provider) Provide(ctx context.Context, out chan<- dynamic.Message) error {
	if p.selector == nil {
		if err := p.Init(); err != nil {
			return err
		}
	}
	cs, rc, err := k8s.NewClientset(k8s.ClientOptions{Endpoint: p.cfg.Endpoint, Token: p.cfg.Token, CertAuthFilePath: p.cfg.CertAuthFilePath})
	if err != nil {
		return fmt.Errorf("kubernetesCRD: %w", err)
	}
	dc, err := dynclient.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("kubernetesCRD: %w", err)
	}
	namespaces := p.cfg.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	trig := k8s.NewTrigger()
	var synced []cache.InformerSynced
	var syncNames []string
	watches := map[string]*watch{}
	for _, ns := range namespaces {
		w := &watch{crds: map[string]cache.GenericLister{}}
		df := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dc, 0, ns, func(o *metav1.ListOptions) {
			o.LabelSelector = p.cfg.LabelSelector
		})
		for _, kind := range kinds {
			gi := df.ForResource(GVR(kind))
			if _, err := gi.Informer().AddEventHandler(trig.Handler()); err != nil {
				return err
			}
			synced = append(synced, gi.Informer().HasSynced)
			syncNames = append(syncNames, GVR(kind).Resource+"."+v1alpha1.GroupName)
			w.crds[kind] = gi.Lister()
		}
		kf := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
		for i, inf := range []cache.SharedIndexInformer{
			kf.Core().V1().Services().Informer(), kf.Discovery().V1().EndpointSlices().Informer(),
			kf.Core().V1().Secrets().Informer(), kf.Core().V1().ConfigMaps().Informer(),
		} {
			if _, err := inf.AddEventHandler(trig.Handler()); err != nil {
				return err
			}
			synced = append(synced, inf.HasSynced)
			syncNames = append(syncNames, []string{"services", "endpointslices", "secrets", "configmaps"}[i])
		}
		w.services = kf.Core().V1().Services().Lister()
		w.slices = kf.Discovery().V1().EndpointSlices().Lister()
		w.secrets = kf.Core().V1().Secrets().Lister()
		w.configMaps = kf.Core().V1().ConfigMaps().Lister()
		df.Start(ctx.Done())
		kf.Start(ctx.Done())
		watches[ns] = w
	}
	p.log.Info("kubernetesCRD: waiting for the informers to sync", "namespaces", namespaces)
	if !p.waitForSync(ctx, synced, syncNames) {
		return ctx.Err()
	}
	p.log.Info("kubernetesCRD: informers synced")

	rec := newRecorder(ctx, cs, p.log)
	cl := &cluster{watches: watches}
	opts := Options{
		AllowCrossNamespace: p.cfg.AllowCrossNamespace, AllowExternalNameServices: p.cfg.AllowExternalNameServices,
		AllowEmptyServices: p.cfg.AllowEmptyServices, NativeLBByDefault: p.cfg.NativeLBByDefault,
		IngressClass: p.cfg.IngressClass,
	}
	build := func() *dynamic.Configuration {
		objs, convProblems := collect(watches)
		conf, reports := Translate(objs, cl, opts, p.log)
		for _, r := range convProblems {
			p.log.Error("kubernetesCRD: object skipped", "kind", r.Kind, "namespace", r.Namespace, "name", r.Name, "error", r.Err)
		}
		rec.report(append(convProblems, reports...))
		return conf
	}
	k8s.Loop(ctx, ProviderName, trig, time.Duration(p.cfg.ThrottleDuration), build, out, p.log)
	return nil
}

// waitForSync waits for every informer; every 15 s it logs the resources
// not listed yet (a CRD not installed, RBAC missing), so a stuck start
// says why.
func (p *Provider) waitForSync(ctx context.Context, synced []cache.InformerSynced, names []string) bool {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	lastLog := start
	for {
		var missing []string
		for i, s := range synced {
			if !s() {
				missing = append(missing, names[i])
			}
		}
		if len(missing) == 0 {
			return true
		}
		if time.Since(lastLog) >= 15*time.Second {
			lastLog = time.Now()
			slices.Sort(missing)
			missing = slices.Compact(missing)
			p.log.Warn("kubernetesCRD: still waiting for resources to be listed (CRDs installed? kubectl apply -f deploy/crds/all/crds.yaml; RBAC?)",
				"resources", missing, "waited", time.Since(start).Round(time.Second).String())
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

// collect converts every cached object into its Go type, sorted by
// namespace and name. An object that does not convert is reported.
func collect(watches map[string]*watch) (*Objects, []Report) {
	objs := &Objects{}
	var problems []Report
	nss := make([]string, 0, len(watches))
	for ns := range watches {
		nss = append(nss, ns)
	}
	slices.Sort(nss)
	for _, ns := range nss {
		w := watches[ns]
		for _, kind := range kinds {
			list, err := w.crds[kind].List(labels.Everything())
			if err != nil {
				continue
			}
			for _, o := range list {
				u, ok := o.(*unstructured.Unstructured)
				if !ok {
					continue
				}
				if err := add(objs, kind, u); err != nil {
					problems = append(problems, Report{Kind: kind, Namespace: u.GetNamespace(), Name: u.GetName(), Err: err})
				}
			}
		}
	}
	sortObjects(objs)
	return objs, problems
}

func convert[T any](u *unstructured.Unstructured, dst *[]*T) error {
	var v T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	*dst = append(*dst, &v)
	return nil
}

func add(objs *Objects, kind string, u *unstructured.Unstructured) error {
	switch kind {
	case v1alpha1.KindIngressRoute:
		return convert(u, &objs.IngressRoutes)
	case v1alpha1.KindIngressRouteTCP:
		return convert(u, &objs.IngressRouteTCPs)
	case v1alpha1.KindIngressRouteUDP:
		return convert(u, &objs.IngressRouteUDPs)
	case v1alpha1.KindMiddleware:
		return convert(u, &objs.Middlewares)
	case v1alpha1.KindMiddlewareTCP:
		return convert(u, &objs.MiddlewareTCPs)
	case v1alpha1.KindTraefikService:
		return convert(u, &objs.TraefikServices)
	case v1alpha1.KindTLSOption:
		return convert(u, &objs.TLSOptions)
	case v1alpha1.KindTLSStore:
		return convert(u, &objs.TLSStores)
	case v1alpha1.KindServersTransport:
		return convert(u, &objs.ServersTransports)
	case v1alpha1.KindServersTransportTCP:
		return convert(u, &objs.ServersTransportTCPs)
	}
	return nil
}

func byKey[T interface {
	GetNamespace() string
	GetName() string
}](list []T) {
	slices.SortFunc(list, func(a, b T) int {
		if c := strings.Compare(a.GetNamespace(), b.GetNamespace()); c != 0 {
			return c
		}
		return strings.Compare(a.GetName(), b.GetName())
	})
}

func sortObjects(o *Objects) {
	byKey(o.IngressRoutes)
	byKey(o.IngressRouteTCPs)
	byKey(o.IngressRouteUDPs)
	byKey(o.Middlewares)
	byKey(o.MiddlewareTCPs)
	byKey(o.TraefikServices)
	byKey(o.TLSOptions)
	byKey(o.TLSStores)
	byKey(o.ServersTransports)
	byKey(o.ServersTransportTCPs)
}

// cluster reads Services, endpoints, Secrets and ConfigMaps from the
// informer caches of the watched namespaces.
type cluster struct{ watches map[string]*watch }

func (c *cluster) watchOf(ns string) *watch {
	if w, ok := c.watches[ns]; ok {
		return w
	}
	return c.watches[metav1.NamespaceAll]
}

func (c *cluster) Service(ns, name string) (*corev1.Service, bool) {
	w := c.watchOf(ns)
	if w == nil {
		return nil, false
	}
	s, err := w.services.Services(ns).Get(name)
	return s, err == nil
}

func (c *cluster) Endpoints(svc *corev1.Service, port corev1.ServicePort) []k8s.Endpoint {
	w := c.watchOf(svc.Namespace)
	if w == nil {
		return nil
	}
	eps, err := k8s.ServiceEndpoints(w.slices, svc, port)
	if err != nil {
		return nil
	}
	return eps
}

func (c *cluster) Secret(ns, name string) (*corev1.Secret, bool) {
	w := c.watchOf(ns)
	if w == nil {
		return nil, false
	}
	s, err := w.secrets.Secrets(ns).Get(name)
	return s, err == nil
}

func (c *cluster) ConfigMap(ns, name string) (*corev1.ConfigMap, bool) {
	w := c.watchOf(ns)
	if w == nil {
		return nil, false
	}
	m, err := w.configMaps.ConfigMaps(ns).Get(name)
	return m, err == nil
}

// recorder writes a Kubernetes Event (type Warning, reason
// InvalidConfiguration) on an object the first time a given problem is
// found on it, so `kubectl describe` shows why it is not served.
type recorder struct {
	rec  events.EventRecorder
	seen map[string]bool
}

func newRecorder(ctx context.Context, cs kubernetes.Interface, log *slog.Logger) *recorder {
	b := events.NewBroadcaster(&events.EventSinkImpl{Interface: cs.EventsV1()})
	if err := b.StartRecordingToSinkWithContext(ctx); err != nil {
		log.Warn("kubernetesCRD: events disabled", "error", err)
		return &recorder{seen: map[string]bool{}}
	}
	go func() { <-ctx.Done(); b.Shutdown() }()
	return &recorder{rec: b.NewRecorder(scheme.Scheme, "switchyard"), seen: map[string]bool{}}
}

func (r *recorder) report(reports []Report) {
	if r.rec == nil {
		return
	}
	for _, rep := range reports {
		msg := rep.Err.Error()
		key := rep.Kind + "/" + rep.Namespace + "/" + rep.Name + "/" + msg
		if r.seen[key] {
			continue
		}
		r.seen[key] = true
		if len(msg) > 1000 {
			msg = msg[:1000]
		}
		ref := &corev1.ObjectReference{
			APIVersion: v1alpha1.GroupName + "/" + v1alpha1.Version, Kind: rep.Kind,
			Namespace: rep.Namespace, Name: rep.Name,
		}
		r.rec.Eventf(ref, nil, corev1.EventTypeWarning, "InvalidConfiguration", "Translate", "%s", msg)
	}
}
