package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Provider faults (issue 13, must-hold 6): configurations that refer to
// themselves, nest very deep, are huge, or change a thousand times a
// second. Each runs through the real binary with the file provider.

// faultStatic is the static configuration of these tests: the file
// provider with Traefik's default throttle unless the test sets another.
func faultStatic(throttle string) string {
	return `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: ` + throttle + `
  file:
    filename: "<% dyn %>"
    watch: true
`
}

func newFaultEnv(t *testing.T, throttle string) *Env {
	e := newEnv(t)
	e.DynPath = filepath.Join(e.Dir, "dynamic.yml")
	e.WriteStatic("yml", faultStatic(throttle))
	return e
}

// procStatus reads a /proc/<pid>/status field in KiB (VmRSS, VmHWM).
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	// Fields after the command name (which may hold spaces) in parentheses.
	fs := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fs) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(fs[11], 10, 64)
	st, _ := strconv.ParseInt(fs[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100) // USER_HZ
}

func status(t *testing.T, url string) int {
	t.Helper()
	rep, err := tryDo(request{url: url})
	if err != nil {
		return -1
	}
	return rep.Status
}

// TestProviderFaultSelfReference: a chain that contains itself, two chains
// that contain each other, a weighted service of itself, two weighted
// services of each other, a failover loop and a mirror of itself: only
// those objects (and the routers using them) are disabled, each with an
// error that names the loop; the rest serves.
func TestProviderFaultSelfReference(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t, "10ms")
	e.WriteDynamic("yml", `
http:
  routers:
    loopchain: {rule: "Path(`+"`/chain`"+`)", service: ok, middlewares: [c1]}
    mutualchain: {rule: "Path(`+"`/mutual`"+`)", service: ok, middlewares: [m1]}
    wself: {rule: "Path(`+"`/w`"+`)", service: w}
    wmutual: {rule: "Path(`+"`/wm`"+`)", service: wa}
    fo: {rule: "Path(`+"`/fo`"+`)", service: fa}
    mir: {rule: "Path(`+"`/mir`"+`)", service: mself}
    good: {rule: "Path(`+"`/good`"+`)", service: ok, middlewares: [fine]}
  middlewares:
    c1: {chain: {middlewares: [c1]}}
    m1: {chain: {middlewares: [m2]}}
    m2: {chain: {middlewares: [m1]}}
    fine: {chain: {middlewares: [hdr]}}
    hdr: {headers: {customRequestHeaders: {X-Fine: "yes"}}}
  services:
    ok:
      loadBalancer:
        servers: [{url: "<% backend "ok" %>"}]
    w: {weighted: {services: [{name: w, weight: 1}]}}
    wa: {weighted: {services: [{name: wb, weight: 1}]}}
    wb: {weighted: {services: [{name: wa, weight: 1}]}}
    fa: {failover: {service: fb, fallback: ok}}
    fb: {failover: {service: fa, fallback: ok}}
    mself: {mirroring: {service: mself, mirrors: [{name: ok, percent: 10}]}}
`)
	e.Start()
	rd := e.WaitRouters("good@file", "loopchain@file", "mutualchain@file", "wself@file", "wmutual@file", "fo@file", "mir@file")
	for _, n := range []string{"loopchain", "mutualchain", "wself", "wmutual", "fo", "mir"} {
		r := rd.Routers[n+"@file"]
		if r.Status != "disabled" || len(r.Error) == 0 || !strings.Contains(strings.Join(r.Error, " "), "recursion detected") {
			t.Errorf("router %s: %+v", n, r)
		}
	}
	for _, n := range []string{"w", "wa", "wb", "fa", "fb", "mself"} {
		if s := rd.Services[n+"@file"]; s.Status != "disabled" {
			t.Errorf("service %s: %+v", n, s)
		}
	}
	for _, n := range []string{"c1", "m1", "m2"} {
		if m := rd.Middlewares[n+"@file"]; m.Status != "disabled" {
			t.Errorf("middleware %s: %+v", n, m)
		}
	}
	if r := rd.Routers["good@file"]; r.Status != "enabled" {
		t.Errorf("good router: %+v", r)
	}
	rep := do(t, request{url: e.URL("web") + "/good"})
	if rep.Status != 200 || !strings.Contains(rep.Body, "X-Fine: yes") {
		t.Fatalf("the rest does not serve: %d %s", rep.Status, rep.Body)
	}
	for _, p := range []string{"/chain", "/mutual", "/w", "/wm", "/fo", "/mir"} {
		if st := status(t, e.URL("web")+p); st != 404 {
			t.Errorf("%s: %d, want 404 (router disabled)", p, st)
		}
	}
}

