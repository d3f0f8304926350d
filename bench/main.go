// Command bench is the comparative benchmark of issue #4: Switchyard against
// Traefik, nginx and HAProxy, each pinned to one core, in one interleaved
// run. `make bench` installs the peers (bench/setup.sh) and runs it;
// `make bench-quick` runs S1–S3 once. See docs/benchmarks.md.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

type harness struct {
	opts       options
	ports      ports
	dir        string // scratch directory
	base       setup
	peers      []peer
	rep        *report
	proxyCore  int
	loadCore   int
	postScript string
	bodyFile   string
	pprofBin   string // Switchyard built with a pprof listener, for the profile
	tlsOK      map[string]bool
	logf       func(format string, args ...any)
}

func main() {
	runOriginIfAsked()
	var (
		quick      = flag.Bool("quick", false, "S1–S3 only, one round, short runs (bench-quick)")
		dur        = flag.Duration("d", 3*time.Second, "duration of one throughput measurement")
		rounds     = flag.Int("rounds", 3, "rounds per scenario (best of)")
		only       = flag.String("only", "", "comma-separated scenario IDs to run (S1 … S14)")
		peersFlag  = flag.String("peers", "", "comma-separated peers to run (Switchyard,Traefik,nginx,HAProxy); default all")
		syBin      = flag.String("switchyard", "bin/switchyard", "Switchyard binary")
		traefikBin = flag.String("traefik", "bench/.cache/bin/traefik", "Traefik binary (bench/setup.sh builds it)")
		out        = flag.String("out", "bench/results", "results directory ('' to print only)")
		portBase   = flag.Int("port-base", 18000, "first of the ports used (base, +1 h2c, +443 TLS, +80 backend, +99 pprof)")
		idle       = flag.Int("idle-conns", 5000, "idle TLS connections held in S7")
		longConns  = flag.Int("long-conns", 20000, "long connections held per scenario in S10–S13")
		idleWindow = flag.Duration("idle-window", 10*time.Second, "S10–S13: idle time over which CPU is measured (≥ 10s for the published figures)")
		upgradeDur = flag.Duration("upgrade-d", 30*time.Second, "S14: length of the HTTP load during the two upgrades")
		tag        = flag.String("tag", "", "suffix of the results' file names (bench-idle: idle, bench-upgrade: upgrade)")
		profile    = flag.Duration("profile", 8*time.Second, "CPU profile of Switchyard under S1 (0 to skip)")
	)
	flag.Parse()
	log.SetFlags(0)
	if lim, err := raiseNoFile(); err != nil {
		log.Printf("bench: RLIMIT_NOFILE: %v (now %d)", err, lim)
	}
	o := options{dur: *dur, rounds: *rounds, quick: *quick, idleConns: *idle, reloadDur: 10 * time.Second,
		longConns: *longConns, idleWindow: *idleWindow, settle: 2 * time.Second, originAddrs: 8, upgradeDur: *upgradeDur, upgradeGap: 2 * time.Second,
		steadyDur: 5 * time.Second, profileDur: *profile, out: *out, tag: *tag, only: set(*only), peers: set(*peersFlag)}
	if o.quick {
		o.rounds, o.dur, o.profileDur = 1, 3*time.Second, 0
		if len(o.only) == 0 {
			o.only = set("S1,S2,S3")
		}
	}
	if err := runBench(o, *portBase, *syBin, *traefikBin); err != nil {
		log.Fatalf("bench: %v", err)
	}
}

// runBench is main's body; it returns instead of exiting so the work
// directory is removed on failure too.
func runBench(o options, portBase int, syBin, traefikBin string) error {
	h, err := newHarness(o, portBase, syBin, traefikBin)
	if err != nil {
		return err
	}
	defer os.RemoveAll(h.dir)
	md, err := h.run(context.Background())
	if err != nil {
		return err
	}
	fmt.Println(h.rep.markdown())
	if md != "" {
		fmt.Println("results written to", md, "(and .json)")
	}
	return nil
}

func set(csv string) map[string]bool {
	m := map[string]bool{}
	for _, s := range strings.Split(csv, ",") {
		if s = strings.TrimSpace(s); s != "" {
			m[s] = true
		}
	}
	return m
}

