package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ---------------------------------------------------------------------------
// backends for service tests

// togglable is a backend whose /health answer and liveness tests control.
// It answers other paths with "Name: <name>" like whoami, and can be killed
// and restarted on the same address.
type togglable struct {
	t       testing.TB
	name    string
	addr    string
	healthy atomic.Bool
	probes  atomic.Int64
	hits    atomic.Int64

	mu  sync.Mutex
	srv *http.Server
}

func newTogglable(t testing.TB, name string) *togglable {
	t.Helper()
	b := &togglable{t: t, name: name}
	b.healthy.Store(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.addr = ln.Addr().String()
	b.serve(ln)
	t.Cleanup(b.kill)
	return b
}

func (b *togglable) URL() string { return "http://" + b.addr }

func (b *togglable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/health" {
		b.probes.Add(1)
		if !b.healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		return
	}
	b.hits.Add(1)
	_, _ = io.Copy(io.Discard, r.Body)
	fmt.Fprintf(w, "Name: %s\n", b.name)
}

func (b *togglable) serve(ln net.Listener) {
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// kill closes the listener and every connection.
func (b *togglable) kill() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.srv != nil {
		_ = b.srv.Close()
		b.srv = nil
	}
}

// restart listens again on the same address.
func (b *togglable) restart() {
	b.t.Helper()
	var ln net.Listener
	var err error
	for range 100 {
		if ln, err = net.Listen("tcp", b.addr); err == nil {
			b.serve(ln)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.t.Fatalf("restart %s: %v", b.name, err)
}

// serviceStatus fetches /api/http/services/<name>.
func serviceStatus(e *Env, name string) (ServiceInfo, error) {
	var si ServiceInfo
	resp, err := client.Get(e.URL("traefik") + "/api/http/services/" + name)
	if err != nil {
		return si, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return si, fmt.Errorf("status %d", resp.StatusCode)
	}
	return si, json.NewDecoder(resp.Body).Decode(&si)
}

// waitServerStatus waits until the API shows server url of service as status.
func waitServerStatus(t *testing.T, e *Env, service, url, status string) {
	t.Helper()
	e.waitFor(15*time.Second, fmt.Sprintf("%s: server %s %s", service, url, status), func() bool {
		si, err := serviceStatus(e, service)
		return err == nil && si.ServerStatus[url] == status
	})
}

func startServices(t *testing.T, dynamic string) *Env {
	t.Helper()
	e := newEnv(t)
	rendered := e.WriteDynamic("yml", dynamic)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	names, err := dynamicRouterNames("yml", rendered)
	if err != nil {
		t.Fatal(err)
	}
	e.WaitRouters(names...)
	e.WaitListening(e.Addr("web"))
	return e
}

// count sends n GETs to url from workers goroutines and counts backends.
func count(t *testing.T, url string, n, workers int, header map[string]string) map[string]int {
	t.Helper()
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	var next atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				rep, err := tryDo(request{url: url, header: header})
				name := "error"
				if err == nil {
					name = backendName(rep.Body)
					if rep.Status != 200 {
						name = fmt.Sprint(rep.Status)
					}
				}
				mu.Lock()
				got[name]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return got
}

// ---------------------------------------------------------------------------

func TestServicesStrategies(t *testing.T) {
	t.Parallel()
	var svcs strings.Builder
	for name, strategy := range map[string]string{"wrr": "wrr", "p2c": "p2c", "hrw": "hrw", "lt": "leasttime"} {
		fmt.Fprintf(&svcs, `
    %s:
      loadBalancer:
        strategy: %s
        servers:
          - {url: "<%% backend "s-a" %%>", weight: 5}
          - {url: "<%% backend "s-b" %%>", weight: 3}
          - {url: "<%% backend "s-c" %%>", weight: 2}
`, name, strategy)
	}
	e := startServices(t, `
http:
  routers:
    wrr: {rule: "PathPrefix(`+"`/wrr`"+`)", service: wrr}
    p2c: {rule: "PathPrefix(`+"`/p2c`"+`)", service: p2c}
    hrw: {rule: "PathPrefix(`+"`/hrw`"+`)", service: hrw}
    lt:  {rule: "PathPrefix(`+"`/lt`"+`)", service: lt}
    weighted: {rule: "PathPrefix(`+"`/weighted`"+`)", service: weighted}
  services:
    one: {loadBalancer: {servers: [{url: "<% backend "w-one" %>"}]}}
    two: {loadBalancer: {servers: [{url: "<% backend "w-two" %>"}]}}
    nested:
      weighted:
        services: [{name: two@file, weight: 1}]
    weighted:
      weighted:
        services:
          - {name: one, weight: 3}
          - {name: nested@file, weight: 1}`+svcs.String())
	const n = 10000
	want := map[string]float64{"s-a": 0.5, "s-b": 0.3, "s-c": 0.2}
	// wrr's round is shared by all clients: concurrency does not change it.
	// p2c looks at in-flight counts: one client at a time, shares follow weights.
	for path, workers := range map[string]int{"/wrr": 4, "/p2c": 1} {
		got := count(t, e.URL("web")+path, n, workers, nil)
		for name, share := range want {
			if d := math.Abs(float64(got[name])/n - share); d > 0.02 {
				t.Errorf("%s: %s got %d of %d, want %.0f%%±2", path, name, got[name], n, share*100)
			}
		}
	}
	// weighted, nested, with a qualified (name@file) reference.
	got := count(t, e.URL("web")+"/weighted", n, 4, nil)
	if d := math.Abs(float64(got["w-one"])/n - 0.75); d > 0.02 || got["w-one"]+got["w-two"] != n {
		t.Errorf("weighted 3:1: %v", got)
	}
	// hrw hashes the client IP: one client always reaches one server, and
	// 10,000 clients (distinct loopback source addresses) follow the weights.
	if got := count(t, e.URL("web")+"/hrw", 300, 4, nil); len(got) != 1 {
		t.Errorf("hrw: one client spread over %v", got)
	}
	got = hrwClients(t, e.URL("web")+"/hrw", n)
	for name, share := range want {
		if d := math.Abs(float64(got[name])/n - share); d > 0.02 {
			t.Errorf("hrw over %d client IPs: %s got %d, want %.0f%%±2 (%v)", n, name, got[name], share*100, got)
		}
	}
	// leasttime: equal backends all get traffic, nothing fails.
	got = count(t, e.URL("web")+"/lt", 3000, 8, nil)
	if got["s-a"]+got["s-b"]+got["s-c"] != 3000 || got["s-a"] == 0 || got["s-b"] == 0 || got["s-c"] == 0 {
		t.Errorf("leasttime: %v", got)
	}
}

// TestServicesHealthCheck: a failing server leaves the rotation, shows DOWN in
// the API, and comes back; weighted and failover parents follow.
func TestServicesHealthCheck(t *testing.T) {
	t.Parallel()
	a, b, fb := newTogglable(t, "hc-a"), newTogglable(t, "hc-b"), newTogglable(t, "hc-fallback")
	e := newEnv(t)
	e.SetURL("a", a.URL())
	e.SetURL("b", b.URL())
	e.SetURL("fb", fb.URL())
	dyn := `
http:
  routers:
    lb: {rule: "PathPrefix(` + "`/lb`" + `)", service: lb}
    parent: {rule: "PathPrefix(` + "`/weighted`" + `)", service: parent}
    fo: {rule: "PathPrefix(` + "`/failover`" + `)", service: fo}
    parent2: {rule: "PathPrefix(` + "`/mirrored`" + `)", service: parent2}
  services:
    lb:
      loadBalancer:
        healthCheck:
          path: /health
          interval: 50ms
          timeout: 1s
          headers: {X-Probe: "1"}
        servers:
          - url: "<% url "a" %>"
          - url: "<% url "b" %>"
    onlyb:
      loadBalancer:
        healthCheck: {path: /health, interval: 50ms}
        servers:
          - url: "<% url "b" %>"
    fallback:
      loadBalancer:
        healthCheck: {path: /health, interval: 50ms}
        servers:
          - url: "<% url "fb" %>"
    parent:
      weighted:
        healthCheck: {}
        services:
          - {name: onlyb, weight: 1}
          - {name: fallback, weight: 1}
    fo:
      failover:
        service: onlyb
        fallback: fallback
    mir:
      mirroring:
        service: onlyb
        healthCheck: {}
        mirrors: [{name: fallback, percent: 0}]
    parent2:
      weighted:
        healthCheck: {}
        services: [{name: mir}, {name: fallback}]
`
	rendered := e.WriteDynamic("yml", dyn)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	names, _ := dynamicRouterNames("yml", rendered)
	e.WaitRouters(names...)
	waitServerStatus(t, e, "lb@file", b.URL(), "UP")

	if got := count(t, e.URL("web")+"/lb", 20, 1, nil); got["hc-a"] != 10 || got["hc-b"] != 10 {
		t.Errorf("both up: %v", got)
	}
	if got := count(t, e.URL("web")+"/failover", 5, 1, nil); got["hc-b"] != 5 {
		t.Errorf("failover main up: %v", got)
	}

	b.healthy.Store(false)
	waitServerStatus(t, e, "lb@file", b.URL(), "DOWN")
	waitServerStatus(t, e, "onlyb@file", b.URL(), "DOWN")
	if si, _ := serviceStatus(e, "lb@file"); si.ServerStatus[a.URL()] != "UP" {
		t.Errorf("a: %v", si.ServerStatus)
	}
	if got := count(t, e.URL("web")+"/lb", 20, 1, nil); got["hc-a"] != 20 {
		t.Errorf("b down: %v", got)
	}
	// The weighted parent stops sending to its child with no healthy server,
	// and the failover moves to its fallback.
	if got := count(t, e.URL("web")+"/weighted", 10, 1, nil); got["hc-fallback"] != 10 {
		t.Errorf("weighted with a down child: %v", got)
	}
	if got := count(t, e.URL("web")+"/failover", 5, 1, nil); got["hc-fallback"] != 5 {
		t.Errorf("failover main down: %v", got)
	}
	if got := count(t, e.URL("web")+"/mirrored", 10, 1, nil); got["hc-fallback"] != 10 {
		t.Errorf("weighted over a mirroring whose main is down: %v", got)
	}

	b.healthy.Store(true)
	waitServerStatus(t, e, "lb@file", b.URL(), "UP")
	waitServerStatus(t, e, "onlyb@file", b.URL(), "UP")
	e.waitFor(5*time.Second, "failover back to main", func() bool {
		return count(t, e.URL("web")+"/failover", 1, 1, nil)["hc-b"] == 1
	})
	if got := count(t, e.URL("web")+"/weighted", 10, 1, nil); got["hc-b"] != 5 || got["hc-fallback"] != 5 {
		t.Errorf("weighted recovered: %v", got)
	}
}

// TestServicesKillRestartUnderLoad kills a backend while clients keep
// sending, checks the survivor takes everything once the health check
// noticed, then restarts the backend and sees it back in rotation.
func TestServicesKillRestartUnderLoad(t *testing.T) {
	t.Parallel()
	for name, passive := range map[string]string{
		"active":         "",
		"active+passive": "passiveHealthCheck: {failureWindow: 1s, maxFailedAttempts: 1}",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			killRestart(t, passive)
		})
	}
}

