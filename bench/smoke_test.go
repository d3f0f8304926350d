package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs every scenario for about a second against Switchyard only:
// it proves the harness drives each one end to end, not any speed. It is
// opt-in (make bench-smoke) so `make test` stays free of load generators.
func TestSmoke(t *testing.T) {
	if os.Getenv("SWITCHYARD_BENCH_SMOKE") == "" {
		t.Skip("set SWITCHYARD_BENCH_SMOKE=1 to run (make bench-smoke)")
	}
	for _, tool := range []string{"wrk", "h2load", "nginx", "taskset"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (bench/setup.sh installs it)", tool)
		}
	}
	if onlineCPUs() < 2 {
		t.Skip("needs two cores")
	}
	bin := filepath.Join(t.TempDir(), "switchyard")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/switchyard").CombinedOutput(); err != nil {
		t.Fatalf("build switchyard: %v\n%s", err, out)
	}
	o := options{dur: time.Second, rounds: 1, idleConns: 200, reloadDur: time.Second, steadyDur: time.Second,
		peers: set(sy)}
	h, err := newHarness(o, 28000, bin, filepath.Join(t.TempDir(), "traefik"))
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(h.dir)
	h.logf = t.Logf
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := h.run(ctx); err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct{ scenario, metric string }{
		{"S1", "rps"}, {"S2", "rps"}, {"S3", "rps"}, {"S5", "rps_10k"}, {"S5", "apply_ms"}, {"S6", "p99_reload_ms"},
	} {
		if v, ok := h.rep.best(m.scenario, m.metric, sy); !ok || v <= 0 {
			t.Errorf("%s %s: no figure (%v)", m.scenario, m.metric, v)
		}
	}
	// TLS scenarios run once Switchyard terminates TLS; until then n/a.
	if _, ok := h.rep.best("S4a", "rps", sy); !ok && h.tlsOK[sy] {
		t.Error("S4a: TLS works but no figure")
	}
	if _, ok := h.rep.best("S7", "kib_per_conn", sy); !ok && h.tlsOK[sy] {
		t.Error("S7: TLS works but no figure")
	}
	md := h.rep.markdown()
	if !strings.Contains(md, "## Targets") {
		t.Errorf("no targets table:\n%s", md)
	}
	t.Log("\n" + md)
}
