package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// containsFold reports whether s contains sub, ignoring case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// requireMentions fails unless out mentions every word (case-insensitive).
func requireMentions(t *testing.T, what, out string, words ...string) {
	t.Helper()
	for _, w := range words {
		if !containsFold(out, w) {
			t.Errorf("%s: output does not mention %q:\n%s", what, w, out)
		}
	}
}

// requireNoPanic fails if the output shows a Go panic.
func requireNoPanic(t *testing.T, out string) {
	t.Helper()
	if strings.Contains(out, "panic:") || strings.Contains(out, "goroutine ") {
		t.Errorf("output shows a panic:\n%s", out)
	}
}

func TestBadStaticConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		ext   string
		text  string
		words []string // the message must mention each (plus the file path)
	}{
		{"unknown-nested-key-yaml", "yml", `
entryPoints:
  web:
    adrress: "127.0.0.1:1"
`, []string{"adrress"}},
		{"unknown-top-level-key-yaml", "yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
notAnOption:
  foo: bar
`, []string{"notAnOption"}},
		{"unknown-key-toml", "toml", `
[entryPoints]
  [entryPoints.web]
    address = "<% addr "web" %>"
[providers]
  [providers.file]
    filename = "x.yml"
    whatch = true
`, []string{"whatch"}},
		{"bad-duration", "yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
providers:
  providersThrottleDuration: 10xs
`, []string{"providersThrottleDuration"}},
		{"bad-duration-lifecycle", "yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
    transport:
      lifeCycle:
        graceTimeOut: soon
`, []string{"graceTimeOut"}},
		{"yaml-syntax-error", "yml", `
entryPoints:
  web:
    address: "<% addr "web" %>
`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			path := e.WriteStatic(tc.ext, tc.text)
			for _, args := range [][]string{
				{"--configFile=" + path},
				{"check", "--configFile=" + path},
			} {
				code, out := runCmd(t, e.Dir, nil, 10*time.Second, args...)
				if code == 0 {
					t.Errorf("switchyard %s: exit code 0, want non-zero\n%s", strings.Join(args, " "), out)
				}
				requireMentions(t, "switchyard "+strings.Join(args, " "), out, append([]string{path}, tc.words...)...)
				requireNoPanic(t, out)
			}
		})
	}
}

func TestBadStaticFlagsAndEnv(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		args  []string
		env   []string
		words []string
	}{
		{"unknown-flag", []string{"--entryPoints.web.adrress=127.0.0.1:1"}, nil, []string{"adrress"}},
		{"unknown-top-flag", []string{"--notAnOption=1"}, nil, []string{"notAnOption"}},
		{"bad-duration-flag", []string{"--entryPoints.web.address=127.0.0.1:1", "--entryPoints.web.transport.lifeCycle.graceTimeOut=abc"}, nil, []string{"graceTimeOut"}},
		{"unknown-env", nil, []string{"SWITCHYARD_ENTRYPOINTS_WEB_ADRRESS=127.0.0.1:1"}, []string{"adrress"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			code, out := runCmd(t, dir, tc.env, 10*time.Second, tc.args...)
			if code == 0 {
				t.Errorf("exit code 0, want non-zero\n%s", out)
			}
			requireMentions(t, tc.name, out, tc.words...)
			requireNoPanic(t, out)
		})
	}
}

// badDynamic is served alongside a good router; each bad object must be
// disabled with an error while the good router serves.
const badDynamic = `
http:
  routers:
    good:
      rule: "PathPrefix(` + "`/good`" + `)"
      service: good
    bad-rule-syntax:
      rule: "Host(` + "`example.com`" + `"
      service: good
    bad-rule-matcher:
      rule: "Hots(` + "`example.com`" + `)"
      service: good
    bad-rule-regexp:
      rule: "PathRegexp(` + "`/(unclosed`" + `)"
      service: good
    missing-service:
      rule: "PathPrefix(` + "`/missing-service`" + `)"
      service: does-not-exist
    missing-middleware:
      rule: "PathPrefix(` + "`/missing-middleware`" + `)"
      service: good
      middlewares:
        - no-such-middleware
    chain-loop:
      rule: "PathPrefix(` + "`/loop`" + `)"
      service: good
      middlewares:
        - loop-a
    chain-self:
      rule: "PathPrefix(` + "`/self`" + `)"
      service: good
      middlewares:
        - loop-self
    missing-entrypoint:
      entryPoints: [nowhere]
      rule: "PathPrefix(` + "`/nowhere`" + `)"
      service: good
    weighted-missing:
      rule: "PathPrefix(` + "`/weighted`" + `)"
      service: weighted-bad
    partial-entrypoints:
      entryPoints: [web, nowhere]
      rule: "PathPrefix(` + "`/partial`" + `)"
      service: good
  middlewares:
    loop-a:
      chain:
        middlewares: [loop-b]
    loop-b:
      chain:
        middlewares: [loop-a]
    loop-self:
      chain:
        middlewares: [loop-self]
  services:
    good:
      loadBalancer:
        servers:
          - url: "<% backend "good" %>"
    weighted-bad:
      weighted:
        services:
          - name: good
            weight: 1
          - name: not-there
            weight: 1
`

func TestBadDynamicObjectsAreIsolated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rendered := e.WriteDynamic("yml", badDynamic)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	names, err := dynamicRouterNames("yml", rendered)
	if err != nil {
		t.Fatal(err)
	}
	rd := e.WaitRouters(names...)
	e.WaitListening(e.Addr("web"))

	if r := do(t, request{url: e.URL("web") + "/good"}); r.Status != 200 || r.backend() != "good" {
		t.Errorf("GET /good: %d from %q, want 200 from good", r.Status, r.backend())
	}
	if r := rd.Routers["good@file"]; r.Status != "enabled" || len(r.Error) != 0 {
		t.Errorf("router good@file: status %q errors %v, want enabled without errors", r.Status, r.Error)
	}
	for _, bad := range []struct {
		router string
		words  []string // the error must mention each (case-insensitive)
		path   string   // a path that would match the bad router ("" = skip)
	}{
		{"bad-rule-syntax@file", nil, ""},
		{"bad-rule-matcher@file", []string{"Hots"}, ""},
		{"bad-rule-regexp@file", nil, ""},
		{"missing-service@file", []string{"does-not-exist"}, "/missing-service"},
		{"missing-middleware@file", []string{"no-such-middleware"}, "/missing-middleware"},
		{"chain-loop@file", nil, "/loop"},
		{"chain-self@file", nil, "/self"},
		{"missing-entrypoint@file", []string{"nowhere"}, ""},
		{"weighted-missing@file", nil, "/weighted"},
	} {
		r := rd.Routers[bad.router]
		if r.Status != "disabled" || len(r.Error) == 0 {
			t.Errorf("router %s: status %q errors %v, want disabled with an error", bad.router, r.Status, r.Error)
		}
		for _, w := range bad.words {
			if !containsFold(strings.Join(r.Error, " "), w) {
				t.Errorf("router %s: errors %v do not mention %q", bad.router, r.Error, w)
			}
		}
		if bad.path != "" {
			if rep := do(t, request{url: e.URL("web") + bad.path}); rep.Status != http.StatusNotFound {
				t.Errorf("GET %s (disabled router): status %d, want 404", bad.path, rep.Status)
			}
		}
	}
	// One known and one unknown entrypoint: a warning, not disabled, and it
	// serves on the known one.
	if r := rd.Routers["partial-entrypoints@file"]; r.Status != "warning" || !containsFold(strings.Join(r.Error, " "), "nowhere") ||
		strings.Join(r.Using, ",") != "web" {
		t.Errorf("router partial-entrypoints@file: status %q errors %v using %v; want warning, an error naming nowhere, using [web]", r.Status, r.Error, r.Using)
	}
	if rep := do(t, request{url: e.URL("web") + "/partial"}); rep.Status != 200 || rep.backend() != "good" {
		t.Errorf("GET /partial (router in warning): %d from %q, want 200 from good", rep.Status, rep.backend())
	}
	if s := rd.Services["weighted-bad@file"]; len(s.Error) == 0 {
		t.Errorf("service weighted-bad@file: status %q, no error for its missing child service", s.Status)
	}
	// The same status through the per-object endpoint.
	var one RouterInfo
	rep := do(t, request{url: e.URL("traefik") + "/api/http/routers/bad-rule-matcher@file"})
	if rep.Status != 200 {
		t.Errorf("GET /api/http/routers/bad-rule-matcher@file: %d", rep.Status)
	} else if err := jsonUnmarshal(rep.Body, &one); err != nil || one.Status != "disabled" || len(one.Error) == 0 {
		t.Errorf("GET /api/http/routers/bad-rule-matcher@file = %s, want status disabled with error", rep.Body)
	}
	for _, mw := range []string{"loop-a@file", "loop-self@file"} {
		if m := rd.Middlewares[mw]; len(m.Error) == 0 && len(rd.Routers["chain-loop@file"].Error) == 0 {
			t.Errorf("middleware %s: no error recorded for the chain loop (status %q)", mw, m.Status)
		}
	}
	// The overview counts the errors.
	var ov struct {
		HTTP struct {
			Routers struct{ Total, Errors int } `json:"routers"`
		} `json:"http"`
	}
	if err := jsonUnmarshal(do(t, request{url: e.URL("traefik") + "/api/overview"}).Body, &ov); err != nil {
		t.Errorf("overview: %v", err)
	} else if ov.HTTP.Routers.Errors < 7 {
		t.Errorf("overview http.routers.errors = %d, want >= 7", ov.HTTP.Routers.Errors)
	}
	requireNoPanic(t, e.Proc.Output())
	e.Proc.Stop()
}

func TestPortAlreadyTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().String()
	e := newEnv(t)
	e.WriteDynamic("yml", "http: {}\n")
	e.WriteStatic("yml", `
entryPoints:
  web:
    address: "`+taken+`"
  side:
    address: "<% addr "side" %>"
providers:
  file:
    filename: "<% dyn %>"
`)
	code, out := runCmd(t, e.Dir, nil, 15*time.Second, "--configFile="+e.StatPath)
	if code == 0 {
		t.Errorf("exit code 0 with the web port taken, want non-zero")
	}
	requireMentions(t, "port taken", out, "web", taken)
	requireNoPanic(t, out)
	if c, err := net.DialTimeout("tcp", e.Addr("side"), 200*time.Millisecond); err == nil {
		c.Close()
		t.Errorf("entrypoint side still listening after the failed start")
	}
}

func TestUnreadableDynamicFileAtStart(t *testing.T) {
	t.Parallel()
	type setup struct {
		name string
		make func(t *testing.T, path string)
	}
	setups := []setup{
		{"missing", func(*testing.T, string) {}},
		{"directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
	}
	if !isRoot() {
		setups = append(setups, setup{"no-permission", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("http: {}\n"), 0o000); err != nil {
				t.Fatal(err)
			}
		}})
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.DynPath = filepath.Join(e.Dir, "dynamic.yml")
			s.make(t, e.DynPath)
			e.WriteStatic("yml", staticYAML)
			// Either a clean refusal to start naming the file, or a running
			// instance that reports the file (Traefik keeps running).
			p := e.Start()
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) && !p.Exited() {
				if _, err := fetchRawdata(e.URL("traefik")); err == nil {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if p.Exited() {
				if code := p.Wait(time.Second); code == 0 {
					t.Errorf("exited with 0, want non-zero")
				}
			} else {
				e.waitFor(5*time.Second, "error naming the dynamic file logged", func() bool {
					return strings.Contains(p.Output(), e.DynPath)
				})
				p.Stop()
			}
			requireMentions(t, "unreadable file", p.Output(), e.DynPath)
			requireNoPanic(t, p.Output())

			code, out := runCmd(t, e.Dir, nil, 10*time.Second, "check", "--configFile="+e.StatPath)
			if code == 0 {
				t.Errorf("check: exit 0, want non-zero\n%s", out)
			}
			requireMentions(t, "check", out, e.DynPath)
		})
	}
}

// TestDynamicFileBecomesUnreadable removes the file and puts a directory in
// its place while running: the last good configuration keeps serving, and a
// good file brought back is loaded.
func TestDynamicFileBecomesUnreadable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := func(name string) string {
		return `
http:
  routers:
    ` + name + `:
      rule: "PathPrefix(` + "`/`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "` + name + `" %>"
`
	}
	e.WriteDynamic("yml", cfg("before"))
	e.WriteStatic("yml", staticYAML)
	e.Start()
	e.WaitRouters("before@file")
	e.WaitListening(e.Addr("web"))

	steps := []struct {
		name string
		do   func() error
	}{
		{"removed", func() error { return os.Remove(e.DynPath) }},
		{"directory", func() error { return os.Mkdir(e.DynPath, 0o755) }},
		{"directory removed", func() error { return os.Remove(e.DynPath) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		time.Sleep(400 * time.Millisecond)
		rd, err := fetchRawdata(e.URL("traefik"))
		if err != nil {
			t.Fatalf("after file %s: API: %v", s.name, err)
		}
		if _, ok := rd.Routers["before@file"]; !ok {
			t.Errorf("after file %s: router before@file gone from the API; the last good configuration must stay", s.name)
		}
		if r := do(t, request{url: e.URL("web") + "/"}); r.Status != 200 || r.backend() != "before" {
			t.Errorf("after file %s: GET / = %d from %q, want 200 from before", s.name, r.Status, r.backend())
		}
	}
	e.WriteDynamic("yml", cfg("after"))
	e.WaitRouters("after@file")
	if r := do(t, request{url: e.URL("web") + "/"}); r.backend() != "after" {
		t.Errorf("file restored: reply from %q, want after", r.backend())
	}
	requireNoPanic(t, e.Proc.Output())
	e.Proc.Stop()
}

func TestCheckCommand(t *testing.T) {
	t.Parallel()
	good := `
http:
  routers:
    app:
      rule: "Host(` + "`example.com`" + `)"
      service: app
      middlewares: [strip]
  middlewares:
    strip:
      stripPrefix:
        prefixes: ["/api"]
  services:
    app:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:1"
`
	// objectErr: errors of objects (rules, references) name the object;
	// decode errors must name the file.
	objectErr := map[string]bool{"bad-rule": true, "missing-service": true, "missing-middleware": true}
	cases := []struct {
		name   string
		ext    string
		dyn    string
		wantOK bool
		words  []string // the output must mention each (and, when failing, the file)
	}{
		{"good-yaml", "yml", good, true, []string{"OK"}},
		{"good-toml", "toml", `
[http.routers.app]
  rule = "PathPrefix(` + "`/`" + `)"
  service = "app"
[http.services.app.loadBalancer]
  [[http.services.app.loadBalancer.servers]]
    url = "http://127.0.0.1:1"
`, true, []string{"OK"}},
		{"yaml-syntax", "yml", "http:\n  routers:\n    app: [oops\n", false, nil},
		{"toml-syntax", "toml", "[http.routers.app\nrule = 1\n", false, nil},
		{"unknown-key", "yml", strings.Replace(good, "      rule:", "      rulez:", 1), false, []string{"rulez"}},
		{"bad-rule", "yml", strings.Replace(good, "Host(`example.com`)", "Host(`example.com`", 1), false, []string{"app"}},
		{"missing-service", "yml", strings.Replace(good, "      service: app", "      service: nope", 1), false, []string{"app", "nope"}},
		{"missing-middleware", "yml", strings.Replace(good, "middlewares: [strip]", "middlewares: [nope]", 1), false, []string{"nope"}},
		{"wrong-type", "yml", strings.Replace(good, "      loadBalancer:\n", "      loadBalancer:\n        passHostHeader: maybe\n", 1), false, []string{"passHostHeader"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.WriteDynamic(tc.ext, tc.dyn)
			e.WriteStatic("yml", `
entryPoints:
  web:
    address: "<% addr "web" %>"
providers:
  file:
    filename: "<% dyn %>"
`)
			code, out := runCmd(t, e.Dir, nil, 15*time.Second, "check", "--configFile="+e.StatPath)
			if tc.wantOK && code != 0 {
				t.Errorf("check on a good file: exit %d, want 0\n%s", code, out)
			}
			if !tc.wantOK {
				if code == 0 {
					t.Errorf("check on a bad file: exit 0, want non-zero\n%s", out)
				}
				if !strings.Contains(out, filepath.Base(e.DynPath)) && !objectErr[tc.name] {
					t.Errorf("check: output does not name the file %s:\n%s", e.DynPath, out)
				}
			}
			requireMentions(t, "check", out, tc.words...)
			requireNoPanic(t, out)
			// check serves nothing.
			if c, err := net.DialTimeout("tcp", e.Addr("web"), 100*time.Millisecond); err == nil {
				c.Close()
				t.Errorf("check left something listening on the web entrypoint")
			}
		})
	}
}

// TestVersionCommand: `switchyard version` prints the version and exits 0.
func TestVersionCommand(t *testing.T) {
	t.Parallel()
	code, out := runCmd(t, t.TempDir(), nil, 10*time.Second, "version")
	if code != 0 {
		t.Errorf("version: exit %d\n%s", code, out)
	}
	requireMentions(t, "version", out, "Version:")
}

func jsonUnmarshal(s string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("%w in %q", err, truncate(s, 200))
	}
	return nil
}