func killRestart(t *testing.T, passive string) {
	a, b := newTogglable(t, "kr-a"), newTogglable(t, "kr-b")
	e := newEnv(t)
	e.SetURL("a", a.URL())
	e.SetURL("b", b.URL())
	e.SetURL("passive", passive)
	e.WriteDynamic("yml", `
http:
  routers:
    app: {rule: "PathPrefix(`+"`/`"+`)", service: app}
  services:
    app:
      loadBalancer:
        healthCheck: {path: /health, interval: 50ms, timeout: 500ms}
        <% url "passive" %>
        servers:
          - url: "<% url "a" %>"
          - url: "<% url "b" %>"
`)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	e.WaitRouters("app@file")
	e.WaitListening(e.Addr("web"))

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				rep, err := tryDo(request{url: e.URL("web") + "/"})
				if err == nil && rep.Status == 200 {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	time.Sleep(200 * time.Millisecond)
	b.kill()
	waitServerStatus(t, e, "app@file", b.URL(), "DOWN")
	// Requests that picked b just before it left the rotation fail fast
	// (connection refused); let them finish before counting.
	time.Sleep(200 * time.Millisecond)
	failedAtDown := failed.Load()
	aBefore := a.hits.Load()
	time.Sleep(300 * time.Millisecond)
	if f := failed.Load() - failedAtDown; f != 0 {
		t.Errorf("%d failures after the dead server left the rotation", f)
	}
	if a.hits.Load() == aBefore {
		t.Error("no traffic while b was down")
	}
	t.Logf("%s: requests failed around the kill: %d (ok %d)", t.Name(), failedAtDown, ok.Load())

	b.restart()
	waitServerStatus(t, e, "app@file", b.URL(), "UP")
	bBefore := b.hits.Load()
	e.waitFor(10*time.Second, "traffic back on restarted server", func() bool { return b.hits.Load() > bBefore+10 })
}

// TestServicesStickyAndReload: sticky clients keep their server (also via a
// weighted service), move when it goes down, and a reload that leaves the
// service unchanged keeps health state and checker (no new probe loop).
func TestServicesStickyAndReload(t *testing.T) {
	t.Parallel()
	a, b, c := newTogglable(t, "st-a"), newTogglable(t, "st-b"), newTogglable(t, "st-c")
	e := newEnv(t)
	for _, x := range []*togglable{a, b, c} {
		e.SetURL(x.name, x.URL())
	}
	c.healthy.Store(false)
	const dyn = `
http:
  routers:
    app: {rule: "PathPrefix(` + "`/app`" + `)", service: app}
    w: {rule: "PathPrefix(` + "`/w`" + `)", service: w}
    <% url "extra" %>
  services:
    app:
      loadBalancer:
        sticky:
          cookie: {name: lb_sticky, httpOnly: true, sameSite: lax, maxAge: 3600}
        healthCheck: {path: /health, interval: 1h, unhealthyInterval: 50ms}
        servers:
          - url: "<% url "st-a" %>"
          - url: "<% url "st-b" %>"
          - url: "<% url "st-c" %>"
    one:
      loadBalancer:
        servers: [{url: "<% url "st-a" %>"}]
    two:
      loadBalancer:
        servers: [{url: "<% url "st-b" %>"}]
    w:
      weighted:
        sticky:
          cookie: {name: w_sticky}
        services: [{name: one}, {name: two}]
`
	e.SetURL("extra", "")
	e.WriteDynamic("yml", dyn)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	e.WaitRouters("app@file", "w@file")
	e.WaitListening(e.Addr("web"))
	waitServerStatus(t, e, "app@file", c.URL(), "DOWN")

	first := do(t, request{url: e.URL("web") + "/app"})
	sc := first.Header.Get("Set-Cookie")
	if !strings.HasPrefix(sc, "lb_sticky=") || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") || !strings.Contains(sc, "Max-Age=3600") {
		t.Fatalf("Set-Cookie %q", sc)
	}
	cookie := strings.Split(sc, ";")[0]
	server := backendName(first.Body)
	sticky := func(path, cookie string) map[string]int {
		return count(t, e.URL("web")+path, 20, 2, map[string]string{"Cookie": cookie})
	}
	if got := sticky("/app", cookie); got[server] != 20 {
		t.Errorf("sticky to %s: %v", server, got)
	}
	wfirst := do(t, request{url: e.URL("web") + "/w"})
	wcookie := strings.Split(wfirst.Header.Get("Set-Cookie"), ";")[0]
	if got := sticky("/w", wcookie); got[backendName(wfirst.Body)] != 20 || !strings.HasPrefix(wcookie, "w_sticky=") {
		t.Errorf("weighted sticky %q to %s: %v", wcookie, backendName(wfirst.Body), got)
	}

	// Reload with an unrelated change: the service is kept as it was.
	probes := c.probes.Load()
	c.healthy.Store(true) // would be seen UP at once by a fresh checker... after the first probe
	e.SetURL("extra", `other: {rule: "PathPrefix(`+"`/other`"+`)", service: app}`)
	e.WriteDynamic("yml", dyn)
	e.WaitRouters("other@file")
	if got := sticky("/app", cookie); got[server] != 20 {
		t.Errorf("after reload, sticky to %s: %v", server, got)
	}
	if got := sticky("/w", wcookie); got[backendName(wfirst.Body)] != 20 {
		t.Errorf("after reload, weighted sticky: %v", got)
	}
	// c was down with a 50ms unhealthy interval: the kept checker sees it
	// recover; its probe count continues, never restarting from a fresh state.
	waitServerStatus(t, e, "app@file", c.URL(), "UP")
	if c.probes.Load() < probes {
		t.Error("probe counter went backwards")
	}
	c.healthy.Store(false)
	probesUp := c.probes.Load()
	time.Sleep(300 * time.Millisecond)
	if p := c.probes.Load(); p != probesUp {
		t.Errorf("healthy server probed %d more times with interval 1h", p-probesUp)
	}

	// Its server goes down (a changed service config is fresh state with a
	// fast interval): the sticky client moves and gets a new cookie.
	srv := map[string]*togglable{"st-a": a, "st-b": b}[server]
	srv.healthy.Store(false)
	e.WriteDynamic("yml", strings.Replace(dyn, "interval: 1h", "interval: 50ms", 1))
	waitServerStatus(t, e, "app@file", srv.URL(), "DOWN")
	rep := do(t, request{url: e.URL("web") + "/app", header: map[string]string{"Cookie": cookie}})
	if rep.Status != 200 || backendName(rep.Body) == server || !strings.HasPrefix(rep.Header.Get("Set-Cookie"), "lb_sticky=") {
		t.Errorf("sticky client of a down server: %d %q, Set-Cookie %q", rep.Status, backendName(rep.Body), rep.Header.Get("Set-Cookie"))
	}
}

