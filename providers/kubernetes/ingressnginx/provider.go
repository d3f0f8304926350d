// Package ingressnginx is the kubernetesIngressNGINX provider: Ingresses
// of the ingress-nginx class, with the nginx.ingress.kubernetes.io
// annotations, translated into the dynamic model, so that a cluster
// leaving the retired community ingress-nginx controller keeps its
// Ingresses unchanged. See README.md and
// docs/providers/kubernetes-ingress-nginx.md.
package ingressnginx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	netlisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/k8s"
)

// Name is the provider's name in qualified object names (name@provider),
// as Traefik names it.
const Name = "kubernetesingressnginx"

// legacyClassAnnotation is the class annotation older Ingresses carry.
const legacyClassAnnotation = "kubernetes.io/ingress.class"

// Provider watches Ingresses, IngressClasses, Services, EndpointSlices,
// Secrets and ConfigMaps and sends whole configurations.
type Provider struct {
	cfg static.KubernetesIngressNGINXProvider
	log *slog.Logger

	nsSelector labels.Selector
	publish    []corev1.LoadBalancerIngress // from publishStatusAddress

	cs        kubernetes.Interface
	ingresses netlisters.IngressLister
	classes   netlisters.IngressClassLister
	services  corelisters.ServiceLister
	slices    discoverylisters.EndpointSliceLister
	secrets   corelisters.SecretLister
	cms       corelisters.ConfigMapLister
	nss       corelisters.NamespaceLister
	recorder  record.EventRecorder
	leader    *k8s.Leader

	mu       sync.Mutex
	handled  []*netv1.Ingress  // the Ingresses of the last build
	reported map[string]string // ingress key -> problems already sent as Events
	statusCh chan struct{}
}

// New returns the provider for cfg; Init validates it.
func New(cfg static.KubernetesIngressNGINXProvider) *Provider {
	return &Provider{cfg: cfg, log: slog.Default().With("provider", Name), reported: map[string]string{}, statusCh: make(chan struct{}, 1)}
}

