// Package consulcatalog is the Consul Catalog provider: every service of the
// catalog with healthy instances becomes a router and a load-balancer
// service with one server per healthy instance; tags in the label syntax
// (`switchyard.http.routers.x.rule=...`, `traefik.` accepted too) refine
// or replace the defaults.
package consulcatalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/hashicorp/consul/api"
	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers"
	"github.com/switchyard-proxy/switchyard/providers/consul"
	"github.com/switchyard-proxy/switchyard/providers/labeled"
)

// Name is the provider name carried by every Message.
const Name = "consulcatalog"

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

var _ providers.Provider = (*Provider)(nil)

// Provider reads the Consul catalog.
type Provider struct {
	cfg        static.ConsulCatalogProvider
	log        *slog.Logger
	client     *api.Client
	rule       *template.Template
	constraint labeled.Constraint
	roots      []string
	checks     map[string]bool
}

// New returns a provider for cfg; nothing is contacted.
func New(cfg static.ConsulCatalogProvider) *Provider {
	return &Provider{cfg: cfg, log: slog.Default().With("provider", Name)}
}

// Init compiles the default rule and the constraints and builds the client.
func (p *Provider) Init() error {
	c := &p.cfg
	if c.Endpoint == nil {
		c.Endpoint = &static.ConsulEndpoint{}
	}
	if c.Endpoint.Address == "" {
		c.Endpoint.Address = "127.0.0.1:8500"
	}
	if c.Prefix == "" {
		c.Prefix = "traefik"
	}
	if c.DefaultRule == "" {
		c.DefaultRule = static.DefaultConsulCatalogRule
	}
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = ptypes.Duration(15 * time.Second)
	}
	if len(c.StrictChecks) == 0 {
		c.StrictChecks = []string{api.HealthPassing, api.HealthWarning}
	}
	if c.ConnectAware || c.ConnectByDefault {
		return errors.New("consulCatalog provider: connectAware/connectByDefault (Consul Connect) is not supported")
	}
	if len(c.Namespaces) > 1 {
		return errors.New("consulCatalog provider: at most one namespace is supported")
	}
	if c.RequireConsistent && c.Stale {
		return errors.New("consulCatalog provider: requireConsistent and stale exclude each other")
	}
	p.checks = map[string]bool{}
	for _, s := range c.StrictChecks {
		switch s {
		case api.HealthPassing, api.HealthWarning, api.HealthCritical, api.HealthMaint:
			p.checks[s] = true
		default:
			return fmt.Errorf("consulCatalog provider: strictChecks: unknown status %q", s)
		}
	}
	var err error
	if p.rule, err = labeled.CompileRule(c.DefaultRule); err != nil {
		return fmt.Errorf("consulCatalog provider: %w", err)
	}
	if p.constraint, err = labeled.CompileConstraints(c.Constraints, labeled.TagFuncs); err != nil {
		return fmt.Errorf("consulCatalog provider: %w", err)
	}
	// The configured prefix, then Traefik's and Switchyard's own: tags
	// written for either keep working whatever the prefix.
	p.roots = []string{c.Prefix}
	for _, r := range []string{"traefik", "switchyard"} {
		if !strings.EqualFold(c.Prefix, r) {
			p.roots = append(p.roots, r)
		}
	}
	addr := c.Endpoint.Address
	if c.Endpoint.Scheme != "" && !strings.Contains(addr, "://") {
		addr = c.Endpoint.Scheme + "://" + addr
	}
	if p.client, err = consul.NewClient(addr, c.Endpoint.Token, c.Endpoint.TLS, c.Endpoint.HTTPAuth); err != nil {
		return fmt.Errorf("consulCatalog provider: endpoint: %w", err)
	}
	return nil
}

// Provide polls every refreshInterval and, with watch, also on every
// catalog or health change; a failure keeps the last configuration and is
// retried with backoff.
func (p *Provider) Provide(ctx context.Context, out chan<- dynamic.Message) error {
	trigger := make(chan struct{}, 1)
	if p.cfg.Watch {
		go p.watch(ctx, trigger, func(o *api.QueryOptions) (uint64, error) {
			_, m, err := p.client.Catalog().Services(o)
			if err != nil {
				return 0, err
			}
			return m.LastIndex, nil
		})
		go p.watch(ctx, trigger, func(o *api.QueryOptions) (uint64, error) {
			_, m, err := p.client.Health().State(api.HealthAny, o)
			if err != nil {
				return 0, err
			}
			return m.LastIndex, nil
		})
	}
	tick := time.NewTicker(time.Duration(p.cfg.RefreshInterval))
	defer tick.Stop()
	var (
		last    string
		sent    bool
		failing bool
		backoff = minBackoff
	)
	for ctx.Err() == nil {
		conf, err := p.load(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !failing {
				p.log.Error("catalog query failed; keeping the last configuration", "error", err)
			}
			failing = true
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(backoff*2, maxBackoff)
			continue
		}
		if failing {
			p.log.Info("catalog reachable again")
			failing = false
		}
		backoff = minBackoff
		if h := dynamic.Hash(conf); !sent || h != last {
			select {
			case out <- dynamic.Message{ProviderName: Name, Configuration: conf}:
				sent, last = true, h
			case <-ctx.Done():
				return nil
			}
		}
		select {
		case <-tick.C:
		case <-trigger:
		case <-ctx.Done():
		}
	}
	return nil
}

