package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

const sy = "Switchyard"

// figure is one metric of one scenario for one peer, over the rounds.
type figure struct {
	Scenario  string    `json:"scenario"`
	Metric    string    `json:"metric"`
	Unit      string    `json:"unit"`
	Higher    bool      `json:"higherIsBetter"`
	Peer      string    `json:"peer"`
	Runs      []float64 `json:"runs,omitempty"`
	Best      float64   `json:"best"`
	SpreadPct float64   `json:"spreadPct"` // (max-min)/best over the runs
	NA        string    `json:"na,omitempty"`
}

type check struct {
	Target string `json:"target"`
	Got    string `json:"got"`
	Result string `json:"result"` // PASS, FAIL or n/a
}

type report struct {
	Date        string            `json:"date"`
	Commit      string            `json:"commit"`
	Mode        string            `json:"mode"`
	Machine     map[string]string `json:"machine"`
	Versions    map[string]string `json:"versions"`
	Settings    map[string]string `json:"settings"`
	Scenarios   map[string]string `json:"scenarios"`
	Figures     []*figure         `json:"figures"`
	Targets     []check           `json:"targets"`
	Notes       []string          `json:"notes,omitempty"`
	Profiles    []string          `json:"profiles,omitempty"`
	ProfileTop  string            `json:"profileTop,omitempty"`
	peerOrder   []string
	scenarioSeq []string
}

func (r *report) fig(scenario, metric, unit string, higher bool, peer string) *figure {
	for _, f := range r.Figures {
		if f.Scenario == scenario && f.Metric == metric && f.Peer == peer {
			return f
		}
	}
	f := &figure{Scenario: scenario, Metric: metric, Unit: unit, Higher: higher, Peer: peer}
	r.Figures = append(r.Figures, f)
	if !slices.Contains(r.scenarioSeq, scenario) {
		r.scenarioSeq = append(r.scenarioSeq, scenario)
	}
	return f
}

// add records one run's value.
func (r *report) add(scenario, metric, unit string, higher bool, peer string, v float64) {
	f := r.fig(scenario, metric, unit, higher, peer)
	f.Runs = append(f.Runs, v)
	f.NA = ""
	lo, hi := slices.Min(f.Runs), slices.Max(f.Runs)
	f.Best = lo
	if higher {
		f.Best = hi
	}
	f.SpreadPct = 0
	if f.Best != 0 {
		f.SpreadPct = 100 * (hi - lo) / math.Abs(f.Best)
	}
}

// derive records, for every peer, best(num)/best(den) as one figure.
func (r *report) derive(scenario, metric, num, den string, higher bool) {
	for _, p := range r.peerOrder {
		a, ok1 := r.best(scenario, num, p)
		b, ok2 := r.best(scenario, den, p)
		if ok1 && ok2 && b != 0 {
			r.add(scenario, metric, "×", higher, p, a/b)
		}
	}
}

// na marks a figure as not measurable for that peer, with the reason.
func (r *report) na(scenario, metric, unit string, higher bool, peer, why string) {
	f := r.fig(scenario, metric, unit, higher, peer)
	if len(f.Runs) == 0 {
		f.NA = why
	}
}

// lookup finds a figure without creating it (an empty one if absent).
func (r *report) lookup(scenario, metric, peer string) *figure {
	for _, f := range r.Figures {
		if f.Scenario == scenario && f.Metric == metric && f.Peer == peer {
			return f
		}
	}
	return &figure{}
}

func (r *report) get(scenario, metric, peer string) *figure {
	for _, f := range r.Figures {
		if f.Scenario == scenario && f.Metric == metric && f.Peer == peer && len(f.Runs) > 0 {
			return f
		}
	}
	return nil
}

func (r *report) best(scenario, metric, peer string) (float64, bool) {
	if f := r.get(scenario, metric, peer); f != nil {
		return f.Best, true
	}
	return 0, false
}

func (r *report) worst(scenario, metric, peer string) (float64, bool) {
	if f := r.get(scenario, metric, peer); f != nil {
		if f.Higher {
			return slices.Min(f.Runs), true
		}
		return slices.Max(f.Runs), true
	}
	return 0, false
}

// ratio is Switchyard's best over the peer's best.
func (r *report) ratio(scenario, metric, peer string) (float64, bool) {
	a, ok1 := r.best(scenario, metric, sy)
	b, ok2 := r.best(scenario, metric, peer)
	if !ok1 || !ok2 || b == 0 {
		return 0, false
	}
	return a / b, true
}

func (r *report) ratioCheck(scenario, metric, peer string, ok func(float64) bool) (string, bool, bool) {
	x, have := r.ratio(scenario, metric, peer)
	return fmt.Sprintf("%.2f×", x), ok(x), have
}

func (r *report) target(name string, eval func() (got string, pass, have bool)) {
	got, pass, have := eval()
	c := check{Target: name, Got: got, Result: "FAIL"}
	switch {
	case !have:
		c.Got, c.Result = "—", "n/a"
	case pass:
		c.Result = "PASS"
	}
	r.Targets = append(r.Targets, c)
}

