package integration

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSecretsNeverShown (issue 13, must-hold 8): basic-auth and digest-auth
// hashes, an Authorization header, a Redis password, a forwardAuth TLS key,
// a health-check credential and a TLS private key given inline never appear
// in any API answer nor in the logs (at DEBUG), even when the objects that
// hold them fail to build. The API shows "<redacted>" in their place.
func TestSecretsNeverShown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca := newCA(t, "secrets CA")
	certPEM, keyPEM := ca.issue(t, "secret.example.com", []string{"secret.example.com"}, false)
	indent := func(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n          ") }
	secrets := []string{
		"W6ph5Mm5Pz8GgiULbPgzG37mj9g=",                    // basicAuth users hash
		"5d41402abc4b2a76b9719d911017c592",                // digestAuth users hash
		"sekrit-bearer-1",                                 // Authorization request header
		"sekrit-redis-2",                                  // rateLimit redis password
		"sekrit-fwd-key-3",                                // forwardAuth tls.key
		"c2Vrcml0LWhjLTQ=",                                // health check Authorization
		"sekrit-plugin-5",                                 // a plugin's apiKey
		strings.Split(strings.TrimSpace(keyPEM), "\n")[1], // the TLS private key
		"sekrit-url-6",                                    // the password of a server URL
	}
	e.DynPath = filepath.Join(e.Dir, "dynamic.yml")
	e.WriteStatic("yml", staticYAML+`
accessLog:
  format: json
metrics:
  prometheus: {}
`)
	backendURL := strings.Replace(e.Backend("app"), "http://", "http://user:sekrit-url-6@", 1)
	e.WriteDynamic("yml", `
http:
  routers:
    creds:
      rule: "PathPrefix(`+"`/creds`"+`)"
      service: creds
    app:
      rule: "PathPrefix(`+"`/`"+`)"
      service: app
      middlewares: [basic, digest, hdr]
    limited:
      rule: "PathPrefix(`+"`/limited`"+`)"
      service: app
      middlewares: [limit, fwd]
  middlewares:
    basic:
      basicAuth:
        users: ["alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="]
    digest:
      digestAuth:
        users: ["bob:traefik:5d41402abc4b2a76b9719d911017c592"]
    hdr:
      headers:
        customRequestHeaders:
          Authorization: "Bearer sekrit-bearer-1"
          X-Plain: "visible-value"
    limit:
      rateLimit:
        average: 10
        redis:
          endpoints: ["127.0.0.1:1"]
          password: "sekrit-redis-2"
    fwd:
      forwardAuth:
        address: "http://127.0.0.1:1/auth"
        tls:
          key: "sekrit-fwd-key-3"
          cert: "not-a-cert"
  services:
    creds:
      loadBalancer:
        healthCheck:
          path: /
          interval: 100ms
        servers:
          - url: "`+backendURL+`"
    app:
      loadBalancer:
        healthCheck:
          path: /health
          interval: 1h
          headers:
            Authorization: "Basic c2Vrcml0LWhjLTQ="
        servers:
          - url: "<% backend "app" %>"
tls:
  certificates:
    - certFile: |
          `+indent(certPEM)+`
      keyFile: |
          `+indent(keyPEM)+`
`)
	e.Start()
	e.WaitRouters("app@file", "limited@file")
	base := e.URL("traefik") + "/api"
	var answers strings.Builder
	for _, p := range []string{"/rawdata", "/overview", "/entrypoints", "/entrypoints/web", "/version",
		"/http/routers", "/http/routers/app@file", "/http/services", "/http/services/app@file",
		"/http/middlewares", "/http/middlewares/basic@file", "/http/middlewares/digest@file",
		"/http/middlewares/hdr@file", "/http/middlewares/limit@file", "/http/middlewares/fwd@file",
		"/http/services/creds@file",
		"/tls/certificates", "/tcp/routers", "/tcp/services", "/udp/services"} {
		rep := do(t, request{url: base + p})
		if rep.Status != 200 {
			t.Errorf("GET %s: %d %s", p, rep.Status, rep.Body)
		}
		fmt.Fprintf(&answers, "GET %s\n%s\n", p, rep.Body)
	}
	out := answers.String()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("secret %q in the API:\n%s", s, out)
		}
	}
	// Prometheus labels a server's health by its URL.
	e.waitFor(10*time.Second, "the server of creds in the metrics", func() bool {
		rep, err := tryDo(request{url: e.URL("traefik") + "/metrics"})
		if err == nil && strings.Contains(rep.Body, `service="creds@file"`) {
			out += rep.Body
			return true
		}
		return false
	})
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("secret %q in the metrics", s)
		}
	}
	// A users entry is redacted whole (user and hash), as Traefik v1 did.
	for _, want := range []string{`"<redacted>"`, "visible-value", "/health"} {
		if !strings.Contains(out, want) {
			t.Errorf("%s missing from the API (redaction too broad?)", want)
		}
	}
	// Requests through the chain (401s, errors) are logged too.
	do(t, request{url: e.URL("web") + "/"})
	do(t, request{url: e.URL("web") + "/limited"})
	if rep := do(t, request{url: e.URL("web") + "/creds"}); rep.Status != 200 {
		t.Errorf("a server URL with credentials: %d", rep.Status)
	}
	e.waitFor(10*time.Second, "the access log line of /creds", func() bool {
		return strings.Contains(e.Proc.Output(), `"RequestPath":"/creds"`)
	})
	logs := e.Proc.Output()
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("secret %q in the logs", s)
		}
	}
	if !strings.Contains(logs, "fwd@file") {
		t.Errorf("the broken forwardAuth is not logged:\n%s", tail(logs, 3000))
	}
}

