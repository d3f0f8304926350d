package integration

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// What an idle long connection costs the proxy: held SSE streams and
// WebSocket tunnels must not wake the process (the client's departure is
// learnt from the poller, not by polling), and must not hold buffers.
// The exact targets (20,000 connections, next to nginx and HAProxy) belong
// to `make bench`; these tests hold a few hundred and check generous bounds.
//
// SWITCHYARD_IDLE_N=20000 go test -run TestIdleCostMeasure -v ./integration/
// prints the numbers for every kind (sse, ws, tls, h2) at that scale
// (raise `ulimit -n` first).

// idleStatic: the entrypoint serves cleartext and TLS; logs stay quiet so
// that logging is not what is measured.
const idleStatic = `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
  debug: true
log:
  level: ERROR
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`

// idleBackend serves /sse (one event, then silence until the client
// leaves), /ws (101, then an echo tunnel) and /small.
type idleBackend struct {
	url     string
	streams atomic.Int64  // SSE streams open at the backend
	left    chan struct{} // an SSE stream's request context ended
}

func startIdleBackend(t *testing.T) *idleBackend {
	b := &idleBackend{left: make(chan struct{}, 1<<16)}
	mux := http.NewServeMux()
	mux.HandleFunc("/sse", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: hello\n\n")
		w.(http.Flusher).Flush()
		b.streams.Add(1)
		<-r.Context().Done()
		b.streams.Add(-1)
		b.left <- struct{}{}
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		_, _ = io.Copy(c, brw)
	})
	mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	srv := &http.Server{Handler: mux}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	b.url = "http://" + l.Addr().String()
	return b
}

// startIdleProxy runs switchyard in front of b, cleartext and TLS
// (Host idle.test) on one entrypoint.
func startIdleProxy(t *testing.T, b *idleBackend) (*Env, *tls.Config) {
	e := newEnv(t)
	ca := newCA(t, "idle CA")
	c, k := ca.issue(t, "idle.test", []string{"idle.test"}, false)
	writePair(t, e.Dir, "idle", c, k)
	e.SetURL("back", b.url)
	e.DynPath = filepath.Join(e.Dir, "dynamic.yml")
	e.WriteStatic("yml", idleStatic)
	e.WriteDynamic("yml", `
http:
  routers:
    plain:
      entryPoints: [web]
      rule: "PathPrefix(`+"`/`"+`)"
      service: back
    secure:
      entryPoints: [web]
      rule: "Host(`+"`idle.test`"+`)"
      service: back
      tls: {}
  services:
    back:
      loadBalancer:
        servers:
          - url: "<% url "back" %>"
tls:
  certificates:
    - certFile: "<% dir %>/idle.crt"
      keyFile: "<% dir %>/idle.key"
`)
	e.Start()
	e.WaitRouters("plain@file", "secure@file")
	e.WaitListening(e.Addr("web"))
	return e, &tls.Config{ServerName: "idle.test", RootCAs: ca.pool()}
}

// procUsage is what /proc says about a process: CPU time (the sum of its
// threads' run time, in ns), resident memory and context switches.
type procUsage struct {
	cpu      time.Duration
	rssKiB   int64
	switches int64
}

func readUsage(t testing.TB, pid int) procUsage {
	t.Helper()
	var u procUsage
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no tasks for pid %d: %v", pid, err)
	}
	for _, task := range tasks {
		if b, err := os.ReadFile(task + "/schedstat"); err == nil {
			if f := strings.Fields(string(b)); len(f) > 0 {
				ns, _ := strconv.ParseInt(f[0], 10, 64)
				u.cpu += time.Duration(ns)
			}
		}
		if b, err := os.ReadFile(task + "/status"); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if k, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
					n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
					u.switches += n
				}
			}
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			u.rssKiB, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return u
}

// idleConns holds the client sides open; Close closes them all.
type idleConns struct {
	mu    sync.Mutex
	conns []io.Closer
}

func (h *idleConns) add(c io.Closer) {
	h.mu.Lock()
	h.conns = append(h.conns, c)
	h.mu.Unlock()
}

func (h *idleConns) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		_ = c.Close()
	}
	h.conns = nil
}

