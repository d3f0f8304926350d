package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

// waitServed polls url (with Host host) until the named backend answers.
func waitServed(t *testing.T, e *Env, url, host, backend string) {
	t.Helper()
	e.waitFor(20*time.Second, fmt.Sprintf("%s (Host %q) served by %q", url, host, backend), func() bool {
		rep, err := tryDo(request{url: url, host: host})
		return err == nil && rep.Status == 200 && backendName(rep.Body) == backend
	})
}

func TestConsulKV(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	c := startConsul(t)
	e := newEnv(t)
	a, b := e.Backend("kv-a"), e.Backend("kv-b")
	c.Txn(map[string]string{
		"switchyard/http/routers/kv/rule":                           "Path(`/kv`)",
		"switchyard/http/routers/kv/entryPoints/0":                  "web",
		"switchyard/http/routers/kv/service":                        "kvsvc",
		"switchyard/http/services/kvsvc/loadBalancer/servers/0/url": a,
		// Bad input: each skips only its own object.
		"switchyard/http/routers/badprio/rule":     "Path(`/badprio`)",
		"switchyard/http/routers/badprio/priority": "high",
		"switchyard/http/routers/unknown/rule":     "Path(`/unknown`)",
		"switchyard/http/routers/unknown/nosuch":   "x",
		"switchyard/http/routers":                  "malformed",
		"switchyard/http/routers/badrule/rule":     "Path(`/x`",
		"switchyard/http/routers/badrule/service":  "kvsvc",
	})
	e.WriteStatic("yml", consulStatic(`  consul:
    rootKey: switchyard
    endpoints: ["`+c.HTTPAdr+`"]
`))
	e.Start()
	rd := e.WaitRouters("kv@consul")
	waitServed(t, e, e.URL("web")+"/kv", "", "kv-a")
	if p := providerOfObject(t, e, "routers", "kv@consul"); p != "consul" {
		t.Errorf("provider = %q", p)
	}
	// Objects whose keys do not decode are left out and shown disabled,
	// with the key, in the API (issue 13: no decode error dropped).
	for n, key := range map[string]string{"badprio@consul": "switchyard/http/routers/badprio/priority", "unknown@consul": "switchyard/http/routers/unknown/nosuch"} {
		if r, ok := rd.Routers[n]; !ok || r.Status != "disabled" || len(r.Error) == 0 || !strings.Contains(r.Error[0], key) {
			t.Errorf("%s: %+v (want disabled, naming %s)", n, r, key)
		}
	}
	if r, ok := rd.Routers["badrule@consul"]; !ok || r.Status == "enabled" {
		t.Errorf("badrule@consul: %+v (want present and disabled)", r)
	}
	out := e.Proc.Output() + e.Proc.Stderr()
	for _, k := range []string{"switchyard/http/routers/badprio/priority", "switchyard/http/routers/unknown/nosuch", "switchyard/http/routers"} {
		if !strings.Contains(out, k) {
			t.Errorf("log does not name key %q", k)
		}
	}

	// A whole-tree change (new router, service moved) in one transaction.
	c.Txn(map[string]string{
		"switchyard/http/services/kvsvc/loadBalancer/servers/0/url": b,
		"switchyard/http/routers/kv2/rule":                          "Path(`/kv2`)",
		"switchyard/http/routers/kv2/service":                       "kvsvc",
	})
	waitServed(t, e, e.URL("web")+"/kv", "", "kv-b")
	waitServed(t, e, e.URL("web")+"/kv2", "", "kv-b")

	// Deleting the router removes it.
	c.Txn(nil, "switchyard/http/routers/kv2/")
	e.waitFor(10*time.Second, "kv2 gone", func() bool {
		rep, err := tryDo(request{url: e.URL("web") + "/kv2"})
		return err == nil && rep.Status == 404
	})
}

