package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

// TestConsulCatalogRollingTags: two instances of one Consul service whose
// tags differ, as during a rolling tag change (issue 13, defect 9). Every
// instance's tags count, as in Traefik: the router both define the same
// way serves both instances; the router they define differently is left
// out and shown disabled in the API with an error naming both instances
// (never the first instance's tags silently winning); a tag that does not
// decode is reported on its object. Once the roll is over the router
// serves the new rule.
func TestConsulCatalogRollingTags(t *testing.T) {
	t.Parallel()
	requireBinary(t)
	c := startConsul(t)
	e := newEnv(t)
	old := []string{
		"switchyard.http.routers.roll.rule=Path(`/v1`)",
		"switchyard.http.routers.stable.rule=Path(`/stable`)",
	}
	next := []string{
		"switchyard.http.routers.roll.rule=Path(`/v2`)",
		"switchyard.http.routers.stable.rule=Path(`/stable`)",
		"switchyard.http.routers.typo.priority=high",
	}
	registerInstance(t, c, "roll", "roll-1", e.Backend("roll-1"), old, api.HealthPassing)
	registerInstance(t, c, "roll", "roll-2", e.Backend("roll-2"), next, api.HealthPassing)

	e.WriteStatic("yml", consulStatic(`  consulCatalog:
    endpoint:
      address: "`+c.HTTPAdr+`"
    watch: true
    refreshInterval: 30s
`))
	e.Start()
	rd := e.WaitRouters("stable@consulcatalog", "roll@consulcatalog", "typo@consulcatalog")
	r := rd.Routers["roll@consulcatalog"]
	if r.Status != "disabled" || len(r.Error) == 0 || !strings.Contains(r.Error[0], "roll-1") || !strings.Contains(r.Error[0], "roll-2") {
		t.Fatalf("conflicting router: %+v", r)
	}
	if r := rd.Routers["typo@consulcatalog"]; r.Status != "disabled" || len(r.Error) == 0 || !strings.Contains(r.Error[0], "switchyard.http.routers.typo.priority=high") {
		t.Fatalf("router whose tag does not decode: %+v", r)
	}
	if s := rd.Services["roll@consulcatalog"]; s.Status != "enabled" {
		t.Fatalf("service: %+v", s)
	}
	logs := e.Proc.Output() + e.Proc.Stderr()
	if !strings.Contains(logs, "roll@consulcatalog") || !strings.Contains(logs, "defined differently") {
		t.Errorf("the conflict is not logged:\n%s", tail(logs, 3000))
	}
	stable := e.URL("web") + "/stable"
	waitServed(t, e, stable, "", "roll-1")
	if got := spread(stable, "", 20); got["roll-1"] != 10 || got["roll-2"] != 10 {
		t.Fatalf("router defined the same way by both instances: %v", got)
	}
	for _, p := range []string{"/v1", "/v2"} {
		if rep := do(t, request{url: e.URL("web") + p}); rep.Status != 404 {
			t.Fatalf("%s served by a conflicting router: %d %s", p, rep.Status, rep.Body)
		}
	}

	// The roll ends: roll-1 gets the new tags.
	registerInstance(t, c, "roll", "roll-1", e.Backend("roll-1"), next, api.HealthPassing)
	e.WaitAPI(15*time.Second, "router roll enabled after the roll", func(rd *Rawdata) bool {
		r := rd.Routers["roll@consulcatalog"]
		return r.Status == "enabled" && r.Rule == "Path(`/v2`)"
	})
	v2 := e.URL("web") + "/v2"
	waitServed(t, e, v2, "", "roll-1")
	if got := spread(v2, "", 20); got["roll-1"] != 10 || got["roll-2"] != 10 {
		t.Fatalf("after the roll: %v", got)
	}
}
