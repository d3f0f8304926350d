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
		peers: set(sy), only: set("S1,S2,S3,S4,S5,S6,S7,S8,S9")}
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

// TestMain lets the test binary serve as the idle origin of S10–S13, as
// the harness binary does (the harness starts os.Executable()).
func TestMain(m *testing.M) {
	runOriginIfAsked()
	os.Exit(m.Run())
}

// TestSmokeLong runs S10–S14 at small N against Switchyard, nginx and
// HAProxy (when installed): it proves the idle and upgrade code paths end
// to end in about 15 s, not any figure. It runs in `make test` and skips
// without nginx, wrk or taskset, or with -short.
func TestSmokeLong(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, tool := range []string{"wrk", "nginx", "taskset"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (bench/setup.sh installs it)", tool)
		}
	}
	if onlineCPUs() < 2 {
		t.Skip("needs two cores")
	}
	if _, err := raiseNoFile(); err != nil {
		t.Logf("RLIMIT_NOFILE: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "switchyard")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/switchyard").CombinedOutput(); err != nil {
		t.Fatalf("build switchyard: %v\n%s", err, out)
	}
	peers := sy + ",nginx"
	if _, err := exec.LookPath("haproxy"); err == nil {
		peers += ",HAProxy"
	}
	// Traefik (slow to start, same code paths as Switchyard here) only
	// in the real runs.
	o := options{rounds: 1, longConns: 40, idleWindow: 300 * time.Millisecond, settle: 50 * time.Millisecond, originAddrs: 2,
		upgradeDur: 3 * time.Second, upgradeGap: 300 * time.Millisecond, peers: set(peers), only: set("S10,S11,S12,S13,S14")}
	h, err := newHarness(o, 29000, bin, filepath.Join(t.TempDir(), "traefik"))
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(h.dir)
	h.logf = t.Logf
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if _, err := h.run(ctx); err != nil {
		t.Fatal(err)
	}
	for _, sc := range idleScenarios {
		for _, p := range h.peers {
			f := h.rep.lookup(sc.ID, "kib_per_conn", p.Name())
			if len(f.Runs) == 0 && f.NA == "" {
				t.Errorf("%s %s: neither a figure nor n/a", sc.ID, p.Name())
			}
			// nginx and HAProxy hold every kind of long connection: a
			// failure there is the harness's.
			if len(f.Runs) == 0 && p.Name() != sy && p.Name() != "Traefik" {
				t.Errorf("%s %s: n/a (%s)", sc.ID, p.Name(), f.NA)
			}
		}
	}
	if _, ok := h.rep.best("S14", "upgrade2_ms", "nginx"); !ok {
		t.Errorf("S14 nginx: no upgrade figure (%s)", h.rep.lookup("S14", "upgrade1_ms", "nginx").NA)
	}
	if _, ok := h.rep.best("S14", "upgrade2_ms", "HAProxy"); !ok && h.hasPeer("HAProxy") {
		t.Errorf("S14 HAProxy: no upgrade figure (%s)", h.rep.lookup("S14", "upgrade1_ms", "HAProxy").NA)
	}
	t.Log("\n" + h.rep.markdown())
}