func TestConsulKVRootKeyTraefik(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	c := startConsul(t)
	e := newEnv(t)
	c.Txn(map[string]string{
		"traefik/http/routers/tr/rule":                         "Path(`/tr`)",
		"traefik/http/routers/tr/service":                      "trs",
		"traefik/http/services/trs/loadBalancer/servers/0/url": e.Backend("tr"),
		"switchyard/http/routers/ignored/rule":                 "Path(`/ignored`)",
		"switchyard/http/routers/ignored/service":              "trs",
	})
	e.WriteStatic("yml", consulStatic(`  consul:
    endpoints: ["`+c.HTTPAdr+`"]
`))
	e.Start()
	rd := e.WaitRouters("tr@consul")
	if _, ok := rd.Routers["ignored@consul"]; ok {
		t.Error("keys outside rootKey were read")
	}
	waitServed(t, e, e.URL("web")+"/tr", "", "tr")
}

// TestConsulKV1000Routers writes 1,000 routers at once and measures the time
// until every one of them serves (reported, not asserted).
func TestConsulKV1000Routers(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	c := startConsul(t)
	e := newEnv(t)
	be := e.Backend("bulk")
	e.WriteStatic("yml", consulStatic(`  consul:
    rootKey: switchyard
    endpoints: ["`+c.HTTPAdr+`"]
`))
	e.Start()
	e.WaitAPI(10*time.Second, "API up", func(*Rawdata) bool { return true })

	const n = 1000
	kv := map[string]string{"switchyard/http/services/bulk/loadBalancer/servers/0/url": be}
	for i := range n {
		kv[fmt.Sprintf("switchyard/http/routers/r%04d/rule", i)] = fmt.Sprintf("Path(`/r%04d`)", i)
		kv[fmt.Sprintf("switchyard/http/routers/r%04d/service", i)] = "bulk"
	}
	start := time.Now()
	c.Put(kv)
	written := time.Since(start)
	e.WaitAPI(60*time.Second, "1000 routers", func(rd *Rawdata) bool {
		k := 0
		for name, r := range rd.Routers {
			if strings.HasSuffix(name, "@consul") && r.Status == "enabled" {
				k++
			}
		}
		return k == n
	})
	inAPI := time.Since(start)
	var failed atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				rep, err := tryDo(request{url: fmt.Sprintf("%s/r%04d", e.URL("web"), i)})
				if err != nil || rep.Status != 200 {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d routers did not serve", failed.Load(), n)
	}
	t.Logf("1000 routers (2001 keys, %d transactions): written in %v, all in the API after %v, all served (each requested once) after %v",
		(2*n+1+63)/64, written.Round(time.Millisecond), inAPI.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// providerOfObject reads "provider" from /api/http/<kind>/<name>.
func providerOfObject(t *testing.T, e *Env, kind, name string) string {
	t.Helper()
	rep := do(t, request{url: e.URL("traefik") + "/api/http/" + kind + "/" + name})
	var v struct {
		Provider string `json:"provider"`
	}
	if err := json.Unmarshal([]byte(rep.Body), &v); err != nil {
		t.Fatalf("%s %s: %d %v", kind, name, rep.Status, err)
	}
	return v.Provider
}

// registerInstance registers one instance of service, with a TTL check in
// the given state unless status is "" (then only the node check counts).
func registerInstance(t *testing.T, c *consulAgent, service, id, backendURL string, tags []string, status string) {
	t.Helper()
	h, p := hostPortOf(backendURL)
	reg := &api.AgentServiceRegistration{ID: id, Name: service, Address: h, Port: p, Tags: tags}
	if status != "" {
		reg.Check = &api.AgentServiceCheck{CheckID: "check-" + id, TTL: "10m", Status: status}
	}
	err := c.Client.Agent().ServiceRegister(reg)
	if err != nil {
		t.Fatalf("register %s: %v", id, err)
	}
}

// spread sends n requests and counts backends (errors as "error").
func spread(url, host string, n int) map[string]int {
	got := map[string]int{}
	for range n {
		rep, err := tryDo(request{url: url, host: host})
		switch {
		case err != nil:
			got["error"]++
		case rep.Status != 200:
			got[fmt.Sprint(rep.Status)]++
		default:
			got[backendName(rep.Body)]++
		}
	}
	return got
}

func TestConsulCatalog(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	c := startConsul(t)
	e := newEnv(t)
	tags := []string{"switchyard.http.routers.app.rule=Path(`/app`)", "web"}
	registerInstance(t, c, "app", "app-1", e.Backend("app-1"), tags, api.HealthPassing)
	registerInstance(t, c, "app", "app-2", e.Backend("app-2"), tags, api.HealthPassing)
	registerInstance(t, c, "my.plain_svc", "plain-1", e.Backend("plain-1"), nil, api.HealthPassing)
	registerInstance(t, c, "hidden", "hidden-1", e.Backend("hidden-1"), []string{"switchyard.enable=false"}, api.HealthPassing)
	registerInstance(t, c, "internal", "internal-1", e.Backend("internal-1"), []string{"internal"}, api.HealthPassing)
	registerInstance(t, c, "broken", "broken-1", e.Backend("broken-1"), []string{"switchyard.http.routers.broken.priority=x", "switchyard.http.routers.ok.rule=Path(`/ok`)"}, api.HealthPassing)
	// Traefik's default prefix, "traefik", next to Switchyard's own.
	registerInstance(t, c, "tk", "tk-1", e.Backend("tk-1"), []string{"traefik.http.routers.tk.rule=Path(`/tk`)"}, api.HealthPassing)

	e.WriteStatic("yml", consulStatic(`  consulCatalog:
    endpoint:
      address: "`+c.HTTPAdr+`"
    watch: true
    refreshInterval: 30s
    constraints: "!Tag(`+"`internal`"+`)"
`))
	e.Start()
	rd := e.WaitRouters("app@consulcatalog", "my-plain-svc@consulcatalog", "ok@consulcatalog", "tk@consulcatalog")
	waitServed(t, e, e.URL("web")+"/tk", "", "tk-1")
	for _, n := range []string{"hidden@consulcatalog", "internal@consulcatalog", "consul@consulcatalog"} {
		if _, ok := rd.Routers[n]; ok {
			t.Errorf("%s should not exist", n)
		}
	}
	// A router whose tags do not decode is left out and shown disabled,
	// with the tag, in the API (issue 13: no decode error is dropped).
	if r, ok := rd.Routers["broken@consulcatalog"]; !ok || r.Status != "disabled" || len(r.Error) == 0 ||
		!strings.Contains(r.Error[0], "switchyard.http.routers.broken.priority=x") {
		t.Errorf("broken@consulcatalog: %+v", r)
	}
	if r := rd.Routers["my-plain-svc@consulcatalog"]; r.Rule != "Host(`my-plain-svc`)" {
		t.Errorf("default rule router: %+v", r)
	}
	if p := providerOfObject(t, e, "routers", "my-plain-svc@consulcatalog"); p != "consulcatalog" {
		t.Errorf("provider = %q", p)
	}
	if !strings.Contains(e.Proc.Output()+e.Proc.Stderr(), "switchyard.http.routers.broken.priority=x") {
		t.Error("log does not name the bad tag")
	}
	waitServed(t, e, e.URL("web")+"/", "my-plain-svc", "plain-1")
	waitServed(t, e, e.URL("web")+"/ok", "", "broken-1")

	url := e.URL("web") + "/app"
	waitServed(t, e, url, "", "app-2")
	if got := spread(url, "", 20); got["app-1"] != 10 || got["app-2"] != 10 {
		t.Fatalf("two healthy instances: %v", got)
	}
	// A failing check takes the instance out.
	if err := c.Client.Agent().UpdateTTL("check-app-2", "down", api.HealthCritical); err != nil {
		t.Fatal(err)
	}
	e.waitFor(10*time.Second, "app-2 out", func() bool { return spread(url, "", 10)["app-1"] == 10 })
	// Warning still takes traffic (strictChecks passing,warning).
	if err := c.Client.Agent().UpdateTTL("check-app-2", "meh", api.HealthWarning); err != nil {
		t.Fatal(err)
	}
	e.waitFor(10*time.Second, "app-2 back on warning", func() bool { return spread(url, "", 10)["app-2"] == 5 })
	// Deregistration moves everything to the remaining instance.
	if err := c.Client.Agent().ServiceDeregister("app-1"); err != nil {
		t.Fatal(err)
	}
	e.waitFor(10*time.Second, "app-1 gone", func() bool { return spread(url, "", 10)["app-2"] == 10 })
	// A new instance joins.
	registerInstance(t, c, "app", "app-3", e.Backend("app-3"), tags, api.HealthPassing)
	e.waitFor(10*time.Second, "app-3 joins", func() bool { return spread(url, "", 10)["app-3"] == 5 })
}

// TestConsulOutage kills and restarts the agent, and partitions Switchyard
// from it, under load: no request may fail, and changes made while
// Switchyard could not see Consul are served once it can.
func TestConsulOutage(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	c := startConsul(t)
	px := newCutProxy(t, c.HTTPAdr)
	e := newEnv(t)
	c.Txn(map[string]string{
		"switchyard/http/routers/o/rule":                         "Path(`/o`)",
		"switchyard/http/routers/o/service":                      "os",
		"switchyard/http/services/os/loadBalancer/servers/0/url": e.Backend("o-1"),
	})
	// No service check: a TTL check restarts critical, taking the instance
	// out legitimately; the node check survives the restart.
	registerInstance(t, c, "cat", "cat-1", e.Backend("cat-1"), []string{"switchyard.http.routers.cat.rule=Path(`/cat`)"}, "")
	e.WriteStatic("yml", consulStatic(`  consul:
    rootKey: switchyard
    endpoints: ["`+px.Addr+`"]
  consulCatalog:
    endpoint:
      address: "`+px.Addr+`"
    watch: true
    refreshInterval: 1s
`))
	e.Start()
	e.WaitRouters("o@consul", "cat@consulcatalog")
	waitServed(t, e, e.URL("web")+"/o", "", "o-1")
	waitServed(t, e, e.URL("web")+"/cat", "", "cat-1")

	var total, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := []string{"/o", "/cat"}[w%2]
			for {
				select {
				case <-stop:
					return
				default:
				}
				rep, err := tryDo(request{url: e.URL("web") + path})
				total.Add(1)
				if err != nil || rep.Status != 200 {
					failed.Add(1)
					t.Logf("request %s failed: %v %d", path, err, rep.Status)
				}
			}
		}()
	}

	// 1. Kill the agent; keep serving; restart it.
	c.Kill()
	time.Sleep(3 * time.Second)
	c.Start()
	time.Sleep(time.Second)

	// 2. Partition: Switchyard cannot reach Consul while it changes.
	px.Cut()
	c.Txn(map[string]string{"switchyard/http/routers/o2/rule": "Path(`/o2`)", "switchyard/http/routers/o2/service": "os"})
	registerInstance(t, c, "cat2", "cat2-1", e.Backend("cat2-1"), []string{"switchyard.http.routers.cat2.rule=Path(`/cat2`)"}, "")
	time.Sleep(3 * time.Second)
	if rep, _ := tryDo(request{url: e.URL("web") + "/o2"}); rep.Status == 200 {
		t.Error("/o2 served while partitioned")
	}
	px.Restore()
	waitServed(t, e, e.URL("web")+"/o2", "", "o-1")
	waitServed(t, e, e.URL("web")+"/cat2", "", "cat2-1")

	close(stop)
	wg.Wait()
	if failed.Load() != 0 || total.Load() == 0 {
		t.Fatalf("%d of %d requests failed during the outage", failed.Load(), total.Load())
	}
	out := e.Proc.Output() + e.Proc.Stderr()
	if !strings.Contains(out, "keeping the last configuration") {
		t.Error("the outage was not logged")
	}
	t.Logf("%d requests during kill/restart and partition, 0 failed", total.Load())
}

