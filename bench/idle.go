package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// An idle scenario holds n long connections of one kind through the proxy
// and measures what they cost while nothing happens on them: CPU per idle
// second and RSS growth per connection. The origin is a separate process
// (the harness binary in origin mode) so its memory is never counted.
type idleScenario struct {
	ID    string
	Title string
	TLS   bool // connects to the TLS port (else the cleartext HTTP port)
	Kind  idleKind
	// KiBTarget is the issue #15 target for Switchyard, 0 for none.
	KiBTarget float64
}

var idleScenarios = []idleScenario{
	{ID: "S10", Title: "idle TLS connections (ECDSA P-256, ALPN http/1.1) after one keep-alive GET each", TLS: true, Kind: tlsAfterRequest, KiBTarget: 12},
	{ID: "S11", Title: "proxied SSE streams (cleartext HTTP/1.1; the origin sends one event, then silence)", Kind: sseStream, KiBTarget: 16},
	{ID: "S12", Title: "WebSocket tunnels (cleartext; one message each way, then silence)", Kind: webSocket, KiBTarget: 16},
	{ID: "S13", Title: "idle HTTP/2 connections over TLS (ALPN h2) after one GET each", TLS: true, Kind: h2AfterRequest},
}

// originAddrs are the idle origin's listening addresses: one port on
// several 127.0.0.x addresses.
func (h *harness) originAddrs() []string {
	var a []string
	for i := 2; i < 2+h.opts.originAddrs; i++ {
		a = append(a, fmt.Sprintf("127.0.0.%d:%d", i, h.ports.Backend+2))
	}
	return a
}

// startOrigin runs this binary as the origin (originEnv) on the load core.
func (h *harness) startOrigin(ctx context.Context) (*proc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir := h.dir + "/origin"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	addrs := h.originAddrs()
	p, err := startPinned("origin", dir, h.loadCore, []string{originEnv + "=" + strings.Join(addrs, ",")}, exe)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if _, err := waitOK(ctx, p, "http://"+a+"/", "", 20*time.Second); err != nil {
			p.stop()
			return nil, fmt.Errorf("origin: %w", err)
		}
	}
	return p, nil
}

func (h *harness) closeHeld() {
	for _, a := range h.originAddrs() {
		_, _ = get("http://"+a+"/close-held", "")
	}
}

