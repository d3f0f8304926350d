package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// TestServicesWebSocketScale holds 1,000 WebSockets open at once through a
// two-server service, then echoes 10 MB messages.
func TestServicesWebSocketScale(t *testing.T) {
	t.Parallel()
	var ups [2]atomic.Int64
	backend := func(i int) string {
		return startHandler(t, websocket.Server{Handler: func(c *websocket.Conn) {
			ups[i].Add(1)
			c.MaxPayloadBytes = 16 << 20
			for {
				var msg []byte
				if err := websocket.Message.Receive(c, &msg); err != nil {
					return
				}
				if err := websocket.Message.Send(c, msg); err != nil {
					return
				}
			}
		}})
	}
	e := newEnv(t)
	e.SetURL("ws1", backend(0))
	e.SetURL("ws2", backend(1))
	e.WriteDynamic("yml", `
http:
  routers:
    ws: {rule: "PathPrefix(`+"`/`"+`)", service: ws}
  services:
    ws:
      loadBalancer:
        servers: [{url: "<% url "ws1" %>"}, {url: "<% url "ws2" %>"}]
`)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	e.WaitRouters("ws@file")
	e.WaitListening(e.Addr("web"))

	const sockets = 1000
	conns := make([]*websocket.Conn, sockets)
	var wg sync.WaitGroup
	errs := make(chan error, sockets)
	sem := make(chan struct{}, 50)
	for i := range sockets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			cfg, _ := websocket.NewConfig("ws://"+e.Addr("web")+"/ws", "http://localhost/")
			c, err := cfg.DialContext(context.Background())
			if err != nil {
				errs <- fmt.Errorf("dial %d: %w", i, err)
				return
			}
			_ = c.SetDeadline(time.Now().Add(60 * time.Second))
			msg := fmt.Sprintf("hello %d", i)
			var got string
			if err := websocket.Message.Send(c, msg); err != nil {
				errs <- err
				return
			}
			if err := websocket.Message.Receive(c, &got); err != nil || got != msg {
				errs <- fmt.Errorf("echo %d: %q %v", i, got, err)
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	if ups[0].Load()+ups[1].Load() != sockets || ups[0].Load() != ups[1].Load() {
		t.Errorf("upgrades per backend: %d, %d", ups[0].Load(), ups[1].Load())
	}
	// Every socket is still open: a second round trip on each.
	for i, c := range conns {
		if err := websocket.Message.Send(c, "again"); err != nil {
			t.Fatalf("socket %d closed: %v", i, err)
		}
	}
	for i, c := range conns {
		var got string
		if err := websocket.Message.Receive(c, &got); err != nil || got != "again" {
			t.Fatalf("socket %d: %q %v", i, got, err)
		}
	}
	big := make([]byte, 10<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	for _, c := range conns[:4] {
		c.MaxPayloadBytes = 16 << 20
		if err := websocket.Message.Send(c, big); err != nil {
			t.Fatal(err)
		}
		var got []byte
		if err := websocket.Message.Receive(c, &got); err != nil || string(got) != string(big) {
			t.Fatalf("10 MB echo: %v (len %d)", err, len(got))
		}
	}
}

// peakRSS is the process's peak resident set (VmHWM) in KiB, 0 when unknown.
func peakRSS(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestServicesLargeStreams streams 1 GiB down and 1 GiB up through a
// service; the proxy's peak memory stays flat.
func TestServicesLargeStreams(t *testing.T) {
	t.Parallel()
	const size = 1 << 30
	backend := startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			n, err := io.Copy(io.Discard, r.Body)
			fmt.Fprintf(w, "%d %v", n, err)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(size))
		buf := make([]byte, 256<<10)
		_, _ = io.CopyBuffer(w, io.LimitReader(zeros{}, size), buf)
	}))
	e := proxyTo(t, backend, "")
	// Warm up, then take the baseline.
	do(t, request{url: e.URL("web") + "/warm", method: "POST", body: "x"})
	base := peakRSS(e.Proc.cmd.Process.Pid)

	resp, err := client.Get(e.URL("web") + "/download")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.CopyBuffer(io.Discard, resp.Body, make([]byte, 256<<10))
	resp.Body.Close()
	if err != nil || n != size {
		t.Fatalf("download: %d bytes, %v", n, err)
	}

	req, _ := http.NewRequest(http.MethodPost, e.URL("web")+"/upload", io.LimitReader(zeros{}, size))
	req.ContentLength = size
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != fmt.Sprintf("%d <nil>", size) {
		t.Fatalf("upload: backend says %q", body)
	}
	if base > 0 {
		peak := peakRSS(e.Proc.cmd.Process.Pid)
		t.Logf("switchyard peak RSS: %d KiB before, %d KiB after 2 GiB streamed", base, peak)
		if peak-base > 64<<10 {
			t.Errorf("peak RSS grew by %d KiB while streaming", peak-base)
		}
	}
}