// TestConsulWithFile runs file + Consul KV + Consul Catalog together with
// references across providers.
func TestConsulWithFile(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	c := startConsul(t)
	e := newEnv(t)
	e.WriteDynamic("yml", `
http:
  middlewares:
    mark:
      headers:
        customResponseHeaders:
          X-From-File: "yes"
  routers:
    filer:
      rule: Path(`+"`/file`"+`)
      service: shop@consulcatalog
`)
	registerInstance(t, c, "shop", "shop-1", e.Backend("shop-1"), []string{"switchyard.http.routers.shop.rule=Path(`/shop`)", "switchyard.http.routers.shop.middlewares=mark@file"}, api.HealthPassing)
	c.Txn(map[string]string{
		"switchyard/http/routers/mixed/rule":          "Path(`/mixed`)",
		"switchyard/http/routers/mixed/service":       "shop@consulcatalog",
		"switchyard/http/routers/mixed/middlewares/0": "mark@file",
	})
	e.WriteStatic("yml", consulStatic(`  file:
    filename: "<% dyn %>"
  consul:
    rootKey: switchyard
    endpoints: ["`+c.HTTPAdr+`"]
  consulCatalog:
    endpoint:
      address: "`+c.HTTPAdr+`"
      datacenter: dc1
      endpointWaitTime: 5s
    watch: true
    stale: true
    cache: true
`))
	e.Start()
	e.WaitRouters("filer@file", "mixed@consul", "shop@consulcatalog")
	for name, prov := range map[string]string{"filer@file": "file", "mixed@consul": "consul", "shop@consulcatalog": "consulcatalog"} {
		if p := providerOfObject(t, e, "routers", name); p != prov {
			t.Errorf("%s provider = %q, want %q", name, p, prov)
		}
	}
	if p := providerOfObject(t, e, "services", "shop@consulcatalog"); p != "consulcatalog" {
		t.Errorf("shop@consulcatalog service provider = %q", p)
	}
	if p := providerOfObject(t, e, "middlewares", "mark@file"); p != "file" {
		t.Errorf("mark@file provider = %q", p)
	}
	for _, p := range []string{"/file", "/mixed", "/shop"} {
		waitServed(t, e, e.URL("web")+p, "", "shop-1")
	}
	for _, p := range []string{"/mixed", "/shop"} {
		rep := do(t, request{url: e.URL("web") + p})
		if rep.Header.Get("X-From-File") != "yes" {
			t.Errorf("%s: mark@file not applied", p)
		}
	}
	// A new instance is seen through the agent cache (stale, cached reads).
	registerInstance(t, c, "shop", "shop-2", e.Backend("shop-2"), []string{"switchyard.http.routers.shop.rule=Path(`/shop`)", "switchyard.http.routers.shop.middlewares=mark@file"}, api.HealthPassing)
	waitServed(t, e, e.URL("web")+"/mixed", "", "shop-2")
}

