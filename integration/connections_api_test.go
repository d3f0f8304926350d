package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// epConnections is the Switchyard extension of /api/entrypoints/{name}.
type epConnections struct {
	Name        string `json:"name"`
	Connections *struct {
		Total      int            `json:"total"`
		ByState    map[string]int `json:"byState"`
		ByProtocol map[string]int `json:"byProtocol"`
	} `json:"connections"`
}

// TestEntryPointConnectionsAPI holds idle, active, tunnel, HTTP/2,
// TCP-router and unclassified connections through the binary and reads
// their counts by state and protocol from /api/entrypoints.
func TestEntryPointConnectionsAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	release := make(chan struct{})
	var once sync.Once
	releaseOnce := func() { once.Do(func() { close(release) }) }
	t.Cleanup(releaseOnce)
	tunnelURL, _ := tunnelBackend(t)
	e.SetURL("tunnel", tunnelURL)
	e.SetURL("slow", startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		_, _ = io.WriteString(w, "ok")
	})))
	// A TCP backend that echoes until the client goes.
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
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	e.SetURL("echo", ln.Addr().String())

	e.DynPath = e.Dir + "/dynamic.yml"
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  tcp:
    address: "<% addr "tcp" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
metrics:
  prometheus: {}
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.WriteDynamic("yml", `
http:
  routers:
    ws:
      entryPoints: [web]
      rule: "PathPrefix(`+"`/ws`"+`)"
      service: tunnel
    app:
      entryPoints: [web]
      rule: "PathPrefix(`+"`/`"+`)"
      service: slow
  services:
    tunnel:
      loadBalancer:
        servers:
          - url: "<% url "tunnel" %>"
    slow:
      loadBalancer:
        servers:
          - url: "<% url "slow" %>"
tcp:
  routers:
    echo:
      entryPoints: [tcp]
      rule: "HostSNI(`+"`*`"+`)"
      service: echo
  services:
    echo:
      loadBalancer:
        servers:
          - address: "<% url "echo" %>"
`)
	e.Start()
	e.WaitRouters("ws@file", "app@file")
	// The TCP router is in once a connection is echoed.
	e.waitFor(10*time.Second, "TCP router echo", func() bool {
		c, err := net.Dial("tcp", e.Addr("tcp"))
		if err != nil {
			return false
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		_, _ = io.WriteString(c, "x")
		b := make([]byte, 1)
		_, err = io.ReadFull(c, b)
		return err == nil
	})
	web := e.Addr("web")

	var held []net.Conn
	dial := func(addr string) net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		held = append(held, c)
		return c
	}
	get := func(c net.Conn, br *bufio.Reader, path string) {
		t.Helper()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		_ = c.SetDeadline(time.Time{})
	}
	// 3 idle keep-alive connections after one request each.
	for range 3 {
		c := dial(web)
		get(c, bufio.NewReader(c), "/")
	}
	// 2 active: a request the backend holds.
	for range 2 {
		c := dial(web)
		fmt.Fprintf(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	// 1 tunnel.
	tc, tbr := openTunnel(t, web)
	if err := echoOnce(tc, tbr, "hello"); err != nil {
		t.Fatal(err)
	}
	// 1 HTTP/2 (h2c with prior knowledge), idle after a request.
	h2c := dial(web)
	cc, err := (&http2.Transport{AllowHTTP: true}).NewClientConn(h2c) //nolint:staticcheck // holds one given connection, which http.Transport cannot
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	resp, err := cc.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// 1 connection that sent nothing yet: being classified.
	dial(web)
	// 2 TCP-router connections, data echoed.
	for range 2 {
		c := dial(e.Addr("tcp"))
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.WriteString(c, "ping")
		b := make([]byte, 4)
		if _, err := io.ReadFull(c, b); err != nil || string(b) != "ping" {
			t.Fatalf("tcp echo: %q %v", b, err)
		}
	}

	api := "http://" + e.Addr("traefik") + "/api/entrypoints/"
	read := func(name string) epConnections {
		t.Helper()
		var ep epConnections
		resp, err := http.Get(api + name)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&ep); err != nil {
			t.Fatal(err)
		}
		if ep.Connections == nil {
			t.Fatalf("%s: no connections field", name)
		}
		return ep
	}
	want := map[string]int{"idle": 4, "active": 2, "tunnel": 1, "new": 1}
	wantProto := map[string]int{"http1": 6, "http2": 1, "unknown": 1}
	var last epConnections
	e.waitFor(20*time.Second, "web connection counts", func() bool {
		last = read("web")
		c := last.Connections
		if c.Total != 8 {
			return false
		}
		for k, n := range want {
			if c.ByState[k] != n {
				return false
			}
		}
		for k, n := range wantProto {
			if c.ByProtocol[k] != n {
				return false
			}
		}
		return true
	})
	// The same counts as a Prometheus gauge, read at scrape time.
	e.waitFor(10*time.Second, "switchyard_entrypoint_connections", func() bool {
		resp, err := http.Get(e.URL("traefik") + "/metrics")
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := string(b)
		for _, line := range []string{
			`switchyard_entrypoint_connections{entrypoint="web",protocol="http1",state="idle"} 3`,
			`switchyard_entrypoint_connections{entrypoint="web",protocol="http1",state="active"} 2`,
			`switchyard_entrypoint_connections{entrypoint="web",protocol="http1",state="tunnel"} 1`,
			`switchyard_entrypoint_connections{entrypoint="web",protocol="http2",state="idle"} 1`,
			`switchyard_entrypoint_connections{entrypoint="tcp",protocol="tcp",state="tcp"} 2`,
		} {
			if !strings.Contains(m, line) {
				return false
			}
		}
		return true
	})
	tcp := read("tcp").Connections
	if tcp.Total != 2 || tcp.ByState["tcp"] != 2 || tcp.ByProtocol["tcp"] != 2 {
		t.Fatalf("tcp entrypoint: %+v", tcp)
	}
	// The list carries them too, and every state and protocol is named.
	resp, err = http.Get(strings.TrimSuffix(api, "/"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, k := range []string{`"connections"`, `"byState"`, `"draining"`, `"byProtocol"`, `"tcp"`} {
		if !strings.Contains(string(body), k) {
			t.Fatalf("/api/entrypoints lacks %s: %s", k, body)
		}
	}
	// Released and closed: back to zero.
	releaseOnce()
	_ = cc.Close()
	_ = tc.Close()
	for _, c := range held {
		_ = c.Close()
	}
	e.waitFor(20*time.Second, "counts back to zero once the clients left", func() bool {
		return read("web").Connections.Total == 0 && read("tcp").Connections.Total == 0
	})
	t.Logf("web: %+v", *last.Connections)
}
