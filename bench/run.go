package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

func nilCtx() context.Context { return context.Background() }

// run does every phase and writes the results; it returns the markdown path.
func (h *harness) run(ctx context.Context) (string, error) {
	o := h.opts
	start := time.Now()
	commit := strings.TrimSpace(output("git", "rev-parse", "--short", "HEAD"))
	if strings.Contains(commit, " ") {
		commit = "nogit"
	}
	if st := output("git", "status", "--porcelain", "--untracked-files=no"); st != "" && !strings.Contains(st, "fatal") {
		commit += "-dirty"
	}
	mode := "full"
	if o.quick {
		mode = "quick"
	}
	h.rep = &report{
		Date: start.UTC().Format("2006-01-02"), Commit: commit, Mode: mode,
		Machine: map[string]string{
			"cpu": cpuModel(), "cores": fmt.Sprint(onlineCPUs()), "kernel": firstLine(output("uname", "-sr")),
			"load average at start": loadAvg(), "go": runtime.Version(), "started": start.UTC().Format(time.RFC3339),
		},
		Versions: map[string]string{
			"wrk":    firstLine(output("wrk", "-v")),
			"h2load": firstLine(output("h2load", "--version")),
		},
		Settings: map[string]string{
			"duration per run": o.dur.String(), "rounds (best of)": fmt.Sprint(o.rounds) + fmt.Sprintf(" (S5, S6: %d; S7: 1)", min(o.rounds, 2)),
			"S6 steady / reload":  o.steadyDur.String() + " / " + o.reloadDur.String() + ", file rewritten every 100 ms",
			"S7 idle connections": fmt.Sprint(o.idleConns), "providersThrottleDuration (Go peers)": "50ms",
			"RLIMIT_NOFILE (harness and peers)": fmt.Sprint(noFileLimit()),
		},
		Scenarios: map[string]string{},
	}
	for _, p := range h.peers {
		h.rep.Versions[p.Name()] = p.Version()
		h.rep.peerOrder = append(h.rep.peerOrder, p.Name())
	}

	bs := h.base
	bs.Dir = filepath.Join(h.dir, "backend")
	if err := os.MkdirAll(bs.Dir, 0o755); err != nil {
		return "", err
	}
	backend, err := startBackend(bs, h.loadCore)
	if err != nil {
		return "", err
	}
	defer backend.stop()

	if err := h.throughputPhase(ctx); err != nil {
		return "", err
	}
	if o.want("S5") && !o.quick {
		if err := h.scalePhase(ctx); err != nil {
			return "", err
		}
	}
	if o.want("S6") && !o.quick {
		if err := h.reloadPhase(ctx); err != nil {
			return "", err
		}
	}
	if o.want("S7") && !o.quick {
		if err := h.idlePhase(ctx); err != nil {
			return "", err
		}
	}
	if !o.quick {
		if err := h.longIdlePhase(ctx); err != nil {
			return "", err
		}
		if o.want("S14") {
			if err := h.upgradePhase(ctx); err != nil {
				return "", err
			}
		}
	}
	if o.profileDur > 0 && h.hasPeer(sy) && o.want("S1") {
		if err := h.profilePhase(ctx); err != nil {
			h.rep.Notes = append(h.rep.Notes, "profile: "+err.Error())
		}
	}
	// Ratios between two figures use the best of each, like the table.
	h.rep.derive("S5", "rps_10k_over_10", "rps_10k", "rps_10", true)
	h.rep.derive("S6", "p99_reload_over_steady", "p99_reload_ms", "p99_steady_ms", false)
	if la := loadAvg(); la != "?" {
		var one float64
		fmt.Sscan(la, &one)
		if one > 1.5 {
			h.rep.Notes = append(h.rep.Notes, fmt.Sprintf("The machine was busy (load average %s at the start, %s at the end; other work shared both cores): figures are noisy, see the spreads; compare ratios only.", h.rep.Machine["load average at start"], la))
		}
	}
	h.checkTargets()
	h.rep.Machine["load average at end"] = loadAvg()
	h.rep.Machine["wall time"] = time.Since(start).Round(time.Second).String()
	if o.out == "" {
		return "", nil
	}
	base := h.rep.Date + "-" + commit + map[bool]string{true: "-quick"}[o.quick]
	if o.tag != "" {
		base += "-" + o.tag
	}
	return h.rep.write(o.out, base)
}

