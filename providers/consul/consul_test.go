package consul

import (
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/switchyard-proxy/switchyard/config/static"
)

func TestDecode(t *testing.T) {
	var c static.ConsulProvider
	c.SetDefaults()
	p := New(c)
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	conf := p.decode(api.KVPairs{
		{Key: "traefik/"},
		{Key: "traefik/http/"},
		{Key: "traefik/http/routers/r/rule", Value: []byte("Path(`/`)")},
		{Key: "traefik/http/routers/r/entryPoints/0", Value: []byte("web")},
		{Key: "traefik/http/routers/bad/priority", Value: []byte("x")},
		{Key: "traefik/http/services/s/loadBalancer/servers/0/url", Value: []byte("http://127.0.0.1:1")},
	})
	if r := conf.HTTP.Routers["r"]; r == nil || r.EntryPoints[0] != "web" {
		t.Fatalf("router r: %+v", r)
	}
	if conf.HTTP.Routers["bad"] != nil {
		t.Error("bad router kept")
	}
	if s := conf.HTTP.Services["s"]; s == nil || s.LoadBalancer.Servers[0].URL != "http://127.0.0.1:1" {
		t.Fatalf("service s: %+v", s)
	}
}

func TestInit(t *testing.T) {
	for name, c := range map[string]static.ConsulProvider{
		"no root":        {RootKey: "/", Endpoints: []string{"127.0.0.1:8500"}},
		"no endpoint":    {RootKey: "x"},
		"two namespaces": {RootKey: "x", Endpoints: []string{"a:1"}, Namespaces: []string{"a", "b"}},
		"missing ca":     {RootKey: "x", Endpoints: []string{"a:1"}, TLS: &static.ConsulTLS{CA: "/nonexistent/ca.pem"}},
	} {
		if err := New(c).Init(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
