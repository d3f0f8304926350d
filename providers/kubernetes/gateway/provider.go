// Package gateway is the Kubernetes Gateway API provider
// (providers.kubernetesGateway): GatewayClasses of our controller, their
// Gateways' listeners on our entrypoints, HTTPRoutes, GRPCRoutes, TLSRoutes
// and TCPRoutes become routers, middlewares and services; ReferenceGrants
// guard cross-namespace references; the status of every object is written
// back by the elected leader.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	kinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	gatev1 "sigs.k8s.io/gateway-api/apis/v1"
	gateclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	gateinformers "sigs.k8s.io/gateway-api/pkg/client/informers/externalversions"
	gatelisters "sigs.k8s.io/gateway-api/pkg/client/listers/apis/v1"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/k8s"
)

// Name is the provider name: objects show as name@kubernetesgateway.
const Name = "kubernetesgateway"

var _ providers.Provider = (*Provider)(nil)

// Provider watches the Gateway API objects.
type Provider struct {
	cfg      static.KubernetesGatewayProvider
	eps      map[string]*static.EntryPoint
	log      *slog.Logger
	rest     *rest.Config
	selector labels.Selector
	opts     Options
	// LeaseName is the leader-election Lease (tests may change it).
	LeaseName string

	mu      sync.Mutex
	pending *Status // last computed status, written by the leader
}

// New returns a provider for cfg; eps are the static entrypoints listener
// ports are matched against. Nothing is contacted.
func New(cfg static.KubernetesGatewayProvider, eps map[string]*static.EntryPoint) *Provider {
	return &Provider{cfg: cfg, eps: eps, log: slog.Default().With("provider", Name), LeaseName: "switchyard-gateway"}
}

// Init validates the static options (every option Traefik documents is
// either honoured or refused here) and prepares the client configuration.
func (p *Provider) Init() error {
	c := &p.cfg
	if c.Endpoint != "" {
		if u, err := url.Parse(c.Endpoint); err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("endpoint: %q is not a URL", c.Endpoint)
		}
	}
	if c.ThrottleDuration < 0 {
		return errors.New("throttleDuration: must not be negative")
	}
	for _, ns := range c.Namespaces {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return fmt.Errorf("namespaces: %q: %s", ns, strings.Join(errs, "; "))
		}
	}
	sel, err := labels.Parse(c.LabelSelector)
	if err != nil {
		return fmt.Errorf("labelSelector: %w", err)
	}
	p.selector = sel
	if sa := c.StatusAddress; sa != nil {
		if sa.IP != "" {
			if net.ParseIP(sa.IP) == nil {
				return fmt.Errorf("statusAddress.ip: %q is not an IP address", sa.IP)
			}
			p.opts.Addresses = append(p.opts.Addresses, gatev1.GatewayStatusAddress{Type: ptr(gatev1.IPAddressType), Value: sa.IP})
		}
		if sa.Hostname != "" {
			if errs := validation.IsDNS1123Subdomain(sa.Hostname); len(errs) > 0 {
				return fmt.Errorf("statusAddress.hostname: %q: %s", sa.Hostname, strings.Join(errs, "; "))
			}
			p.opts.Addresses = append(p.opts.Addresses, gatev1.GatewayStatusAddress{Type: ptr(gatev1.HostnameAddressType), Value: sa.Hostname})
		}
		if (sa.Service.Name == "") != (sa.Service.Namespace == "") {
			return errors.New("statusAddress.service: name and namespace go together")
		}
	}
	if c.ExperimentalChannel {
		// Everything implemented here (TLSRoute, TCPRoute included) is in
		// the v1.6 standard channel; experimental-only kinds are not.
		p.log.Warn("experimentalChannel: TLSRoute and TCPRoute are served from the standard channel (v1); experimental-only resources (UDPRoute, ListenerSet, XBackendTrafficPolicy...) are not supported")
	}
	p.opts.NativeLBByDefault = c.NativeLBByDefault
	p.opts.EntryPoints = nil
	for name, ep := range p.eps {
		if ep == nil {
			continue
		}
		e, err := parseEntryPoint(name, ep.Address)
		if err != nil {
			return fmt.Errorf("entryPoints.%s: %w", name, err)
		}
		p.opts.EntryPoints = append(p.opts.EntryPoints, e)
	}
	slices.SortFunc(p.opts.EntryPoints, func(a, b EntryPoint) int { return strings.Compare(a.Name, b.Name) })
	token := c.Token
	if token != "" && !strings.ContainsAny(token, "\n") {
		// Traefik takes a token value or a file holding it.
		if b, err := os.ReadFile(token); err == nil {
			token = strings.TrimSpace(string(b))
		}
	}
	cfg, err := k8s.RESTConfig(k8s.ClientOptions{Endpoint: c.Endpoint, Token: token, CertAuthFilePath: c.CertAuthFilePath})
	if err != nil {
		return err
	}
	p.rest = cfg
	return nil
}

