package http

import (
	"context"
	"encoding/pem"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ptypes "github.com/traefik/paerser/types"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
)

const confA = `http:
  routers:
    a:
      rule: Path(` + "`/a`" + `)
      service: s
  services:
    s:
      loadBalancer:
        servers:
          - url: http://127.0.0.1:1
`

// endpoint serves body with an ETag and counts requests and 304s.
type endpoint struct {
	mu          sync.Mutex
	body, etag  string
	noETag      bool
	status      int
	requests    atomic.Int64
	notModified atomic.Int64
	lastHeader  nethttp.Header
}

func (e *endpoint) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	e.requests.Add(1)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lastHeader = r.Header.Clone()
	if e.status != 0 {
		w.WriteHeader(e.status)
		return
	}
	if !e.noETag {
		if r.Header.Get("If-None-Match") == e.etag {
			e.notModified.Add(1)
			w.WriteHeader(nethttp.StatusNotModified)
			return
		}
		w.Header().Set("ETag", e.etag)
	}
	_, _ = w.Write([]byte(e.body))
}

func (e *endpoint) set(body, etag string, status int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.body, e.etag, e.status = body, etag, status
}

func start(t *testing.T, cfg static.HTTPProvider) (chan dynamic.Message, func()) {
	t.Helper()
	p := New(cfg)
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan dynamic.Message, 16)
	done := make(chan struct{})
	go func() { _ = p.Provide(ctx, out); close(done) }()
	return out, func() { cancel(); <-done }
}

func recv(t *testing.T, out chan dynamic.Message) *dynamic.Configuration {
	t.Helper()
	select {
	case m := <-out:
		if m.ProviderName != Name {
			t.Fatalf("provider %q", m.ProviderName)
		}
		return m.Configuration
	case <-time.After(5 * time.Second):
		t.Fatal("no configuration")
		return nil
	}
}

func quiet(t *testing.T, out chan dynamic.Message, d time.Duration) {
	t.Helper()
	select {
	case m := <-out:
		t.Fatalf("unexpected configuration: %v", m.Configuration.HTTP.Routers)
	case <-time.After(d):
	}
}

func cfg(url string) static.HTTPProvider {
	var c static.HTTPProvider
	c.SetDefaults()
	c.Endpoint = url
	c.PollInterval = ptypes.Duration(20 * time.Millisecond)
	c.Headers = map[string]string{"X-Token": "t0ken", "Host": "conf.example"}
	return c
}

func TestPollETag(t *testing.T) {
	ep := &endpoint{}
	ep.set(confA, `"v1"`, 0)
	srv := httptest.NewServer(ep)
	defer srv.Close()
	out, stop := start(t, cfg(srv.URL))
	defer stop()
	if c := recv(t, out); c.HTTP.Routers["a"] == nil {
		t.Fatalf("routers: %v", c.HTTP.Routers)
	}
	// Unchanged: 304s, nothing sent.
	quiet(t, out, 200*time.Millisecond)
	if ep.notModified.Load() < 3 {
		t.Fatalf("%d requests, %d answered 304: If-None-Match not sent", ep.requests.Load(), ep.notModified.Load())
	}
	ep.mu.Lock()
	h := ep.lastHeader
	ep.mu.Unlock()
	if h.Get("X-Token") != "t0ken" {
		t.Errorf("headers not sent: %v", h)
	}
	// Changed.
	ep.set(strings.ReplaceAll(confA, "/a", "/b"), `"v2"`, 0)
	if c := recv(t, out); c.HTTP.Routers["a"].Rule != "Path(`/b`)" {
		t.Fatalf("rule: %v", c.HTTP.Routers["a"].Rule)
	}
	// Errors keep the last configuration: a 500, then a bad body.
	ep.set("", "", 500)
	quiet(t, out, 150*time.Millisecond)
	ep.set("http: {routers: {x: {rule: 1, nosuch: 2}}}", `"bad"`, 0)
	quiet(t, out, 150*time.Millisecond)
	ep.set(confA, `"v3"`, 0)
	if c := recv(t, out); c.HTTP.Routers["a"].Rule != "Path(`/a`)" {
		t.Fatalf("rule: %v", c.HTTP.Routers["a"].Rule)
	}
}

func TestPollNoETag(t *testing.T) {
	ep := &endpoint{noETag: true}
	ep.set(`{"http":{"routers":{"j":{"rule":"Path(`+"`/j`"+`)","service":"s"}}}}`, "", 0)
	srv := httptest.NewServer(ep)
	defer srv.Close()
	out, stop := start(t, cfg(srv.URL))
	defer stop()
	if c := recv(t, out); c.HTTP.Routers["j"] == nil {
		t.Fatalf("routers: %v", c.HTTP.Routers)
	}
	// Same bytes: not decoded again, nothing sent.
	quiet(t, out, 200*time.Millisecond)
	if ep.requests.Load() < 3 {
		t.Fatalf("only %d polls", ep.requests.Load())
	}
}

func TestPollTLS(t *testing.T) {
	ep := &endpoint{}
	ep.set(confA, `"v1"`, 0)
	srv := httptest.NewTLSServer(ep)
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	c := cfg(srv.URL)
	c.Headers = nil
	c.TLS = &static.ClientTLS{CA: ca}
	out, stop := start(t, c)
	defer stop()
	if c := recv(t, out); c.HTTP.Routers["a"] == nil {
		t.Fatalf("routers: %v", c.HTTP.Routers)
	}
}

func TestInit(t *testing.T) {
	for name, c := range map[string]static.HTTPProvider{
		"no endpoint":  {PollInterval: 1, PollTimeout: 1},
		"bad scheme":   {Endpoint: "ftp://x/", PollInterval: 1, PollTimeout: 1},
		"no interval":  {Endpoint: "http://x/", PollTimeout: 1},
		"no timeout":   {Endpoint: "http://x/", PollInterval: 1},
		"bad header":   {Endpoint: "http://x/", PollInterval: 1, PollTimeout: 1, Headers: map[string]string{"a b": "c"}},
		"missing ca":   {Endpoint: "https://x/", PollInterval: 1, PollTimeout: 1, TLS: &static.ClientTLS{CA: "/nonexistent"}},
		"cert w/o key": {Endpoint: "https://x/", PollInterval: 1, PollTimeout: 1, TLS: &static.ClientTLS{Cert: "/x"}},
	} {
		if err := New(c).Init(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDecode(t *testing.T) {
	if _, err := Decode([]byte("htp: {}\n"), ""); err == nil || !strings.Contains(err.Error(), "htp") {
		t.Errorf("unknown root key: %v", err)
	}
	if _, err := Decode([]byte(`{"http":{"routers":{"r":{"rul":"x"}}}}`), "application/json"); err == nil {
		t.Error("unknown field accepted")
	}
	c, err := Decode([]byte(confA), "text/yaml")
	if err != nil || c.HTTP.Routers["a"] == nil {
		t.Fatalf("%v %v", c, err)
	}
}