// Init validates the static options and contacts nothing. Options that
// have no equivalent here are refused by name when set to anything but
// their default.
func (p *Provider) Init() error {
	c := &p.cfg
	if c.IngressClass == "" {
		c.IngressClass = static.DefaultIngressNGINXClass
	}
	if c.ControllerClass == "" {
		c.ControllerClass = static.DefaultIngressNGINXControllerClass
	}
	if c.WatchNamespace != "" && c.WatchNamespaceSelector != "" {
		return errors.New("watchNamespace and watchNamespaceSelector are mutually exclusive")
	}
	if c.WatchNamespaceSelector != "" {
		sel, err := labels.Parse(c.WatchNamespaceSelector)
		if err != nil {
			return fmt.Errorf("watchNamespaceSelector: %w", err)
		}
		p.nsSelector = sel
	}
	if c.ThrottleDuration < 0 {
		return errors.New("throttleDuration: must not be negative")
	}
	for _, ref := range []struct{ key, v string }{{"publishService", c.PublishService}, {"defaultBackendService", c.DefaultBackendService}} {
		if ref.v == "" {
			continue
		}
		ns, name, ok := strings.Cut(ref.v, "/")
		if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			return fmt.Errorf("%s: %q is not namespace/name", ref.key, ref.v)
		}
	}
	p.publish = nil
	for _, a := range splitList(c.PublishStatusAddress) {
		if net.ParseIP(a) != nil {
			p.publish = append(p.publish, corev1.LoadBalancerIngress{IP: a})
		} else if validHost(a) {
			p.publish = append(p.publish, corev1.LoadBalancerIngress{Hostname: a})
		} else {
			return fmt.Errorf("publishStatusAddress: %q is not an address or host name", a)
		}
	}
	for _, t := range []struct {
		key string
		v   int
	}{{"proxyConnectTimeout", c.ProxyConnectTimeout}, {"proxyReadTimeout", c.ProxyReadTimeout}, {"proxySendTimeout", c.ProxySendTimeout}, {"upstreamKeepaliveTimeout", c.UpstreamKeepaliveTimeout}} {
		if t.v < 0 {
			return fmt.Errorf("%s: must not be negative", t.key)
		}
	}
	if c.ProxyBodySize < 0 || c.ClientBodyBufferSize < 0 {
		return errors.New("proxyBodySize, clientBodyBufferSize: must not be negative")
	}
	if c.GlobalAuthURL != "" {
		if !strings.HasPrefix(c.GlobalAuthURL, "http://") && !strings.HasPrefix(c.GlobalAuthURL, "https://") {
			return fmt.Errorf("globalAuthURL: %q is not an http(s) URL", c.GlobalAuthURL)
		}
	}
	if c.DisableNonTLSRouters && c.HTTPEntryPoint != "" {
		return errors.New("disableNonTLSRouters cannot be used together with httpEntryPoint")
	}
	if s := c.IPAllowListStrategy; s != nil && s.Depth < 0 {
		return errors.New("ipAllowListStrategy.depth: must not be negative")
	}
	// Options with no equivalent: accepted at their default only.
	switch {
	case c.AllowSnippetAnnotations:
		return errors.New("allowSnippetAnnotations: NGINX snippets are not supported; it must stay false")
	case c.ProxyBuffering:
		return errors.New("proxyBuffering: response buffering is not supported; it must stay false")
	case c.ProxyRequestBuffering:
		return errors.New("proxyRequestBuffering: not supported (request bodies are streamed); it must stay false")
	case c.ProxyBufferSize != 0 && c.ProxyBufferSize != 8192:
		return errors.New("proxyBufferSize: NGINX buffer tuning has no equivalent; leave the default (8192)")
	case c.ProxyBuffersNumber != 0 && c.ProxyBuffersNumber != 4:
		return errors.New("proxyBuffersNumber: NGINX buffer tuning has no equivalent; leave the default (4)")
	case c.ProxyNextUpstream != "" && c.ProxyNextUpstream != static.DefaultIngressNGINXNextUpstream:
		return errors.New("proxyNextUpstream: only the default (\"error timeout\") is supported")
	case c.ProxyNextUpstreamTries != 0 && c.ProxyNextUpstreamTries != 3:
		return errors.New("proxyNextUpstreamTries: only the default (3) is supported")
	case c.ProxyNextUpstreamTimeout != 0:
		return errors.New("proxyNextUpstreamTimeout: not supported; leave it at 0")
	case len(c.CustomHTTPErrors) > 0 && c.DefaultBackendService == "":
		return errors.New("customHTTPErrors: needs defaultBackendService (the error pages come from the default backend)")
	}
	if _, bad := parseStatuses(strings.Join(c.CustomHTTPErrors, ",")); len(bad) > 0 {
		return fmt.Errorf("customHTTPErrors: %q: not statuses from 300 to 599", bad)
	}
	_, err := k8s.RESTConfig(k8s.ClientOptions{Endpoint: c.Endpoint, Token: c.Token, CertAuthFilePath: c.CertAuthFilePath})
	return err
}