func parseEntryPoint(name, addr string) (EntryPoint, error) {
	e := EntryPoint{Name: name}
	a := addr
	if i := strings.LastIndex(a, "/"); i >= 0 {
		switch strings.ToLower(a[i+1:]) {
		case "udp":
			e.UDP = true
		case "tcp":
		default:
			return e, fmt.Errorf("address %q: unknown protocol", addr)
		}
		a = a[:i]
	}
	_, port, err := net.SplitHostPort(a)
	if err != nil {
		return e, fmt.Errorf("address %q: %w", addr, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return e, fmt.Errorf("address %q: bad port", addr)
	}
	e.Port = int32(n)
	return e, nil
}

// Provide watches until ctx is done. It waits for the Gateway API CRDs
// (retrying), syncs its informers, then sends a whole configuration after
// every change; the leader writes status.
func (p *Provider) Provide(ctx context.Context, out chan<- dynamic.Message) error {
	cs, err := kubernetes.NewForConfig(p.rest)
	if err != nil {
		return err
	}
	gcs, err := gateclient.NewForConfig(p.rest)
	if err != nil {
		return err
	}
	served, err := p.waitForCRDs(ctx, gcs)
	if err != nil {
		return err
	}
	trig := k8s.NewTrigger()
	st := &informerStore{served: served}
	var factories []interface{ Start(<-chan struct{}) }
	var synced []cache.InformerSynced
	add := func(inf cache.SharedIndexInformer) {
		_, _ = inf.AddEventHandler(trig.Handler())
		synced = append(synced, inf.HasSynced)
	}

	// Cluster-scoped: GatewayClasses (labelSelector applies) and Namespaces
	// (allowedRoutes selectors).
	clusterGw := gateinformers.NewSharedInformerFactoryWithOptions(gcs, 0,
		gateinformers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = p.cfg.LabelSelector }))
	gci := clusterGw.Gateway().V1().GatewayClasses()
	add(gci.Informer())
	st.classes = gci.Lister()
	clusterKube := kinformers.NewSharedInformerFactory(cs, 0)
	nsi := clusterKube.Core().V1().Namespaces()
	add(nsi.Informer())
	st.namespaces = nsi.Lister()
	factories = append(factories, clusterGw, clusterKube)

	namespaces := p.cfg.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	for _, ns := range namespaces {
		gf := gateinformers.NewSharedInformerFactoryWithOptions(gcs, 0, gateinformers.WithNamespace(ns))
		kf := kinformers.NewSharedInformerFactoryWithOptions(cs, 0, kinformers.WithNamespace(ns))
		v1 := gf.Gateway().V1()
		l := nsListers{ns: ns}
		add(v1.Gateways().Informer())
		l.gateways = v1.Gateways().Lister()
		add(v1.HTTPRoutes().Informer())
		l.http = v1.HTTPRoutes().Lister()
		if served["grpcroutes"] {
			add(v1.GRPCRoutes().Informer())
			l.grpc = v1.GRPCRoutes().Lister()
		}
		if served["tlsroutes"] {
			add(v1.TLSRoutes().Informer())
			l.tls = v1.TLSRoutes().Lister()
		}
		if served["tcproutes"] {
			add(v1.TCPRoutes().Informer())
			l.tcp = v1.TCPRoutes().Lister()
		}
		if served["referencegrants"] {
			add(v1.ReferenceGrants().Informer())
			l.grants = v1.ReferenceGrants().Lister()
		}
		add(kf.Core().V1().Services().Informer())
		l.services = kf.Core().V1().Services().Lister()
		add(kf.Discovery().V1().EndpointSlices().Informer())
		l.slices = kf.Discovery().V1().EndpointSlices().Lister()
		add(kf.Core().V1().Secrets().Informer())
		l.secrets = kf.Core().V1().Secrets().Lister()
		st.perNs = append(st.perNs, l)
		factories = append(factories, gf, kf)
	}
	// The Service whose load-balancer addresses the Gateways publish.
	var statusSvc corelisters.ServiceLister
	if sa := p.cfg.StatusAddress; sa != nil && sa.Service.Name != "" {
		f := kinformers.NewSharedInformerFactoryWithOptions(cs, 0, kinformers.WithNamespace(sa.Service.Namespace),
			kinformers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermEqualSelector("metadata.name", sa.Service.Name).String()
			}))
		add(f.Core().V1().Services().Informer())
		statusSvc = f.Core().V1().Services().Lister()
		factories = append(factories, f)
	}
	for _, f := range factories {
		f.Start(ctx.Done())
	}
	if !k8s.WaitForSync(ctx, synced...) {
		return ctx.Err()
	}
	p.log.Info("watching the Gateway API", "namespaces", p.cfg.Namespaces, "kinds", servedList(served))

	leader := k8s.NewLeader()
	go leader.Run(ctx, cs, k8s.LeaderOptions{Name: p.LeaseName}, p.log)
	statusTrig := k8s.NewTrigger()
	go p.statusLoop(ctx, gcs, st, leader, statusTrig)

	build := func() *dynamic.Configuration {
		opts := p.opts
		if statusSvc != nil {
			opts.Addresses = append(slices.Clone(opts.Addresses), serviceAddresses(statusSvc, p.cfg.StatusAddress.Service)...)
		}
		conf, status := Build(st, opts)
		p.mu.Lock()
		p.pending = &status
		p.mu.Unlock()
		statusTrig.Fire()
		return conf
	}
	k8s.Loop(ctx, Name, trig, time.Duration(p.cfg.ThrottleDuration), build, out, p.log)
	return nil
}

