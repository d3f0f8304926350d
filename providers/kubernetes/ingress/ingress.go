// Package ingress is the kubernetesIngress provider: Ingress objects
// (networking.k8s.io/v1) of the classes it serves become routers and
// services, with endpoints from EndpointSlices and certificates from
// Secrets, in Traefik v3's naming and shapes. It watches (informers),
// rebuilds through k8s.Loop, and writes Ingress status (leader only).
package ingress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/k8s"
)

// Name is the provider name, as Traefik's Ingress provider: objects are
// shown as name@kubernetes.
const Name = "kubernetes"

var _ providers.Provider = (*Provider)(nil)

// Provider is the kubernetesIngress provider.
type Provider struct {
	opts     static.KubernetesIngressProvider
	log      *slog.Logger
	rest     *rest.Config
	selector labels.Selector
	pubNS    string // publishedService namespace and name
	pubName  string
}

// New returns a provider for opts; nothing is contacted.
func New(opts static.KubernetesIngressProvider) *Provider {
	return &Provider{opts: opts, log: slog.Default().With("provider", Name)}
}

// Init validates the options and builds the client configuration; it
// contacts nothing.
func (p *Provider) Init() error {
	o := &p.opts
	if o.AllowCrossNamespace {
		return errors.New("allowCrossNamespace: not supported: an Ingress references only Services and Secrets of its own namespace (middlewares and transports of other providers are referenced as name@provider)")
	}
	if o.ThrottleDuration < 0 {
		return fmt.Errorf("throttleDuration: must not be negative (%s)", time.Duration(o.ThrottleDuration))
	}
	sel, err := labels.Parse(o.LabelSelector)
	if err != nil {
		return fmt.Errorf("labelSelector %q: %w", o.LabelSelector, err)
	}
	p.selector = sel
	for _, ns := range o.Namespaces {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return fmt.Errorf("namespaces: %q: %s", ns, strings.Join(errs, "; "))
		}
	}
	if e := o.IngressEndpoint; e != nil {
		switch {
		case e.PublishedService != "" && (e.IP != "" || e.Hostname != ""):
			return errors.New("ingressEndpoint: publishedService excludes ip and hostname")
		case e.PublishedService != "":
			ns, name, ok := strings.Cut(e.PublishedService, "/")
			if !ok || len(validation.IsDNS1123Label(ns)) > 0 || len(validation.IsDNS1035Label(name)) > 0 {
				return fmt.Errorf("ingressEndpoint.publishedService %q: expected namespace/name", e.PublishedService)
			}
			p.pubNS, p.pubName = ns, name
		case e.IP == "" && e.Hostname == "":
			return errors.New("ingressEndpoint: one of ip, hostname or publishedService is required")
		}
		if e.IP != "" && net.ParseIP(e.IP) == nil {
			return fmt.Errorf("ingressEndpoint.ip %q: not an IP address", e.IP)
		}
		if e.Hostname != "" && len(validation.IsDNS1123Subdomain(e.Hostname)) > 0 {
			return fmt.Errorf("ingressEndpoint.hostname %q: not a DNS name", e.Hostname)
		}
	}
	token := o.Token
	if token != "" && !strings.ContainsAny(token, "\n") {
		// Traefik accepts a token or the path of a file holding it.
		if st, err := os.Stat(token); err == nil && st.Mode().IsRegular() {
			b, err := os.ReadFile(token)
			if err != nil {
				return fmt.Errorf("token: %w", err)
			}
			token = strings.TrimSpace(string(b))
		}
	}
	p.rest, err = k8s.RESTConfig(k8s.ClientOptions{Endpoint: o.Endpoint, Token: token, CertAuthFilePath: o.CertAuthFilePath})
	if err != nil {
		return err
	}
	return nil
}

// informerStore reads the informers' caches.
type informerStore struct {
	ingresses []cache.Indexer       // one per watched namespace
	classes   cache.Indexer         // nil: lookup disabled
	nsListers map[string]*nsListers // "" = all namespaces
}