// TestAPINotOnPublicEntrypoint (issue 13, must-hold 8), as in Traefik: the
// API and dashboard are served only on the "traefik" entrypoint when
// api.insecure is set, or through a router to api@internal; never on a
// public entrypoint by default, and without insecure no "traefik"
// entrypoint (:8080) is opened at all.
func TestAPINotOnPublicEntrypoint(t *testing.T) {
	t.Parallel()
	check := func(e *Env, url string, want int) {
		t.Helper()
		rep := do(t, request{url: url})
		if rep.Status != want {
			t.Errorf("GET %s = %d, want %d", url, rep.Status, want)
		}
	}
	t.Run("api without insecure", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.DynPath = filepath.Join(e.Dir, "dynamic.yml")
		e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
api:
  dashboard: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
		e.WriteDynamic("yml", `
http:
  routers:
    app:
      rule: "PathPrefix(`+"`/app`"+`)"
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "app" %>"
`)
		e.Start()
		e.waitFor(10e9, "app served", func() bool {
			rep, err := tryDo(request{url: e.URL("web") + "/app"})
			return err == nil && rep.Status == 200
		})
		for _, p := range []string{"/api/rawdata", "/api/overview", "/dashboard/", "/api/http/routers"} {
			check(e, e.URL("web")+p, 404)
		}
		if ports := listeningPorts(t, e.Proc.cmd.Process.Pid); len(ports) != 1 || ports[0] != e.Port("web") {
			t.Errorf("listening on %v, want only the web entrypoint %d (no traefik entrypoint without api.insecure)", ports, e.Port("web"))
		}
	})
	t.Run("ping on the traefik entrypoint, api without insecure", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.DynPath = filepath.Join(e.Dir, "dynamic.yml")
		e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  dashboard: true
ping: {}
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
		e.WriteDynamic("yml", "http: {}\n")
		e.Start()
		e.waitFor(10e9, "ping served", func() bool {
			rep, err := tryDo(request{url: e.URL("traefik") + "/ping"})
			return err == nil && rep.Status == 200
		})
		for _, p := range []string{"/api/rawdata", "/dashboard/"} {
			check(e, e.URL("traefik")+p, 404)
			check(e, e.URL("web")+p, 404)
		}
	})
	t.Run("api through a router", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.DynPath = filepath.Join(e.Dir, "dynamic.yml")
		e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
  admin:
    address: "<% addr "admin" %>"
api:
  dashboard: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`)
		e.WriteDynamic("yml", `
http:
  routers:
    dashboard:
      entryPoints: [admin]
      rule: "PathPrefix(`+"`/api`"+`) || PathPrefix(`+"`/dashboard`"+`)"
      service: api@internal
`)
		e.Start()
		e.waitFor(10e9, "API on the admin entrypoint", func() bool {
			rep, err := tryDo(request{url: e.URL("admin") + "/api/rawdata"})
			return err == nil && rep.Status == 200
		})
		check(e, e.URL("admin")+"/dashboard/", 200)
		check(e, e.URL("web")+"/api/rawdata", 404)
		check(e, e.URL("web")+"/dashboard/", 404)
	})
	t.Run("api insecure", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.DynPath = filepath.Join(e.Dir, "dynamic.yml")
		e.WriteStatic("yml", staticYAML)
		e.WriteDynamic("yml", "http: {}\n")
		e.Start()
		e.WaitRouters()
		check(e, e.URL("traefik")+"/api/overview", 200)
		check(e, e.URL("web")+"/api/overview", 404)
		check(e, e.URL("web")+"/dashboard/", 404)
	})
}

// listeningPorts lists the TCP ports pid listens on (its socket inodes
// matched against /proc/net/tcp{,6}).
func listeningPorts(t *testing.T, pid int) []int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("cannot read the process's fds: %v", err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", pid), fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	var ports []int
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || fs[3] != "0A" || !inodes[fs[9]] { // 0A: LISTEN
				continue
			}
			_, hexPort, _ := strings.Cut(fs[1], ":")
			if p, err := strconv.ParseInt(hexPort, 16, 32); err == nil {
				ports = append(ports, int(p))
			}
		}
		fh.Close()
	}
	return ports
}