// longIdlePhase runs S10–S13: per scenario, every peer in turn, started fresh.
func (h *harness) longIdlePhase(ctx context.Context) error {
	var scs []idleScenario
	for _, s := range idleScenarios {
		if h.opts.want(s.ID) {
			scs = append(scs, s)
		}
	}
	if len(scs) == 0 || h.opts.longConns <= 0 {
		return nil
	}
	h.rep.Settings["S10–S13 connections asked, idle window"] = fmt.Sprintf("%d, %s (settle %s first)", h.opts.longConns, h.opts.idleWindow, h.opts.settle)
	h.rep.Settings["S10–S13 sources / origin addresses"] = fmt.Sprintf("%d client addresses 127.0.0.10–%d; origin on %d addresses (%s …)", len(clientSources), 9+len(clientSources), h.opts.originAddrs, h.originAddrs()[0])
	origin, err := h.startOrigin(ctx)
	if err != nil {
		return err
	}
	defer origin.stop()
	for _, sc := range scs {
		n := h.longConnsFor()
		h.rep.Scenarios[sc.ID] = fmt.Sprintf("%d %s: CPU per idle second (user + system of the proxy's process tree over %s, ms/s) and RSS growth per connection (KiB; the origin is another process)", n, sc.Title, h.opts.idleWindow)
		for _, p := range h.peers {
			if err := h.idleOne(ctx, sc, p, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// longConnsFor is -long-conns, or less when RLIMIT_NOFILE (which cannot
// be raised past the hard limit without CAP_SYS_RESOURCE) would not let a
// one-process proxy hold that many at two descriptors each: rounded down
// to a thousand, with 1,000 descriptors to spare.
func (h *harness) longConnsFor() int {
	n := h.opts.longConns
	limit := int(noFileLimit())
	if fit := (limit - 1000) / 2 / 1000 * 1000; fit < n && fit > 0 {
		note := fmt.Sprintf("S10–S13: %d connections instead of %d: RLIMIT_NOFILE is %d here (the hard limit; raising it needs CAP_SYS_RESOURCE, which this machine does not grant). A proxied stream takes two descriptors in the proxy, and HAProxy reserves two per maxconn for every kind, so every scenario uses the number all four proxies can hold.", fit, n, limit)
		if !slices.Contains(h.rep.Notes, note) {
			h.rep.Notes = append(h.rep.Notes, note)
		}
		return fit
	}
	return n
}

// idleOne measures one scenario on one peer; a failure of the peer to hold
// the connections is reported n/a with the reason, not as a harness error.
func (h *harness) idleOne(ctx context.Context, sc idleScenario, p peer, n int) error {
	metrics := []string{"cpu_ms_per_idle_s", "kib_per_conn"}
	na := func(why string) {
		h.logf("%-10s %s n/a: %s", p.Name(), sc.ID, why)
		for _, m := range metrics {
			h.rep.na(sc.ID, m, "", false, p.Name(), why)
		}
	}
	s, err := h.peerDir(p, strings.ToLower(sc.ID))
	if err != nil {
		return err
	}
	s.Origins, s.Idle, s.MaxConns = h.originAddrs(), true, n+200
	pr, _, err := h.launch(ctx, p, s)
	if err != nil {
		na("did not start: " + shortErr(err))
		return nil
	}
	defer func() {
		pr.stop()
		h.closeHeld()
	}()
	port := h.ports.HTTP
	if sc.TLS {
		port = h.ports.TLS
		if !h.checkTLS(p) {
			na("TLS not yet available")
			return nil
		}
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// Warm-up: the first connections of a kind pay one-time costs (TLS
	// state, h2 machinery, upstream pools) that are not per connection.
	warm, err := openIdle(sc.Kind, addr, 64, 16)
	if err != nil {
		na(shortErr(err))
		return nil
	}
	closeIdle(warm)
	h.closeHeld()
	time.Sleep(max(h.opts.settle, 100*time.Millisecond))
	before := rssKiB(pr.pid())
	t0 := time.Now()
	conns, err := openIdle(sc.Kind, addr, n, 64)
	if err != nil {
		na(shortErr(err))
		return nil
	}
	defer closeIdle(conns)
	opened := time.Since(t0)
	time.Sleep(h.opts.settle)
	c0, w0 := cpuTime(pr.pid()), time.Now()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(h.opts.idleWindow):
	}
	c1, w1 := cpuTime(pr.pid()), time.Now()
	after := rssKiB(pr.pid())
	open := countOpen(conns)
	cpu := float64((c1 - c0).Microseconds()) / 1000 / w1.Sub(w0).Seconds()
	per := float64(after-before) / float64(n)
	h.logf("%-10s %s %d conns opened in %s; idle CPU %.2f ms/s; RSS %d → %d KiB: %.1f KiB per connection; %d still open", p.Name(), sc.ID, n, opened.Round(time.Millisecond), cpu, before, after, per, open)
	h.rep.add(sc.ID, "cpu_ms_per_idle_s", "ms/s", false, p.Name(), cpu)
	h.rep.add(sc.ID, "kib_per_conn", "KiB", false, p.Name(), per)
	if open < n {
		h.rep.add(sc.ID, "closed_by_proxy", "", false, p.Name(), float64(n-open))
		h.rep.Notes = append(h.rep.Notes, fmt.Sprintf("%s %s: %d of %d connections were closed by the proxy before the end of the idle window.", sc.ID, p.Name(), n-open, n))
	}
	return nil
}

// shortErr keeps an error message to one table cell.
func shortErr(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// idleTargets are the issue #15 targets on S10–S13.
func (h *harness) idleTargets() {
	r := h.rep
	for _, sc := range idleScenarios {
		r.target(sc.ID+" 0 CPU per idle second (≤ nginx's) (#15)", func() (string, bool, bool) {
			v, ok := r.best(sc.ID, "cpu_ms_per_idle_s", sy)
			ref, haveNginx := r.best(sc.ID, "cpu_ms_per_idle_s", "nginx")
			if !haveNginx {
				ref = 0
			}
			return fmt.Sprintf("%.2f ms/s", v), v <= ref, ok
		})
		if sc.KiBTarget > 0 {
			r.target(fmt.Sprintf("%s ≤ %.0f KiB per connection (#15)", sc.ID, sc.KiBTarget), func() (string, bool, bool) {
				v, ok := r.best(sc.ID, "kib_per_conn", sy)
				return fmt.Sprintf("%.1f KiB", v), v <= sc.KiBTarget, ok
			})
		}
	}
}
