// Package zookeeper is the ZooKeeper provider: the shared KV core
// (providers/kv) over znodes (`/traefik/http/routers/x/rule`, the value in
// the leaf's data), followed with ZooKeeper's one-shot watches, re-armed
// node by node as they fire.
package zookeeper

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers"
	"github.com/switchyard-proxy/switchyard/providers/clienttls"
	"github.com/switchyard-proxy/switchyard/providers/kv"
)

// Name is the provider name carried by every Message.
const Name = "zookeeper"

const (
	sessionTimeout = 10 * time.Second
	connectWait    = 5 * time.Second // for a session before a watch gives up
)

var _ providers.Provider = (*Provider)(nil)

// Provider watches znodes under rootKey.
type Provider struct {
	*kv.Provider
	cfg static.ZooKeeperProvider
	tls *tls.Config
}

// New returns a provider for cfg; nothing is contacted.
func New(cfg static.ZooKeeperProvider) *Provider {
	p := &Provider{cfg: cfg}
	p.Provider = kv.New(kv.Options{Name: Name, Source: "ZooKeeper", RootKey: cfg.RootKey, Open: p.open})
	return p
}

// Init validates the options.
func (p *Provider) Init() error {
	if err := p.Provider.Init(); err != nil {
		return fmt.Errorf("zooKeeper provider: %w", err)
	}
	if len(p.cfg.Endpoints) == 0 {
		return errors.New("zooKeeper provider: no endpoints")
	}
	for _, ep := range p.cfg.Endpoints {
		if _, _, err := net.SplitHostPort(ep); err != nil {
			return fmt.Errorf("zooKeeper provider: endpoint %q: want host:port", ep)
		}
	}
	if (p.cfg.Username == "") != (p.cfg.Password == "") {
		return errors.New("zooKeeper provider: username and password must be given together")
	}
	tc, err := clienttls.Config(p.cfg.TLS)
	if err != nil {
		return fmt.Errorf("zooKeeper provider: %w", err)
	}
	p.tls = tc
	return nil
}

func (p *Provider) open() (kv.Store, error) {
	return &store{cfg: p.cfg, tls: p.tls, log: slog.Default().With("provider", Name)}, nil
}

// store holds one ZooKeeper session; a watch broken by a lost connection
// drops it, so the next watch starts on a fresh session with no stale
// watch registrations.
type store struct {
	cfg  static.ZooKeeperProvider
	tls  *tls.Config
	log  *slog.Logger
	c    *conn
	dead atomic.Bool
}

// conn is a session and the signal of its loss.
type conn struct {
	*zk.Conn
	had      atomic.Bool
	lost     chan struct{}
	lostOnce sync.Once
}

type zkLogger struct{ log *slog.Logger }

func (l zkLogger) Printf(format string, a ...any) { l.log.Debug(fmt.Sprintf(format, a...)) }