func (h *harness) hasPeer(name string) bool {
	for _, p := range h.peers {
		if p.Name() == name {
			return true
		}
	}
	return false
}

// throughputPhase: per round, each peer is started once and runs every
// throughput scenario in turn.
func (h *harness) throughputPhase(ctx context.Context) error {
	var scs []throughput
	for _, s := range throughputScenarios {
		id := s.ID
		if (h.opts.want(id) || h.opts.want(strings.TrimRight(id, "ab"))) && (!h.opts.quick || s.Quick) {
			scs = append(scs, s)
			h.rep.Scenarios[id] = s.Title
		}
	}
	if len(scs) == 0 {
		return nil
	}
	for r := range h.opts.rounds {
		for _, p := range rotate(h.peers, r) {
			s, err := h.peerDir(p, "tp")
			if err != nil {
				return err
			}
			pr, _, err := h.launch(ctx, p, s)
			if err != nil {
				return err
			}
			h.warmUp()
			tlsOK := h.checkTLS(p)
			for _, sc := range scs {
				if _, file := p.(*fileProviderPeer); sc.FileOnly && !file {
					h.rep.na(sc.ID, "rps", "", true, p.Name(), "no equivalent configuration")
					continue
				}
				if sc.TLS && !tlsOK {
					for _, m := range []string{"rps", "p99_ms", "errors"} {
						h.rep.na(sc.ID, m, "", m == "rps", p.Name(), "TLS not yet available")
					}
					continue
				}
				cpu0 := cpuTime(pr.pid())
				l, raw, err := sc.Run(h)
				if err != nil {
					pr.stop()
					return fmt.Errorf("%s %s: %w", sc.ID, p.Name(), err)
				}
				if n := l.RPS * h.opts.dur.Seconds(); n > 0 {
					cpu := cpuTime(pr.pid()) - cpu0
					h.rep.add(sc.ID, "cpu_us_per_req", "µs", false, p.Name(), float64(cpu.Microseconds())/n)
				}
				h.logf("round %d %-10s %-4s %8.0f %s  p99 %6.2f ms  errors %d", r+1, p.Name(), sc.ID, l.RPS, sc.Unit, l.P99ms, l.Errors)
				_ = raw
				h.rep.add(sc.ID, "rps", sc.Unit, true, p.Name(), l.RPS)
				h.rep.add(sc.ID, "p99_ms", "ms", false, p.Name(), l.P99ms)
				h.rep.add(sc.ID, "errors", "", false, p.Name(), float64(l.Errors))
			}
			pr.stop()
		}
	}
	return nil
}

// checkTLS reports whether p answers a GET over TLS; for Switchyard a
// failure is reported as n/a (TLS termination lands separately).
func (h *harness) checkTLS(p peer) bool {
	if ok, seen := h.tlsOK[p.Name()]; seen {
		return ok
	}
	code, err := get(h.url("https", h.ports.TLS), "")
	ok := err == nil && code == http.StatusOK
	if !ok {
		h.logf("%s: no TLS on :%d (%v, status %d): TLS scenarios n/a", p.Name(), h.ports.TLS, err, code)
		h.rep.Notes = append(h.rep.Notes, fmt.Sprintf("%s did not answer over TLS (%v, status %d): S4/S7 reported n/a.", p.Name(), err, code))
	}
	h.tlsOK[p.Name()] = ok
	return ok
}

