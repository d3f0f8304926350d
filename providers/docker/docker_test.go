package docker

import (
	"context"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"

	"github.com/switchyard-proxy/switchyard/config/static"
)

func newTestProvider(t *testing.T, mut func(*static.DockerProvider)) *Provider {
	t.Helper()
	var c static.DockerProvider
	c.SetDefaults()
	if mut != nil {
		mut(&c)
	}
	p := New(c)
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	return p
}

type ctrOpt func(*container.InspectResponse)

func ctr(name string, lbls map[string]string, opts ...ctrOpt) container.InspectResponse {
	c := container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{
			ID: "id-" + name, Name: "/" + name,
			State:      &container.State{Running: true, Status: "running"},
			HostConfig: &container.HostConfig{NetworkMode: "bridge"},
		},
		Config: &container.Config{Labels: lbls, ExposedPorts: nat.PortSet{}},
		NetworkSettings: &container.NetworkSettings{
			Networks: map[string]*network.EndpointSettings{"bridge": {IPAddress: "10.0.0." + name[len(name)-1:]}},
		},
	}
	c.NetworkSettings.Ports = nat.PortMap{"80/tcp": nil}
	for _, o := range opts {
		o(&c)
	}
	return c
}

func withHealth(s container.HealthStatus) ctrOpt {
	return func(c *container.InspectResponse) { c.State.Health = &container.Health{Status: s} }
}

func hostMode(port string) ctrOpt {
	return func(c *container.InspectResponse) {
		c.HostConfig.NetworkMode = "host"
		c.NetworkSettings.Ports = nat.PortMap{}
		c.NetworkSettings.Networks = map[string]*network.EndpointSettings{"host": {}}
		c.Config.ExposedPorts = nat.PortSet{nat.Port(port + "/tcp"): {}}
	}
}

func TestBuild(t *testing.T) {
	p := newTestProvider(t, nil)
	app := map[string]string{
		"traefik.http.routers.app.rule":                      "Host(`app`)",
		"traefik.http.services.app.loadbalancer.server.port": "8080",
	}
	conf := p.build(context.Background(), []container.InspectResponse{
		ctr("app1", app),
		ctr("app2", app),
		ctr("app3", app, withHealth(container.Unhealthy)),
		ctr("plain1", nil),
		ctr("host1", map[string]string{"switchyard.http.routers.h.rule": "Path(`/h`)"}, hostMode("9001")),
		ctr("off1", map[string]string{"traefik.enable": "false"}),
		ctr("tcp1", map[string]string{"traefik.tcp.routers.t.rule": "HostSNI(`*`)", "traefik.tcp.routers.t.entrypoints": "tcp"}),
	})
	lb := conf.HTTP.Services["app"].LoadBalancer
	if len(lb.Servers) != 2 || lb.Servers[0].URL != "http://10.0.0.1:8080" || lb.Servers[1].URL != "http://10.0.0.2:8080" {
		t.Fatalf("app servers: %+v", lb.Servers)
	}
	if r := conf.HTTP.Routers["plain1"]; r == nil || r.Rule != "Host(`plain1`)" || r.Service != "plain1" {
		t.Fatalf("default router: %+v", r)
	}
	if s := conf.HTTP.Services["plain1"]; s.LoadBalancer.Servers[0].URL != "http://10.0.0.1:80" {
		t.Fatalf("default port: %+v", s.LoadBalancer.Servers)
	}
	if s := conf.HTTP.Services["host1"]; s == nil || s.LoadBalancer.Servers[0].URL != "http://127.0.0.1:9001" {
		t.Fatalf("host mode: %+v", conf.HTTP.Services)
	}
	if _, ok := conf.HTTP.Routers["off1"]; ok {
		t.Fatal("disabled container routed")
	}
	if s := conf.TCP.Services["tcp1"]; s == nil || s.LoadBalancer.Servers[0].Address != "10.0.0.1:80" || conf.TCP.Routers["t"].Service != "tcp1" {
		t.Fatalf("tcp: %+v %+v", conf.TCP.Services, conf.TCP.Routers)
	}
	if _, ok := conf.HTTP.Routers["tcp1"]; ok {
		t.Fatal("tcp-only container got an HTTP router")
	}
}

