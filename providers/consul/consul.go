// Package consul is the Consul KV provider: the tree under rootKey, decoded
// with Traefik's KV layout, watched with blocking queries so that a change
// of any number of keys arrives as one configuration.
package consul

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/internal/redact"
	"github.com/switchyard-proxy/switchyard/providers"
	"github.com/switchyard-proxy/switchyard/providers/labels"
)

// Name is the provider name carried by every Message.
const Name = "consul"

// Retry backoff after a failed query; reset by the first success.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
	waitTime   = time.Minute // bounds staleness after a silent partition
)

var _ providers.Provider = (*Provider)(nil)

// Provider watches a Consul KV tree.
type Provider struct {
	cfg     static.ConsulProvider
	log     *slog.Logger
	clients []*api.Client
}

// New returns a provider for cfg; nothing is contacted.
func New(cfg static.ConsulProvider) *Provider {
	return &Provider{cfg: cfg, log: slog.Default().With("provider", Name)}
}

// Init validates the options and builds one client per endpoint.
func (p *Provider) Init() error {
	p.cfg.RootKey = strings.Trim(p.cfg.RootKey, "/")
	if p.cfg.RootKey == "" {
		return errors.New("consul provider: rootKey is empty")
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

// Provide watches the tree until ctx is done.
func (p *Provider) Provide(ctx context.Context, out chan<- dynamic.Message) error {
	var (
		index   uint64
		last    string // hash of the last configuration sent
		sent    bool
		backoff = minBackoff
		ep      int
		failing bool
	)
	prefix := p.cfg.RootKey + "/"
	for ctx.Err() == nil {
		opts := (&api.QueryOptions{WaitIndex: index, WaitTime: waitTime}).WithContext(ctx)
		if len(p.cfg.Namespaces) == 1 {
			opts.Namespace = p.cfg.Namespaces[0]
		}
		pairs, meta, err := p.clients[ep].KV().List(prefix, opts)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !failing {
				p.log.Error("KV query failed; keeping the last configuration", "endpoint", p.cfg.Endpoints[ep], "error", err)
			} else {
				p.log.Debug("KV query failed", "endpoint", p.cfg.Endpoints[ep], "error", err)
			}
			failing = true
			ep = (ep + 1) % len(p.clients)
			index = 0
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(backoff*2, maxBackoff)
			continue
		}
		if failing {
			p.log.Info("KV reachable again", "endpoint", p.cfg.Endpoints[ep])
			failing = false
		}
		backoff = minBackoff
		// Consul may reset its index (e.g. after a restart with a new data dir).
		if meta.LastIndex < index {
			index = 0
		} else {
			index = meta.LastIndex
		}
		conf := p.decode(pairs)
		h := dynamic.Hash(conf)
		if sent && h == last {
			continue
		}
		select {
		case out <- dynamic.Message{ProviderName: Name, Configuration: conf}:
			sent, last = true, h
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// decode turns the pairs into a configuration, logging each skipped object.
func (p *Provider) decode(pairs api.KVPairs) *dynamic.Configuration {
	kv := make(map[string]string, len(pairs))
	prefix := p.cfg.RootKey + "/"
	for _, pair := range pairs {
		k := strings.TrimPrefix(pair.Key, prefix)
		if k == "" || strings.HasSuffix(k, "/") {
			continue // folders
		}
		kv[k] = string(pair.Value)
	}
	conf, errs := labels.Decode(labels.ParseKV(kv), labels.KVMode)
	for _, err := range errs {
		// An object that does not decode is left out and reported on its
		// name (the API shows it disabled with the key); the value is
		// shown unless the key names a secret.
		if pr, ok := labels.Problem(err, "Consul KV", func(oe *labels.ObjectError) string {
			return "key " + redact.Text(prefix+oe.Key, kv[oe.Key])
		}); ok {
			conf.Problems = append(conf.Problems, pr)
			continue
		}
		var oe *labels.ObjectError
		if errors.As(err, &oe) {
			p.log.Error("skipping key", "key", prefix+oe.Key, "error", oe.Err)
			continue
		}
		p.log.Error("skipping key", "error", err)
	}
	return conf
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
