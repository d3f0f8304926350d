package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// S14: HTTP load (wrk, 64 keep-alive connections) while the proxy upgrades
// its binary twice, each peer its own documented way. Measured: the time of
// each upgrade (signal → old process gone and the new one answering) and
// the errors the load saw (socket errors + non-2xx).

// upgrader drives one peer through binary upgrades.
type upgrader interface {
	start(ctx context.Context) error
	// upgrade replaces the running process and returns once the old one
	// is gone and the new one answers.
	upgrade(ctx context.Context) (time.Duration, error)
	stop()
}

const upgradeTimeout = 60 * time.Second

func (h *harness) upgradePhase(ctx context.Context) error {
	h.rep.Scenarios["S14"] = fmt.Sprintf("HTTP/1.1 GET load (wrk, 64 keep-alive connections, %s) while the proxy upgrades its binary twice: Switchyard SIGUSR2 (what `switchyard upgrade` sends), nginx USR2 then QUIT to the old master, HAProxy a new process with `-x <stats socket> -sf <old pid>` (`expose-fd listeners`, `option idle-close-on-response`); time from the signal until the old process is gone and the new one answers, errors seen by the load", h.opts.upgradeDur)
	for _, p := range h.peers {
		u, why := h.upgraderFor(p)
		if u == nil {
			h.logf("%-10s S14 n/a: %s", p.Name(), why)
			for _, m := range []string{"upgrade1_ms", "upgrade2_ms", "errors"} {
				h.rep.na("S14", m, "", false, p.Name(), why)
			}
			continue
		}
		if err := h.upgradeOne(ctx, p, u); err != nil {
			h.logf("%-10s S14 failed: %v", p.Name(), err)
			h.rep.na("S14", "upgrade1_ms", "ms", false, p.Name(), "failed: "+shortErr(err))
			h.rep.Notes = append(h.rep.Notes, fmt.Sprintf("S14 %s: %v", p.Name(), err))
		}
	}
	return nil
}

func (h *harness) upgradeOne(ctx context.Context, p peer, u upgrader) error {
	if err := u.start(ctx); err != nil {
		return err
	}
	defer u.stop()
	h.warmUp()
	type result struct {
		l   load
		raw string
		err error
	}
	done := make(chan result, 1)
	go func() {
		l, raw, err := runWRK(h.loadCore, wrkRun{URL: h.url("http", h.ports.HTTP), Conns: 64, Dur: h.opts.upgradeDur})
		done <- result{l, raw, err}
	}()
	var times []time.Duration
	var upErr error
	time.Sleep(h.opts.upgradeGap)
	for i := range 2 {
		d, err := u.upgrade(ctx)
		if err != nil {
			upErr = fmt.Errorf("upgrade %d: %w", i+1, err)
			break
		}
		times = append(times, d)
		time.Sleep(h.opts.upgradeGap)
	}
	r := <-done
	if r.err != nil {
		return r.err
	}
	if upErr != nil {
		return upErr
	}
	h.logf("%-10s S14  upgrades %s, %s under load: %.0f req/s, %d errors", p.Name(), times[0].Round(time.Millisecond), times[1].Round(time.Millisecond), r.l.RPS, r.l.Errors)
	if r.l.Errors > 0 {
		// Which kind (connect, read, write, timeout, status) tells a
		// refused connection from one closed under a request.
		var kinds []string
		for _, line := range strings.Split(r.raw, "\n") {
			if strings.Contains(line, "Socket errors") || strings.Contains(line, "Non-2xx") {
				kinds = append(kinds, strings.TrimSpace(line))
			}
		}
		h.rep.Notes = append(h.rep.Notes, fmt.Sprintf("S14 %s errors: %s.", p.Name(), strings.Join(kinds, "; ")))
	}
	h.rep.add("S14", "upgrade1_ms", "ms", false, p.Name(), float64(times[0].Milliseconds()))
	h.rep.add("S14", "upgrade2_ms", "ms", false, p.Name(), float64(times[1].Milliseconds()))
	h.rep.add("S14", "errors", "", false, p.Name(), float64(r.l.Errors))
	h.rep.add("S14", "rps", "req/s", true, p.Name(), r.l.RPS)
	return nil
}

