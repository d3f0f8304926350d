package builder

import (
	ctls "crypto/tls"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/runtime"
	"github.com/switchyard-proxy/switchyard/routers/httpmux"
	"github.com/switchyard-proxy/switchyard/routers/rules"
	"github.com/switchyard-proxy/switchyard/routers/tcpmux"
	sytls "github.com/switchyard-proxy/switchyard/tls"
)

// Edge is the TLS and TCP side of one TCP entrypoint.
type Edge struct {
	// HTTPS serves the HTTP routers that want TLS.
	HTTPS http.Handler
	// TCP holds the entrypoint's TCP routers (possibly none).
	TCP *tcpmux.Muxer
	// TLS picks the server config of the HTTPS side by server name.
	TLS *sytls.Selector
	// TCPOnly is true when no HTTP router uses the entrypoint.
	TCPOnly bool
}

// edgeBuild is the TLS/TCP state of one build.
type edgeBuild struct {
	tls      *sytls.Set
	https    map[string]*httpmux.Muxer
	httpUsed map[string]bool
	// hosts: entrypoint → host → TLS options name and the routers asking.
	hosts   map[string]map[string]*hostOptions
	tcpCfgs map[string]*ctls.Config
	tcpSvcs map[string]tcpSvcResult
	udpSvcs map[string]udpSvcResult
	// acme: resolver → domain sets of its routers.
	acme map[string][][]string
}

type hostOptions struct {
	option   string
	routers  []string
	conflict bool
}

func (b *build) initEdge() {
	b.edge = edgeBuild{
		tls:      sytls.Build(b.conf.TLS),
		https:    map[string]*httpmux.Muxer{},
		httpUsed: map[string]bool{},
		hosts:    map[string]map[string]*hostOptions{},
		tcpCfgs:  map[string]*ctls.Config{},
		tcpSvcs:  map[string]tcpSvcResult{},
		udpSvcs:  map[string]udpSvcResult{},
		acme:     map[string][][]string{},
	}
	if b.deps.ACME != nil {
		b.edge.tls.Store.Dynamic = b.deps.ACME
	}
	for name, ep := range b.deps.EntryPoints {
		if proto, _ := ep.Network(); proto == "tcp" {
			b.edge.https[name] = httpmux.New()
			b.edge.hosts[name] = map[string]*hostOptions{}
		}
	}
}

// routerTLS is the TLS section a router has on an entrypoint: its own,
// or the entrypoint's http.tls defaults, or nil (plain HTTP).
func (b *build) routerTLS(r *dynamic.Router, ep string) *dynamic.RouterTLSConfig {
	if r.TLS != nil {
		return r.TLS
	}
	if d := b.deps.EntryPoints[ep].HTTP.TLS; d != nil {
		return &dynamic.RouterTLSConfig{Options: d.Options, CertResolver: d.CertResolver, Domains: d.Domains}
	}
	return nil
}

// checkRouterTLS fails a router whose TLS options do not exist or are
// broken, before anything of it is built.
func (b *build) checkRouterTLS(r *dynamic.Router, eps []string) error {
	for _, ep := range eps {
		t := b.routerTLS(r, ep)
		if t == nil {
			continue
		}
		if _, err := b.edge.tls.Options(t.Options); err != nil {
			return err
		}
	}
	return nil
}

// muxerFor returns the HTTPS muxer of ep for TLS routers, the plain one
// otherwise.
func (b *build) muxerFor(ep string, r *dynamic.Router, plain map[string]*httpmux.Muxer) *httpmux.Muxer {
	b.edge.httpUsed[ep] = true
	if b.routerTLS(r, ep) != nil {
		return b.edge.https[ep]
	}
	return plain[ep]
}

// recordRouterTLS notes which TLS options the hosts of a served TLS
// router want, for the per-entrypoint selector.
func (b *build) recordRouterTLS(name string, r *dynamic.Router, eps []string) {
	info := b.rt.Routers[name]
	for _, ep := range eps {
		t := b.routerTLS(r, ep)
		if t == nil {
			continue
		}
		opt := t.Options
		if opt == "" {
			opt = sytls.DefaultOptions
		}
		tree, err := rules.Parse(r.Rule)
		if err != nil {
			continue
		}
		if t.CertResolver != "" {
			b.recordResolver(info, t, rules.Domains(tree))
		}
		for _, h := range rules.PositiveDomains(tree) {
			h = strings.ToLower(rules.TrimDot(h))
			cur, ok := b.edge.hosts[ep][h]
			if !ok {
				b.edge.hosts[ep][h] = &hostOptions{option: opt, routers: []string{name}}
				continue
			}
			if !slices.Contains(cur.routers, name) {
				cur.routers = append(cur.routers, name)
			}
			if cur.option != opt {
				cur.conflict = true
			}
		}
	}
}