// TestProviderFaultDeepNesting: a chain of 1,000 chains and a weighted
// service nested 1,000 deep are refused on their objects (deeper than
// builder.MaxNesting, 100) without a stack overflow, quickly; a chain 50
// deep serves.
func TestProviderFaultDeepNesting(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t, "10ms")
	var b strings.Builder
	b.WriteString("http:\n  routers:\n")
	b.WriteString("    deepchain: {rule: \"Path(`/deepchain`)\", service: ok, middlewares: [c0]}\n")
	b.WriteString("    deepsvc: {rule: \"Path(`/deepsvc`)\", service: s0}\n")
	b.WriteString("    fifty: {rule: \"Path(`/fifty`)\", service: ok, middlewares: [f0]}\n")
	b.WriteString("  middlewares:\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "    c%d: {chain: {middlewares: [c%d]}}\n", i, i+1)
	}
	b.WriteString("    c1000: {headers: {customRequestHeaders: {X-Deep: \"1\"}}}\n")
	for i := range 50 {
		fmt.Fprintf(&b, "    f%d: {chain: {middlewares: [f%d]}}\n", i, i+1)
	}
	b.WriteString("    f50: {headers: {customRequestHeaders: {X-Fifty: \"1\"}}}\n")
	b.WriteString("  services:\n    ok:\n      loadBalancer:\n        servers: [{url: \"<% backend \"ok\" %>\"}]\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "    s%d: {weighted: {services: [{name: s%d, weight: 1}]}}\n", i, i+1)
	}
	b.WriteString("    s1000:\n      loadBalancer:\n        servers: [{url: \"<% backend \"ok\" %>\"}]\n")
	e.WriteDynamic("yml", b.String())
	start := time.Now()
	e.Start()
	rd := e.WaitRouters("deepchain@file", "deepsvc@file", "fifty@file")
	for _, n := range []string{"deepchain", "deepsvc"} {
		r := rd.Routers[n+"@file"]
		if r.Status != "disabled" || !strings.Contains(strings.Join(r.Error, " "), "nested deeper than 100 levels") {
			t.Errorf("router %s: %s %.300v", n, r.Status, r.Error)
		}
	}
	rep := do(t, request{url: e.URL("web") + "/fifty"})
	if rep.Status != 200 || !strings.Contains(rep.Body, "X-Fifty: 1") {
		t.Fatalf("a chain 50 deep: %d %s", rep.Status, rep.Body)
	}
	t.Logf("2,050 nested objects loaded and refused where too deep in %v (start to API)", time.Since(start).Round(time.Millisecond))
}

// TestProviderFault100kRouters: one file of 100,000 routers loads within a
// generous bound, with bounded memory, and every router is in the API and
// served. The figures are logged.
func TestProviderFault100kRouters(t *testing.T) {
	t.Parallel()
	const n = 100_000
	e := newFaultEnv(t, "10ms")
	var b strings.Builder
	b.Grow(n * 80)
	b.WriteString("http:\n  routers:\n")
	for i := range n {
		fmt.Fprintf(&b, "    r%d:\n      rule: \"Host(`h%d.example.com`)\"\n      service: s\n", i, i)
	}
	b.WriteString("  services:\n    s:\n      loadBalancer:\n        servers: [{url: \"<% backend \"ok\" %>\"}]\n")
	size := len(e.WriteDynamic("yml", b.String()))
	start := time.Now()
	e.Start()
	pid := e.Proc.cmd.Process.Pid
	// Served as soon as the last router answers.
	e.waitFor(120*time.Second, "the last router served", func() bool {
		rep, err := tryDo(request{url: e.URL("web") + "/", host: fmt.Sprintf("h%d.example.com", n-1)})
		return err == nil && rep.Status == 200
	})
	loaded := time.Since(start)
	for _, i := range []int{0, 1, n / 2, n - 2} {
		if st := do(t, request{url: e.URL("web") + "/", host: fmt.Sprintf("h%d.example.com", i)}).Status; st != 200 {
			t.Errorf("router r%d: %d", i, st)
		}
	}
	// The API is updated right after the entrypoints.
	e.waitFor(10*time.Second, "the API counts every router", func() bool {
		rep, err := tryDo(request{url: e.URL("traefik") + "/api/overview"})
		var ov struct {
			HTTP struct {
				Routers struct{ Total, Errors int }
			}
		}
		return err == nil && json.Unmarshal([]byte(rep.Body), &ov) == nil && ov.HTTP.Routers.Total >= n && ov.HTTP.Routers.Errors == 0
	})
	peak, rss := procStatus(pid, "VmHWM"), procStatus(pid, "VmRSS")
	t.Logf("100,000 routers, %.1f MB file: served after %v; peak RSS %d MiB, RSS after load %d MiB",
		float64(size)/1e6, loaded.Round(time.Millisecond), peak>>10, rss>>10)
	if loaded > 90*time.Second {
		t.Errorf("loading took %v", loaded)
	}
	if peak > 1536<<10 {
		t.Errorf("peak RSS %d MiB, want < 1.5 GiB", peak>>10)
	}
}