// upgraderFor returns how p upgrades, or nil and why it cannot.
func (h *harness) upgraderFor(p peer) (upgrader, string) {
	switch p := p.(type) {
	case *fileProviderPeer:
		if p.name != sy {
			return nil, "no binary upgrade (restart only)"
		}
		if !hasUpgradeCommand(p.bin) {
			return nil, "this build has no `switchyard upgrade`"
		}
		return &syUpgrader{h: h, p: p}, ""
	case nginxPeer:
		return &nginxUpgrader{h: h}, ""
	case haproxyPeer:
		return &haproxyUpgrader{h: h}, ""
	}
	return nil, "no binary upgrade"
}

// hasUpgradeCommand reports whether the binary has an upgrade command
// (sending SIGUSR2 to one without would kill it): `upgrade --help` prints
// the command's help, or "command not found: upgrade".
func hasUpgradeCommand(bin string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, bin, "upgrade", "--help").CombinedOutput()
	return regexp.MustCompile(`(?m)^upgrade\s`).Match(out) && !strings.Contains(string(out), "command not found")
}

// gone reports whether pid has exited (a zombie counts as gone: its parent
// may be an init that does not reap).
func gone(pid int) bool {
	f := statFields(pid)
	return f == nil || f[0] == "Z"
}

// waitGone polls until pid has exited.
func waitGone(ctx context.Context, pid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !gone(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d still running after %s", pid, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// pidsWithArg lists the live processes whose command line contains arg.
func pidsWithArg(arg string) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && strings.Contains(string(b), arg) && !gone(pid) && !strings.HasPrefix(string(b), "taskset\x00") {
			out = append(out, pid)
		}
	}
	return out
}

