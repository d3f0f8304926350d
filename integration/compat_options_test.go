package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
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
