package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/websocket"

	"github.com/switchyard-proxy/switchyard/internal/whoami"
)

// TestHotSwap rewrites the dynamic file 100 times under the load of 50
// keep-alive clients and checks that no request fails and that every reply
// comes from a route that existed when it was served.
func TestHotSwap(t *testing.T) {
	t.Parallel()
	const (
		generations = 100
		clients     = 50
	)
	e := newEnv(t)

	// One backend per generation, so a reply names the generation that
	// served it, and one stable backend.
	stable := e.Backend("stable")
	genURL := make([]string, generations)
	for i := range generations {
		genURL[i] = e.Backend(fmt.Sprintf("gen-%d", i))
	}

	broken := func(i int) bool { return i%10 == 5 }
	// extras(i): extra routers of generation i — one added and one removed
	// per generation.
	extras := func(i int) []int {
		var out []int
		for k := max(0, i-2); k <= i; k++ {
			out = append(out, k)
		}
		return out
	}
	config := func(i int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "# generation %d\nhttp:\n  routers:\n", i)
		fmt.Fprintf(&b, "    stable:\n      rule: \"PathPrefix(`/stable`)\"\n      service: stable\n")
		fmt.Fprintf(&b, "    gen-%d:\n      rule: \"Path(`/gen`)\"\n      service: svc-%d\n", i, i)
		for _, k := range extras(i) {
			fmt.Fprintf(&b, "    extra-%d:\n      rule: \"Path(`/extra/%d`)\"\n      service: svc-%d\n", k, k, i)
		}
		fmt.Fprintf(&b, "  services:\n")
		fmt.Fprintf(&b, "    stable:\n      loadBalancer:\n        servers:\n          - url: %q\n", stable)
		fmt.Fprintf(&b, "    svc-%d:\n      loadBalancer:\n        servers:\n          - url: %q\n", i, genURL[i])
		return b.String()
	}
	brokenConfigs := []string{
		"http:\n  routers:\n    broken: [unclosed\n",                                    // YAML syntax error
		"\x00\x01\x02 not yaml at all \xff\xfe",                                         // garbage bytes
		"http:\n  routers:\n    r:\n      rulez: \"Path(`/x`)\"\n      service: nope\n", // unknown key
		"http:\n\trouters: {}\n",                                                        // tab indentation
	}
	wantRouters := func(i int) []string {
		names := []string{"stable@file", fmt.Sprintf("gen-%d@file", i)}
		for _, k := range extras(i) {
			names = append(names, fmt.Sprintf("extra-%d@file", k))
		}
		slices.Sort(names)
		return names
	}
	fileRouters := func(rd *Rawdata) []string {
		var names []string
		for n := range rd.Routers {
			if strings.HasSuffix(n, "@file") {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		return names
	}

	e.DynPath = e.Dir + "/dynamic.yml"
	writeAtomic(t, e.DynPath, []byte(config(0)))
	e.WriteStatic("yml", staticYAML)
	e.Start()
	e.WaitRouters(wantRouters(0)...)
	e.WaitListening(e.Addr("web"))

	// Times, as seen by the test, of each generation's write and of the
	// moment the API confirmed it (zero for broken ones).
	var (
		timesMu   sync.Mutex
		written   = make([]time.Time, generations)
		confirmed = make([]time.Time, generations)
	)
	written[0], confirmed[0] = time.Now(), time.Now()

	type sample struct {
		path       string
		start, end time.Time
		status     int
		backend    string
		err        error
	}
	var (
		samplesMu sync.Mutex
		samples   []sample
		dials     atomic.Int64
		requests  atomic.Int64
	)
	ctx, stop := context.WithTimeout(context.Background(), 90*time.Second)
	defer stop()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{
				Proxy:               nil,
				MaxIdleConnsPerHost: 1,
				MaxConnsPerHost:     1,
				DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					dials.Add(1)
					return (&net.Dialer{}).DialContext(ctx, network, addr)
				},
			}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			var local []sample
			for n := 0; ctx.Err() == nil; n++ {
				path := "/gen"
				if (n+c)%2 == 0 {
					path = "/stable/x"
				}
				s := sample{path: path, start: time.Now()}
				resp, err := hc.Get(e.URL("web") + path)
				if err == nil {
					body, rerr := io.ReadAll(resp.Body)
					resp.Body.Close()
					s.status, s.backend, s.err = resp.StatusCode, backendName(string(body)), rerr
				} else {
					s.err = err
				}
				s.end = time.Now()
				requests.Add(1)
				local = append(local, s)
				time.Sleep(2 * time.Millisecond)
			}
			samplesMu.Lock()
			samples = append(samples, local...)
			samplesMu.Unlock()
		}()
	}

	// The writer: 100 generations, every 10th (5, 15, …) broken, written
	// alternately by rename and by in-place truncate-and-write.
	writeInPlace := func(data []byte) {
		f, err := os.OpenFile(e.DynPath, os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			t.Error(err)
			return
		}
		if _, err := f.Write(data); err != nil {
			t.Error(err)
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	}
	lastValid := 0
	var writerErr error
	for i := 1; i < generations && writerErr == nil; i++ {
		var data []byte
		if broken(i) {
			data = []byte(brokenConfigs[(i/10)%len(brokenConfigs)])
		} else {
			data = []byte(config(i))
		}
		inPlace := (i/2)%2 == 1 // pairs alternate so broken ones see both styles
		timesMu.Lock()
		written[i] = time.Now()
		timesMu.Unlock()
		if inPlace {
			writeInPlace(data)
		} else {
			writeAtomic(t, e.DynPath, data)
		}
		if broken(i) {
			// Give the watcher time to see the broken file, then verify
			// the previous generation still serves.
			time.Sleep(300 * time.Millisecond)
			rd, err := fetchRawdata(e.URL("traefik"))
			if err != nil {
				writerErr = fmt.Errorf("after broken generation %d: API: %w", i, err)
				break
			}
			if got, want := fileRouters(rd), wantRouters(lastValid); !slices.Equal(got, want) {
				writerErr = fmt.Errorf("after broken generation %d (inPlace=%v): API routers %v, want generation %d's %v", i, inPlace, got, lastValid, want)
				break
			}
			if r, err := tryDo(request{url: e.URL("web") + "/gen"}); err != nil || r.Status != 200 || r.backend() != fmt.Sprintf("gen-%d", lastValid) {
				writerErr = fmt.Errorf("after broken generation %d: GET /gen = %+v, %v; want 200 from gen-%d", i, r.Status, err, lastValid)
				break
			}
			continue
		}
		deadline := time.Now().Add(5 * time.Second)
		want := wantRouters(i)
		for {
			rd, err := fetchRawdata(e.URL("traefik"))
			if err == nil && slices.Equal(fileRouters(rd), want) {
				break
			}
			if time.Now().After(deadline) {
				got := []string{}
				if rd != nil {
					got = fileRouters(rd)
				}
				writerErr = fmt.Errorf("generation %d (inPlace=%v) not applied after 5s: API routers %v (err %v), want %v", i, inPlace, got, err, want)
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		timesMu.Lock()
		confirmed[i] = time.Now()
		timesMu.Unlock()
		lastValid = i
	}
	stop()
	wg.Wait()
	if writerErr != nil {
		t.Error(writerErr)
	}

	// nextValid[k] is the first valid generation after k.
	nextValid := make([]int, generations)
	next := -1
	for i := generations - 1; i >= 0; i-- {
		nextValid[i] = next
		if !broken(i) {
			next = i
		}
	}
	var failures []string
	fail := func(format string, args ...any) {
		if len(failures) < 30 {
			failures = append(failures, fmt.Sprintf(format, args...))
		} else if len(failures) == 30 {
			failures = append(failures, "… (more)")
		}
	}
	counts := map[string]int{}
	byGen := map[int]int{}
	for _, s := range samples {
		switch {
		case s.err != nil:
			counts["transport error"]++
			fail("%s at +%v: %v", s.path, s.start.Sub(written[0]), s.err)
			continue
		case s.status != http.StatusOK:
			counts[fmt.Sprintf("status %d", s.status)]++
			fail("%s at +%v: status %d (backend %q)", s.path, s.start.Sub(written[0]), s.status, s.backend)
			continue
		}
		if s.path != "/gen" {
			if s.backend != "stable" {
				counts["stable route: wrong backend"]++
				fail("%s: reply from %q, want stable", s.path, s.backend)
			}
			continue
		}
		var k int
		if _, err := fmt.Sscanf(s.backend, "gen-%d", &k); err != nil || k < 0 || k >= generations || broken(k) {
			counts["/gen: unknown backend"]++
			fail("/gen: reply from %q", s.backend)
			continue
		}
		byGen[k]++
		if written[k].After(s.end) {
			counts["/gen: generation from the future"]++
			fail("/gen [%v, %v]: served by gen-%d written at %v", s.start.Sub(written[0]), s.end.Sub(written[0]), k, written[k].Sub(written[0]))
		}
		if nv := nextValid[k]; nv > 0 && !confirmed[nv].IsZero() && confirmed[nv].Before(s.start) {
			counts["/gen: stale generation"]++
			fail("/gen started at %v: served by gen-%d although gen-%d was live since %v", s.start.Sub(written[0]), k, nv, confirmed[nv].Sub(written[0]))
		}
	}
	t.Logf("%d requests by %d clients over %d generations (%d distinct generations served /gen), %d connections dialled",
		len(samples), clients, generations, len(byGen), dials.Load())
	if len(counts) > 0 {
		t.Errorf("failed or wrong replies by kind: %v\nfirst ones:\n  %s", counts, strings.Join(failures, "\n  "))
	}
	if len(samples) < clients*20 {
		t.Errorf("only %d requests made; the load was not sustained", len(samples))
	}
	if d := dials.Load(); d > int64(clients)+10 {
		t.Errorf("%d connections dialled by %d keep-alive clients: reloads closed client connections", d, clients)
	}
	e.Proc.Stop()
}

// backend is the whoami name of a reply.
func (r Reply) backend() string { return backendName(r.Body) }

// TestReloadKeepsInFlight removes a route while a slow request and a
// WebSocket on it are open: both finish normally on the configuration they
// started with, and new requests see the new configuration.
func TestReloadKeepsInFlight(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.Handle("/ws", websocket.Handler(func(c *websocket.Conn) {
		for {
			var msg string
			if err := websocket.Message.Receive(c, &msg); err != nil {
				return
			}
			if err := websocket.Message.Send(c, msg); err != nil {
				return
			}
		}
	}))
	mux.Handle("/", whoami.New("old"))
	e := newEnv(t)
	e.SetURL("old", startHandler(t, mux))
	oldCfg := `
http:
  routers:
    old:
      rule: "PathPrefix(` + "`/`" + `)"
      service: old
  services:
    old:
      loadBalancer:
        servers:
          - url: "<% url "old" %>"
`
	newCfg := `
http:
  routers:
    new:
      rule: "PathPrefix(` + "`/new`" + `)"
      service: new
  services:
    new:
      loadBalancer:
        servers:
          - url: "<% backend "new" %>"
`
	e.WriteDynamic("yml", oldCfg)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	e.WaitRouters("old@file")
	e.WaitListening(e.Addr("web"))

	ws, err := websocket.Dial("ws://"+e.Addr("web")+"/ws", "", "http://localhost/")
	if err != nil {
		t.Fatalf("websocket through the proxy: %v", err)
	}
	defer ws.Close()
	_ = ws.SetDeadline(time.Now().Add(20 * time.Second))
	slow := make(chan Reply, 1)
	go func() {
		r, err := tryDo(request{url: e.URL("web") + "/slow?wait=1500ms"})
		if err != nil {
			r.Body = err.Error()
		}
		slow <- r
	}()
	time.Sleep(200 * time.Millisecond) // let the slow request reach the backend

	e.WriteDynamic("yml", newCfg)
	e.WaitAPI(5*time.Second, "old@file replaced by new@file", func(rd *Rawdata) bool {
		_, o := rd.Routers["old@file"]
		_, n := rd.Routers["new@file"]
		return n && !o
	})
	if r := do(t, request{url: e.URL("web") + "/slow"}); r.Status != http.StatusNotFound {
		t.Errorf("new request to the removed route: %d, want 404", r.Status)
	}
	if r := do(t, request{url: e.URL("web") + "/new"}); r.backend() != "new" {
		t.Errorf("new route: reply from %q, want new", r.backend())
	}
	for i := range 5 {
		msg := fmt.Sprintf("after reload %d", i)
		var got string
		if err := websocket.Message.Send(ws, msg); err != nil {
			t.Fatalf("websocket send after the reload: %v", err)
		}
		if err := websocket.Message.Receive(ws, &got); err != nil || got != msg {
			t.Fatalf("websocket echo after the reload: %q, %v", got, err)
		}
	}
	select {
	case r := <-slow:
		if r.Status != 200 || r.backend() != "old" {
			t.Errorf("request in flight across the reload: %d from %q (%s), want 200 from old", r.Status, r.backend(), truncate(r.Body, 200))
		}
	case <-time.After(10 * time.Second):
		t.Errorf("request in flight across the reload never finished")
	}
	ws.Close()
	e.Proc.Stop()
}
