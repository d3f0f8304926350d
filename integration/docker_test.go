package integration

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
)

// TestDockerLabels: containers on a real Docker Engine, routed from their
// labels through the real binary: a load-balanced service of two
// containers, the default rule and port, a middleware, the switchyard.
// prefix, TCP and UDP routers, traefik.enable=false, constraints, a label
// that does not decode (reported on its router, naming the container),
// a container without a port (reported on its service), health (an
// unhealthy container leaves, a healed one comes back) and a stopped
// container leaving — all followed from the Engine's events.
func TestDockerLabels(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	t0 := time.Now()
	d := requireDockerd(t)
	t.Logf("dockerd ready in %v", time.Since(t0))
	e := newEnv(t)
	p := func(n string) int { return e.Port("ctr-" + n) }
	udpPort := freePort(t)
	specs := []ctrSpec{
		{name: "lbl-app-1", port: p("app1"), labels: map[string]string{
			"traefik.http.routers.app.rule":                                   "Host(`app.docker.test`)",
			"traefik.http.routers.app.middlewares":                            "tag",
			"traefik.http.middlewares.tag.headers.customResponseHeaders.X-Mw": "yes",
			"traefik.http.services.app.loadbalancer.server.port":              strconv.Itoa(p("app1")),
		}},
		{name: "lbl-app-2", port: p("app1"), labels: map[string]string{}}, // same port: filled below
		{name: "lbl-plain", port: p("plain")},
		{name: "lbl-sy", port: p("sy"), labels: map[string]string{"switchyard.http.routers.sy.rule": "Path(`/sy`)"}},
		{name: "lbl-tcp", port: p("tcp"), labels: map[string]string{
			"traefik.tcp.routers.t.rule": "HostSNI(`*`)", "traefik.tcp.routers.t.entrypoints": "tcp"}},
		{name: "lbl-udp", port: p("udp"), udpPort: udpPort, labels: map[string]string{
			"traefik.udp.routers.u.entrypoints":               "udp",
			"traefik.udp.services.u.loadbalancer.server.port": strconv.Itoa(udpPort)}},
		{name: "lbl-off", port: p("off"), labels: map[string]string{"traefik.enable": "false"}},
		{name: "lbl-skip", port: p("skip"), labels: map[string]string{"skip": "yes"}},
		{name: "lbl-bad", port: p("bad"), labels: map[string]string{
			"traefik.http.routers.bad.rule": "Path(`/bad`)", "traefik.http.routers.bad.priority": "high"}},
		{name: "lbl-noport", port: p("noport"), noPort: true},
		{name: "lbl-health", port: p("health"), health: true, labels: map[string]string{
			"traefik.http.routers.health.rule": "Path(`/health-route`)"}},
	}
	// Two containers of one service need two ports on the host network:
	// the second one's port label differs, so its service is its own;
	// both routers are the same. Use one service name with a port each.
	specs[0].labels["traefik.http.services.app.loadbalancer.server.port"] = ""
	delete(specs[0].labels, "traefik.http.services.app.loadbalancer.server.port")
	specs[1].port = p("app2")
	for k, v := range specs[0].labels {
		specs[1].labels[k] = v
	}
	specs[0].labels["traefik.http.routers.app.service"] = "app"
	specs[1].labels["traefik.http.routers.app.service"] = "app"
	specs[0].labels["traefik.http.services.app.loadbalancer.passhostheader"] = "true"
	specs[1].labels["traefik.http.services.app.loadbalancer.passhostheader"] = "true"
	ids := d.runAll(t, specs)

	e.WriteStatic("yml", `entryPoints:
  web:
    address: "<% addr "web" %>"
  tcp:
    address: "<% addr "tcp" %>"
  udp:
    address: "<% addr "udp" %>/udp"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 100ms
  docker:
    endpoint: "`+d.sock+`"
    constraints: "!Label(`+"`skip`, `yes`"+`)"
`)
	e.Start()
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec.Command("ss", "-ltnup").CombinedOutput()
			t.Logf("traefik %s web %s\n%s", e.Addr("traefik"), e.Addr("web"), out)
		}
	})
	t.Logf("containers up at %v", time.Now().Format("15:04:05.000"))
	rd := e.WaitAPI(45*time.Second, "docker routers", func(rd *Rawdata) bool {
		for _, n := range []string{"app@docker", "lbl-plain@docker", "sy@docker", "bad@docker", "health@docker"} {
			if _, ok := rd.Routers[n]; !ok {
				return false
			}
		}
		return true
	})
	t.Logf("routers up at %v", time.Now().Format("15:04:05.000"))
	web := e.URL("web")

	// Two containers, one service: both servers, each on its exposed port.
	waitServed(t, e, web+"/", "app.docker.test", "lbl-app-1")
	got := spread(web+"/", "app.docker.test", 20)
	if got["lbl-app-1"] != 10 || got["lbl-app-2"] != 10 {
		t.Fatalf("app spread: %v", got)
	}
	if rep := do(t, request{url: web + "/", host: "app.docker.test"}); rep.Header.Get("X-Mw") != "yes" || !strings.Contains(rep.Body, "Host: app.docker.test") {
		t.Fatalf("middleware from labels: %+v", rep)
	}
	// Default rule Host(`<container name>`), default port = the exposed one.
	waitServed(t, e, web+"/", "lbl-plain", "lbl-plain")
	waitServed(t, e, web+"/sy", "", "lbl-sy")
	// TCP: raw HTTP through the TCP entrypoint.
	c, err := net.DialTimeout("tcp", e.Addr("tcp"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	buf := make([]byte, 4096)
	n, _ := readAtLeast(c, buf, "Name: lbl-tcp")
	c.Close()
	if !strings.Contains(string(buf[:n]), "Name: lbl-tcp") {
		t.Fatalf("tcp router: %q", buf[:n])
	}
	// UDP.
	uc, err := net.Dial("udp", e.Addr("udp"))
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	if got := udpAsk(t, uc, "ping"); got != "lbl-udp ping" {
		t.Fatalf("udp router: %q", got)
	}
	// Left out: enable=false, constraints.
	for _, h := range []string{"lbl-off", "lbl-skip"} {
		if _, ok := rd.Routers[h+"@docker"]; ok {
			t.Errorf("%s routed", h)
		}
	}
	// Errors per container, on their objects.
	rd = e.WaitAPI(10*time.Second, "problems shown", func(rd *Rawdata) bool {
		return rd.Routers["bad@docker"].Status == "disabled" && len(rd.Services["lbl-noport@docker"].Error) > 0
	})
	if r := rd.Routers["bad@docker"]; !strings.Contains(strings.Join(r.Error, " "), `container "lbl-bad"`) ||
		!strings.Contains(strings.Join(r.Error, " "), "traefik.http.routers.bad.priority=high") {
		t.Fatalf("bad label: %+v", r)
	}
	if s := rd.Services["lbl-noport@docker"]; !strings.Contains(strings.Join(s.Error, " "), `container "lbl-noport"`) {
		t.Fatalf("no port: %+v", s)
	}

	// Health: served once healthy; out when unhealthy; back when healed.
	hurl := web + "/health-route"
	waitServed(t, e, hurl, "", "lbl-health")
	hport := strconv.Itoa(p("health"))
	if _, err := http.Get("http://127.0.0.1:" + hport + "/fail"); err != nil {
		t.Fatal(err)
	}
	e.waitFor(15*time.Second, "unhealthy container out", func() bool {
		rep, err := tryDo(request{url: hurl})
		return err == nil && rep.Status == 404
	})
	if _, err := http.Get("http://127.0.0.1:" + hport + "/heal"); err != nil {
		t.Fatal(err)
	}
	waitServed(t, e, hurl, "", "lbl-health")

	// Stop one of the two app containers: the other serves everything.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	timeout := 1
	if err := d.cli.ContainerStop(ctx, ids[1], container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	e.WaitAPI(10*time.Second, "stopped container's server gone", func(rd *Rawdata) bool {
		return len(rd.Services["app@docker"].ServerStatus) == 1
	})
	if got := spread(web+"/", "app.docker.test", 10); got["lbl-app-1"] != 10 {
		t.Fatalf("after stop: %v", got)
	}
	// Started again: back in the pool.
	if err := d.cli.ContainerStart(ctx, ids[1], container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	waitServed(t, e, web+"/", "app.docker.test", "lbl-app-2")
}

// readAtLeast reads from c until want appears, EOF or the deadline.
func readAtLeast(c net.Conn, buf []byte, want string) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := c.Read(buf[n:])
		n += m
		if strings.Contains(string(buf[:n]), want) || err != nil {
			return n, err
		}
	}
	return n, nil
}