// TestServicesMirroring: mirrors get their percentage of requests (±2 points
// over 10,000), bodies up to maxBodySize, and a stuck mirror never delays the
// client.
func TestServicesMirroring(t *testing.T) {
	t.Parallel()
	type mirrorCount struct {
		n      atomic.Int64
		mu     sync.Mutex
		bodies map[string]int
	}
	newMirror := func() (*mirrorCount, string) {
		m := &mirrorCount{bodies: map[string]int{}}
		return m, startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			m.mu.Lock()
			m.bodies[string(body)]++
			m.mu.Unlock()
			m.n.Add(1)
		}))
	}
	m10, u10 := newMirror()
	m50, u50 := newMirror()
	mbody, ubody := newMirror()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	stuck := startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	e := newEnv(t)
	e.SetURL("m10", u10)
	e.SetURL("m50", u50)
	e.SetURL("mbody", ubody)
	e.SetURL("stuck", stuck)
	rendered := e.WriteDynamic("yml", `
http:
  routers:
    pct: {rule: "PathPrefix(`+"`/pct`"+`)", service: pct}
    body: {rule: "PathPrefix(`+"`/body`"+`)", service: body}
    slow: {rule: "PathPrefix(`+"`/slow`"+`)", service: slow}
  services:
    main:
      loadBalancer:
        servers: [{url: "<% backend "mirror-main" %>"}]
    m10: {loadBalancer: {servers: [{url: "<% url "m10" %>"}]}}
    m50: {loadBalancer: {servers: [{url: "<% url "m50" %>"}]}}
    mbody: {loadBalancer: {servers: [{url: "<% url "mbody" %>"}]}}
    stuck: {loadBalancer: {servers: [{url: "<% url "stuck" %>"}]}}
    pct:
      mirroring:
        service: main
        mirrors:
          - {name: m10, percent: 10}
          - {name: m50, percent: 50}
    body:
      mirroring:
        service: main
        mirrorBody: true
        maxBodySize: 16
        mirrors: [{name: mbody, percent: 100}]
    slow:
      mirroring:
        service: main
        mirrors: [{name: stuck, percent: 100}]
`)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	names, _ := dynamicRouterNames("yml", rendered)
	e.WaitRouters(names...)
	e.WaitListening(e.Addr("web"))

	const n = 10000
	if got := count(t, e.URL("web")+"/pct", n, 8, nil); got["mirror-main"] != n {
		t.Fatalf("main answers: %v", got)
	}
	e.waitFor(20*time.Second, "mirror copies arrive", func() bool {
		return m10.n.Load() >= n*10/100-n*2/100 && m50.n.Load() >= n*50/100-n*2/100
	})
	time.Sleep(100 * time.Millisecond)
	for name, c := range map[string]struct {
		got  int64
		want int
	}{"m10": {m10.n.Load(), 10}, "m50": {m50.n.Load(), 50}} {
		if math.Abs(float64(c.got)*100/n-float64(c.want)) > 2 {
			t.Errorf("%s: %d of %d requests, want %d%%±2", name, c.got, n, c.want)
		}
	}

	small := do(t, request{method: "POST", url: e.URL("web") + "/body", body: "small body"})
	big := do(t, request{method: "POST", url: e.URL("web") + "/body", body: strings.Repeat("x", 1000)})
	if small.Status != 200 || big.Status != 200 || !strings.Contains(big.Body, "Name: mirror-main") {
		t.Fatalf("body requests: %d %d", small.Status, big.Status)
	}
	e.waitFor(5*time.Second, "mirrored body", func() bool { return mbody.n.Load() >= 1 })
	time.Sleep(200 * time.Millisecond)
	mbody.mu.Lock()
	if mbody.bodies["small body"] != 1 || len(mbody.bodies) != 1 {
		t.Errorf("mirror bodies %v (a body over maxBodySize is not mirrored)", mbody.bodies)
	}
	mbody.mu.Unlock()

	// A mirror that never answers: every client request still completes.
	start := time.Now()
	if got := count(t, e.URL("web")+"/slow", 200, 4, nil); got["mirror-main"] != 200 {
		t.Errorf("with a stuck mirror: %v", got)
	}
	t.Logf("200 requests with a stuck mirror took %v", time.Since(start))
}