// Provide watches the cluster until ctx is done.
func (p *Provider) Provide(ctx context.Context, out chan<- dynamic.Message) error {
	cs, _, err := k8s.NewClientset(k8s.ClientOptions{Endpoint: p.cfg.Endpoint, Token: p.cfg.Token, CertAuthFilePath: p.cfg.CertAuthFilePath})
	if err != nil {
		return err
	}
	p.cs = cs
	var opts []informers.SharedInformerOption
	if p.cfg.WatchNamespace != "" {
		opts = append(opts, informers.WithNamespace(p.cfg.WatchNamespace))
	}
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, opts...)
	trig := k8s.NewTrigger()
	synced := []cache.InformerSynced{}
	watch := func(inf cache.SharedIndexInformer) {
		_, _ = inf.AddEventHandler(trig.Handler())
		synced = append(synced, inf.HasSynced)
	}
	ing := f.Networking().V1().Ingresses()
	watch(ing.Informer())
	cls := f.Networking().V1().IngressClasses()
	watch(cls.Informer())
	svc := f.Core().V1().Services()
	watch(svc.Informer())
	eps := f.Discovery().V1().EndpointSlices()
	watch(eps.Informer())
	sec := f.Core().V1().Secrets()
	watch(sec.Informer())
	cm := f.Core().V1().ConfigMaps()
	watch(cm.Informer())
	p.ingresses, p.classes, p.services, p.slices, p.secrets, p.cms = ing.Lister(), cls.Lister(), svc.Lister(), eps.Lister(), sec.Lister(), cm.Lister()
	if p.nsSelector != nil {
		nf := informers.NewSharedInformerFactory(cs, 0)
		ns := nf.Core().V1().Namespaces()
		_, _ = ns.Informer().AddEventHandler(trig.Handler())
		synced = append(synced, ns.Informer().HasSynced)
		p.nss = ns.Lister()
		nf.Start(ctx.Done())
	}
	f.Start(ctx.Done())

	bc := record.NewBroadcaster(record.WithContext(ctx))
	bc.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")})
	defer bc.Shutdown()
	p.recorder = bc.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "switchyard-ingress-nginx"})

	p.log.Info("waiting for the Kubernetes caches", "endpoint", p.cfg.Endpoint)
	if !k8s.WaitForSync(ctx, synced...) {
		return ctx.Err()
	}
	p.log.Info("Kubernetes caches synced")
	if p.cfg.PublishService != "" || len(p.publish) > 0 {
		p.leader = k8s.NewLeader()
		go p.leader.Run(ctx, cs, k8s.LeaderOptions{Name: "switchyard-ingress-nginx"}, p.log)
		go p.statusLoop(ctx)
	}
	k8s.Loop(ctx, Name, trig, time.Duration(p.cfg.ThrottleDuration), p.build, out, p.log)
	return nil
}

// build reads the caches and translates the handled Ingresses.
func (p *Provider) build() *dynamic.Configuration {
	all, err := p.ingresses.List(labels.Everything())
	if err != nil {
		p.log.Error("listing ingresses", "error", err)
	}
	ings := p.filter(all)
	res := translate(&p.cfg, ings, cacheObjects{p})
	p.mu.Lock()
	p.handled = ings
	p.mu.Unlock()
	p.events(ings, res.problems)
	select {
	case p.statusCh <- struct{}{}:
	default:
	}
	return res.conf
}

// filter keeps the Ingresses of this controller's classes, in the
// watched namespaces.
func (p *Provider) filter(all []*netv1.Ingress) []*netv1.Ingress {
	classes, _ := p.classes.List(labels.Everything())
	ours := map[string]bool{}
	for _, c := range classes {
		if c.Spec.Controller == p.cfg.ControllerClass || (p.cfg.IngressClassByName && c.Name == p.cfg.IngressClass) {
			ours[c.Name] = true
		}
	}
	var out []*netv1.Ingress
	for _, ing := range all {
		if !p.namespaceWatched(ing.Namespace) {
			continue
		}
		if handles(ing, ours, p.cfg.IngressClass, p.cfg.WatchIngressWithoutClass) {
			out = append(out, ing)
		}
	}
	return out
}

// handles is the class rule: spec.ingressClassName naming one of our
// IngressClasses; else the legacy annotation equal to ingressClass; else,
// with watchIngressWithoutClass, an Ingress without any class.
func handles(ing *netv1.Ingress, ours map[string]bool, class string, withoutClass bool) bool {
	if n := ing.Spec.IngressClassName; n != nil && *n != "" {
		return ours[*n]
	}
	if v, ok := ing.Annotations[legacyClassAnnotation]; ok {
		return v == class
	}
	return withoutClass
}

func (p *Provider) namespaceWatched(ns string) bool {
	if p.nsSelector == nil {
		return true
	}
	n, err := p.nss.Get(ns)
	if err != nil {
		return false
	}
	return p.nsSelector.Matches(labels.Set(n.Labels))
}

