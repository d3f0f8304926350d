package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowEnv starts the binary with small responding timeouts in front of a
// backend that can stream a large body (/big) and echo (/echo).
func slowEnv(t *testing.T, timeouts string, backendWriteFailed chan<- struct{}) *Env {
	t.Helper()
	e := newEnv(t)
	e.SetURL("target", startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			chunk := []byte(strings.Repeat("z", 64<<10))
			for range 1024 { // 64 MiB
				if _, err := w.Write(chunk); err != nil {
					if backendWriteFailed != nil {
						backendWriteFailed <- struct{}{}
					}
					return
				}
			}
		default:
			b, err := io.ReadAll(r.Body)
			if err != nil {
				w.WriteHeader(499)
			}
			fmt.Fprintf(w, "len=%d", len(b))
		}
	})))
	e.WriteDynamic("yml", tunnelDynamic)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
    transport:
      respondingTimeouts:
`+timeouts+`
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("app@file")
	return e
}

// readUntilEnd reads c until it ends and says how long that took.
func readUntilEnd(c net.Conn, within time.Duration) (string, time.Duration, error) {
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(within))
	b, err := io.ReadAll(c)
	if isTimeoutErr(err) {
		return string(b), time.Since(start), err
	}
	return string(b), time.Since(start), nil
}

// TestSlowClientsBounded: slowloris, slow bodies, slow readers and clients
// that never send are all cut by respondingTimeouts.
func TestSlowClientsBounded(t *testing.T) {
	t.Parallel()
	backendFailed := make(chan struct{}, 4)
	e := slowEnv(t, "        readTimeout: 2s\n        writeTimeout: 3s\n        idleTimeout: 2s", backendFailed)
	addr := e.Addr("web")

	t.Run("slowloris", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		go func() {
			// One header byte every 300 ms, forever.
			for _, b := range []byte("GET /echo HTTP/1.1\r\nHost: a\r\nX-Slow: " + strings.Repeat("s", 200)) {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(300 * time.Millisecond)
			}
		}()
		out, _, err := readUntilEnd(c, 15*time.Second)
		if err != nil {
			t.Fatalf("slowloris connection not closed: %v", err)
		}
		if d := time.Since(start); d < 1500*time.Millisecond || d > 10*time.Second {
			t.Errorf("closed after %v, want about readTimeout (2s)", d)
		}
		if !strings.HasPrefix(out, "HTTP/1.1 408") {
			t.Errorf("answer %q, want 408", trunc(out, 80))
		}
	})

	t.Run("slow-body", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		_, _ = io.WriteString(c, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n")
		go func() {
			for range 1000 {
				if _, err := c.Write([]byte{'b'}); err != nil {
					return
				}
				time.Sleep(300 * time.Millisecond)
			}
		}()
		out, _, err := readUntilEnd(c, 15*time.Second)
		if err != nil {
			t.Fatalf("slow body connection not closed: %v", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("closed after %v, want about readTimeout (2s)", d)
		}
		if strings.HasPrefix(out, "HTTP/1.1 2") {
			t.Errorf("a body cut by readTimeout was answered %q", trunc(out, 80))
		}
	})

	t.Run("slow-reader", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
		time.Sleep(5 * time.Second) // never read while writeTimeout (3s) passes
		out, _, err := readUntilEnd(c, 20*time.Second)
		if err != nil {
			t.Fatalf("slow reader's connection not closed: %v (read %d bytes)", err, len(out))
		}
		if len(out) >= 64<<20 {
			t.Errorf("the whole 64 MiB body arrived to a reader slower than writeTimeout")
		}
		select {
		case <-backendFailed:
		case <-time.After(15 * time.Second):
			t.Error("the backend stayed pinned writing to a client that left")
		}
	})

	t.Run("never-send", func(t *testing.T) {
		const n = 200
		conns := make([]net.Conn, 0, n)
		for range n {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		start := time.Now()
		for i, c := range conns {
			if _, _, err := readUntilEnd(c, 20*time.Second-time.Since(start)); err != nil {
				t.Fatalf("connection %d that never sent is still open after %v", i, time.Since(start))
			}
		}
	})

	t.Run("idle-keepalive", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		br := bufio.NewReader(c)
		if resp, _ := rawRound(t, c, br, "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n"); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		start := time.Now()
		_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
		if _, err := br.ReadByte(); err == nil || isTimeoutErr(err) {
			t.Fatalf("idle connection not closed: %v", err)
		}
		if d := time.Since(start); d < 1500*time.Millisecond {
			t.Errorf("closed after %v idle, before idleTimeout (2s)", d)
		}
	})
}

// TestServesUnderSlowlorisLoad: while 2,000 connections sit idle or send a
// header byte now and then, a normal client is served with a p99 that
// stays within 10x the unloaded one (or under 500 ms).
func TestServesUnderSlowlorisLoad(t *testing.T) {
	t.Parallel()
	e := slowEnv(t, "        readTimeout: 60s", nil)
	addr := e.Addr("web")
	hc := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}, Timeout: 10 * time.Second}
	measure := func(n int) []time.Duration {
		var lat []time.Duration
		for i := range n {
			start := time.Now()
			resp, err := hc.Get("http://" + addr + "/echo")
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("request %d: %d", i, resp.StatusCode)
			}
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		return lat
	}
	p99 := func(l []time.Duration) time.Duration { return l[len(l)*99/100] }
	base := p99(measure(300))

	const idle, slow = 1000, 1000
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range idle + slow {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		if i >= idle {
			_, _ = io.WriteString(c, "GET /echo HTTP/1.1\r\nHost: a\r\n")
		}
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a header byte per slowloris connection every second
		defer wg.Done()
		for !stop.Load() {
			for _, c := range conns[idle:] {
				_, _ = c.Write([]byte("X"))
			}
			time.Sleep(time.Second)
		}
	}()
	time.Sleep(500 * time.Millisecond)
	loaded := p99(measure(300))
	stop.Store(true)
	wg.Wait()
	t.Logf("p99 unloaded %v, with %d idle and %d slowloris connections %v", base, idle, slow, loaded)
	if loaded > 10*base && loaded > 500*time.Millisecond {
		t.Errorf("p99 %v under load, unloaded %v", loaded, base)
	}
}