func newHarness(o options, portBase int, syBin, traefikBin string) (*harness, error) {
	if n := onlineCPUs(); n < 2 {
		return nil, fmt.Errorf("needs two cores (proxy on core 0, load on core 1), have %d", n)
	}
	dir, err := os.MkdirTemp("", "switchyard-bench-")
	if err != nil {
		return nil, err
	}
	h := &harness{opts: o, dir: dir, proxyCore: 0, loadCore: 1, tlsOK: map[string]bool{},
		ports: ports{HTTP: portBase, H2C: portBase + 1, TLS: portBase + 443, Backend: portBase + 80},
		logf:  func(f string, a ...any) { log.Printf("bench: "+f, a...) }}
	if err := h.writeAssets(); err != nil {
		return nil, err
	}
	goEnv := []string{"GOMAXPROCS=1"}
	all := []peer{
		&fileProviderPeer{name: sy, bin: mustAbs(syBin), env: goEnv},
		&fileProviderPeer{name: "Traefik", bin: mustAbs(traefikBin), env: goEnv},
		nginxPeer{},
		haproxyPeer{},
	}
	for _, p := range all {
		if len(o.peers) == 0 || o.peers[p.Name()] {
			h.peers = append(h.peers, p)
		}
	}
	// Switchyard with metrics and access log on runs only when named
	// (make bench-obs): it measures their overhead against plain Switchyard.
	if obs := sy + "+obs"; o.peers[obs] {
		h.peers = append(h.peers, &fileProviderPeer{name: obs, bin: mustAbs(syBin), env: goEnv, extraStatic: obsStaticTmpl})
	}
	h.pprofBin = filepath.Join(filepath.Dir(mustAbs(traefikBin)), "switchyard-pprof")
	return h, nil
}

// onlineCPUs counts the machine's cores (runtime.NumCPU only sees the
// harness's own affinity mask, and the harness runs on the load core).
func onlineCPUs() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.NumCPU()
	}
	return strings.Count(string(b), "\nprocessor") + map[bool]int{true: 1}[strings.HasPrefix(string(b), "processor")]
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// writeAssets creates the certificate, the POST body and wrk's POST script.
func (h *harness) writeAssets() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench.test"},
		DNSNames: []string{"bench.test", "*.bench.test", "localhost"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	h.base = setup{Ports: h.ports, Cert: filepath.Join(h.dir, "cert.pem"), Key: filepath.Join(h.dir, "key.pem"),
		Combo: filepath.Join(h.dir, "combo.pem")}
	body := strings.Repeat("y", 1024)
	h.bodyFile = filepath.Join(h.dir, "body.bin")
	h.postScript = filepath.Join(h.dir, "post.lua")
	files := map[string]string{
		h.base.Cert:  string(certPEM),
		h.base.Key:   string(keyPEM),
		h.base.Combo: string(certPEM) + string(keyPEM),
		h.bodyFile:   body,
		h.postScript: "wrk.method = \"POST\"\nwrk.body = string.rep(\"y\", 1024)\nwrk.headers[\"Content-Type\"] = \"application/octet-stream\"\n",
	}
	for p, c := range files {
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// peerDir is a fresh scratch directory for one start of a peer.
func (h *harness) peerDir(p peer, tag string) (setup, error) {
	s := h.base
	s.Dir = filepath.Join(h.dir, strings.ToLower(p.Name())+"-"+tag)
	if err := os.RemoveAll(s.Dir); err != nil {
		return s, err
	}
	return s, os.MkdirAll(s.Dir, 0o755)
}

// launch starts p with s and waits until it routes a request (through the
// route matching host) to the backend.
func (h *harness) launch(ctx context.Context, p peer, s setup) (*proc, time.Duration, error) {
	pr, err := p.Start(s, h.proxyCore)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", p.Name(), err)
	}
	d, err := waitOK(ctx, pr, h.url("http", h.ports.HTTP), s.lastHost(), 60*time.Second)
	if err != nil {
		pr.stop()
		return nil, 0, fmt.Errorf("%s: %w", p.Name(), err)
	}
	return pr, d, nil
}

// rotate interleaves the peers: round r starts with peer r.
func rotate(ps []peer, r int) []peer {
	if len(ps) == 0 {
		return nil
	}
	r %= len(ps)
	return append(append([]peer{}, ps[r:]...), ps[:r]...)
}

func (h *harness) warmUp() {
	_, _, _ = runWRK(h.loadCore, wrkRun{URL: h.url("http", h.ports.HTTP), Conns: 64, Dur: time.Second})
}
