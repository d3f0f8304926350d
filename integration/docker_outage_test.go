package integration

import (
	"strings"
	"testing"
	"time"
)

// TestDockerEngineOutage: the Engine goes away (an Engine of its own,
// with --live-restore so its containers keep running) and comes back.
// While it is down the last configuration keeps serving; once it is back
// the provider reconnects by itself and follows new containers again.
func TestDockerEngineOutage(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	requireDockerd(t) // skip here, with the reason, when no Engine can run
	d := startDockerd(true)
	if d.err != nil {
		t.Fatal(d.err)
	}
	e := newEnv(t)
	d.run(t, ctrSpec{name: "out-a", port: freePort(t), labels: map[string]string{"traefik.http.routers.a.rule": "Host(`a`)"}})
	e.WriteStatic("yml", `entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
log:
  level: INFO
providers:
  providersThrottleDuration: 100ms
  docker:
    endpoint: "`+d.sock+`"
`)
	e.Start()
	web := e.URL("web")
	waitServed(t, e, web+"/", "a", "out-a")

	d.stopDaemon()
	e.waitFor(20*time.Second, "the outage logged", func() bool {
		return strings.Contains(e.Proc.Output(), "Docker Engine unreachable")
	})
	for range 20 {
		if rep, err := tryDo(request{url: web + "/", host: "a"}); err != nil || rep.Status != 200 || backendName(rep.Body) != "out-a" {
			t.Fatalf("while the Engine is down: %v %+v", err, rep)
		}
		time.Sleep(25 * time.Millisecond)
	}

	if err := d.startDaemon(); err != nil {
		t.Fatal(err)
	}
	d.run(t, ctrSpec{name: "out-b", port: freePort(t), labels: map[string]string{"traefik.http.routers.b.rule": "Host(`b`)"}})
	waitServed(t, e, web+"/", "b", "out-b")
	waitServed(t, e, web+"/", "a", "out-a")
	if !strings.Contains(e.Proc.Output(), "Docker Engine reachable again") {
		t.Errorf("reconnection not logged:\n%s", tail(e.Proc.Output(), 2000))
	}
}