// scalePhase (S5): 10 Host routers, then 10,000; rps through the last one,
// time to apply the 10,000-router file live, RSS.
func (h *harness) scalePhase(ctx context.Context) error {
	h.rep.Scenarios["S5"] = "10 and 10,000 Host routers: rps (S1 load) through the last-matching router, time to apply the 10,000-router configuration live (file provider; nginx and HAProxy start with it), RSS"
	small, large := 10, 10000
	for r := range min(h.opts.rounds, 2) {
		for _, p := range rotate(h.peers, r) {
			s, err := h.peerDir(p, "s5")
			if err != nil {
				return err
			}
			s.Hosts = small
			pr, _, err := h.launch(ctx, p, s)
			if err != nil {
				return err
			}
			h.warmUp()
			l10, err := h.hostLoad(s.lastHost())
			if err != nil {
				pr.stop()
				return fmt.Errorf("S5 %s: %w", p.Name(), err)
			}
			h.rep.add("S5", "rps_10", "req/s", true, p.Name(), l10.RPS)
			s.Hosts = large
			t0 := time.Now()
			switch err := p.Reconfigure(s); {
			case err == nil:
				if _, err := waitOK(ctx, pr, h.url("http", h.ports.HTTP), s.lastHost(), 60*time.Second); err != nil {
					pr.stop()
					return fmt.Errorf("S5 %s: apply: %w", p.Name(), err)
				}
				h.rep.add("S5", "apply_ms", "ms", false, p.Name(), float64(time.Since(t0).Milliseconds()))
			case errors.Is(err, errNA):
				pr.stop()
				if pr, _, err = h.launch(ctx, p, s); err != nil {
					return err
				}
				h.rep.na("S5", "apply_ms", "ms", false, p.Name(), "static config")
			default:
				pr.stop()
				return err
			}
			h.warmUpHost(s.lastHost())
			l10k, err := h.hostLoad(s.lastHost())
			if err != nil {
				pr.stop()
				return fmt.Errorf("S5 %s: %w", p.Name(), err)
			}
			rss := rssKiB(pr.pid())
			pr.stop()
			h.logf("round %d %-10s S5   %8.0f req/s at 10, %8.0f at 10k, RSS %d KiB", r+1, p.Name(), l10.RPS, l10k.RPS, rss)
			h.rep.add("S5", "rps_10k", "req/s", true, p.Name(), l10k.RPS)
			h.rep.add("S5", "rss_kib_10k", "KiB", false, p.Name(), float64(rss))
		}
	}
	return nil
}

func (h *harness) hostLoad(host string) (load, error) {
	l, _, err := runWRK(h.loadCore, wrkRun{URL: h.url("http", h.ports.HTTP), Conns: 64, Dur: h.opts.dur, Headers: []string{"Host: " + host}})
	if err == nil && l.Errors > 0 {
		err = fmt.Errorf("%d errors through Host %s", l.Errors, host)
	}
	return l, err
}

func (h *harness) warmUpHost(host string) {
	_, _, _ = runWRK(h.loadCore, wrkRun{URL: h.url("http", h.ports.HTTP), Conns: 64, Dur: time.Second, Headers: []string{"Host: " + host}})
}

