package main

import (
	"fmt"

	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/providers"
	"github.com/switchyard-proxy/switchyard/providers/consul"
	"github.com/switchyard-proxy/switchyard/providers/consulcatalog"
	"github.com/switchyard-proxy/switchyard/providers/docker"
	"github.com/switchyard-proxy/switchyard/providers/etcd"
	"github.com/switchyard-proxy/switchyard/providers/file"
	httpprovider "github.com/switchyard-proxy/switchyard/providers/http"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/crd"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/gateway"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/ingress"
	"github.com/switchyard-proxy/switchyard/providers/kubernetes/ingressnginx"
	"github.com/switchyard-proxy/switchyard/providers/redis"
	"github.com/switchyard-proxy/switchyard/providers/zookeeper"
)

// providerEntry is one row of the provider table: its static key and how
// to build it when configured. run and check both walk the table, so a
// provider is added in one place.
type providerEntry struct {
	key string // the static key under providers., as Traefik spells it
	// build returns nil when the provider is not configured.
	build func(sc *static.Configuration) providers.Provider
}

var providerTable = []providerEntry{
	{"file", func(sc *static.Configuration) providers.Provider {
		if f := sc.Providers.File; f != nil {
			return file.New(*f)
		}
		return nil
	}},
	{"consul", func(sc *static.Configuration) providers.Provider {
		if c := sc.Providers.Consul; c != nil {
			return consul.New(*c)
		}
		return nil
	}},
	{"consulCatalog", func(sc *static.Configuration) providers.Provider {
		if c := sc.Providers.ConsulCatalog; c != nil {
			return consulcatalog.New(*c)
		}
		return nil
	}},
	{"docker", func(sc *static.Configuration) providers.Provider {
		if c := sc.Providers.Docker; c != nil {
			return docker.New(*c)
		}
		return nil
	}},
	{"redis", func(sc *static.Configuration) providers.Provider {
		if c := sc.Providers.Redis; c != nil {
			return redis.New(*c)
		}
		return nil
	}},
	{"etcd", func(sc *static.Configuration) providers.Provider {
		if c := sc.Providers.Etcd; c != nil {
			return etcd.New(*c)
		}
		return nil
	}},
	{"zooKeeper", func(sc *static.Configuration) providers.Provider {
		if c := sc.Providers.ZooKeeper; c != nil {
			return zookeeper.New(*c)
		}
		return nil
	}},
	{"http", func(sc *static.Configuration) providers.Provider {
		if c := sc.Providers.HTTP; c != nil {
			return httpprovider.New(*c)
		}
		return nil
	}},
	{"kubernetesCRD", func(sc *static.Configuration) providers.Provider {
		if c := sc.Providers.KubernetesCRD; c != nil {
			return crd.New(*c)
		}
		return nil
	}},
	{"kubernetesGateway", func(sc *static.Configuration) providers.Provider {
		if c := sc.Providers.KubernetesGateway; c != nil {
			return gateway.New(*c, sc.EntryPoints)
		}
		return nil
	}},
	{"kubernetesIngress", func(sc *static.Configuration) providers.Provider {
		if c := sc.Providers.KubernetesIngress; c != nil {
			return ingress.New(*c)
		}
		return nil
	}},
	{"kubernetesIngressNGINX", func(sc *static.Configuration) providers.Provider {
		if c := sc.Providers.KubernetesIngressNGINX; c != nil {
			return ingressnginx.New(*c)
		}
		return nil
	}},
}

// configuredProviders builds and initialises every configured provider;
// the first invalid one fails the load, named by its static key.
func configuredProviders(sc *static.Configuration) ([]providers.Provider, error) {
	var out []providers.Provider
	for _, e := range providerTable {
		p := e.build(sc)
		if p == nil {
			continue
		}
		if err := p.Init(); err != nil {
			return nil, fmt.Errorf("providers.%s: %w", e.key, err)
		}
		out = append(out, p)
	}
	return out, nil
}
