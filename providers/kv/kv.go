// Package kv is the core shared by the KV providers (Consul KV, Redis, etcd,
// ZooKeeper): the tree under rootKey decoded with Traefik's key layout
// (`<rootKey>/http/routers/x/rule`), a watch loop that lists the tree again
// whenever the store reports a change, and the outage rules (keep the last
// configuration, report once, back off, follow again when the store is
// back). Each store only lists a prefix and watches it.
package kv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/internal/redact"
	"github.com/switchyard-proxy/switchyard/providers"
	"github.com/switchyard-proxy/switchyard/providers/labels"
)

// Store is one KV backend, as the core sees it.
type Store interface {
	// Watch starts following every key under prefix. It returns once any
	// change made after the call is sure to be reported on the channel:
	// a nil value means "something under prefix may have changed"; an
	// error means the watch broke, and the channel is closed after it.
	// The watch ends when ctx is done.
	Watch(ctx context.Context, prefix string) (<-chan error, error)
	// List returns every key under prefix (whole keys, prefix included)
	// with its value; folders are left out.
	List(ctx context.Context, prefix string) (map[string]string, error)
	// Close releases the store's connections.
	Close() error
}

// Retry backoff after a failure; reset by the first successful list.
const (
	minBackoff  = 100 * time.Millisecond
	maxBackoff  = 5 * time.Second
	listTimeout = 30 * time.Second
)

// Options describe one KV provider.
type Options struct {
	Name    string // provider name carried by every Message ("redis")
	Source  string // how problems name the store ("Redis")
	RootKey string
	// Open builds the store when Provide starts (Init only validates).
	Open func() (Store, error)
}

var _ providers.Provider = (*Provider)(nil)

// Provider runs the watch loop over one Store.
type Provider struct {
	opts   Options
	prefix string
	log    *slog.Logger
}

// New returns a provider; nothing is contacted.
func New(opts Options) *Provider {
	return &Provider{opts: opts, log: slog.Default().With("provider", opts.Name)}
}

// CheckRootKey normalises a rootKey option: no leading or trailing slash,
// not empty.
func CheckRootKey(root string) (string, error) {
	r := strings.Trim(root, "/")
	if r == "" {
		return "", errors.New("rootKey is empty")
	}
	return r, nil
}

// Init checks the root key.
func (p *Provider) Init() error {
	r, err := CheckRootKey(p.opts.RootKey)
	if err != nil {
		return err
	}
	p.opts.RootKey = r
	p.prefix = r + "/"
	return nil
}

// Provide follows the tree until ctx is done.
func (p *Provider) Provide(ctx context.Context, out chan<- dynamic.Message) error {
	st, err := p.opts.Open()
	if err != nil {
		return fmt.Errorf("%s provider: %w", p.opts.Name, err)
	}
	defer func() { _ = st.Close() }()
	l := loop{p: p, st: st, out: out, backoff: minBackoff}
	l.run(ctx)
	return nil
}

type loop struct {
	p       *Provider
	st      Store
	out     chan<- dynamic.Message
	last    string // hash of the last configuration sent
	sent    bool
	failing bool
	backoff time.Duration
}

func (l *loop) run(ctx context.Context) {
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(ctx)
		err := l.follow(ctx, wctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		l.fail(err)
		if !sleep(ctx, l.backoff) {
			return
		}
		l.backoff = min(l.backoff*2, maxBackoff)
	}
}

// follow arms a watch, then lists after each reported change, until the
// watch or a list fails.
func (l *loop) follow(ctx, wctx context.Context) error {
	events, err := l.st.Watch(wctx, l.p.prefix)
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	for {
		lctx, cancel := context.WithTimeout(ctx, listTimeout)
		kv, err := l.st.List(lctx, l.p.prefix)
		cancel()
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		if l.failing {
			l.p.log.Info("KV store reachable again")
			l.failing = false
		}
		l.backoff = minBackoff
		if !l.send(ctx, l.p.Decode(kv)) {
			return nil
		}
		select {
		case err, ok := <-events:
			if !ok {
				return errors.New("watch ended")
			}
			if err != nil {
				return fmt.Errorf("watch: %w", err)
			}
		case <-ctx.Done():
			return nil
		}
	}
}

func (l *loop) fail(err error) {
	if !l.failing {
		l.p.log.Error("KV store unreachable; keeping the last configuration", "error", err)
	} else {
		l.p.log.Debug("KV store still unreachable", "error", err)
	}
	l.failing = true
}

// send passes conf on unless it equals the last one sent.
func (l *loop) send(ctx context.Context, conf *dynamic.Configuration) bool {
	h := dynamic.Hash(conf)
	if l.sent && h == l.last {
		return true
	}
	select {
	case l.out <- dynamic.Message{ProviderName: l.p.opts.Name, Configuration: conf}:
		l.sent, l.last = true, h
		return true
	case <-ctx.Done():
		return false
	}
}

// Decode turns the keys under the root (whole keys) into a configuration.
// An object whose keys do not decode is left out and reported on its name
// (the API shows it disabled with the key); the value is shown unless the
// key names a secret.
func (p *Provider) Decode(pairs map[string]string) *dynamic.Configuration {
	kv := make(map[string]string, len(pairs))
	for k, v := range pairs {
		k = strings.TrimPrefix(k, p.prefix)
		if k == "" || strings.HasSuffix(k, "/") {
			continue // folders
		}
		kv[k] = v
	}
	conf, errs := labels.Decode(labels.ParseKV(kv), labels.KVMode)
	for _, err := range errs {
		if pr, ok := labels.Problem(err, p.opts.Source, func(oe *labels.ObjectError) string {
			return "key " + redact.Text(p.prefix+oe.Key, kv[oe.Key])
		}); ok {
			conf.Problems = append(conf.Problems, pr)
			continue
		}
		var oe *labels.ObjectError
		if errors.As(err, &oe) {
			p.log.Error("skipping key", "key", p.prefix+oe.Key, "error", oe.Err)
			continue
		}
		p.log.Error("skipping key", "error", err)
	}
	return conf
}

// Events returns a channel for Watch: one slot, as Notify and Broken expect.
func Events() chan error { return make(chan error, 1) }

// Notify passes a change on without blocking: one pending change stands
// for any number (the core lists the whole tree anyway).
func Notify(ch chan error) {
	select {
	case ch <- nil:
	default:
	}
}

// Broken reports a broken watch and closes ch. The error replaces a
// pending change notice, so that the core sees it.
func Broken(ch chan error, err error) {
	select {
	case pending := <-ch:
		_ = pending // a change notice: the error supersedes it
	default:
	}
	ch <- err
	close(ch)
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