type nsListers struct {
	services cache.Indexer
	secrets  cache.Indexer
	slices   cache.Indexer
}

func (s *informerStore) Ingresses() []*netv1.Ingress {
	var out []*netv1.Ingress
	for _, l := range s.ingresses {
		for _, o := range l.List() {
			if ing, ok := o.(*netv1.Ingress); ok {
				out = append(out, ing)
			}
		}
	}
	return out
}

// ingress is the cached Ingress ns/name, or nil.
func (s *informerStore) ingress(ns, name string) *netv1.Ingress {
	for _, idx := range s.ingresses {
		if ing := getFrom[netv1.Ingress](idx, ns, name); ing != nil {
			return ing
		}
	}
	return nil
}

func (s *informerStore) IngressClasses() []*netv1.IngressClass {
	if s.classes == nil {
		return nil
	}
	var out []*netv1.IngressClass
	for _, o := range s.classes.List() {
		if ic, ok := o.(*netv1.IngressClass); ok {
			out = append(out, ic)
		}
	}
	return out
}

func (s *informerStore) listers(ns string) *nsListers {
	if l, ok := s.nsListers[ns]; ok {
		return l
	}
	return s.nsListers[metav1.NamespaceAll]
}

func getFrom[T any](idx cache.Indexer, ns, name string) *T {
	o, ok, err := idx.GetByKey(ns + "/" + name)
	if err != nil || !ok {
		return nil
	}
	v, _ := o.(*T)
	return v
}

func (s *informerStore) Service(ns, name string) *corev1.Service {
	l := s.listers(ns)
	if l == nil {
		return nil
	}
	return getFrom[corev1.Service](l.services, ns, name)
}

func (s *informerStore) Secret(ns, name string) *corev1.Secret {
	l := s.listers(ns)
	if l == nil {
		return nil
	}
	return getFrom[corev1.Secret](l.secrets, ns, name)
}

func (s *informerStore) EndpointSlices(ns, svc string) []*discoveryv1.EndpointSlice {
	l := s.listers(ns)
	if l == nil {
		return nil
	}
	objs, _ := l.slices.ByIndex(sliceIndex, ns+"/"+svc)
	out := make([]*discoveryv1.EndpointSlice, 0, len(objs))
	for _, o := range objs {
		if es, ok := o.(*discoveryv1.EndpointSlice); ok {
			out = append(out, es)
		}
	}
	return out
}

// sliceIndex indexes EndpointSlices by "namespace/service".
const sliceIndex = "service"

func sliceByService(obj any) ([]string, error) {
	es, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return nil, nil
	}
	svc := es.Labels[discoveryv1.LabelServiceName]
	if svc == "" {
		return nil, nil
	}
	return []string{es.Namespace + "/" + svc}, nil
}

