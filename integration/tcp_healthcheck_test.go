package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// startTCPChecked starts a backend that answers the health check line
// "PING" with "PONG" while healthy (and "NOPE" otherwise), and any other
// first line with "name|<line>".
func startTCPChecked(t testing.TB, name string, healthy *atomic.Bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil && err != io.EOF {
					return
				}
				line = strings.TrimSpace(line)
				switch {
				case line == "PING" && healthy.Load():
					io.WriteString(c, "PONG")
				case line == "PING":
					io.WriteString(c, "NOPE")
				default:
					fmt.Fprintf(c, "%s|%s", name, line)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestTCPHealthCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var aUp, bUp atomic.Bool
	aUp.Store(true)
	bUp.Store(true)
	addrA := startTCPChecked(t, "a", &aUp)
	addrB := startTCPChecked(t, "b", &bUp)
	e.SetURL("a", addrA)
	e.SetURL("b", addrB)
	e.DynPath = e.Dir + "/dynamic.yml"
	e.WriteStatic("yml", `
entryPoints:
  tcp:
    address: "<% addr "tcp" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.WriteDynamic("yml", `
tcp:
  routers:
    r:
      entryPoints: [tcp]
      rule: "HostSNI(`+"`*`"+`)"
      service: s
  services:
    s:
      loadBalancer:
        servers:
          - address: "<% url "a" %>"
          - address: "<% url "b" %>"
        healthCheck:
          send: "PING\n"
          expect: "PONG"
          interval: 200ms
          unhealthyInterval: 100ms
          timeout: 1s
`)
	p := e.Start()
	defer p.Stop()
	e.WaitListening(e.Addr("tcp"))

	status := func() map[string]string {
		var svc struct {
			ServerStatus map[string]string `json:"serverStatus"`
		}
		if err := getJSON(e.URL("traefik")+"/api/tcp/services/s@file", &svc); err != nil {
			return nil
		}
		return svc.ServerStatus
	}
	hits := func(n int) map[string]int {
		out := map[string]int{}
		for range n {
			c, err := net.Dial("tcp", e.Addr("tcp"))
			if err != nil {
				out["err"]++
				continue
			}
			got, _ := tcpExchange(c, "hello\n")
			c.Close()
			name, _, _ := strings.Cut(got, "|")
			out[name]++
		}
		return out
	}
	e.waitFor(20*time.Second, "both servers UP in the API", func() bool {
		st := status()
		return st[addrA] == "UP" && st[addrB] == "UP"
	})
	if h := hits(6); h["a"] == 0 || h["b"] == 0 {
		t.Fatalf("both healthy: want traffic on a and b, got %v", h)
	}

	// b fails its check: it must leave the pool within a few intervals.
	bUp.Store(false)
	start := time.Now()
	e.waitFor(10*time.Second, "b DOWN in the API", func() bool { return status()[addrB] == "DOWN" })
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("b marked down after %v, want within ~interval+timeout", d)
	}
	if h := hits(8); h["a"] != 8 {
		t.Fatalf("b down: want all 8 connections on a, got %v (API %v)", h, status())
	}
	if st := status(); st[addrA] != "UP" {
		t.Fatalf("a should stay UP: %v", st)
	}

	// b recovers: back in the pool.
	bUp.Store(true)
	e.waitFor(10*time.Second, "b UP again", func() bool { return status()[addrB] == "UP" })
	if h := hits(6); h["b"] == 0 {
		t.Fatalf("b recovered: want traffic on b again, got %v", h)
	}
}