// TestProviderFaultHugeFile: a 50 MB dynamic file (and a template that
// would render to more) written over a good one is refused with an error
// naming the file and the limit, without the memory a decode would take;
// the last good configuration keeps serving, and a good file afterwards is
// applied.
func TestProviderFaultHugeFile(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t, "10ms")
	good := func(path string) string {
		return "http:\n  routers:\n    app: {rule: \"Path(`" + path + "`)\", service: s}\n  services:\n    s:\n      loadBalancer:\n        servers: [{url: \"<% backend \"ok\" %>\"}]\n"
	}
	e.WriteDynamic("yml", good("/one"))
	e.Start()
	pid := e.Proc.cmd.Process.Pid
	e.waitFor(10*time.Second, "first config served", func() bool { return status(t, e.URL("web")+"/one") == 200 })
	before := procStatus(pid, "VmHWM")

	var b strings.Builder
	b.Grow(52 << 20)
	b.WriteString("http:\n  routers:\n")
	for i := 0; b.Len() < 50<<20; i++ {
		fmt.Fprintf(&b, "    r%d:\n      rule: \"Host(`h%d.example.com`)\"\n      service: s\n", i, i)
	}
	writeAtomic(t, e.DynPath, []byte(b.String()))
	e.waitFor(20*time.Second, "the size error logged", func() bool {
		return strings.Contains(e.Proc.Output(), "a configuration file may have")
	})
	if st := status(t, e.URL("web")+"/one"); st != 200 {
		t.Fatalf("last good configuration not kept: %d", st)
	}
	// A few bytes of template asking for too much.
	writeAtomic(t, e.DynPath, []byte("http:\n  routers:\n{{ range until 1000000 }}{{ range until 1000000 }}{{ end }}{{ end }}\n"))
	e.waitFor(20*time.Second, "the template error logged", func() bool {
		return strings.Contains(e.Proc.Output(), "templates may generate at most")
	})
	writeAtomic(t, e.DynPath, []byte("http:\n  routers:\n{{ range until 900000 }}    r{{ . }}: {rule: \"Path(`/x`)\", service: s}\n{{ end }}\n"))
	e.waitFor(20*time.Second, "the rendered-size error logged", func() bool {
		return strings.Contains(e.Proc.Output(), "rendered template larger than")
	})
	if st := status(t, e.URL("web")+"/one"); st != 200 {
		t.Fatalf("last good configuration not kept: %d", st)
	}
	after := procStatus(pid, "VmHWM")
	t.Logf("peak RSS %d MiB before the 50 MB file and the template bombs, %d MiB after", before>>10, after>>10)
	if after-before > 256<<10 {
		t.Errorf("peak RSS grew by %d MiB refusing them", (after-before)>>10)
	}
	e.WriteDynamic("yml", good("/two"))
	e.waitFor(10*time.Second, "a good file applied again", func() bool { return status(t, e.URL("web")+"/two") == 200 })
}

