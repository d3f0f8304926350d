package integration

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testKVStore is the one scenario every KV provider passes against its
// real server: configuration applied, bad keys reported on their object,
// changes followed live, the server killed (the last configuration kept,
// no request lost, the outage logged), restarted (followed again).
// providerYAML is the provider's block under providers:; name is the
// provider name in router names (kv@name).
func testKVStore(t *testing.T, e *Env, srv kvServer, providerYAML, name string) {
	t.Helper()
	t0 := time.Now()
	step := func(what string) { t.Logf("%7.3fs %s", time.Since(t0).Seconds(), what) }
	defer step("done")
	a, b := e.Backend(name+"-a"), e.Backend(name+"-b")
	srv.Set(map[string]string{
		"traefik/http/routers/kv/rule":                           "Path(`/kv`)",
		"traefik/http/routers/kv/entryPoints/0":                  "web",
		"traefik/http/routers/kv/service":                        "kvsvc",
		"traefik/http/services/kvsvc/loadBalancer/servers/0/url": a,
		// Each bad object is left out alone, reported with its key.
		"traefik/http/routers/badprio/rule":     "Path(`/badprio`)",
		"traefik/http/routers/badprio/priority": "high",
		// Outside rootKey: not read.
		"other/http/routers/ignored/rule": "Path(`/ignored`)",
	})
	e.WriteStatic("yml", consulStatic(providerYAML))
	e.Start()
	step(`e.Start()`)
	rd := e.WaitRouters("kv@" + name)
	step(`rd := e.WaitRouters("kv@" + name)`)
	waitServed(t, e, e.URL("web")+"/kv", "", name+"-a")
	if r, ok := rd.Routers["badprio@"+name]; !ok || r.Status != "disabled" || len(r.Error) == 0 || !strings.Contains(r.Error[0], "traefik/http/routers/badprio/priority") {
		t.Errorf("badprio@%s: %+v (want disabled, naming its key)", name, r)
	}
	if _, ok := rd.Routers["ignored@"+name]; ok {
		t.Error("a key outside rootKey was read")
	}

	// Live changes: a service moved and a router added in one write, then
	// a router removed.
	start := time.Now()
	srv.Set(map[string]string{
		"traefik/http/services/kvsvc/loadBalancer/servers/0/url": b,
		"traefik/http/routers/kv2/rule":                          "Path(`/kv2`)",
		"traefik/http/routers/kv2/service":                       "kvsvc",
	})
	waitServed(t, e, e.URL("web")+"/kv2", "", name+"-b")
	waitServed(t, e, e.URL("web")+"/kv", "", name+"-b")
	t.Logf("change followed in %v", time.Since(start).Round(time.Millisecond))
	srv.DeleteTree("traefik/http/routers/kv2")
	step(`srv.DeleteTree("traefik/http/routers/kv2")`)
	e.waitFor(10*time.Second, "kv2 gone", func() bool {
		rep, err := tryDo(request{url: e.URL("web") + "/kv2"})
		return err == nil && rep.Status == 404
	})

	// Outage under load: nothing fails, the last configuration stays.
	var total, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				rep, err := tryDo(request{url: e.URL("web") + "/kv"})
				total.Add(1)
				if err != nil || rep.Status != 200 {
					failed.Add(1)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	srv.Kill()
	step(`srv.Kill()`)
	killed := time.Now()
	e.waitFor(20*time.Second, "the outage logged", func() bool {
		return strings.Contains(e.Proc.Output(), "keeping the last configuration")
	})
	t.Logf("outage logged after %v", time.Since(killed).Round(time.Millisecond))
	srv.Start()
	restarted := time.Now()
	// Changed after the restart: followed again.
	srv.Set(map[string]string{
		"traefik/http/routers/kv3/rule":    "Path(`/kv3`)",
		"traefik/http/routers/kv3/service": "kvsvc",
	})
	waitServed(t, e, e.URL("web")+"/kv3", "", name+"-b")
	t.Logf("followed again %v after the restart", time.Since(restarted).Round(time.Millisecond))
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || total.Load() == 0 {
		t.Fatalf("%d of %d requests failed during the outage", failed.Load(), total.Load())
	}
	if !strings.Contains(e.Proc.Output(), "KV store reachable again") {
		t.Error("the recovery was not logged")
	}
	t.Logf("%d requests during the outage, 0 failed", total.Load())
}

func TestRedisKV(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	srv := startRedis(t, nil, nil)
	e := newEnv(t)
	testKVStore(t, e, srv, `  redis:
    endpoints: ["`+srv.Endpoint()+`"]
`, "redis")
}

func TestEtcdKV(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	srv := startEtcd(t, nil, nil)
	e := newEnv(t)
	testKVStore(t, e, srv, `  etcd:
    endpoints: ["`+srv.Endpoint()+`"]
`, "etcd")
}

func TestZooKeeperKV(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	srv := startZooKeeper(t, "", "")
	e := newEnv(t)
	testKVStore(t, e, srv, `  zooKeeper:
    endpoints: ["`+srv.Endpoint()+`"]
`, "zookeeper")
}