// TestConsulTLS reads KV and the catalog over HTTPS with a client
// certificate (the agent verifies it).
func TestConsulTLS(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	dir := t.TempDir()
	ca := newCA(t, "consul-ca")
	caFile := writeFile(t, dir, "ca.pem", ca.PEM)
	sc, sk := ca.issue(t, "server.dc1.consul", []string{"127.0.0.1", "localhost"}, false)
	srvCert, srvKey := writePair(t, dir, "server", sc, sk)
	cc, ck := ca.issue(t, "switchyard", nil, true)
	cliCert, cliKey := writePair(t, dir, "client", cc, ck)
	httpsPort := freePort(t)
	c := startConsulHCL(t, httpsPort, fmt.Sprintf(`tls {
  defaults { ca_file = %q, cert_file = %q, key_file = %q }
  https { verify_incoming = true }
}`, caFile, srvCert, srvKey))
	e := newEnv(t)
	c.Txn(map[string]string{
		"switchyard/http/routers/sec/rule":                        "Path(`/sec`)",
		"switchyard/http/routers/sec/service":                     "sec",
		"switchyard/http/services/sec/loadBalancer/servers/0/url": e.Backend("sec"),
	})
	registerInstance(t, c, "tlscat", "tlscat-1", e.Backend("tlscat-1"), []string{"switchyard.http.routers.tlscat.rule=Path(`/tlscat`)"}, "")
	tlsBlock := fmt.Sprintf(`
      ca: %q
      cert: %q
      key: %q`, caFile, cliCert, cliKey)
	e.WriteStatic("yml", consulStatic(fmt.Sprintf(`  consul:
    rootKey: switchyard
    endpoints: ["127.0.0.1:%d"]
    tls:`, httpsPort)+tlsBlock+fmt.Sprintf(`
  consulCatalog:
    endpoint:
      address: "127.0.0.1:%d"
      tls:`, httpsPort)+strings.ReplaceAll(tlsBlock, "\n      ", "\n        ")+"\n"))
	e.Start()
	e.WaitRouters("sec@consul", "tlscat@consulcatalog")
	waitServed(t, e, e.URL("web")+"/sec", "", "sec")
	waitServed(t, e, e.URL("web")+"/tlscat", "", "tlscat-1")
}

