package integration

import (
	"crypto/tls"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestHTTP2 checks h2 over TLS and h2c (prior knowledge and upgrade) on one
// entrypoint with curl and h2load when installed, and that
// http2.maxConcurrentStreams reaches the SETTINGS frame.
func TestHTTP2(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca := newCA(t, "h2 CA")
	c, k := ca.issue(t, "h2.test", []string{"h2.test"}, false)
	writePair(t, e.Dir, "h2", c, k)
	writeFile(t, e.Dir, "ca.pem", ca.PEM)
	e.SetURL("back", startWhoami(t, "h2-backend"))
	e.DynPath = e.Dir + "/dynamic.yml"
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
    http2:
      maxConcurrentStreams: 7
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
http:
  routers:
    secure:
      entryPoints: [web]
      rule: "Host(`+"`h2.test`"+`)"
      service: back
      tls: {}
    plain:
      entryPoints: [web]
      rule: "PathPrefix(`+"`/`"+`)"
      service: back
  services:
    back:
      loadBalancer:
        servers:
          - url: "<% url "back" %>"
tls:
  certificates:
    - certFile: "<% dir %>/h2.crt"
      keyFile: "<% dir %>/h2.key"
`)
	e.Start()
	e.WaitRouters("secure@file", "plain@file")
	e.WaitListening(e.Addr("web"))
	port := fmt.Sprint(e.Port("web"))

	t.Run("SETTINGS carries maxConcurrentStreams", func(t *testing.T) {
		conn, err := tlsDial(e.Addr("web"), &tls.Config{ServerName: "h2.test", RootCAs: ca.pool(), NextProtos: []string{"h2"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
			t.Fatalf("ALPN %q", p)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
			t.Fatal(err)
		}
		fr := http2.NewFramer(conn, conn)
		if err := fr.WriteSettings(); err != nil {
			t.Fatal(err)
		}
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		sf, ok := f.(*http2.SettingsFrame)
		if !ok {
			t.Fatalf("first frame %T", f)
		}
		v, ok := sf.Value(http2.SettingMaxConcurrentStreams)
		if !ok || v != 7 {
			t.Fatalf("SETTINGS_MAX_CONCURRENT_STREAMS = %d (%v), want 7", v, ok)
		}
	})

	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	curl := func(args ...string) string {
		t.Helper()
		base := []string{"-s", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", "--max-time", "10"}
		out, err := exec.Command("curl", append(base, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v %s", args, err, out)
		}
		return string(out)
	}
	resolve := "h2.test:" + port + ":127.0.0.1"
	if got := curl("--http2", "--cacert", e.Dir+"/ca.pem", "--resolve", resolve, "https://h2.test:"+port+"/"); got != "200 2" {
		t.Errorf("curl --http2 over TLS: %q", got)
	}
	if got := curl("--http2-prior-knowledge", "http://"+e.Addr("web")+"/"); got != "200 2" {
		t.Errorf("curl --http2-prior-knowledge: %q", got)
	}
	if got := curl("--http2", "http://"+e.Addr("web")+"/"); got != "200 2" {
		t.Errorf("curl --http2 (h2c upgrade): %q", got)
	}
	if got := curl("--http1.1", "http://"+e.Addr("web")+"/"); got != "200 1.1" {
		t.Errorf("curl --http1.1: %q", got)
	}

	if _, err := exec.LookPath("h2load"); err != nil {
		t.Log("h2load not installed: skipped")
		return
	}
	out, err := exec.Command("h2load", "-n", "200", "-c", "4", "-m", "4", "https://127.0.0.1:"+port+"/",
		"-H", ":authority: h2.test").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "200 succeeded") {
		t.Fatalf("h2load: %v\n%s", err, out[max(0, len(out)-600):])
	}
}