// watch runs a blocking query in a loop and signals each index change.
func (p *Provider) watch(ctx context.Context, trigger chan<- struct{}, query func(*api.QueryOptions) (uint64, error)) {
	var index uint64
	backoff := minBackoff
	for ctx.Err() == nil {
		o := p.opts(ctx)
		o.WaitIndex = index
		if d := time.Duration(p.cfg.Endpoint.EndpointWaitTime); d > 0 {
			o.WaitTime = d
		}
		idx, err := query(o)
		if err != nil {
			index = 0
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, maxBackoff)
			select {
			case trigger <- struct{}{}:
			default:
			}
			continue
		}
		backoff = minBackoff
		if idx != index {
			index = idx
			select {
			case trigger <- struct{}{}:
			default:
			}
		}
	}
}

func (p *Provider) opts(ctx context.Context) *api.QueryOptions {
	o := &api.QueryOptions{
		Datacenter:        p.cfg.Endpoint.DataCenter,
		AllowStale:        p.cfg.Stale,
		RequireConsistent: p.cfg.RequireConsistent,
		UseCache:          p.cfg.Cache,
	}
	if len(p.cfg.Namespaces) == 1 {
		o.Namespace = p.cfg.Namespaces[0]
	}
	return o.WithContext(ctx)
}

// instance is one healthy service instance.
type instance struct {
	ID      string
	Address string
	Port    int
	Tags    []string
}

// load reads the catalog and builds the configuration.
func (p *Provider) load(ctx context.Context) (*dynamic.Configuration, error) {
	names, _, err := p.client.Catalog().Services(p.opts(ctx))
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	services := map[string][]instance{}
	for name := range names {
		if name == "consul" {
			continue // the agent itself
		}
		entries, _, err := p.client.Health().Service(name, "", false, p.opts(ctx))
		if err != nil {
			return nil, fmt.Errorf("service %q: %w", name, err)
		}
		for _, e := range entries {
			if !p.checks[e.Checks.AggregatedStatus()] {
				continue
			}
			addr := e.Service.Address
			if addr == "" {
				addr = e.Node.Address
			}
			services[name] = append(services[name], instance{ID: e.Node.Node + "/" + e.Service.ID, Address: addr, Port: e.Service.Port, Tags: e.Service.Tags})
		}
	}
	return p.build(services), nil
}

// Normalize is Traefik's name normalization (providers/labeled).
func Normalize(name string) string { return labeled.Normalize(name) }

// ruleData is what a defaultRule template sees.
type ruleData struct {
	Name   string
	Labels map[string]string
}

// tagLabels turns "key=value" tags into labels; plain tags stay tags.
func tagLabels(tags []string) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		if k, v, ok := strings.Cut(t, "="); ok {
			m[strings.TrimSpace(k)] = v
		}
	}
	return m
}

// build turns the healthy instances into one configuration. As in
// Traefik, every instance's tags are decoded into a configuration of their
// own and the configurations are merged: a router, middleware or service
// that instances (of one Consul service or of several) define the same way
// is kept, load-balancer services that differ only by their servers get
// every instance's servers, and an object defined differently is left out
// and reported on its name (a rolling tag change shows as a conflict, never
// as one instance's tags silently winning).
func (p *Provider) build(services map[string][]instance) *dynamic.Configuration {
	m := labeled.NewMerger("Consul instances")
	for _, name := range slices.Sorted(mapKeys(services)) {
		var insts []instance
		for _, in := range services[name] {
			on, err := p.enabled(in)
			if err != nil {
				m.AddProblems(dynamic.ObjectProblem{Kind: "service", Name: Normalize(name), Warning: true,
					Error: fmt.Sprintf("Consul service %q, instance %q: tag %v: instance left out", name, in.ID, err)})
			}
			if !on || !p.constraint(labeled.Subject{Tags: in.Tags}) {
				continue
			}
			insts = append(insts, in)
		}
		slices.SortFunc(insts, func(a, b instance) int { return strings.Compare(a.ID, b.ID) })
		for _, in := range insts {
			conf, problems := p.buildService(name, in)
			m.Add(conf, name+"/"+in.ID)
			m.AddProblems(problems...)
		}
	}
	return m.Finish(p.log)
}

// enabled reads the instance's enable tag; a value that is not a boolean
// leaves the instance out, with an error.
func (p *Provider) enabled(in instance) (bool, error) {
	return labeled.Enabled(tagLabels(in.Tags), p.roots, p.cfg.ExposedByDefault)
}

// buildService decodes the tags of one instance and fills in Traefik's
// defaults (providers/labeled): a router with the default rule, a service
// named after the Consul service, the instance as its server.
func (p *Provider) buildService(name string, in instance) (*dynamic.Configuration, []dynamic.ObjectProblem) {
	lbls := tagLabels(in.Tags)
	return labeled.Build(labeled.Instance{
		Service: Normalize(name),
		Where:   fmt.Sprintf("Consul service %q, instance %q", name, in.ID),
		Noun:    "tag",
		Labels:  lbls,
		Address: func(port string) (string, error) { return hostPort(in, port), nil },
		Rule: func() (string, error) {
			return labeled.RenderRule(p.rule, ruleData{Name: name, Labels: lbls})
		},
	}, p.roots, "consulcatalog.")
}

func hostPort(in instance, port string) string {
	if port == "" {
		port = strconv.Itoa(in.Port)
	}
	return net.JoinHostPort(in.Address, port)
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