// TestConsulDocs runs the `consul` commands of the provider pages against
// a real agent and checks that the routers they describe appear.
func TestConsulDocs(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	c := startConsul(t)
	var script strings.Builder
	for _, page := range []string{"consul.md", "consulcatalog.md"} {
		data, err := os.ReadFile(filepath.Join("..", "docs", "providers", page))
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range strings.Split(string(data), "```sh\n")[1:] {
			block, _, _ := strings.Cut(part, "```")
			script.WriteString(block)
		}
	}
	if !strings.Contains(script.String(), "consul kv put") || !strings.Contains(script.String(), "consul services register") {
		t.Fatalf("no consul commands in the docs:\n%s", script.String())
	}
	cmd := exec.Command("bash", "-euc", script.String())
	cmd.Env = append(os.Environ(), "CONSUL_HTTP_ADDR="+c.HTTPAdr, "PATH="+filepath.Dir(c.bin)+":"+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docs commands: %v\n%s", err, out)
	}
	e := newEnv(t)
	e.WriteStatic("yml", consulStatic(`  consul:
    endpoints: ["`+c.HTTPAdr+`"]
  consulCatalog:
    endpoint:
      address: "`+c.HTTPAdr+`"
`))
	e.Start()
	rd := e.WaitRouters("web@consul", "shop@consulcatalog")
	if r := rd.Routers["web@consul"]; r.Rule != "Host(`example.com`)" || r.Status != "enabled" {
		t.Errorf("web@consul: %+v", r)
	}
	if r := rd.Routers["shop@consulcatalog"]; r.Rule != "Host(`shop.example.com`)" {
		t.Errorf("shop@consulcatalog: %+v", r)
	}
}

