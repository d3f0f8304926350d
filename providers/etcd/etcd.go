// Package etcd is the etcd provider: the shared KV core (providers/kv) over
// etcd's v3 API, followed with a prefix watch.
package etcd

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers"
	"github.com/switchyard-proxy/switchyard/providers/clienttls"
	"github.com/switchyard-proxy/switchyard/providers/kv"
)

// Name is the provider name carried by every Message.
const Name = "etcd"

// probeEvery is how often a quiet watch checks the server: etcd's client
// reconnects silently, so without it an outage would not be reported and
// a server restarted with fresh data not noticed.
const (
	probeEvery   = 2 * time.Second
	probeTimeout = 3 * time.Second
)

var _ providers.Provider = (*Provider)(nil)

// Provider watches keys under rootKey in etcd.
type Provider struct {
	*kv.Provider
	cfg  static.EtcdProvider
	conf clientv3.Config
}

// New returns a provider for cfg; nothing is contacted.
func New(cfg static.EtcdProvider) *Provider {
	p := &Provider{cfg: cfg}
	p.Provider = kv.New(kv.Options{Name: Name, Source: "etcd", RootKey: cfg.RootKey, Open: p.open})
	return p
}

// Init validates the options.
func (p *Provider) Init() error {
	if err := p.Provider.Init(); err != nil {
		return fmt.Errorf("etcd provider: %w", err)
	}
	if len(p.cfg.Endpoints) == 0 {
		return errors.New("etcd provider: no endpoints")
	}
	if (p.cfg.Username == "") != (p.cfg.Password == "") {
		return errors.New("etcd provider: username and password must be given together")
	}
	tc, err := clienttls.Config(p.cfg.TLS)
	if err != nil {
		return fmt.Errorf("etcd provider: %w", err)
	}
	p.conf = clientv3.Config{
		Endpoints:   p.cfg.Endpoints,
		Username:    p.cfg.Username,
		Password:    p.cfg.Password,
		TLS:         tc,
		DialTimeout: 3 * time.Second,
		Logger:      zap.NewNop(),
		// Keepalives notice a dead server on an idle connection.
		DialKeepAliveTime:    5 * time.Second,
		DialKeepAliveTimeout: 3 * time.Second,
	}
	return nil
}

func (p *Provider) open() (kv.Store, error) {
	c, err := clientv3.New(p.conf)
	if err != nil {
		return nil, err
	}
	return &store{c: c}, nil
}

type store struct{ c *clientv3.Client }

// Watch opens a prefix watch and waits until the server confirms it.
func (s *store) Watch(ctx context.Context, prefix string) (<-chan error, error) {
	rev, err := s.probe(ctx, prefix)
	if err != nil {
		return nil, err
	}
	wch := s.c.Watch(clientv3.WithRequireLeader(ctx), prefix, clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	t := time.NewTimer(probeTimeout)
	defer t.Stop()
	select {
	case resp, ok := <-wch:
		if !ok {
			return nil, errors.New("watch closed")
		}
		if err := resp.Err(); err != nil {
			return nil, err
		}
	case <-t.C:
		return nil, errors.New("watch not confirmed in time")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	ch := kv.Events()
	go func() {
		tick := time.NewTicker(probeEvery)
		defer tick.Stop()
		for {
			select {
			case resp, ok := <-wch:
				if ctx.Err() != nil {
					close(ch)
					return
				}
				if !ok {
					kv.Broken(ch, errors.New("watch closed"))
					return
				}
				if err := resp.Err(); err != nil {
					kv.Broken(ch, err)
					return
				}
				if len(resp.Events) > 0 {
					rev = max(rev, resp.Header.Revision)
					kv.Notify(ch)
				}
			case <-tick.C:
				r, err := s.probe(ctx, prefix)
				if err == nil && r < rev {
					// A server restarted with other data: the watch
					// would wait for revisions that mean nothing now.
					err = fmt.Errorf("store revision went back from %d to %d", rev, r)
				}
				if err != nil {
					if ctx.Err() == nil {
						kv.Broken(ch, err)
					} else {
						close(ch)
					}
					return
				}
				rev = r
			case <-ctx.Done():
				close(ch)
				return
			}
		}
	}()
	return ch, nil
}

// probe is a cheap read that fails fast when the server is away; it
// returns the store's revision.
func (s *store) probe(ctx context.Context, prefix string) (int64, error) {
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	resp, err := s.c.Get(pctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	return resp.Header.Revision, nil
}

// List reads every key under prefix in one range request.
func (s *store) List(ctx context.Context, prefix string) (map[string]string, error) {
	resp, err := s.c.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(resp.Kvs))
	for _, p := range resp.Kvs {
		out[string(p.Key)] = string(p.Value)
	}
	return out, nil
}

func (s *store) Close() error { return s.c.Close() }
