package integration

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"
)

// TestHTTP3ConnectionsRegistry: HTTP/3 connections are in the entrypoint's
// registry (API and gauge: protocol http3, idle after a request, active
// while one runs); on SIGTERM every connection left is shown draining, an
// idle HTTP/3 client goes on GOAWAY, and a request that outlives
// graceTimeOut is cut then, not before.
func TestHTTP3ConnectionsRegistry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca := newCA(t, "h3 CA")
	c, k := ca.issue(t, "h3.test", []string{"h3.test"}, false)
	writePair(t, e.Dir, "h3", c, k)
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	slow := make(chan struct{}, 4)
	e.SetURL("back", startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			slow <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		_, _ = io.WriteString(w, "ok")
	})))
	e.DynPath = e.Dir + "/dynamic.yml"
	// The API's entrypoint keeps accepting for a while after SIGTERM, so
	// that the drain of websecure can be watched.
	e.WriteStatic("yml", `
entryPoints:
  websecure:
    address: "<% addr "websecure" %>"
    http3: {}
    transport:
      lifeCycle:
        graceTimeOut: 8s
  traefik:
    address: "<% addr "traefik" %>"
    transport:
      lifeCycle:
        requestAcceptGraceTimeout: 12s
        graceTimeOut: 1s
api:
  insecure: true
metrics:
  prometheus: {}
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
	e.WriteDynamic("yml", dynH3)
	e.Start()
	e.WaitRouters("app@file")
	e.WaitListening(e.Addr("websecure"))
	addr := e.Addr("websecure")

	newH3 := func() (h3Client, *http3.Transport) {
		tr := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool(), ServerName: "h3.test"}}
		t.Cleanup(func() { tr.Close() })
		return h3Client{&http.Client{Transport: tr, Timeout: 30 * time.Second}, "h3.test"}, tr
	}
	// One idle QUIC connection after a request, one with a request held.
	idle, _ := newH3()
	resp, err := idle.Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	busy, _ := newH3()
	type result struct {
		err error
		at  time.Time
	}
	busyDone := make(chan result, 1)
	go func() {
		resp, err := busy.Get("https://" + addr + "/slow")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		busyDone <- result{err, time.Now()}
	}()
	// And an HTTP/1.1 request over TLS, held too.
	h1 := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool(), ServerName: "h3.test"}, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
	t.Cleanup(h1.CloseIdleConnections)
	h1Done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/slow", nil)
		req.Host = "h3.test"
		resp, err := h1.RoundTrip(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		h1Done <- err
	}()
	for range 2 {
		select {
		case <-slow:
		case <-time.After(20 * time.Second):
			t.Fatal("held requests never reached the backend")
		}
	}

	read := func() (epConnections, bool) {
		var ep epConnections
		resp, err := http.Get(e.URL("traefik") + "/api/entrypoints/websecure")
		if err != nil {
			return ep, false
		}
		defer resp.Body.Close()
		return ep, json.NewDecoder(resp.Body).Decode(&ep) == nil && ep.Connections != nil
	}
	gauge := func(lines ...string) bool {
		resp, err := http.Get(e.URL("traefik") + "/metrics")
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, l := range lines {
			if !strings.Contains(string(b), l) {
				return false
			}
		}
		return true
	}
	var last epConnections
	e.waitFor(20*time.Second, "http3 connections in the API", func() bool {
		ep, ok := read()
		last = ep
		if !ok {
			return false
		}
		c := ep.Connections
		return c.ByProtocol["http3"] == 2 && c.ByProtocol["http1"] == 1 && c.ByState["active"] == 2 && c.ByState["idle"] == 1
	})
	t.Logf("before SIGTERM: %+v", *last.Connections)
	e.waitFor(10*time.Second, "http3 connections in the gauge", func() bool {
		return gauge(`switchyard_entrypoint_connections{entrypoint="websecure",protocol="http3",state="active"} 1`,
			`switchyard_entrypoint_connections{entrypoint="websecure",protocol="http3",state="idle"} 1`)
	})

	term := time.Now()
	e.Proc.Signal(syscall.SIGTERM)
	// The idle QUIC client closes on GOAWAY; the two held requests drain.
	e.waitFor(7*time.Second, "held connections draining", func() bool {
		ep, ok := read()
		last = ep
		if !ok {
			return false
		}
		c := ep.Connections
		return c.Total == 2 && c.ByState["draining"] == 2 && c.ByProtocol["http3"] == 1 && c.ByProtocol["http1"] == 1
	})
	t.Logf("draining: %+v", *last.Connections)
	if !gauge(`switchyard_entrypoint_connections{entrypoint="websecure",protocol="http3",state="draining"} 1`,
		`switchyard_entrypoint_connections{entrypoint="websecure",protocol="http1",state="draining"} 1`) {
		t.Error("gauge does not show the draining connections")
	}
	// graceTimeOut (8s) ends the drain: the held HTTP/3 request is cut
	// then, not before.
	select {
	case r := <-busyDone:
		took := r.at.Sub(term)
		if r.err == nil {
			t.Fatal("held HTTP/3 request completed: it should have been cut at graceTimeOut")
		}
		if took < 7500*time.Millisecond || took > 20*time.Second {
			t.Fatalf("held HTTP/3 request cut %v after SIGTERM, want about graceTimeOut (8s): %v", took, r.err)
		}
		t.Logf("held HTTP/3 request cut %v after SIGTERM: %v", took.Round(time.Millisecond), r.err)
	case <-time.After(30 * time.Second):
		t.Fatal("held HTTP/3 request not cut by graceTimeOut")
	}
	if err := <-h1Done; err == nil {
		t.Error("held HTTP/1.1 request completed: it should have been cut at graceTimeOut")
	}
	for i := 0; i < 300 && !e.Proc.Exited(); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if !e.Proc.Exited() {
		e.Proc.Signal(syscall.SIGQUIT) // its goroutines in the output below
		e.Proc.Wait(10 * time.Second)
		t.Fatal("switchyard did not exit within 30 s of the end of graceTimeOut")
	}
}