func TestBuildProblems(t *testing.T) {
	p := newTestProvider(t, func(c *static.DockerProvider) { c.ExposedByDefault = false })
	conf := p.build(context.Background(), []container.InspectResponse{
		ctr("noport1", map[string]string{"traefik.enable": "true"}, func(c *container.InspectResponse) { c.NetworkSettings.Ports = nil }),
		ctr("bad1", map[string]string{"traefik.enable": "yes please"}),
		ctr("typo1", map[string]string{"traefik.enable": "true", "traefik.http.routers.typo.priority": "high", "traefik.docker.lbswarm": "true"}),
	})
	found := map[string]string{}
	for _, pr := range conf.Problems {
		found[pr.Kind+" "+pr.Name] = pr.Error
	}
	if e := found["service noport1"]; !strings.Contains(e, `container "noport1"`) || !strings.Contains(e, "no port") {
		t.Errorf("no port: %q", e)
	}
	if e := found["service bad1"]; !strings.Contains(e, "not a boolean") {
		t.Errorf("bad enable: %q", e)
	}
	if e := found["router typo"]; !strings.Contains(e, "traefik.http.routers.typo.priority=high") {
		t.Errorf("typo: %q (%v)", e, found)
	}
	if e := found["service typo1"]; !strings.Contains(e, "traefik.docker.lbswarm") {
		t.Errorf("unknown docker label: %q", e)
	}
	if _, ok := conf.HTTP.Services["noport1"]; ok {
		t.Error("service without a port kept")
	}
}

func TestAllowEmptyServices(t *testing.T) {
	lbls := map[string]string{"traefik.http.routers.a.rule": "Host(`a`)"}
	sick := ctr("a1", lbls, withHealth(container.Unhealthy))
	p := newTestProvider(t, nil)
	if conf := p.build(context.Background(), []container.InspectResponse{sick}); len(conf.HTTP.Routers) != 0 {
		t.Fatalf("unhealthy container routed: %+v", conf.HTTP.Routers)
	}
	p = newTestProvider(t, func(c *static.DockerProvider) { c.AllowEmptyServices = true })
	conf := p.build(context.Background(), []container.InspectResponse{sick})
	if s := conf.HTTP.Services["a1"]; s == nil || len(s.LoadBalancer.Servers) != 0 || conf.HTTP.Routers["a"] == nil {
		t.Fatalf("allowEmptyServices: %+v %+v", conf.HTTP.Services, conf.HTTP.Routers)
	}
}

func TestNetworkAndCompose(t *testing.T) {
	p := newTestProvider(t, func(c *static.DockerProvider) {
		c.Network = "front"
		c.DefaultRule = "Host(`{{ .ContainerName }}.{{ index .Labels \"zone\" }}`)"
	})
	two := func(c *container.InspectResponse) {
		c.NetworkSettings.Networks = map[string]*network.EndpointSettings{
			"back": {IPAddress: "10.1.0.1"}, "front": {IPAddress: "10.2.0.1"}, "other": {IPAddress: "10.3.0.1"}}
	}
	conf := p.build(context.Background(), []container.InspectResponse{
		ctr("web-1", map[string]string{"zone": "eu", labelComposeService: "web", labelComposeProject: "shop"}, two),
		ctr("api-1", map[string]string{"zone": "us", "traefik.docker.network": "other"}, two),
	})
	if s := conf.HTTP.Services["web-shop"]; s == nil || s.LoadBalancer.Servers[0].URL != "http://10.2.0.1:80" {
		t.Fatalf("network option / compose name: %+v", conf.HTTP.Services)
	}
	if r := conf.HTTP.Routers["web-shop"]; r == nil || r.Rule != "Host(`web-1.eu`)" {
		t.Fatalf("defaultRule: %+v", conf.HTTP.Routers)
	}
	if s := conf.HTTP.Services["api-1"]; s == nil || s.LoadBalancer.Servers[0].URL != "http://10.3.0.1:80" {
		t.Fatalf("network label: %+v", conf.HTTP.Services)
	}
}

func TestInitErrors(t *testing.T) {
	for name, mut := range map[string]func(*static.DockerProvider){
		"rule":        func(c *static.DockerProvider) { c.DefaultRule = "Host(`{{ .Name `)" },
		"constraints": func(c *static.DockerProvider) { c.Constraints = "Tag(`a`)" },
		"endpoint":    func(c *static.DockerProvider) { c.Endpoint = "ftp://x" },
		"ssh":         func(c *static.DockerProvider) { c.Endpoint = "ssh://me@host" },
		"tls on unix": func(c *static.DockerProvider) { c.TLS = &static.DockerTLS{InsecureSkipVerify: true} },
		"auth on unix": func(c *static.DockerProvider) {
			c.Username, c.Password = "u", "p"
		},
		"cert without key": func(c *static.DockerProvider) {
			c.Endpoint = "tcp://127.0.0.1:2376"
			c.TLS = &static.DockerTLS{Cert: "/nope"}
		},
	} {
		var c static.DockerProvider
		c.SetDefaults()
		mut(&c)
		if err := New(c).Init(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