// TestProviderFaultRapidRewrite: the dynamic file is rewritten 1,000 times
// a second for 3 s (some versions broken), with Traefik's default throttle
// (2 s). Requests keep being served by a good configuration throughout,
// the proxy's CPU stays bounded (the file provider reads at most once a
// second during a storm, the watcher applies at most once per throttle),
// and the final content wins.
func TestProviderFaultRapidRewrite(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t, "2s")
	version := func(v int) string {
		return fmt.Sprintf("http:\n  routers:\n    app: {rule: \"PathPrefix(`/`)\", service: s, middlewares: [v]}\n  middlewares:\n    v: {headers: {customResponseHeaders: {X-Version: \"%d\"}}}\n  services:\n    s:\n      loadBalancer:\n        servers: [{url: \"%s\"}]\n", v, e.Backend("ok"))
	}
	writeAtomic(t, e.DynPath, []byte(version(0)))
	e.Start()
	pid := e.Proc.cmd.Process.Pid
	e.waitFor(10*time.Second, "first version served", func() bool { return status(t, e.URL("web")+"/") == 200 })

	var failed, served atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // a client all along
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if rep, err := tryDo(request{url: e.URL("web") + "/"}); err != nil || rep.Status != 200 {
				failed.Add(1)
			} else {
				served.Add(1)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	// Two writers, paced at 500 writes a second each (write i at t0+i ms;
	// a writer that falls behind does not sleep), each replacing the file
	// atomically through its own temporary name. Every tenth version is
	// broken. Versions increase, so the last one written is the highest.
	cpu0, t0 := cpuTime(pid), time.Now()
	var next, lastGood atomic.Int64
	var wdone [2]chan struct{}
	for w := range wdone {
		wdone[w] = make(chan struct{})
		go func() {
			defer close(wdone[w])
			tmp := fmt.Sprintf("%s.w%d", e.DynPath, w)
			for {
				i := next.Add(1)
				at := t0.Add(time.Duration(i) * time.Millisecond)
				if at.Sub(t0) > 3*time.Second {
					return
				}
				if d := time.Until(at); d > 0 {
					time.Sleep(d)
				}
				body := []byte(version(int(i)))
				if i%10 == 0 {
					body = []byte("http:\n  routers: [not: a: mapping\n")
				}
				if os.WriteFile(tmp, body, 0o644) != nil || os.Rename(tmp, e.DynPath) != nil {
					continue
				}
				if i%10 != 0 {
					for {
						l := lastGood.Load()
						if i <= l || lastGood.CompareAndSwap(l, i) {
							break
						}
					}
				}
			}
		}()
	}
	for _, c := range wdone {
		<-c
	}
	elapsed := time.Since(t0)
	writes := int(min(next.Load()-2, 3000))
	// The two writers race on the rename: write the highest good version
	// once more so that it is surely the file's final content.
	last := int(lastGood.Load())
	writeAtomic(t, e.DynPath, []byte(version(last)))
	cpu := cpuTime(pid) - cpu0
	// The final content wins (throttle 2 s + file debounce).
	final := strconv.Itoa(last)
	e.waitFor(15*time.Second, "final version "+final+" served", func() bool {
		rep, err := tryDo(request{url: e.URL("web") + "/"})
		return err == nil && rep.Status == 200 && rep.Header.Get("X-Version") == final
	})
	close(stop)
	<-done
	t.Logf("%d writes in %v (%.0f/s): proxy CPU %v (%.0f%% of a core); %d requests served, %d failed",
		writes, elapsed.Round(time.Millisecond), float64(writes)/elapsed.Seconds(), cpu, 100*cpu.Seconds()/elapsed.Seconds(), served.Load(), failed.Load())
	if failed.Load() != 0 {
		t.Errorf("%d requests failed during the storm", failed.Load())
	}
	if cpu > elapsed*3/4 {
		t.Errorf("proxy CPU %v over %v of rewrites: not throttled", cpu, elapsed)
	}
	if applied := strings.Count(e.Proc.Output(), "configuration applied"); applied > 8 {
		t.Errorf("%d configurations applied during a 3 s storm with a 2 s throttle", applied)
	}
}

// TestProviderFaultBrokenFileKeepsLast: a broken file (syntax error, then
// an unknown key) keeps the last good configuration serving, with the
// error logged naming the file and line; a fixed file is applied.
func TestProviderFaultBrokenFileKeepsLast(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t, "10ms")
	good := func(path string) string {
		return "http:\n  routers:\n    app: {rule: \"Path(`" + path + "`)\", service: s}\n  services:\n    s:\n      loadBalancer:\n        servers: [{url: \"<% backend \"ok\" %>\"}]\n"
	}
	e.WriteDynamic("yml", good("/one"))
	e.Start()
	e.waitFor(10*time.Second, "first config served", func() bool { return status(t, e.URL("web")+"/one") == 200 })
	writeAtomic(t, e.DynPath, []byte("http:\n  routers:\n    app: {rule: \"Path(`/two`)\"\n"))
	e.waitFor(10*time.Second, "the syntax error logged", func() bool {
		out := e.Proc.Output()
		return strings.Contains(out, "keeping the last good one") && strings.Contains(out, e.DynPath)
	})
	writeAtomic(t, e.DynPath, []byte("http:\n  routers:\n    app: {rule: \"Path(`/two`)\", service: s, bogus: 1}\n"))
	e.waitFor(10*time.Second, "the unknown key logged", func() bool { return strings.Contains(e.Proc.Output(), "bogus") })
	if st := status(t, e.URL("web")+"/one"); st != 200 {
		t.Fatalf("last good configuration not kept: %d", st)
	}
	e.WriteDynamic("yml", good("/three"))
	e.waitFor(10*time.Second, "the fixed file applied", func() bool { return status(t, e.URL("web")+"/three") == 200 })
}
