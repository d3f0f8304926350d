package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const wrkOut = `Running 2s test @ http://127.0.0.1:18000/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms    1.00ms  20.00ms   90.00%
    Req/Sec    30.00k     1.00k   32.00k    70.00%
  Latency Distribution
     50%    2.00ms
     75%    2.50ms
     90%    3.00ms
     99%  850.00us
  60000 requests in 2.00s, 70.00MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:  30000.50
Transfer/sec:     35.00MB
`

func TestParseWRK(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want load
		err  bool
	}{
		{"full", wrkOut, load{RPS: 30000.5, P99ms: 0.85, Errors: 10}, false},
		{"seconds", strings.Replace(wrkOut, "850.00us", "1.50s", 1), load{RPS: 30000.5, P99ms: 1500, Errors: 10}, false},
		{"clean", "     99%    3.10ms\nRequests/sec:  100.00\n", load{RPS: 100, P99ms: 3.1}, false},
		{"garbage", "unable to connect", load{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseWRK(tt.out)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

const h2Out = `starting benchmark...
finished in 2.00s, 25000.50 req/s, 30.00MB/s
requests: 50001 total, 51000 started, 50001 done, 49990 succeeded, 11 failed, 11 errored, 0 timeout
status codes: 49990 2xx, 0 3xx, 0 4xx, 0 5xx
`

func TestParseH2Load(t *testing.T) {
	got, err := parseH2Load(h2Out)
	if err != nil {
		t.Fatal(err)
	}
	if got.RPS != 25000.5 || got.Errors != 11 {
		t.Errorf("got %+v", got)
	}
	got, _ = parseH2Load(strings.NewReplacer("11 failed", "0 failed", "11 errored", "0 errored", "0 5xx", "7 5xx").Replace(h2Out))
	if got.Errors != 7 {
		t.Errorf("5xx not counted: %+v", got)
	}
	if _, err := parseH2Load("connect error"); err == nil {
		t.Error("want an error on garbage")
	}
}

func TestH2LoadP99(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	var b strings.Builder
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&b, "1700000000000000\t200\t%d\n", i*1000)
	}
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(p)
	defer f.Close()
	if got := h2loadP99(f); got != 99 {
		t.Errorf("p99 = %v ms, want 99", got)
	}
}

func TestReportTargets(t *testing.T) {
	r := &report{Machine: map[string]string{}, Versions: map[string]string{}, Settings: map[string]string{}, Scenarios: map[string]string{"S1": "get"},
		peerOrder: []string{sy, "Traefik", "nginx"}}
	for _, v := range []float64{30000, 32000, 31000} {
		r.add("S1", "rps", "req/s", true, sy, v)
	}
	r.add("S1", "rps", "req/s", true, "Traefik", 15000)
	r.add("S1", "p99_ms", "ms", false, sy, 4)
	r.add("S1", "p99_ms", "ms", false, "nginx", 2)
	r.na("S4a", "rps", "conn/s", true, sy, "TLS not yet available")
	h := &harness{rep: r}
	h.checkTargets()
	want := map[string]string{
		"S1 rps ≥ 2.0× Traefik":               "PASS",
		"S1 p99 ≤ 1.5× nginx p99":             "FAIL",
		"S2 rps ≥ 2.0× Traefik":               "n/a",
		"S7 ≤ 16 KiB per idle TLS connection": "n/a",
	}
	for _, c := range r.Targets {
		if w, ok := want[c.Target]; ok && c.Result != w {
			t.Errorf("%s: %s (%s), want %s", c.Target, c.Result, c.Got, w)
		}
	}
	f := r.get("S1", "rps", sy)
	if f.Best != 32000 || f.SpreadPct < 6.2 || f.SpreadPct > 6.3 {
		t.Errorf("best %v spread %v", f.Best, f.SpreadPct)
	}
	md := r.markdown()
	for _, s := range []string{"| S1 | rps | 32000 (6%) | 15000 | — | 2.13× | — |", "n/a (TLS not yet available)", "| S1 rps ≥ 2.0× Traefik | 2.13× | PASS |"} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q:\n%s", s, md)
		}
	}
}
