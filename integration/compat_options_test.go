package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAPIDebug: api.debug serves expvar under /debug/vars and the Go
// profiler under /debug/pprof/ on the API's entrypoint, as Traefik.
func TestAPIDebug(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.WriteDynamic("yml", "http: {}\n")
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
  debug: true
providers:
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("debug@internal")
	get := func(path string) (int, string) {
		resp, err := http.Get(e.URL("traefik") + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("/debug/vars")
	var vars map[string]json.RawMessage
	if code != 200 || json.Unmarshal([]byte(body), &vars) != nil || vars["memstats"] == nil || vars["cmdline"] == nil {
		t.Errorf("/debug/vars: %d, want 200 and expvar's JSON with memstats and cmdline:\n%.300s", code, body)
	}
	if code, body := get("/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("/debug/pprof/: %d, want 200 and the profile index:\n%.300s", code, body)
	}
	if code, body := get("/debug/pprof/goroutine?debug=1"); code != 200 || !strings.Contains(body, "goroutine profile") {
		t.Errorf("/debug/pprof/goroutine: %d, want the goroutine profile:\n%.300s", code, body)
	}
	// The API itself is still served by api@internal.
	if code, _ := get("/api/overview"); code != 200 {
		t.Errorf("/api/overview: %d", code)
	}
}

// TestEncodeQuerySemicolons: by default a ';' in the query reaches the
// backend as '&' (Traefik's AllowQuerySemicolons); with
// http.encodeQuerySemicolons it arrives encoded, "%3B".
func TestEncodeQuerySemicolons(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.SetURL("echo", startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.RequestURI)
	})))
	e.WriteDynamic("yml", `
http:
  routers:
    echo:
      rule: "PathPrefix(`+"`/`"+`)"
      service: echo
  services:
    echo:
      loadBalancer:
        servers:
          - url: "<% url "echo" %>"
`)
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  enc:
    address: "<% addr "enc" %>"
    http:
      encodeQuerySemicolons: true
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("echo@file")
	for ep, want := range map[string]string{"web": "/q?a=b&c=d", "enc": "/q?a=b%3Bc=d"} {
		resp, err := http.Get(e.URL(ep) + "/q?a=b;c=d")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("entrypoint %s: backend got %q, want %q", ep, b, want)
		}
	}
}

// TestLogRotation: log.maxSize rotates log.filePath (here at start: the
// file left by a previous run is already past 1 MB), maxBackups and
// compress as Traefik's (a gzipped backup).
func TestLogRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	logPath := filepath.Join(e.Dir, "logs", "switchyard.log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logPath, bytes.Repeat([]byte("old line of a previous run\n"), 40000), 0o600); err != nil { // 1.08 MB
		t.Fatal(err)
	}
	e.WriteDynamic("yml", "http: {}\n")
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
log:
  level: INFO
  filePath: "`+logPath+`"
  maxSize: 1
  maxBackups: 1
  compress: true
providers:
  file:
    filename: "<% dyn %>"
`)
	e.Start()
	e.WaitRouters("api@internal")
	e.waitFor(20*time.Second, "a gzipped backup next to a fresh log naming the configuration", func() bool {
		cur, err := os.ReadFile(logPath)
		if err != nil || len(cur) > 1<<20 || !strings.Contains(string(cur), "configuration loaded") {
			return false
		}
		gz, _ := filepath.Glob(filepath.Join(filepath.Dir(logPath), "switchyard-*.log.gz"))
		return len(gz) == 1
	})
}

// TestTraefikConfigFileDiscovery: with no --configFile, a traefik.yml in
// the working directory (one of Traefik's places) is loaded and the log
// names it; a switchyard.yml in $HOME/.config wins over it (Switchyard's
// own names come first).
func TestTraefikConfigFileDiscovery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.WriteDynamic("yml", "http: {}\n")
	static := func(ep string) string {
		return e.render("static", `
log:
  level: INFO
entryPoints:
  web:
    address: "<% addr "`+ep+`" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  file:
    filename: "<% dyn %>"
`)
	}
	traefikYML := filepath.Join(e.Dir, "traefik.yml")
	if err := os.WriteFile(traefikYML, []byte(static("web")), 0o644); err != nil {
		t.Fatal(err)
	}
	p := e.StartRaw(nil)
	e.WaitRouters("api@internal")
	e.waitFor(10*time.Second, "the log naming traefik.yml", func() bool {
		return strings.Contains(p.Output(), "configuration loaded") && strings.Contains(p.Output(), traefikYML)
	})
	p.Stop()

	own := filepath.Join(e.Dir, ".config", "switchyard.yml")
	if err := os.MkdirAll(filepath.Dir(own), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(own, []byte(static("web2")), 0o644); err != nil {
		t.Fatal(err)
	}
	p = e.StartRaw(nil)
	e.WaitListening(e.Addr("web2"))
	e.waitFor(10*time.Second, "the log naming switchyard.yml", func() bool {
		return strings.Contains(p.Output(), own)
	})
}