func fmtVal(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// markdown renders the whole report.
func (r *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmark %s (%s, commit %s)\n\n", r.Date, r.Mode, r.Commit)
	b.WriteString("Every proxy pinned to core 0 (`taskset -c 0`, GOMAXPROCS=1, one nginx worker, HAProxy `nbthread 1`); load generator and the nginx backend (1 KiB `return 200`) on core 1; keep-alive to the backend; logs off. Peers interleaved round by round; each cell is the best of the rounds, with the spread `(max-min)/best` in brackets. Ratios are Switchyard ÷ peer (for latency and memory lower is better).\n\n")
	b.WriteString("## Machine\n\n| | |\n|---|---|\n")
	for _, k := range sortedKeys(r.Machine) {
		fmt.Fprintf(&b, "| %s | %s |\n", k, r.Machine[k])
	}
	b.WriteString("\n## Versions\n\n| | |\n|---|---|\n")
	for _, k := range sortedKeys(r.Versions) {
		fmt.Fprintf(&b, "| %s | %s |\n", k, r.Versions[k])
	}
	b.WriteString("\n## Settings\n\n| | |\n|---|---|\n")
	for _, k := range sortedKeys(r.Settings) {
		fmt.Fprintf(&b, "| %s | %s |\n", k, r.Settings[k])
	}
	b.WriteString("\n## Results\n\n")
	others := slices.DeleteFunc(slices.Clone(r.peerOrder), func(p string) bool { return p == sy })
	b.WriteString("| scenario | metric | " + strings.Join(r.peerOrder, " | "))
	for _, p := range others {
		b.WriteString(" | SY/" + p)
	}
	b.WriteString(" |\n|---|---|" + strings.Repeat("---|", len(r.peerOrder)+len(others)) + "\n")
	for _, s := range r.scenarioSeq {
		var metrics []string
		for _, f := range r.Figures {
			if f.Scenario == s && !slices.Contains(metrics, f.Metric) {
				metrics = append(metrics, f.Metric)
			}
		}
		for _, m := range metrics {
			fmt.Fprintf(&b, "| %s | %s", s, m)
			for _, p := range r.peerOrder {
				f := r.lookup(s, m, p)
				switch {
				case len(f.Runs) > 1:
					fmt.Fprintf(&b, " | %s (%.0f%%)", fmtVal(f.Best), f.SpreadPct)
				case len(f.Runs) == 1:
					fmt.Fprintf(&b, " | %s", fmtVal(f.Best))
				case f.NA != "":
					fmt.Fprintf(&b, " | n/a (%s)", f.NA)
				default:
					b.WriteString(" | —")
				}
			}
			for _, p := range others {
				if x, ok := r.ratio(s, m, p); ok {
					fmt.Fprintf(&b, " | %.2f×", x)
				} else {
					b.WriteString(" | —")
				}
			}
			b.WriteString(" |\n")
		}
	}
	b.WriteString("\nMetrics: `rps` requests/s (S4a: new TLS connections/s), `p99_ms` 99th-percentile latency, `errors` socket errors + non-2xx + failed requests, `rss_kib` resident memory (process and children), `apply_ms` time from writing the 10,000-router file to the last router answering, `kib_per_conn` RSS growth per idle TLS connection, `cpu_us_per_req` CPU time (user + system, process and children) per request (S4a: per connection) over the run — less disturbed by a busy machine than the rate; S10–S13 `cpu_ms_per_idle_s` CPU time (user + system, process and children) per second while the connections are idle, `kib_per_conn` RSS growth per held connection, `closed_by_proxy` connections the proxy closed before the end of the window; S14 `upgrade1_ms` / `upgrade2_ms` time from the upgrade signal until the old process is gone and the new one answers, `errors` socket errors + non-2xx seen by the load across both upgrades.\n")
	b.WriteString("\n## Scenarios\n\n")
	for _, s := range r.scenarioSeq {
		fmt.Fprintf(&b, "- **%s** %s\n", s, r.Scenarios[s])
	}
	b.WriteString("\n## Targets (issues #4 and #15)\n\n| target | Switchyard | result |\n|---|---|---|\n")
	for _, c := range r.Targets {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", c.Target, c.Got, c.Result)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	if r.ProfileTop != "" {
		fmt.Fprintf(&b, "\n## CPU profile of Switchyard under S1\n\nFiles: %s\n\n```\n%s\n```\n", strings.Join(r.Profiles, ", "), r.ProfileTop)
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}

// write stores <dir>/<base>.md and .json.
func (r *report) write(dir, base string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	md := filepath.Join(dir, base+".md")
	if err := os.WriteFile(md, []byte(r.markdown()), 0o644); err != nil {
		return "", err
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	return md, os.WriteFile(filepath.Join(dir, base+".json"), append(j, '\n'), 0o644)
}