// dialFrom spreads client connections over 127.0.0.x source addresses so
// that tens of thousands do not run out of ephemeral ports.
func dialFrom(i int, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, byte(i/250%200), byte(2+i%250))}}
	return d.Dial("tcp", addr)
}

// openIdle opens one connection of kind through the proxy at addr, makes
// it carry one exchange and leaves it idle.
func openIdle(i int, kind, addr string, tc *tls.Config) (io.Closer, error) {
	c, err := dialFrom(i, addr)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (io.Closer, error) { c.Close(); return nil, fmt.Errorf("%s #%d: %w", kind, i, err) }
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	switch kind {
	case "sse":
		_, _ = io.WriteString(c, "GET /sse HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return fail(err)
		}
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		if err != nil || line != "data: hello\n" {
			return fail(fmt.Errorf("first event %q: %v", line, err))
		}
	case "ws":
		_, _ = io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			return fail(fmt.Errorf("upgrade: %v %v", resp, err))
		}
		_, _ = io.WriteString(c, "ping")
		got := make([]byte, 4)
		if _, err := io.ReadFull(br, got); err != nil || string(got) != "ping" {
			return fail(fmt.Errorf("echo %q: %v", got, err))
		}
	case "tls":
		t := tls.Client(c, tc)
		_, _ = io.WriteString(t, "GET /small HTTP/1.1\r\nHost: idle.test\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(t), nil)
		if err != nil {
			return fail(err)
		}
		if b, err := io.ReadAll(resp.Body); err != nil || string(b) != "ok" {
			return fail(fmt.Errorf("body %q: %v", b, err))
		}
		c = t
	case "h2":
		cfg := tc.Clone()
		cfg.NextProtos = []string{"h2"}
		t := tls.Client(c, cfg)
		if err := t.Handshake(); err != nil {
			return fail(err)
		}
		tr := &http2.Transport{}       //nolint:staticcheck // see below
		cc, err := tr.NewClientConn(t) //nolint:staticcheck // holds one given connection, which http.Transport cannot

		if err != nil {
			return fail(err)
		}
		req, _ := http.NewRequest(http.MethodGet, "https://idle.test/small", nil)
		resp, err := cc.RoundTrip(req)
		if err != nil {
			return fail(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		_ = c.SetDeadline(time.Time{})
		return cc, nil
	default:
		return fail(fmt.Errorf("unknown kind"))
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

// openMany opens n connections of kind, 64 at a time.
func openMany(t testing.TB, n int, kind, addr string, tc *tls.Config, held *idleConns) {
	t.Helper()
	var wg sync.WaitGroup
	var firstErr atomic.Value
	sem := make(chan struct{}, 64)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := openIdle(i, kind, addr, tc)
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			held.add(c)
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		t.Fatalf("opening %d %s connections: %v", n, kind, err)
	}
}

// idleCost measures the proxy's CPU and context switches over window with
// the connections held idle, after they settled (parking takes a second).
func idleCost(t testing.TB, pid int, window time.Duration) (cpu time.Duration, switches int64) {
	time.Sleep(1500 * time.Millisecond)
	u0 := readUsage(t, pid)
	time.Sleep(window)
	u1 := readUsage(t, pid)
	return u1.cpu - u0.cpu, u1.switches - u0.switches
}

// TestIdleStreamsCostNoWakeups holds 500 idle SSE streams and 500 idle
// WebSocket tunnels through the binary: over 5 idle seconds the proxy
// must stay (nearly) asleep. Polling each stream once a second, as the
// proxy once did, costs about 1,000 wake-ups and tens of ms per second
// here; the bound allows a few housekeeping ticks. It also bounds what
// each idle connection costs in resident memory, generously.
func TestIdleStreamsCostNoWakeups(t *testing.T) {
	const n = 500
	b := startIdleBackend(t)
	e, tc := startIdleProxy(t, b)
	pid := e.Proc.cmd.Process.Pid
	addr := e.Addr("web")
	held := &idleConns{}
	defer held.Close()
	// Warm up (routes, pools, TLS), then take the baseline.
	openMany(t, 10, "sse", addr, tc, held)
	openMany(t, 10, "ws", addr, tc, held)
	time.Sleep(500 * time.Millisecond)
	base := readUsage(t, pid)

	openMany(t, n, "sse", addr, tc, held)
	openMany(t, n, "ws", addr, tc, held)
	cpu, sw := idleCost(t, pid, 5*time.Second)
	after := readUsage(t, pid)
	perConn := float64(after.rssKiB-base.rssKiB) / float64(2*n)
	t.Logf("%d idle SSE streams + %d idle WebSockets: %v CPU and %d context switches in 5 idle seconds; %.1f KiB RSS per connection",
		n, n, cpu.Round(time.Microsecond), sw, perConn)
	if cpu > 60*time.Millisecond || sw > 300 {
		t.Errorf("idle streams woke the proxy: %v CPU, %d context switches in 5 s (bounds 60 ms, 300)", cpu, sw)
	}
	if perConn > 64 {
		t.Errorf("%.1f KiB of RSS per idle stream or tunnel (bound 64)", perConn)
	}
}

// TestIdleSSEClientDeparture: a client that leaves an idle SSE stream is
// noticed at once (the poller reports the closed socket), and the
// backend's side is closed within a bound well under the one-second
// poll the proxy once used.
func TestIdleSSEClientDeparture(t *testing.T) {
	const n = 20
	b := startIdleBackend(t)
	e, tc := startIdleProxy(t, b)
	held := &idleConns{}
	defer held.Close()
	var conns []io.Closer
	for i := range n {
		c, err := openIdle(i, "sse", e.Addr("web"), tc)
		if err != nil {
			t.Fatal(err)
		}
		held.add(c)
		conns = append(conns, c)
	}
	deadline := time.Now().Add(10 * time.Second)
	for b.streams.Load() < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// Idle long enough for any lazy arming to have happened.
	time.Sleep(1200 * time.Millisecond)
	var worst time.Duration
	for i, c := range conns {
		// Spread the departures over a second so that a periodic check
		// could not be in phase with all of them.
		time.Sleep(time.Duration(i) * 1000 * time.Millisecond / n / 4)
		start := time.Now()
		_ = c.Close()
		select {
		case <-b.left:
		case <-time.After(5 * time.Second):
			t.Fatalf("stream %d: the backend still streams 5 s after its client left", i)
		}
		if d := time.Since(start); d > worst {
			worst = d
		}
	}
	t.Logf("slowest departure noticed by the backend after %v", worst.Round(time.Millisecond))
	if worst > 500*time.Millisecond {
		t.Errorf("a departed client was noticed after %v (bound 500 ms): polled, not watched", worst)
	}
}

// liveBytes forces a collection in the binary (a heap profile with gc=1)
// and returns what it then holds: heap in use and goroutine stacks, from
// runtime.MemStats through api.debug's /debug/vars. Unlike RSS, this
// carries neither the collector's headroom nor freed pages not yet
// returned, so a few hundred connections measure it steadily.
func liveBytes(t testing.TB, api string) (heap, stacks int64) {
	t.Helper()
	get := func(path string) []byte {
		resp, err := http.Get("http://" + api + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, err)
		}
		return b
	}
	// Several cycles: sync.Pool contents survive one, objects with
	// finalizers (os.File, net.netFD) need a second.
	for range 4 {
		get("/debug/pprof/heap?gc=1")
	}
	var v struct {
		Memstats struct {
			HeapAlloc  int64
			StackInuse int64
		} `json:"memstats"`
	}
	if err := json.Unmarshal(get("/debug/vars"), &v); err != nil {
		t.Fatal(err)
	}
	return v.Memstats.HeapAlloc, v.Memstats.StackInuse
}

// saveProfiles writes the binary's heap and goroutine profiles under dir
// (SWITCHYARD_IDLE_PROFILE) for `go tool pprof`.
func saveProfiles(t testing.TB, api, dir, kind string) {
	for _, p := range []string{"heap", "goroutine"} {
		resp, err := http.Get("http://" + api + "/debug/pprof/" + p + "?gc=1")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := os.WriteFile(filepath.Join(dir, kind+"."+p+".pb.gz"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIdleCostMeasure prints CPU and memory per idle connection of every
// kind at SWITCHYARD_IDLE_N connections (each kind in a fresh process):
// RSS (what `make bench` compares) and live bytes (heap in use plus
// stacks after a forced collection: what the connections hold).
func TestIdleCostMeasure(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SWITCHYARD_IDLE_N"))
	if n <= 0 {
		t.Skip("set SWITCHYARD_IDLE_N to measure")
	}
	kinds := strings.Split(os.Getenv("SWITCHYARD_IDLE_KINDS"), ",")
	if kinds[0] == "" {
		kinds = []string{"sse", "ws", "tls", "h2"}
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			b := startIdleBackend(t)
			e, tc := startIdleProxy(t, b)
			pid := e.Proc.cmd.Process.Pid
			held := &idleConns{}
			defer held.Close()
			openMany(t, 20, kind, e.Addr("web"), tc, held)
			time.Sleep(time.Second)
			heap0, stack0 := liveBytes(t, e.Addr("traefik"))
			base := readUsage(t, pid)
			start := time.Now()
			openMany(t, n, kind, e.Addr("web"), tc, held)
			opened := time.Since(start)
			cpu, sw := idleCost(t, pid, 10*time.Second)
			after := readUsage(t, pid)
			heap1, stack1 := liveBytes(t, e.Addr("traefik"))
			if dir := os.Getenv("SWITCHYARD_IDLE_PROFILE"); dir != "" {
				saveProfiles(t, e.Addr("traefik"), dir, kind)
			}
			t.Logf("%s: %d held (opened in %v): %.2f ms CPU and %.0f context switches per idle second; %.1f KiB RSS per connection (%d → %d KiB); %.1f KiB live per connection (heap %.1f + stacks %.1f)",
				kind, n, opened.Round(time.Millisecond), float64(cpu.Microseconds())/10000, float64(sw)/10,
				float64(after.rssKiB-base.rssKiB)/float64(n), base.rssKiB, after.rssKiB,
				float64(heap1+stack1-heap0-stack0)/1024/float64(n), float64(heap1-heap0)/1024/float64(n), float64(stack1-stack0)/1024/float64(n))
		})
	}
}

// TestIdleLiveBytesPerConnection holds 300 idle connections of each kind
// in one binary and bounds what each holds: live heap plus goroutine
// stacks after forced collections (liveBytes), a measure that neither the
// collector's headroom nor the handshakes' garbage disturbs, so a few
// hundred connections give it within a fraction of a KiB. Measured at
// 2,000 (TestIdleCostMeasure): SSE 13.2 KiB, WebSocket 16.8, TLS after a
// request 4.3 (5.2 at 300: maps and the parker's tables amortize less),
// h2 26.2. The bounds leave 20–50 % of headroom; the issue's targets (RSS,
// `make bench`) are 16, 16 and 12 KiB, and the WebSocket one is not met
// yet (two goroutines per tunnel).
func TestIdleLiveBytesPerConnection(t *testing.T) {
	const n = 300
	bounds := []struct {
		kind string
		kib  float64
	}{{"sse", 16}, {"ws", 20}, {"tls", 8}, {"h2", 32}}
	b := startIdleBackend(t)
	e, tc := startIdleProxy(t, b)
	api := e.Addr("traefik")
	held := &idleConns{}
	defer held.Close()
	for _, k := range bounds {
		openMany(t, 10, k.kind, e.Addr("web"), tc, held) // warm up (pools, TLS)
	}
	time.Sleep(300 * time.Millisecond)
	for _, k := range bounds {
		heap0, stack0 := liveBytes(t, api)
		openMany(t, n, k.kind, e.Addr("web"), tc, held)
		// Streams go buffer-free after 200 ms of waiting, keep-alive
		// connections park after 1 s.
		time.Sleep(1500 * time.Millisecond)
		heap1, stack1 := liveBytes(t, api)
		per := float64(heap1+stack1-heap0-stack0) / 1024 / n
		t.Logf("%s: %.1f KiB live per idle connection (heap %.1f, stacks %.1f; bound %.0f)", k.kind, per,
			float64(heap1-heap0)/1024/n, float64(stack1-stack0)/1024/n, k.kib)
		if per > k.kib {
			t.Errorf("%s: %.1f KiB live per idle connection, bound %.0f KiB", k.kind, per, k.kib)
		}
	}
}