// TestServicesErrors: broken services are disabled with a clear error; the
// rest keeps serving.
func TestServicesErrors(t *testing.T) {
	t.Parallel()
	e := startServices(t, `
http:
  routers:
    ok: {rule: "PathPrefix(`+"`/ok`"+`)", service: good}
    missing: {rule: "PathPrefix(`+"`/missing`"+`)", service: missing}
    cycle: {rule: "PathPrefix(`+"`/cycle`"+`)", service: cyc-a}
    badurl: {rule: "PathPrefix(`+"`/badurl`"+`)", service: badurl}
    negative: {rule: "PathPrefix(`+"`/negative`"+`)", service: negative}
    negw: {rule: "PathPrefix(`+"`/negw`"+`)", service: negw}
    mirrormissing: {rule: "PathPrefix(`+"`/mm`"+`)", service: mirrormissing}
    fomissing: {rule: "PathPrefix(`+"`/fm`"+`)", service: fomissing}
    strategy: {rule: "PathPrefix(`+"`/strategy`"+`)", service: strategy}
  services:
    good: {loadBalancer: {servers: [{url: "<% backend "err-good" %>"}]}}
    missing: {weighted: {services: [{name: good}, {name: nowhere}]}}
    cyc-a: {weighted: {services: [{name: cyc-b}]}}
    cyc-b: {failover: {service: cyc-a, fallback: good}}
    badurl: {loadBalancer: {servers: [{url: "ftp://x"}]}}
    negative: {loadBalancer: {servers: [{url: "<% backend "err-good" %>", weight: -1}]}}
    negw: {weighted: {services: [{name: good, weight: -2}]}}
    mirrormissing: {mirroring: {service: good, mirrors: [{name: ghost, percent: 10}]}}
    fomissing: {failover: {service: ghost, fallback: good}}
    strategy: {loadBalancer: {strategy: random, servers: [{url: "<% backend "err-good" %>"}]}}
`)
	rd := e.WaitAPI(10*time.Second, "services listed", func(rd *Rawdata) bool { return len(rd.Services) >= 10 })
	for name, want := range map[string]string{
		"missing@file":       `service "nowhere@file" does not exist`,
		"cyc-a@file":         "recursion detected",
		"badurl@file":        "scheme must be http, https or h2c",
		"negative@file":      "weight -1 must not be negative",
		"negw@file":          "weight -2 must not be negative",
		"mirrormissing@file": `service "ghost@file" does not exist`,
		"fomissing@file":     `service "ghost@file" does not exist`,
		"strategy@file":      `unknown load-balancing strategy "random"`,
	} {
		si := rd.Services[name]
		if si.Status != "disabled" || !strings.Contains(strings.Join(si.Error, " "), want) {
			t.Errorf("%s: status %q errors %q, want disabled with %q", name, si.Status, si.Error, want)
		}
	}
	if rep := do(t, request{url: e.URL("web") + "/ok"}); backendName(rep.Body) != "err-good" {
		t.Errorf("good service: %d %q", rep.Status, rep.Body)
	}
	if rep := do(t, request{url: e.URL("web") + "/missing"}); rep.Status != 404 {
		t.Errorf("router of a disabled service: %d", rep.Status)
	}
	if !strings.Contains(e.Proc.Output(), "does not exist") {
		t.Error("errors not logged")
	}
}

// hrwClients sends one request from each of n loopback source addresses
// (127.1.x.y) and counts backends.
func hrwClients(t *testing.T, url string, n int) map[string]int {
	t.Helper()
	var mu sync.Mutex
	got := map[string]int{}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				src := &net.TCPAddr{IP: net.IPv4(127, 1, byte(i>>8), byte(i))}
				if byte(i) == 0 {
					src.IP = net.IPv4(127, 2, byte(i>>8), 1) // avoid .0 addresses
				}
				tr := &http.Transport{Proxy: nil, DisableKeepAlives: true, DialContext: (&net.Dialer{LocalAddr: src}).DialContext}
				cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
				name := "error"
				if resp, err := cl.Get(url); err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					name = backendName(string(b))
				}
				mu.Lock()
				got[name]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return got
}
