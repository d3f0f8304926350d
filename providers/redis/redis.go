// Package redis is the Redis provider: the shared KV core (providers/kv)
// over Redis string keys (`traefik/http/routers/x/rule`), followed through
// keyspace notifications, which the server must publish
// (notify-keyspace-events with K and the string and generic classes, e.g.
// "KA").
package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers"
	"github.com/switchyard-proxy/switchyard/providers/clienttls"
	"github.com/switchyard-proxy/switchyard/providers/kv"
)

// Name is the provider name carried by every Message.
const Name = "redis"

// pingEvery is how often a quiet subscription is checked: the server's
// death must show as an outage (and its restart as a fresh list) even when
// nothing changes.
const pingEvery = 2 * time.Second

var _ providers.Provider = (*Provider)(nil)

// Provider watches keys under rootKey in Redis.
type Provider struct {
	*kv.Provider
	cfg  static.RedisProvider
	opts *goredis.UniversalOptions
}

// New returns a provider for cfg; nothing is contacted.
func New(cfg static.RedisProvider) *Provider {
	p := &Provider{cfg: cfg}
	p.Provider = kv.New(kv.Options{Name: Name, Source: "Redis", RootKey: cfg.RootKey, Open: p.open})
	return p
}

// Init validates the options.
func (p *Provider) Init() error {
	if err := p.Provider.Init(); err != nil {
		return fmt.Errorf("redis provider: %w", err)
	}
	if len(p.cfg.Endpoints) == 0 {
		return errors.New("redis provider: no endpoints")
	}
	if p.cfg.DB < 0 {
		return fmt.Errorf("redis provider: db %d: must not be negative", p.cfg.DB)
	}
	tc, err := clienttls.Config(p.cfg.TLS)
	if err != nil {
		return fmt.Errorf("redis provider: %w", err)
	}
	o := &goredis.UniversalOptions{
		Addrs:     p.cfg.Endpoints,
		Username:  p.cfg.Username,
		Password:  p.cfg.Password,
		DB:        p.cfg.DB,
		TLSConfig: tc,
		// A dead server must fail a list quickly: the core retries.
		DialTimeout:     3 * time.Second,
		ReadTimeout:     5 * time.Second,
		WriteTimeout:    5 * time.Second,
		MaxRetries:      -1,
		DisableIdentity: true,
	}
	if s := p.cfg.Sentinel; s != nil {
		if s.MasterName == "" {
			return errors.New("redis provider: sentinel.masterName is empty")
		}
		n := 0
		for _, b := range []bool{s.LatencyStrategy, s.RandomStrategy, s.ReplicaStrategy} {
			if b {
				n++
			}
		}
		if n > 1 {
			return errors.New("redis provider: sentinel: latencyStrategy, randomStrategy and replicaStrategy are mutually exclusive")
		}
		o.MasterName = s.MasterName
		o.SentinelUsername = s.Username
		o.SentinelPassword = s.Password
		o.RouteByLatency = s.LatencyStrategy
		o.RouteRandomly = s.RandomStrategy
		o.ReadOnly = s.ReplicaStrategy
	} else if len(p.cfg.Endpoints) > 1 {
		return errors.New("redis provider: several endpoints need sentinel (Redis Cluster is not supported)")
	}
	p.opts = o
	return nil
}

func (p *Provider) open() (kv.Store, error) {
	var c goredis.UniversalClient
	if s := p.cfg.Sentinel; s != nil {
		fo := p.opts.Failover()
		fo.ReplicaOnly = s.ReplicaStrategy
		fo.UseDisconnectedReplicas = s.UseDisconnectedReplicas
		if s.LatencyStrategy || s.RandomStrategy {
			c = goredis.NewFailoverClusterClient(fo)
		} else {
			c = goredis.NewFailoverClient(fo)
		}
	} else {
		c = goredis.NewClient(p.opts.Simple())
	}
	return &store{c: c, db: p.cfg.DB, log: slog.Default().With("provider", Name)}, nil
}

type store struct {
	c      goredis.UniversalClient
	db     int
	log    *slog.Logger
	warned bool
}

// globEscape quotes the pattern characters of a key for SCAN and PSUBSCRIBE.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Watch subscribes to the keyspace notifications of keys under prefix.
func (s *store) Watch(ctx context.Context, prefix string) (<-chan error, error) {
	s.checkNotifications(ctx)
	ps := s.c.PSubscribe(ctx, "__keyspace@"+strconv.Itoa(s.db)+"__:"+globEscape(prefix)+"*")
	// The confirmation: from here on, no change is missed.
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	msg, err := ps.Receive(rctx)
	cancel()
	if err == nil {
		if _, ok := msg.(*goredis.Subscription); !ok {
			err = fmt.Errorf("unexpected %T before the subscription", msg)
		}
	}
	if err != nil {
		_ = ps.Close()
		return nil, err
	}
	ch := kv.Events()
	go func() {
		defer func() { _ = ps.Close() }()
		for {
			msg, err := ps.ReceiveTimeout(ctx, pingEvery)
			if ctx.Err() != nil {
				close(ch)
				return
			}
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				// Quiet: make sure the server is still there.
				if err = ps.Ping(ctx); err == nil {
					continue
				}
			}
			if err != nil {
				kv.Broken(ch, err)
				return
			}
			if _, ok := msg.(*goredis.Message); ok {
				kv.Notify(ch)
			}
		}
	}()
	return ch, nil
}

// checkNotifications warns once when the server does not publish keyspace
// events for string keys: changes would then go unnoticed.
func (s *store) checkNotifications(ctx context.Context) {
	if s.warned {
		return
	}
	res, err := s.c.ConfigGet(ctx, "notify-keyspace-events").Result()
	if err != nil {
		return // CONFIG may be renamed or forbidden (managed services)
	}
	v := res["notify-keyspace-events"]
	ok := strings.Contains(v, "K") && (strings.Contains(v, "A") || (strings.Contains(v, "$") && strings.Contains(v, "g")))
	if !ok {
		s.log.Warn("Redis does not publish keyspace notifications: changes will not be seen until the next reconnection; set notify-keyspace-events to KA (or at least K$g)", "notify-keyspace-events", v)
		s.warned = true
	}
}

// List scans the keys under prefix and reads them with MGET.
func (s *store) List(ctx context.Context, prefix string) (map[string]string, error) {
	var keys []string
	iter := s.c.Scan(ctx, 0, globEscape(prefix)+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(keys))
	for len(keys) > 0 {
		batch := keys[:min(len(keys), 1000)]
		keys = keys[len(batch):]
		vals, err := s.c.MGet(ctx, batch...).Result()
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			// nil: deleted since the scan, or not a string.
			if str, ok := v.(string); ok {
				out[batch[i]] = str
			}
		}
	}
	return out, nil
}

func (s *store) Close() error { return s.c.Close() }