// terminate sends SIGTERM to each pid, then SIGKILL to those left after 5 s.
func terminate(pids ...int) {
	for _, p := range pids {
		_ = syscall.Kill(p, syscall.SIGTERM)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, p := range pids {
		for !gone(p) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if !gone(p) {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
	}
}

// ---- Switchyard: SIGUSR2, the process re-executes itself ----

type syUpgrader struct {
	h      *harness
	p      *fileProviderPeer
	first  *proc
	static string // the static file's path: in every generation's command line
	cur    int
}

func (u *syUpgrader) start(ctx context.Context) error {
	s, err := u.h.peerDir(u.p, "s14")
	if err != nil {
		return err
	}
	pr, _, err := u.h.launch(ctx, u.p, s)
	if err != nil {
		return err
	}
	u.first, u.cur, u.static = pr, pr.pid(), filepath.Join(s.Dir, "static.yml")
	return nil
}

func (u *syUpgrader) upgrade(ctx context.Context) (time.Duration, error) {
	old := u.cur
	t0 := time.Now()
	if err := syscall.Kill(old, syscall.SIGUSR2); err != nil {
		return 0, err
	}
	if err := waitGone(ctx, old, upgradeTimeout); err != nil {
		return 0, err
	}
	d := time.Since(t0)
	pids := pidsWithArg(u.static)
	if len(pids) != 1 {
		return 0, fmt.Errorf("after the upgrade %d processes run the configuration (want 1): %v", len(pids), pids)
	}
	u.cur = pids[0]
	if _, err := waitOK(ctx, nil, u.h.url("http", u.h.ports.HTTP), "", 5*time.Second); err != nil {
		return 0, err
	}
	return d, nil
}

func (u *syUpgrader) stop() {
	terminate(pidsWithArg(u.static)...)
	u.first.stop()
}

// ---- nginx: USR2 starts the new master, QUIT ends the old one ----

// nginx refuses USR2 unless it daemonized (its parent must have changed),
// so this scenario runs it with `daemon on` and follows the pid file.
type nginxUpgrader struct {
	h       *harness
	pidFile string
	master  int
}

func (u *nginxUpgrader) start(ctx context.Context) error {
	np := nginxPeer{}
	s, err := u.h.peerDir(np, "s14")
	if err != nil {
		return err
	}
	cfg := filepath.Join(s.Dir, "nginx.conf")
	if err := render(cfg, strings.Replace(nginxProxyTmpl, "daemon off;", "daemon on;", 1), s); err != nil {
		return err
	}
	bin, err := exec.LookPath("nginx") // absolute: the new master is exec'd from argv[0]
	if err != nil {
		return err
	}
	pr, err := startPinned("nginx", s.Dir, u.h.proxyCore, nil, bin, "-p", s.Dir, "-c", cfg)
	if err != nil {
		return err
	}
	<-pr.done
	if pr.err != nil {
		return fmt.Errorf("nginx: %w\n%s", pr.err, pr.tail())
	}
	u.pidFile = filepath.Join(s.Dir, "nginx-proxy.pid")
	if u.master, err = waitPidFile(ctx, u.pidFile, 0); err != nil {
		return err
	}
	_, err = waitOK(ctx, nil, u.h.url("http", u.h.ports.HTTP), "", 10*time.Second)
	return err
}

// waitPidFile waits until the file names a live process other than not.
func waitPidFile(ctx context.Context, path string, not int) (int, error) {
	deadline := time.Now().Add(upgradeTimeout)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(path)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid != not && !gone(pid) {
			return pid, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("%s: no new process after %s", path, upgradeTimeout)
}

func (u *nginxUpgrader) upgrade(ctx context.Context) (time.Duration, error) {
	old := u.master
	t0 := time.Now()
	if err := syscall.Kill(old, syscall.SIGUSR2); err != nil {
		return 0, err
	}
	nm, err := waitPidFile(ctx, u.pidFile, old)
	if err != nil {
		return 0, err
	}
	// The new master is ready when its worker runs.
	for len(tree(nm)) < 2 {
		if time.Since(t0) > upgradeTimeout {
			return 0, errors.New("nginx: the new master started no worker")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := syscall.Kill(old, syscall.SIGQUIT); err != nil {
		return 0, err
	}
	if err := waitGone(ctx, old, upgradeTimeout); err != nil {
		return 0, err
	}
	d := time.Since(t0)
	u.master = nm
	if _, err := waitOK(ctx, nil, u.h.url("http", u.h.ports.HTTP), "", 5*time.Second); err != nil {
		return 0, err
	}
	return d, nil
}

func (u *nginxUpgrader) stop() {
	if u.master != 0 {
		terminate(u.master)
	}
}

// ---- HAProxy: a new process takes the listeners over the stats socket ----

type haproxyUpgrader struct {
	h     *harness
	s     setup
	cfg   string
	procs []*proc
}

func (u *haproxyUpgrader) start(ctx context.Context) error {
	hp := haproxyPeer{}
	s, err := u.h.peerDir(hp, "s14")
	if err != nil {
		return err
	}
	s.StatsSock = filepath.Join(s.Dir, "haproxy.sock")
	pr, _, err := u.h.launch(ctx, hp, s)
	if err != nil {
		return err
	}
	u.s, u.cfg, u.procs = s, filepath.Join(s.Dir, "haproxy.cfg"), []*proc{pr}
	return nil
}

func (u *haproxyUpgrader) upgrade(ctx context.Context) (time.Duration, error) {
	old := u.procs[len(u.procs)-1]
	t0 := time.Now()
	nw, err := startPinned(fmt.Sprintf("haproxy-%d", len(u.procs)), u.s.Dir, u.h.proxyCore, nil,
		"haproxy", "-db", "-f", u.cfg, "-x", u.s.StatsSock, "-sf", strconv.Itoa(old.pid()))
	if err != nil {
		return 0, err
	}
	u.procs = append(u.procs, nw)
	select {
	case <-old.done:
	case <-nw.done:
		return 0, fmt.Errorf("the new haproxy exited: %w\n%s", nw.err, nw.tail())
	case <-time.After(upgradeTimeout):
		return 0, fmt.Errorf("the old haproxy still runs after %s", upgradeTimeout)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	d := time.Since(t0)
	if _, err := waitOK(ctx, nw, u.h.url("http", u.h.ports.HTTP), "", 5*time.Second); err != nil {
		return 0, err
	}
	return d, nil
}

func (u *haproxyUpgrader) stop() {
	for _, p := range u.procs {
		p.stop()
	}
}

// upgradeTargets: issue #15 wants no failed request during upgrades.
func (h *harness) upgradeTargets() {
	r := h.rep
	r.target("S14 0 errors under load across two binary upgrades (#15)", func() (string, bool, bool) {
		v, ok := r.worst("S14", "errors", sy)
		return fmt.Sprintf("%.0f", v), v == 0, ok
	})
}
