package main

import (
	"fmt"
	"time"
)

// A throughput scenario is one load-generator run against a running peer.
// Adding one is a new entry here: an ID, a title, and how to drive the load.
type throughput struct {
	ID    string
	Title string
	Quick bool // part of bench-quick
	TLS   bool // needs TLS termination in the peer
	// FileOnly: the scenario uses routes of the shared dynamic file, so it
	// only runs on the peers configured by it (Switchyard, Traefik).
	FileOnly bool
	Unit     string // of the rate: "req/s" or "conn/s"
	Run      func(h *harness) (load, string, error)
}

var throughputScenarios = []throughput{
	{
		ID: "S1", Title: "HTTP/1.1 keep-alive GET, 64 connections, 1 KiB response (wrk)", Quick: true, Unit: "req/s",
		Run: func(h *harness) (load, string, error) {
			return runWRK(h.loadCore, wrkRun{URL: h.url("http", h.ports.HTTP), Conns: 64, Dur: h.opts.dur})
		},
	},
	{
		ID: "S2", Title: "HTTP/1.1 POST 1 KiB up / 1 KiB down, 64 connections (wrk)", Quick: true, Unit: "req/s",
		Run: func(h *harness) (load, string, error) {
			return runWRK(h.loadCore, wrkRun{URL: h.url("http", h.ports.HTTP), Conns: 64, Dur: h.opts.dur, Script: h.postScript})
		},
	},
	{
		ID: "S3", Title: "HTTP/2 cleartext, h2load -c100 -m10, 1 KiB up / 1 KiB down", Quick: true, Unit: "req/s",
		Run: func(h *harness) (load, string, error) {
			return runH2Load(h.loadCore, h.dir, h2Run{URL: h.url("http", h.ports.H2C), Conns: 100, Streams: 10, Dur: h.opts.dur, Body: h.bodyFile})
		},
	},
	{
		ID: "S4a", Title: "TLS new connections/s: full handshake (ECDSA P-256, no resumption), one GET with Connection: close each, 64 workers (the harness's Go client)", TLS: true, Unit: "conn/s",
		Run: func(h *harness) (load, string, error) {
			l, err := runHandshakes(fmt.Sprintf("127.0.0.1:%d", h.ports.TLS), 64, h.opts.dur)
			return l, "", err
		},
	},
	{
		ID: "S4b", Title: "HTTP/2 over TLS, h2load -c100 -m10, 1 KiB up / 1 KiB down", TLS: true, Unit: "req/s",
		Run: func(h *harness) (load, string, error) {
			return runH2Load(h.loadCore, h.dir, h2Run{URL: h.url("https", h.ports.TLS), Conns: 100, Streams: 10, Dur: h.opts.dur, Body: h.bodyFile})
		},
	},
	{
		ID: "S8", Title: "S1 through a 4-server wrr service (same backend, four server entries)", FileOnly: true, Unit: "req/s",
		Run: func(h *harness) (load, string, error) {
			return runWRK(h.loadCore, wrkRun{URL: h.url("http", h.ports.HTTP) + "wrr4/", Conns: 64, Dur: h.opts.dur})
		},
	},
	{
		ID: "S9", Title: "S1 through a 5-middleware chain (headers, stripPrefix, rateLimit not triggering, compress with no Accept-Encoding, ipAllowList)", FileOnly: true, Unit: "req/s",
		Run: func(h *harness) (load, string, error) {
			return runWRK(h.loadCore, wrkRun{URL: h.url("http", h.ports.HTTP) + "chain5/", Conns: 64, Dur: h.opts.dur})
		},
	},
}

func (h *harness) url(scheme string, port int) string {
	return fmt.Sprintf("%s://127.0.0.1:%d/", scheme, port)
}

// The targets of issue #4, checked on the figures of one run. ratio(a, b)
// reads "Switchyard's a over peer b's a".
func (h *harness) checkTargets() {
	r := h.rep
	for _, s := range []string{"S1", "S2", "S3"} {
		r.target(s+" rps ≥ 2.0× Traefik", func() (string, bool, bool) {
			return r.ratioCheck(s, "rps", "Traefik", func(x float64) bool { return x >= 2.0 })
		})
		r.target(s+" p99 ≤ 1.5× nginx p99", func() (string, bool, bool) {
			return r.ratioCheck(s, "p99_ms", "nginx", func(x float64) bool { return x <= 1.5 })
		})
	}
	r.target("S5 10,000-router rps ≥ 0.95× 10-router rps", func() (string, bool, bool) {
		v, ok := r.best("S5", "rps_10k_over_10", sy)
		return fmt.Sprintf("%.2f×", v), v >= 0.95, ok
	})
	r.target("S5 10,000-router config applied in < 1 s", func() (string, bool, bool) {
		v, ok := r.best("S5", "apply_ms", sy)
		return fmt.Sprintf("%.0f ms", v), v < 1000, ok
	})
	r.target("S6 0 errors during reloads", func() (string, bool, bool) {
		v, ok := r.worst("S6", "errors_reload", sy)
		return fmt.Sprintf("%.0f", v), v == 0, ok
	})
	r.target("S6 p99 during reloads ≤ 2× steady", func() (string, bool, bool) {
		v, ok := r.best("S6", "p99_reload_over_steady", sy)
		return fmt.Sprintf("%.2f×", v), v <= 2, ok
	})
	r.target("S7 ≤ 16 KiB per idle TLS connection", func() (string, bool, bool) {
		v, ok := r.best("S7", "kib_per_conn", sy)
		return fmt.Sprintf("%.1f KiB", v), v <= 16, ok
	})
	h.idleTargets()
	h.upgradeTargets()
}

// Default durations; bench-quick and the smoke test shorten them.
type options struct {
	dur        time.Duration // one throughput measurement
	rounds     int           // best of
	quick      bool          // S1–S3 only
	only       map[string]bool
	peers      map[string]bool
	idleConns  int           // S7
	longConns  int           // S10–S13: connections held per scenario
	idleWindow time.Duration // S10–S13: CPU measured over it
	settle     time.Duration // S10–S13: pause between opening and measuring
	// originAddrs is how many 127.0.0.x addresses the idle origin listens on.
	originAddrs int
	upgradeDur  time.Duration // S14: length of the load during the upgrades
	upgradeGap  time.Duration // S14: load before, between and after the upgrades
	reloadDur   time.Duration // S6 reload phase
	steadyDur   time.Duration // S6 steady phase
	profileDur  time.Duration // CPU profile of Switchyard under S1, 0: none
	out         string        // results directory, "" for none
	tag         string        // suffix of the results' file names
}

func (o options) want(id string) bool {
	if len(o.only) > 0 {
		return o.only[id]
	}
	return true
}
