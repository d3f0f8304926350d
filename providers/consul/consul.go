// Package consul is the Consul KV provider: the shared KV core
// (providers/kv) over Consul's KV API, watched with blocking queries so
// that a change of any number of keys arrives as one configuration.
package consul

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers"
	"github.com/switchyard-proxy/switchyard/providers/kv"
)

// Name is the provider name carried by every Message.
const Name = "consul"

// waitTime bounds a blocking query, hence staleness after a silent
// partition.
const waitTime = time.Minute

var _ providers.Provider = (*Provider)(nil)

// Provider watches a Consul KV tree.
type Provider struct {
	*kv.Provider
	cfg     static.ConsulProvider
	clients []*api.Client
}

// New returns a provider for cfg; nothing is contacted.
func New(cfg static.ConsulProvider) *Provider {
	p := &Provider{cfg: cfg}
	p.Provider = kv.New(kv.Options{Name: Name, Source: "Consul KV", RootKey: cfg.RootKey, Open: p.open})
	return p
}

// Init validates the options and builds one client per endpoint.
func (p *Provider) Init() error {
	if err := p.Provider.Init(); err != nil {
		return fmt.Errorf("consul provider: %w", err)
	}
	if len(p.cfg.Endpoints) == 0 {
		return errors.New("consul provider: no endpoints")
	}
	if len(p.cfg.Namespaces) > 1 {
		return errors.New("consul provider: at most one namespace is supported")
	}
	for _, ep := range p.cfg.Endpoints {
		c, err := NewClient(ep, p.cfg.Token, p.cfg.TLS, nil)
		if err != nil {
			return fmt.Errorf("consul provider: endpoint %q: %w", ep, err)
		}
		p.clients = append(p.clients, c)
	}
	return nil
}

func (p *Provider) open() (kv.Store, error) {
	s := &store{clients: p.clients}
	if len(p.cfg.Namespaces) == 1 {
		s.namespace = p.cfg.Namespaces[0]
	}
	return s, nil
}

// NewClient builds a Consul API client for an "host:port" or URL endpoint.
func NewClient(endpoint, token string, t *static.ConsulTLS, auth *static.ConsulHTTPAuth) (*api.Client, error) {
	conf := api.DefaultNonPooledConfig()
	conf.Address = endpoint
	conf.Scheme = "http"
	if i := strings.Index(endpoint, "://"); i > 0 {
		conf.Scheme, conf.Address = endpoint[:i], endpoint[i+3:]
	}
	conf.Token = token
	if t != nil {
		conf.Scheme = "https"
		conf.TLSConfig = api.TLSConfig{CAFile: t.CA, CertFile: t.Cert, KeyFile: t.Key, InsecureSkipVerify: t.InsecureSkipVerify}
	}
	if auth != nil {
		conf.HttpAuth = &api.HttpBasicAuth{Username: auth.Username, Password: auth.Password}
	}
	if t != nil {
		// Validate the files now: a typo should fail at startup, not at first query.
		if _, err := api.SetupTLSConfig(&conf.TLSConfig); err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
	}
	// Blocking queries hold a request for minutes; no client timeout.
	return api.NewClient(conf)
}

// store is Consul's KV API; a failure moves to the next endpoint.
type store struct {
	clients   []*api.Client
	namespace string
	mu        sync.Mutex
	ep        int
}

func (s *store) client() *api.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients[s.ep]
}

func (s *store) failed(c *api.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clients[s.ep] == c {
		s.ep = (s.ep + 1) % len(s.clients)
	}
}

func (s *store) opts(ctx context.Context, index uint64) *api.QueryOptions {
	o := (&api.QueryOptions{WaitIndex: index, WaitTime: waitTime, Namespace: s.namespace}).WithContext(ctx)
	return o
}

// Watch reads the prefix's index, then waits on it with blocking queries.
func (s *store) Watch(ctx context.Context, prefix string) (<-chan error, error) {
	c := s.client()
	_, meta, err := c.KV().Keys(prefix, "", s.opts(ctx, 0))
	if err != nil {
		s.failed(c)
		return nil, err
	}
	ch := kv.Events()
	go func() {
		index := meta.LastIndex
		for {
			_, meta, err := c.KV().Keys(prefix, "", s.opts(ctx, index))
			if ctx.Err() != nil {
				close(ch)
				return
			}
			if err != nil {
				s.failed(c)
				kv.Broken(ch, err)
				return
			}
			// Consul may reset its index (e.g. after a restart with a
			// new data dir): start over from what it says now.
			if meta.LastIndex != index {
				index = meta.LastIndex
				kv.Notify(ch)
			}
		}
	}()
	return ch, nil
}

// List reads every pair under prefix.
func (s *store) List(ctx context.Context, prefix string) (map[string]string, error) {
	c := s.client()
	pairs, _, err := c.KV().List(prefix, s.opts(ctx, 0))
	if err != nil {
		s.failed(c)
		return nil, err
	}
	out := make(map[string]string, len(pairs))
	for _, pair := range pairs {
		out[pair.Key] = string(pair.Value)
	}
	return out, nil
}

func (s *store) Close() error { return nil }

// decode is the core's decoding (kept for the package's tests).
func (p *Provider) decode(pairs api.KVPairs) *dynamic.Configuration {
	m := make(map[string]string, len(pairs))
	for _, pair := range pairs {
		m[pair.Key] = string(pair.Value)
	}
	return p.Decode(m)
}
