package kv

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// memStore is an in-memory Store for the loop's own rules (the stores
// themselves are tested against real servers in integration/).
type memStore struct {
	mu      sync.Mutex
	kv      map[string]string
	down    bool
	watches []chan error
	lists   int
}

func (m *memStore) Watch(ctx context.Context, prefix string) (<-chan error, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return nil, errors.New("down")
	}
	ch := Events()
	m.watches = append(m.watches, ch)
	return ch, nil
}

func (m *memStore) List(ctx context.Context, prefix string) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lists++
	if m.down {
		return nil, errors.New("down")
	}
	out := map[string]string{}
	for k, v := range m.kv {
		out[k] = v
	}
	return out, nil
}

func (m *memStore) Close() error { return nil }

func (m *memStore) set(k, v string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.kv[k] = v
	for _, w := range m.watches {
		Notify(w)
	}
}

// fail takes the store down, breaking its watches.
func (m *memStore) fail() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.down = true
	for _, w := range m.watches {
		Broken(w, errors.New("connection lost"))
	}
	m.watches = nil
}

func (m *memStore) recover() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.down = false
}

func recv(t *testing.T, out chan dynamic.Message) *dynamic.Configuration {
	t.Helper()
	select {
	case m := <-out:
		return m.Configuration
	case <-time.After(5 * time.Second):
		t.Fatal("no configuration")
		return nil
	}
}

func TestLoop(t *testing.T) {
	st := &memStore{kv: map[string]string{
		"traefik/http/routers/a/rule":    "Path(`/a`)",
		"traefik/http/routers/a/service": "s",
		"traefik/":                       "",
		"other/http/routers/x/rule":      "Path(`/x`)",
	}}
	p := New(Options{Name: "mem", Source: "Mem", RootKey: "/traefik/", Open: func() (Store, error) { return st, nil }})
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan dynamic.Message)
	done := make(chan struct{})
	go func() { _ = p.Provide(ctx, out); close(done) }()
	defer func() { cancel(); <-done }()

	c := recv(t, out)
	if c.HTTP.Routers["a"] == nil || c.HTTP.Routers["x"] != nil {
		t.Fatalf("routers: %v", c.HTTP.Routers)
	}
	st.set("traefik/http/routers/b/rule", "Path(`/b`)")
	if c := recv(t, out); c.HTTP.Routers["b"] == nil {
		t.Fatalf("b not added: %v", c.HTTP.Routers)
	}
	// A write that changes nothing sends nothing.
	st.set("traefik/http/routers/b/rule", "Path(`/b`)")
	// Outage: nothing is sent (the last configuration stays), then the
	// change made meanwhile arrives.
	st.fail()
	select {
	case m := <-out:
		t.Fatalf("sent during the outage: %v", m.Configuration.HTTP.Routers)
	case <-time.After(300 * time.Millisecond):
	}
	st.mu.Lock()
	st.kv["traefik/http/routers/c/rule"] = "Path(`/c`)"
	st.mu.Unlock()
	st.recover()
	if c := recv(t, out); c.HTTP.Routers["c"] == nil {
		t.Fatalf("c not added after the outage: %v", c.HTTP.Routers)
	}
}

func TestDecodeProblems(t *testing.T) {
	p := New(Options{Name: "mem", Source: "Mem", RootKey: "traefik"})
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	c := p.Decode(map[string]string{
		"traefik/http/routers/bad/priority":            "x",
		"traefik/http/routers/ok/rule":                 "Path(`/`)",
		"traefik/http/middlewares/m/basicAuth/users/0": "u:secret",
	})
	if c.HTTP.Routers["ok"] == nil || c.HTTP.Routers["bad"] != nil {
		t.Fatalf("routers: %v", c.HTTP.Routers)
	}
	if len(c.Problems) != 1 || c.Problems[0].Name != "bad" {
		t.Fatalf("problems: %+v", c.Problems)
	}
}

func TestCheckRootKey(t *testing.T) {
	for in, want := range map[string]string{"traefik": "traefik", "/a/b/": "a/b"} {
		if got, err := CheckRootKey(in); err != nil || got != want {
			t.Errorf("%q: %q, %v", in, got, err)
		}
	}
	if _, err := CheckRootKey("//"); err == nil {
		t.Error("empty root accepted")
	}
}