// waitForCRDs waits until the Gateway API v1 group serves at least
// GatewayClasses, Gateways and HTTPRoutes; it returns the served resources.
func (p *Provider) waitForCRDs(ctx context.Context, gcs gateclient.Interface) (map[string]bool, error) {
	delay := 500 * time.Millisecond
	warned := false
	for {
		list, err := gcs.Discovery().ServerResourcesForGroupVersion(gatev1.GroupVersion.String())
		if err == nil {
			served := map[string]bool{}
			for _, r := range list.APIResources {
				served[r.Name] = true
			}
			if served["gatewayclasses"] && served["gateways"] && served["httproutes"] {
				return served, nil
			}
			err = errors.New("gatewayclasses, gateways and httproutes are not all served")
		}
		if !warned {
			p.log.Warn("Gateway API v1 CRDs not available yet; retrying (install them: deploy/gateway-api/)", "error", err)
			warned = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 10*time.Second)
	}
}

func servedList(m map[string]bool) []string {
	var out []string
	for _, k := range []string{"grpcroutes", "tlsroutes", "tcproutes", "referencegrants"} {
		if m[k] {
			out = append(out, k)
		}
	}
	return append([]string{"gatewayclasses", "gateways", "httproutes"}, out...)
}

func serviceAddresses(l corelisters.ServiceLister, ref static.KubernetesGatewayServiceRef) []gatev1.GatewayStatusAddress {
	svc, err := l.Services(ref.Namespace).Get(ref.Name)
	if err != nil {
		return nil
	}
	var out []gatev1.GatewayStatusAddress
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			out = append(out, gatev1.GatewayStatusAddress{Type: ptr(gatev1.IPAddressType), Value: in.IP})
		}
		if in.Hostname != "" {
			out = append(out, gatev1.GatewayStatusAddress{Type: ptr(gatev1.HostnameAddressType), Value: in.Hostname})
		}
	}
	if len(out) == 0 {
		for _, ip := range svc.Spec.ClusterIPs {
			if ip != "" && ip != corev1.ClusterIPNone {
				out = append(out, gatev1.GatewayStatusAddress{Type: ptr(gatev1.IPAddressType), Value: ip})
			}
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// The informer-backed Store.

type nsListers struct {
	ns       string
	gateways gatelisters.GatewayLister
	http     gatelisters.HTTPRouteLister
	grpc     gatelisters.GRPCRouteLister
	tls      gatelisters.TLSRouteLister
	tcp      gatelisters.TCPRouteLister
	grants   gatelisters.ReferenceGrantLister
	services corelisters.ServiceLister
	slices   discoverylisters.EndpointSliceLister
	secrets  corelisters.SecretLister
}

type informerStore struct {
	served     map[string]bool
	classes    gatelisters.GatewayClassLister
	namespaces corelisters.NamespaceLister
	perNs      []nsListers
}

func (s *informerStore) GatewayClasses() []*gatev1.GatewayClass {
	out, _ := s.classes.List(labels.Everything())
	return out
}

func (s *informerStore) Gateways() (out []*gatev1.Gateway) {
	for _, l := range s.perNs {
		v, _ := l.gateways.List(labels.Everything())
		out = append(out, v...)
	}
	return out
}

func (s *informerStore) HTTPRoutes() (out []*gatev1.HTTPRoute) {
	for _, l := range s.perNs {
		v, _ := l.http.List(labels.Everything())
		out = append(out, v...)
	}
	return out
}

func (s *informerStore) GRPCRoutes() (out []*gatev1.GRPCRoute) {
	for _, l := range s.perNs {
		if l.grpc != nil {
			v, _ := l.grpc.List(labels.Everything())
			out = append(out, v...)
		}
	}
	return out
}

func (s *informerStore) TLSRoutes() (out []*gatev1.TLSRoute) {
	for _, l := range s.perNs {
		if l.tls != nil {
			v, _ := l.tls.List(labels.Everything())
			out = append(out, v...)
		}
	}
	return out
}

func (s *informerStore) TCPRoutes() (out []*gatev1.TCPRoute) {
	for _, l := range s.perNs {
		if l.tcp != nil {
			v, _ := l.tcp.List(labels.Everything())
			out = append(out, v...)
		}
	}
	return out
}

func (s *informerStore) in(ns string) *nsListers {
	for i := range s.perNs {
		if s.perNs[i].ns == "" || s.perNs[i].ns == ns {
			return &s.perNs[i]
		}
	}
	return nil
}

func (s *informerStore) ReferenceGrants(ns string) []*gatev1.ReferenceGrant {
	l := s.in(ns)
	if l == nil || l.grants == nil {
		return nil
	}
	out, _ := l.grants.ReferenceGrants(ns).List(labels.Everything())
	return out
}

func (s *informerStore) Service(ns, name string) *corev1.Service {
	l := s.in(ns)
	if l == nil {
		return nil
	}
	svc, err := l.services.Services(ns).Get(name)
	if err != nil {
		return nil
	}
	return svc
}

func (s *informerStore) EndpointSlices(ns, svc string) []*discoveryv1.EndpointSlice {
	l := s.in(ns)
	if l == nil {
		return nil
	}
	out, _ := l.slices.EndpointSlices(ns).List(labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc}))
	return out
}

func (s *informerStore) Secret(ns, name string) *corev1.Secret {
	l := s.in(ns)
	if l == nil {
		return nil
	}
	sec, err := l.secrets.Secrets(ns).Get(name)
	if err != nil {
		return nil
	}
	return sec
}

func (s *informerStore) Namespace(name string) *corev1.Namespace {
	ns, err := s.namespaces.Get(name)
	if err != nil {
		return nil
	}
	return ns
}