// TestServicesExpectContinue: a client waiting for 100 Continue gets it
// from the backend through the service, and the body arrives.
func TestServicesExpectContinue(t *testing.T) {
	t.Parallel()
	backend := startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Reject") != "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "got %d", len(b))
	}))
	e := proxyTo(t, backend, "")
	tr := &http.Transport{Proxy: nil, ExpectContinueTimeout: 5 * time.Second}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 20 * time.Second}

	req, _ := http.NewRequest(http.MethodPut, e.URL("web")+"/up", strings.NewReader(strings.Repeat("a", 100000)))
	req.Header.Set("Expect", "100-continue")
	start := time.Now()
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "got 100000" {
		t.Errorf("body %q", b)
	}
	t.Logf("100-continue upload took %v", time.Since(start))
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("client waited %v: 100 Continue not forwarded", d)
	}

	// A backend refusing before reading: the client never has to send the body.
	var sent atomic.Int64
	body := &countingReader{r: strings.NewReader(strings.Repeat("b", 1<<20)), n: &sent}
	req, _ = http.NewRequest(http.MethodPut, e.URL("web")+"/up", body)
	req.ContentLength = 1 << 20
	req.Header.Set("Expect", "100-continue")
	req.Header.Set("X-Reject", "1")
	start = time.Now()
	resp, err = cl.Do(req)
	t.Logf("refused upload answered in %v", time.Since(start))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	t.Logf("refused upload done in %v", time.Since(start))
	if resp.StatusCode != http.StatusUnauthorized || sent.Load() == 1<<20 {
		t.Errorf("refused upload: status %d, client sent %d bytes", resp.StatusCode, sent.Load())
	}
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestServicesPassiveHealth: a server failing on real traffic is ejected for
// the failure window (DOWN in the API) and then takes traffic again.
func TestServicesPassiveHealth(t *testing.T) {
	t.Parallel()
	var failing atomic.Bool
	failing.Store(true)
	bad := startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "Name: passive-bad\n")
	}))
	e := newEnv(t)
	e.SetURL("bad", bad)
	e.WriteDynamic("yml", `
http:
  routers:
    app: {rule: "PathPrefix(`+"`/`"+`)", service: app}
  services:
    app:
      loadBalancer:
        passiveHealthCheck: {failureWindow: 1s, maxFailedAttempts: 3}
        servers:
          - url: "<% backend "passive-good" %>"
          - url: "<% url "bad" %>"
`)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	e.WaitRouters("app@file")
	e.WaitListening(e.Addr("web"))

	got := count(t, e.URL("web")+"/", 6, 1, nil)
	if got["500"] != 3 {
		t.Errorf("before ejection: %v", got)
	}
	waitServerStatus(t, e, "app@file", bad, "DOWN")
	if got := count(t, e.URL("web")+"/", 20, 1, nil); got["passive-good"] != 20 {
		t.Errorf("while ejected: %v", got)
	}
	failing.Store(false)
	waitServerStatus(t, e, "app@file", bad, "UP")
	if got := count(t, e.URL("web")+"/", 20, 1, nil); got["passive-bad"] != 10 {
		t.Errorf("after the window: %v", got)
	}
}