func (s *store) connect(ctx context.Context) (*conn, error) {
	if s.c != nil && !s.dead.Load() {
		return s.c, nil
	}
	if s.c != nil {
		s.c.Close()
		s.c = nil
	}
	c := &conn{lost: make(chan struct{})}
	cb := zk.WithEventCallback(func(ev zk.Event) {
		if ev.Type != zk.EventSession {
			return
		}
		switch ev.State {
		case zk.StateHasSession:
			c.had.Store(true)
		case zk.StateDisconnected, zk.StateExpired:
			if c.had.Load() {
				c.lostOnce.Do(func() { close(c.lost) })
			}
		}
	})
	dial := zk.WithDialer(net.DialTimeout)
	if s.tls != nil {
		tc := s.tls
		dial = zk.WithDialer(func(network, address string, timeout time.Duration) (net.Conn, error) {
			conf := tc.Clone()
			if conf.ServerName == "" {
				conf.ServerName, _, _ = net.SplitHostPort(address)
			}
			return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, network, address, conf)
		})
	}
	zc, _, err := zk.Connect(s.cfg.Endpoints, sessionTimeout, zk.WithLogger(zkLogger{s.log}), cb, dial)
	if err != nil {
		return nil, err
	}
	c.Conn = zc
	deadline := time.Now().Add(connectWait)
	for zc.State() != zk.StateHasSession {
		if time.Now().After(deadline) || ctx.Err() != nil {
			st := zc.State()
			zc.Close()
			return nil, fmt.Errorf("no session with ZooKeeper at %s (%s)", strings.Join(s.cfg.Endpoints, ","), st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s.cfg.Username != "" {
		// Remembered by the client and sent again on each reconnection.
		if err := zc.AddAuth("digest", []byte(s.cfg.Username+":"+s.cfg.Password)); err != nil {
			zc.Close()
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	s.c = c
	s.dead.Store(false)
	return c, nil
}

// znode turns a key prefix ("traefik/") into its znode path ("/traefik").
func znode(prefix string) string { return "/" + strings.Trim(prefix, "/") }

// Watch arms watches on every node under prefix.
func (s *store) Watch(ctx context.Context, prefix string) (<-chan error, error) {
	c, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	w := &watcher{c: c, root: znode(prefix), armed: map[watchKey]<-chan zk.Event{}, children: map[string]int{}}
	if err := w.arm(w.root); err != nil {
		s.dead.Store(true)
		return nil, err
	}
	ch := kv.Events()
	go func() {
		err := w.loop(ctx, ch)
		if ctx.Err() != nil {
			close(ch)
			return
		}
		s.dead.Store(true)
		kv.Broken(ch, err)
	}()
	return ch, nil
}

type watchKey struct {
	path string
	kind byte // 'c' children, 'd' data, 'e' exists
}

// watcher keeps one armed watch per node and kind: a fired watch is
// re-armed (and a changed folder walked again), never duplicated.
type watcher struct {
	c        *conn
	root     string
	armed    map[watchKey]<-chan zk.Event
	children map[string]int // child count at the last listing
}

func (w *watcher) arm(p string) error {
	kc := watchKey{p, 'c'}
	var kids []string
	walk := false
	if _, ok := w.armed[kc]; !ok {
		var ch <-chan zk.Event
		var err error
		kids, _, ch, err = w.c.ChildrenW(p)
		if errors.Is(err, zk.ErrNoNode) {
			delete(w.children, p)
			if p != w.root {
				return nil // gone: its parent's watch fired too
			}
			ke := watchKey{p, 'e'}
			if _, ok := w.armed[ke]; ok {
				return nil
			}
			ok, _, ech, err := w.c.ExistsW(p)
			if err != nil {
				return fmt.Errorf("exists %s: %w", p, err)
			}
			w.armed[ke] = ech
			if ok {
				return w.arm(p) // created meanwhile
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("children of %s: %w", p, err)
		}
		w.armed[kc] = ch
		w.children[p] = len(kids)
		walk = true
	}
	kd := watchKey{p, 'd'}
	if _, ok := w.armed[kd]; !ok && w.children[p] == 0 {
		_, _, ch, err := w.c.GetW(p)
		switch {
		case errors.Is(err, zk.ErrNoNode):
			return nil
		case err != nil:
			return fmt.Errorf("get %s: %w", p, err)
		}
		w.armed[kd] = ch
	}
	if walk {
		for _, k := range kids {
			if err := w.arm(path.Join(p, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// loop waits for any armed watch, the loss of the session or ctx, and
// re-arms what fired.
func (w *watcher) loop(ctx context.Context, ch chan error) error {
	for {
		keys := make([]watchKey, 0, len(w.armed))
		cases := make([]reflect.SelectCase, 0, len(w.armed)+2)
		cases = append(cases,
			reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
			reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(w.c.lost)})
		for k, c := range w.armed {
			keys = append(keys, k)
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c)})
		}
		i, v, _ := reflect.Select(cases)
		switch i {
		case 0:
			return ctx.Err()
		case 1:
			return errors.New("connection to ZooKeeper lost")
		}
		k := keys[i-2]
		delete(w.armed, k)
		ev, _ := v.Interface().(zk.Event)
		if ev.Err != nil {
			return fmt.Errorf("watch on %s ended: %w", k.path, ev.Err)
		}
		if ev.Type == zk.EventNotWatching {
			return fmt.Errorf("watch on %s ended", k.path)
		}
		if ev.Type == zk.EventNodeDeleted {
			delete(w.armed, watchKey{k.path, 'c'})
			delete(w.armed, watchKey{k.path, 'd'})
		}
		kv.Notify(ch)
		if err := w.arm(k.path); err != nil {
			return err
		}
	}
}

// List walks the tree under prefix; leaves are keys, nodes with children
// folders.
func (s *store) List(ctx context.Context, prefix string) (map[string]string, error) {
	c, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var walk func(p string) error
	walk = func(p string) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		kids, _, err := c.Children(p)
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("children of %s: %w", p, err)
		}
		if len(kids) == 0 {
			data, _, err := c.Get(p)
			if errors.Is(err, zk.ErrNoNode) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("get %s: %w", p, err)
			}
			out[strings.TrimPrefix(p, "/")] = string(data)
			return nil
		}
		for _, k := range kids {
			if err := walk(path.Join(p, k)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(znode(prefix)); err != nil {
		return nil, err
	}
	// The root itself is no key.
	delete(out, strings.Trim(prefix, "/"))
	return out, nil
}

func (s *store) Close() error {
	if s.c != nil {
		s.c.Close()
	}
	return nil
}