// TestConsulToken reads KV and the catalog from an agent that denies
// anonymous reads, with providers.consul.token and
// providers.consulCatalog.endpoint.token.
func TestConsulToken(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	c := startConsulACL(t)
	e := newEnv(t)
	c.Txn(map[string]string{
		"switchyard/http/routers/acl/rule":                        "Path(`/acl`)",
		"switchyard/http/routers/acl/service":                     "acl",
		"switchyard/http/services/acl/loadBalancer/servers/0/url": e.Backend("acl"),
	})
	registerInstance(t, c, "aclcat", "aclcat-1", e.Backend("aclcat-1"), []string{"switchyard.http.routers.aclcat.rule=Path(`/aclcat`)"}, "")
	// Anonymous reads see nothing.
	anon, err := api.NewClient(&api.Config{Address: c.HTTPAdr})
	if err != nil {
		t.Fatal(err)
	}
	if pairs, _, err := anon.KV().List("switchyard/", nil); err == nil && len(pairs) > 0 {
		t.Fatalf("anonymous KV read allowed: %d keys", len(pairs))
	}
	e.WriteStatic("yml", consulStatic(`  consul:
    rootKey: switchyard
    endpoints: ["`+c.HTTPAdr+`"]
    token: "`+consulRootToken+`"
  consulCatalog:
    endpoint:
      address: "`+c.HTTPAdr+`"
      token: "`+consulRootToken+`"
    watch: true
`))
	e.Start()
	e.WaitRouters("acl@consul", "aclcat@consulcatalog")
	waitServed(t, e, e.URL("web")+"/acl", "", "acl")
	waitServed(t, e, e.URL("web")+"/aclcat", "", "aclcat-1")
}