// events logs the problems of each Ingress and records them as Events on
// it, once for each new set of problems.
func (p *Provider) events(ings []*netv1.Ingress, probs map[string][]problem) {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := map[string]bool{}
	for _, ing := range ings {
		k := key(ing)
		seen[k] = true
		list := probs[k]
		var b strings.Builder
		for _, pr := range list {
			b.WriteString(pr.String())
			b.WriteByte('\n')
		}
		sig := b.String()
		if p.reported[k] == sig {
			continue
		}
		p.reported[k] = sig
		for _, pr := range list {
			reason := "Unsupported"
			typ := corev1.EventTypeWarning
			if pr.Fatal {
				reason = "Invalid"
				p.log.Error("ingress not served", "ingress", k, "error", pr.String())
			} else {
				p.log.Warn("ingress", "ingress", k, "warning", pr.String())
			}
			if p.recorder != nil {
				p.recorder.Event(ing, typ, reason, pr.String())
			}
		}
	}
	for k := range p.reported {
		if !seen[k] {
			delete(p.reported, k)
		}
	}
}

// statusLoop writes the load-balancer status of the handled Ingresses,
// on the leader only, after every build and on gaining the lead.
func (p *Provider) statusLoop(ctx context.Context) {
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.statusCh:
		case <-p.leader.Changed():
		case <-tick.C:
		}
		if !p.leader.IsLeader() {
			continue
		}
		addrs := p.addresses(ctx)
		p.mu.Lock()
		ings := slices.Clone(p.handled)
		p.mu.Unlock()
		for _, ing := range ings {
			if ctx.Err() != nil {
				return
			}
			p.writeStatus(ctx, ing, addrs)
		}
	}
}

func (p *Provider) addresses(ctx context.Context) []corev1.LoadBalancerIngress {
	if len(p.publish) > 0 {
		return p.publish
	}
	ns, name, _ := strings.Cut(p.cfg.PublishService, "/")
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	svc, err := p.cs.CoreV1().Services(ns).Get(cctx, name, metav1.GetOptions{})
	if err != nil {
		p.log.Warn("publishService", "service", p.cfg.PublishService, "error", err)
		return nil
	}
	var out []corev1.LoadBalancerIngress
	for _, i := range svc.Status.LoadBalancer.Ingress {
		out = append(out, corev1.LoadBalancerIngress{IP: i.IP, Hostname: i.Hostname})
	}
	if len(out) == 0 {
		for _, ip := range svc.Spec.ExternalIPs {
			out = append(out, corev1.LoadBalancerIngress{IP: ip})
		}
	}
	if len(out) == 0 && svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone {
		out = append(out, corev1.LoadBalancerIngress{IP: svc.Spec.ClusterIP})
	}
	return out
}

func (p *Provider) writeStatus(ctx context.Context, ing *netv1.Ingress, addrs []corev1.LoadBalancerIngress) {
	want := make([]netv1.IngressLoadBalancerIngress, 0, len(addrs))
	for _, a := range addrs {
		want = append(want, netv1.IngressLoadBalancerIngress{IP: a.IP, Hostname: a.Hostname})
	}
	if len(want) == 0 || slices.EqualFunc(ing.Status.LoadBalancer.Ingress, want, func(a, b netv1.IngressLoadBalancerIngress) bool {
		return a.IP == b.IP && a.Hostname == b.Hostname
	}) {
		return
	}
	cp := ing.DeepCopy()
	cp.Status.LoadBalancer.Ingress = want
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := p.cs.NetworkingV1().Ingresses(ing.Namespace).UpdateStatus(cctx, cp, metav1.UpdateOptions{}); err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
		p.log.Warn("ingress status", "ingress", key(ing), "error", err)
	}
}

// cacheObjects reads the informer caches for the translation.
type cacheObjects struct{ p *Provider }

func (o cacheObjects) Service(ns, name string) (*corev1.Service, bool) {
	s, err := o.p.services.Services(ns).Get(name)
	return s, err == nil
}

func (o cacheObjects) Endpoints(svc *corev1.Service, port corev1.ServicePort) []k8s.Endpoint {
	eps, _ := k8s.ServiceEndpoints(o.p.slices, svc, port)
	return eps
}

func (o cacheObjects) Secret(ns, name string) (*corev1.Secret, bool) {
	s, err := o.p.secrets.Secrets(ns).Get(name)
	return s, err == nil
}

func (o cacheObjects) ConfigMap(ns, name string) (*corev1.ConfigMap, bool) {
	c, err := o.p.cms.ConfigMaps(ns).Get(name)
	return c, err == nil
}