// Provide watches Ingresses, IngressClasses, Services, EndpointSlices and
// Secrets and sends a whole configuration after every change (throttled
// by throttleDuration). While the API server is away the informers keep
// their caches, nothing is rebuilt, and the last configuration serves.
func (p *Provider) Provide(ctx context.Context, out chan<- dynamic.Message) error {
	cs, err := kubernetes.NewForConfig(p.rest)
	if err != nil {
		return err
	}
	if p.opts.AllowExternalNameServices {
		p.log.Warn("ExternalName services are allowed (allowExternalNameServices): an Ingress can send traffic to any name its Service names")
	}
	trig := k8s.NewTrigger()
	handler := trig.Handler()
	st := &informerStore{nsListers: map[string]*nsListers{}}
	var synced []cache.InformerSynced
	var starters []interface{ Start(<-chan struct{}) }

	namespaces := p.opts.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	selector := p.selector.String()
	for _, ns := range namespaces {
		ingF := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = selector }))
		ingInf := ingF.Networking().V1().Ingresses().Informer()
		if _, err := ingInf.AddEventHandler(handler); err != nil {
			return err
		}
		st.ingresses = append(st.ingresses, ingInf.GetIndexer())
		synced = append(synced, ingInf.HasSynced)

		f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
		svcInf := f.Core().V1().Services().Informer()
		secInf := f.Core().V1().Secrets().Informer()
		esInf := f.Discovery().V1().EndpointSlices().Informer()
		if err := esInf.AddIndexers(cache.Indexers{sliceIndex: sliceByService}); err != nil {
			return err
		}
		for _, inf := range []cache.SharedIndexInformer{svcInf, secInf, esInf} {
			if _, err := inf.AddEventHandler(handler); err != nil {
				return err
			}
			synced = append(synced, inf.HasSynced)
		}
		st.nsListers[ns] = &nsListers{services: svcInf.GetIndexer(), secrets: secInf.GetIndexer(), slices: esInf.GetIndexer()}
		starters = append(starters, ingF, f)
	}
	if !p.opts.DisableIngressClassLookup && !p.opts.DisableClusterScopeResources {
		cf := informers.NewSharedInformerFactory(cs, 0)
		icInf := cf.Networking().V1().IngressClasses().Informer()
		if _, err := icInf.AddEventHandler(handler); err != nil {
			return err
		}
		synced = append(synced, icInf.HasSynced)
		st.classes = icInf.GetIndexer()
		starters = append(starters, cf)
	}
	var pub cache.Indexer
	if p.pubName != "" {
		pf := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(p.pubNS),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = "metadata.name=" + p.pubName }))
		pInf := pf.Core().V1().Services().Informer()
		if _, err := pInf.AddEventHandler(handler); err != nil {
			return err
		}
		synced = append(synced, pInf.HasSynced)
		pub = pInf.GetIndexer()
		starters = append(starters, pf)
	}
	for _, s := range starters {
		s.Start(ctx.Done())
	}
	p.log.Info("watching Ingresses", "namespaces", namespaces, "labelSelector", selector, "ingressClass", p.opts.IngressClass)
	syncCtx, cancelSync := context.WithCancel(ctx)
	go func() {
		select {
		case <-syncCtx.Done():
		case <-time.After(30 * time.Second):
			p.log.Warn("informer caches not synced after 30 s (API server unreachable or RBAC missing?); still waiting")
		}
	}()
	ok := k8s.WaitForSync(ctx, synced...)
	cancelSync()
	if !ok {
		return ctx.Err()
	}

	events := newEventReporter(cs, p.log)
	defer events.stop()
	var status *statusWriter
	if p.opts.IngressEndpoint != nil {
		leader := k8s.NewLeader()
		go leader.Run(ctx, cs, k8s.LeaderOptions{Name: "switchyard-ingress"}, p.log)
		status = newStatusWriter(cs, leader, p.opts.IngressEndpoint, pub, p.pubNS+"/"+p.pubName, st.ingress, p.log)
		if pub != nil && !p.opts.DisableClusterScopeResources {
			status.startNodes = func(wake func()) (cache.Indexer, cache.InformerSynced) {
				nf := informers.NewSharedInformerFactory(cs, 0)
				nInf := nf.Core().V1().Nodes().Informer()
				_, _ = nInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
					AddFunc:    func(any) { wake() },
					UpdateFunc: func(_, _ any) { wake() },
					DeleteFunc: func(any) { wake() },
				})
				nf.Start(ctx.Done())
				return nInf.GetIndexer(), nInf.HasSynced
			}
		}
		go status.run(ctx)
	}
	certs := newCertCache()
	build := func() *dynamic.Configuration {
		res := translate(p.opts, st, certs)
		certs.sweep()
		for _, r := range res.Reports {
			for _, e := range r.Errors {
				p.log.Error("ingress skipped in part or whole", "ingress", r.Ingress.Namespace+"/"+r.Ingress.Name, "error", e)
			}
		}
		events.report(res.Reports)
		if status != nil {
			status.update(res.Served)
		}
		return res.Conf
	}
	k8s.Loop(ctx, Name, trig, time.Duration(p.opts.ThrottleDuration), build, out, p.log)
	return nil
}