// recordResolver notes the domains a router wants from its certificate
// resolver: its tls.domains, else the hosts of its rule (one certificate).
func (b *build) recordResolver(info *runtime.RouterInfo, t *dynamic.RouterTLSConfig, hosts []string) {
	if !b.deps.CertResolvers[t.CertResolver] && (b.deps.ACME == nil || !b.deps.ACME.Has(t.CertResolver)) {
		info.AddError(fmt.Errorf("certResolver %q: unknown certificate resolver; serving certificates from the default store", t.CertResolver), false)
		return
	}
	if len(t.Domains) > 0 {
		for _, d := range t.Domains {
			b.edge.acme[t.CertResolver] = append(b.edge.acme[t.CertResolver], append([]string{d.Main}, d.SANs...))
		}
		return
	}
	if len(hosts) > 0 {
		b.edge.acme[t.CertResolver] = append(b.edge.acme[t.CertResolver], hosts)
	}
}

// finishEdge compiles the TLS selectors, the TCP and UDP routers, and
// fills the table.
func (b *build) finishEdge(table *Table) {
	table.Edge = map[string]*Edge{}
	b.edge.tls.Log()
	for _, c := range b.edge.tls.Certs {
		b.rt.TLSCertificates = append(b.rt.TLSCertificates, runtime.TLSCertificateInfo{Names: c.Names, NotAfter: c.NotAfter, Stores: c.Stores, Issuer: c.Issuer})
	}
	for _, err := range b.edge.tls.Errors {
		b.rt.TLSErrors = append(b.rt.TLSErrors, err.Error())
	}
	if b.deps.ACME != nil {
		for _, c := range b.deps.ACME.Certificates() {
			b.rt.TLSCertificates = append(b.rt.TLSCertificates, runtime.TLSCertificateInfo{Names: c.Names, NotAfter: c.NotAfter, Stores: []string{sytls.DefaultStore}, Resolver: c.Resolver, Issuer: c.Issuer})
		}
		b.rt.TLSErrors = append(b.rt.TLSErrors, b.deps.ACME.Errors()...)
	}
	table.ACME = b.edge.acme
	def, _ := b.edge.tls.Options("")

	tcp := b.tcpRouters()
	for ep, m := range b.edge.https {
		m.Build()
		hosts := map[string]*ctls.Config{}
		for _, h := range slices.Sorted(maps.Keys(b.edge.hosts[ep])) {
			ho := b.edge.hosts[ep][h]
			if ho.conflict {
				for _, rn := range ho.routers {
					if info, ok := b.rt.Routers[rn]; ok {
						info.AddError(fmt.Errorf("found different TLS options for routers on the same host %s, so using the default TLS options instead", h), false)
					}
				}
				continue
			}
			if cfg, err := b.edge.tls.Options(ho.option); err == nil && cfg != def {
				hosts[h] = cfg
			}
		}
		table.Edge[ep] = &Edge{
			HTTPS:   m,
			TCP:     tcp[ep],
			TLS:     sytls.NewSelector(def, hosts).WithTLCP(b.edge.tls),
			TCPOnly: !b.edge.httpUsed[ep],
		}
	}
	table.UDP = b.udpRouters()
}

// tcpTLSConfig is the server config a TLS-terminating TCP router uses:
// its options without the HTTP ALPN defaults, so a client never
// negotiates h2 with a raw TCP backend.
func (b *build) tcpTLSConfig(option string) (*ctls.Config, error) {
	if c, ok := b.edge.tcpCfgs[option]; ok {
		return c, nil
	}
	cfg, err := b.edge.tls.Options(option)
	if err != nil {
		return nil, err
	}
	if slices.Equal(cfg.NextProtos, sytls.DefaultALPN) {
		orig := cfg
		cfg = sytls.WithALPN(cfg, nil)
		b.edge.tls.Alias(cfg, orig)
	}
	b.edge.tcpCfgs[option] = cfg
	return cfg, nil
}