// reloadPhase (S6): S1 steady, then S1 while the dynamic file is rewritten
// every 100 ms; only peers with a live file source take part.
func (h *harness) reloadPhase(ctx context.Context) error {
	h.rep.Scenarios["S6"] = fmt.Sprintf("S1 load for %s steady, then for %s while the dynamic file is rewritten (atomically, one router added/renamed) every 100 ms: errors and p99 during reloads vs steady (Go peers with the file provider)", h.opts.steadyDur, h.opts.reloadDur)
	for r := range min(h.opts.rounds, 2) {
		for _, p := range rotate(h.peers, r) {
			s, err := h.peerDir(p, "s6")
			if err != nil {
				return err
			}
			if errors.Is(p.Reconfigure(s), errNA) {
				for _, m := range []string{"errors_reload", "p99_steady_ms", "p99_reload_ms", "p99_reload_over_steady"} {
					h.rep.na("S6", m, "", false, p.Name(), "no live file source")
				}
				continue
			}
			pr, _, err := h.launch(ctx, p, s)
			if err != nil {
				return err
			}
			h.warmUp()
			steady, _, err := runWRK(h.loadCore, wrkRun{URL: h.url("http", h.ports.HTTP), Conns: 64, Dur: h.opts.steadyDur})
			if err != nil {
				pr.stop()
				return fmt.Errorf("S6 %s: %w", p.Name(), err)
			}
			stopW := make(chan struct{})
			wrote := make(chan int)
			go func() {
				t := time.NewTicker(100 * time.Millisecond)
				defer t.Stop()
				g := 0
				for {
					select {
					case <-stopW:
						wrote <- g
						return
					case <-t.C:
						g++
						s.Gen = g
						_ = p.Reconfigure(s)
					}
				}
			}()
			during, _, err := runWRK(h.loadCore, wrkRun{URL: h.url("http", h.ports.HTTP), Conns: 64, Dur: h.opts.reloadDur})
			close(stopW)
			gens := <-wrote
			if err != nil {
				pr.stop()
				return fmt.Errorf("S6 %s: %w", p.Name(), err)
			}
			// The last generation must be served: the reloads really happened.
			if _, err := waitOK(ctx, pr, h.url("http", h.ports.HTTP), fmt.Sprintf("reload-%d.bench.test", gens), 5*time.Second); err != nil {
				h.rep.Notes = append(h.rep.Notes, fmt.Sprintf("S6 %s: the last rewrite (generation %d) was not applied: %v", p.Name(), gens, err))
			}
			pr.stop()
			h.logf("round %d %-10s S6   steady p99 %.2f ms, reload p99 %.2f ms, errors %d (%d rewrites)", r+1, p.Name(), steady.P99ms, during.P99ms, during.Errors, gens)
			h.rep.add("S6", "errors_reload", "", false, p.Name(), float64(during.Errors))
			h.rep.add("S6", "rps_reload", "req/s", true, p.Name(), during.RPS)
			h.rep.add("S6", "p99_steady_ms", "ms", false, p.Name(), steady.P99ms)
			h.rep.add("S6", "p99_reload_ms", "ms", false, p.Name(), during.P99ms)
		}
	}
	return nil
}

// idlePhase (S7): RSS growth per idle TLS connection, n connections held
// open after a full handshake. One round: memory is not noisy like rps.
func (h *harness) idlePhase(ctx context.Context) error {
	n := h.opts.idleConns
	h.rep.Scenarios["S7"] = fmt.Sprintf("%d TLS connections (ECDSA P-256, ALPN http/1.1) held open idle after the handshake: RSS growth per connection", n)
	for _, p := range h.peers {
		s, err := h.peerDir(p, "s7")
		if err != nil {
			return err
		}
		pr, _, err := h.launch(ctx, p, s)
		if err != nil {
			return err
		}
		if !h.checkTLS(p) {
			pr.stop()
			h.rep.na("S7", "kib_per_conn", "KiB", false, p.Name(), "TLS not yet available")
			continue
		}
		time.Sleep(500 * time.Millisecond)
		before := rssKiB(pr.pid())
		conns, err := holdTLS(fmt.Sprintf("127.0.0.1:%d", h.ports.TLS), n, 32)
		if err != nil {
			pr.stop()
			return fmt.Errorf("S7 %s: %w", p.Name(), err)
		}
		time.Sleep(2 * time.Second)
		after := rssKiB(pr.pid())
		closeAll(conns)
		pr.stop()
		per := float64(after-before) / float64(n)
		h.logf("%-10s S7   RSS %d → %d KiB: %.1f KiB per idle TLS connection", p.Name(), before, after, per)
		h.rep.add("S7", "kib_per_conn", "KiB", false, p.Name(), per)
		h.rep.add("S7", "rss_idle_kib", "KiB", false, p.Name(), float64(before))
	}
	return nil
}

// pprofOverlay adds a pprof listener to Switchyard's main package at build
// time (go build -overlay), so the product code stays as it is. It listens
// only when SWITCHYARD_BENCH_PPROF is set.
const pprofOverlay = `package main

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("SWITCHYARD_BENCH_PPROF"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
`

// profilePhase takes CPU and allocation profiles of Switchyard under S1 load
// and saves them (with a pprof -top summary) next to the results.
func (h *harness) profilePhase(ctx context.Context) error {
	if h.opts.out == "" {
		return nil
	}
	root := strings.TrimSpace(output("go", "list", "-m", "-f", "{{.Dir}}"))
	file := filepath.Join(root, "cmd", "switchyard", "zz_bench_pprof.go")
	src := filepath.Join(h.dir, "pprof.go")
	ov := filepath.Join(h.dir, "overlay.json")
	if err := os.WriteFile(src, []byte(pprofOverlay), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(ov, []byte(fmt.Sprintf(`{"Replace":{%q:%q}}`, file, src)), 0o644); err != nil {
		return err
	}
	if b, err := exec.Command("go", "build", "-trimpath", "-overlay", ov, "-o", h.pprofBin, "./cmd/switchyard").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %w: %s", err, b)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", h.ports.HTTP+99)
	p := &fileProviderPeer{name: sy, bin: h.pprofBin, env: []string{"GOMAXPROCS=1", "SWITCHYARD_BENCH_PPROF=" + addr}}
	s, err := h.peerDir(p, "prof")
	if err != nil {
		return err
	}
	pr, _, err := h.launch(ctx, p, s)
	if err != nil {
		return err
	}
	defer pr.stop()
	h.warmUp()
	allocDur := 4 * time.Second
	total := h.opts.profileDur + allocDur + 3*time.Second
	done := make(chan load, 1)
	go func() {
		l, _, _ := runWRK(h.loadCore, wrkRun{URL: h.url("http", h.ports.HTTP), Conns: 64, Dur: total})
		done <- l
	}()
	time.Sleep(time.Second)
	if err := os.MkdirAll(h.opts.out, 0o755); err != nil {
		return err
	}
	base := filepath.Join(h.opts.out, h.rep.Date+"-"+h.rep.Commit+"-S1")
	cpu, alloc := base+"-cpu.pprof", base+"-allocs.pprof"
	if err := fetch(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(h.opts.profileDur.Seconds())), cpu); err != nil {
		return err
	}
	if err := fetch(fmt.Sprintf("http://%s/debug/pprof/allocs?seconds=%d", addr, int(allocDur.Seconds())), alloc); err != nil {
		return err
	}
	l := <-done
	top := output("go", "tool", "pprof", "-top", "-nodecount=25", cpu)
	cum := output("go", "tool", "pprof", "-top", "-cum", "-nodecount=40", cpu)
	atop := output("go", "tool", "pprof", "-top", "-sample_index=alloc_space", "-nodecount=15", alloc)
	txt := base + "-profile.txt"
	body := fmt.Sprintf("S1 under profiling: %.0f req/s\n\n== CPU, flat ==\n%s\n\n== CPU, cumulative ==\n%s\n\n== allocations (alloc_space) ==\n%s\n", l.RPS, top, cum, atop)
	if err := os.WriteFile(txt, []byte(body), 0o644); err != nil {
		return err
	}
	h.rep.Profiles = []string{filepath.Base(cpu), filepath.Base(alloc), filepath.Base(txt)}
	h.rep.ProfileTop = trimLines(top, 32)
	return nil
}

func fetch(url, path string) error {
	c := &http.Client{Timeout: 60 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return fmt.Errorf("pprof: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof %s: status %d", url, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func trimLines(s string, n int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > n {
		ls = ls[:n]
	}
	return strings.Join(ls, "\n")
}
