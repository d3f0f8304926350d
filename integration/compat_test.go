package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"gopkg.in/yaml.v3"
)

// The Traefik compatibility set: each case is a static + dynamic
// configuration written the way Traefik's reference documentation writes
// them, plus requests and the HTTP results Traefik documents for them.

// staticYAML is the static configuration most cases share: one "web"
// entrypoint, the insecure API on its own entrypoint (for readiness polling)
// and the file provider watching the dynamic file.
const staticYAML = `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"

api:
  insecure: true

log:
  level: DEBUG

providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
    watch: true
`

// staticTwoEntryPoints adds a second entrypoint "other".
const staticTwoEntryPoints = `
entryPoints:
  web:
    address: "<% addr "web" %>"
  other:
    address: "<% addr "other" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`

// staticTOML is staticYAML in TOML.
const staticTOML = `
[entryPoints]
  [entryPoints.web]
    address = "<% addr "web" %>"
  [entryPoints.traefik]
    address = "<% addr "traefik" %>"

[api]
  insecure = true

[log]
  level = "DEBUG"

[providers]
  providersThrottleDuration = "10ms"
  [providers.file]
    filename = "<% dyn %>"
    watch = true
`

// check is one request and what its reply must be.
type check struct {
	ep      string // entrypoint to send to (default "web")
	method  string
	path    string // path and query
	host    string
	header  map[string]string
	body    string
	status  int    // 0 means 200
	backend string // whoami name the reply must come from ("" = not checked, "-" = no whoami reply)
	// contains are substrings the body must contain; absent ones it must not.
	contains, absent []string
	// respHeader are response headers that must have exactly this value;
	// "" means the header must be absent.
	respHeader map[string]string
	fn         func(t *testing.T, e *Env, r Reply)
}

type compatCase struct {
	name      string
	static    string // default staticYAML
	staticExt string // default "yml"
	dynamic   string
	dynExt    string // default "yml"
	apiEP     string // entrypoint serving /api/rawdata (default "traefik")
	checks    []check
	extra     func(t *testing.T, e *Env)
}

// echo decodes a whoami /api JSON reply.
type echo struct {
	Name    string              `json:"name"`
	Host    string              `json:"host"`
	Method  string              `json:"method"`
	URL     string              `json:"url"`
	Path    string              `json:"path"`
	Proto   string              `json:"proto"`
	Headers map[string][]string `json:"headers"`
}

func decodeEcho(t *testing.T, r Reply) echo {
	t.Helper()
	var e echo
	if err := json.Unmarshal([]byte(r.Body), &e); err != nil {
		t.Fatalf("reply is not a whoami /api echo: %v\n%s", err, r.Body)
	}
	return e
}

func (e echo) header(k string) string {
	v := e.Headers[http.CanonicalHeaderKey(k)]
	return strings.Join(v, ", ")
}

// countBackends sends n GETs to url and counts replies per backend name.
func countBackends(t *testing.T, url, host string, n int) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for range n {
		r := do(t, request{url: url, host: host})
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: status %d, body %q", url, r.Status, r.Body)
		}
		counts[backendName(r.Body)]++
	}
	return counts
}

func within(got, want, tol int) bool { return got >= want-tol && got <= want+tol }

var compatCases = []compatCase{
	{
		name: "host",
		dynamic: `
http:
  routers:
    my-router:
      rule: "Host(` + "`example.com`" + `)"
      service: my-service
  services:
    my-service:
      loadBalancer:
        servers:
          - url: "<% backend "host-a" %>"
`,
		checks: []check{
			{path: "/", host: "example.com", backend: "host-a"},
			{path: "/some/path?x=1", host: "example.com", backend: "host-a", contains: []string{"GET /some/path?x=1 HTTP/1.1"}},
			{path: "/", host: "example.org", status: 404, backend: "-"},
			{path: "/", host: "sub.example.com", status: 404, backend: "-"},
		},
	},
	{
		name: "host-with-port-in-request",
		dynamic: `
http:
  routers:
    my-router:
      rule: "Host(` + "`example.com`" + `)"
      service: my-service
  services:
    my-service:
      loadBalancer:
        servers:
          - url: "<% backend "hostport" %>"
`,
		checks: []check{
			{path: "/", host: "example.com:8000", backend: "hostport"},
			{path: "/", host: "example.com:80", backend: "hostport"},
			{path: "/", host: "example.net:8000", status: 404},
		},
	},
	{
		name: "host-case-insensitive",
		dynamic: `
http:
  routers:
    lower:
      rule: "Host(` + "`example.com`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "hostcase" %>"
`,
		checks: []check{
			{path: "/", host: "EXAMPLE.COM", backend: "hostcase"},
			{path: "/", host: "ExAmPlE.cOm:81", backend: "hostcase"},
		},
	},
	{
		name: "host-or-host",
		dynamic: `
http:
  routers:
    two-hosts:
      rule: "Host(` + "`a.example.com`" + `) || Host(` + "`b.example.com`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "twohosts" %>"
`,
		checks: []check{
			{path: "/", host: "a.example.com", backend: "twohosts"},
			{path: "/", host: "b.example.com", backend: "twohosts"},
			{path: "/", host: "c.example.com", status: 404},
		},
	},
	{
		name: "hostregexp",
		dynamic: `
http:
  routers:
    sub:
      rule: "HostRegexp(` + "`^[a-z]+\\\\.example\\\\.com$`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "hostre" %>"
`,
		checks: []check{
			{path: "/", host: "api.example.com", backend: "hostre"},
			{path: "/", host: "api.example.com:9999", backend: "hostre"},
			{path: "/", host: "example.com", status: 404},
			{path: "/", host: "a1.example.com", status: 404},
		},
	},
	{
		name:   "hostregexp-case-insensitive-flag-toml",
		dynExt: "toml",
		dynamic: `
[http.routers]
  [http.routers.either]
    rule = "HostRegexp(` + "`(?i)^example\\\\.(com|org)$`" + `)"
    service = "svc"

[http.services]
  [http.services.svc.loadBalancer]
    [[http.services.svc.loadBalancer.servers]]
      url = "<% backend "hostre-toml" %>"
`,
		checks: []check{
			{path: "/", host: "example.org", backend: "hostre-toml"},
			{path: "/", host: "Example.COM", backend: "hostre-toml"},
			{path: "/", host: "example.net", status: 404},
		},
	},
	{
		name: "path-exact",
		dynamic: `
http:
  routers:
    products:
      rule: "Path(` + "`/products`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "path" %>"
`,
		checks: []check{
			{path: "/products", backend: "path"},
			{path: "/products?color=red", backend: "path"},
			{path: "/products/", status: 404},
			{path: "/products/shoes", status: 404},
			{path: "/product", status: 404},
		},
	},
	{
		name: "pathprefix",
		dynamic: `
http:
  routers:
    products:
      rule: "PathPrefix(` + "`/products`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "prefix" %>"
`,
		checks: []check{
			{path: "/products", backend: "prefix"},
			{path: "/products/", backend: "prefix"},
			{path: "/products/shoes", backend: "prefix"},
			{path: "/products-for-sale", backend: "prefix"},
			{path: "/product", status: 404},
			{path: "/", status: 404},
		},
	},
	{
		name: "path-vs-pathprefix-longer-rule-wins",
		dynamic: `
http:
  routers:
    exact:
      rule: "Path(` + "`/products`" + `)"
      service: exact
    prefix:
      rule: "PathPrefix(` + "`/products`" + `)"
      service: prefix
  services:
    exact:
      loadBalancer:
        servers:
          - url: "<% backend "pvp-exact" %>"
    prefix:
      loadBalancer:
        servers:
          - url: "<% backend "pvp-prefix" %>"
`,
		// PathPrefix(`/products`) is 6 characters longer, so it has the
		// higher default priority and wins even on the exact path.
		checks: []check{
			{path: "/products", backend: "pvp-prefix"},
			{path: "/products/x", backend: "pvp-prefix"},
		},
	},
	{
		name: "pathregexp",
		dynamic: `
http:
  routers:
    ids:
      rule: "PathRegexp(` + "`^/products/(shoes|socks)/[0-9]+$`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "pathre" %>"
`,
		checks: []check{
			{path: "/products/shoes/31", backend: "pathre"},
			{path: "/products/socks/7", backend: "pathre"},
			{path: "/products/hats/1", status: 404},
			{path: "/products/shoes/x", status: 404},
		},
	},
	{
		name:   "pathregexp-unanchored-toml",
		dynExt: "toml",
		dynamic: `
[http.routers.images]
  rule = "PathRegexp(` + "`\\\\.(jpeg|jpg|png)$`" + `)"
  service = "images"

[http.services.images.loadBalancer]
  [[http.services.images.loadBalancer.servers]]
    url = "<% backend "images" %>"
`,
		checks: []check{
			{path: "/a/b/cat.png", backend: "images"},
			{path: "/dog.jpeg", backend: "images"},
			{path: "/dog.gif", status: 404},
		},
	},
	{
		name: "method",
		dynamic: `
http:
  routers:
    posts:
      rule: "Method(` + "`POST`" + `)"
      service: svc
    options:
      rule: "Method(` + "`OPTIONS`" + `) && Path(` + "`/opt`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "method" %>"
`,
		checks: []check{
			{method: "POST", path: "/x", body: "hello", backend: "method", contains: []string{"POST /x HTTP/1.1"}},
			{method: "OPTIONS", path: "/opt", backend: "method"},
			{method: "GET", path: "/x", status: 404},
			{method: "PUT", path: "/x", status: 404},
		},
	},
	{
		name: "header",
		dynamic: `
http:
  routers:
    yaml-only:
      rule: "Header(` + "`Content-Type`, `application/yaml`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "header" %>"
`,
		checks: []check{
			{path: "/", header: map[string]string{"Content-Type": "application/yaml"}, backend: "header"},
			{path: "/", header: map[string]string{"Content-Type": "application/json"}, status: 404},
			{path: "/", status: 404},
		},
	},
	{
		name: "headerregexp",
		dynamic: `
http:
  routers:
    json-or-yaml:
      rule: "HeaderRegexp(` + "`Content-Type`, `^application/(json|yaml)$`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "headerre" %>"
`,
		checks: []check{
			{path: "/", header: map[string]string{"Content-Type": "application/json"}, backend: "headerre"},
			{path: "/", header: map[string]string{"Content-Type": "application/yaml"}, backend: "headerre"},
			{path: "/", header: map[string]string{"Content-Type": "application/xml"}, status: 404},
			{path: "/", header: map[string]string{"Content-Type": "application/jsonx"}, status: 404},
		},
	},
	{
		name: "query-key-value",
		dynamic: `
http:
  routers:
    mobile:
      rule: "Query(` + "`mobile`, `true`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "query" %>"
`,
		checks: []check{
			{path: "/search?mobile=true", backend: "query"},
			{path: "/search?q=x&mobile=true", backend: "query"},
			{path: "/search?mobile=false", status: 404},
			{path: "/search", status: 404},
		},
	},
	{
		name: "query-key-only",
		dynamic: `
http:
  routers:
    mobile:
      rule: "Query(` + "`mobile`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "querykey" %>"
`,
		checks: []check{
			{path: "/search?mobile", backend: "querykey"},
			{path: "/search?desktop", status: 404},
			{path: "/search", status: 404},
		},
	},
	{
		name: "queryregexp",
		dynamic: `
http:
  routers:
    mobile:
      rule: "QueryRegexp(` + "`mobile`, `^(true|yes)$`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "queryre" %>"
`,
		checks: []check{
			{path: "/?mobile=yes", backend: "queryre"},
			{path: "/?mobile=true", backend: "queryre"},
			{path: "/?mobile=no", status: 404},
			{path: "/?mobile=yesss", status: 404},
		},
	},
	{
		name: "clientip",
		dynamic: `
http:
  routers:
    local:
      rule: "ClientIP(` + "`127.0.0.1/32`" + `) && PathPrefix(` + "`/local`" + `)"
      service: svc
    private:
      rule: "ClientIP(` + "`10.0.0.0/8`" + `) && PathPrefix(` + "`/private`" + `)"
      service: svc
    single:
      rule: "ClientIP(` + "`127.0.0.1`" + `) && PathPrefix(` + "`/single`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "clientip" %>"
`,
		checks: []check{
			{path: "/local", backend: "clientip"},
			{path: "/single", backend: "clientip"},
			{path: "/private", status: 404},
			// ClientIP ignores X-Forwarded-For.
			{path: "/private", header: map[string]string{"X-Forwarded-For": "10.1.2.3"}, status: 404},
		},
	},
	{
		name: "and",
		dynamic: `
http:
  routers:
    host-and-path:
      rule: "Host(` + "`example.com`" + `) && PathPrefix(` + "`/api`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "and" %>"
`,
		checks: []check{
			{path: "/api/users", host: "example.com", backend: "and"},
			{path: "/web", host: "example.com", status: 404},
			{path: "/api/users", host: "example.org", status: 404},
		},
	},
	{
		name: "or",
		dynamic: `
http:
  routers:
    a-or-b:
      rule: "Path(` + "`/a`" + `) || Path(` + "`/b`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "or" %>"
`,
		checks: []check{
			{path: "/a", backend: "or"},
			{path: "/b", backend: "or"},
			{path: "/c", status: 404},
		},
	},
	{
		name: "not",
		dynamic: `
http:
  routers:
    public:
      rule: "PathPrefix(` + "`/`" + `) && !PathPrefix(` + "`/admin`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "not" %>"
`,
		checks: []check{
			{path: "/", backend: "not"},
			{path: "/shop", backend: "not"},
			{path: "/admin", status: 404},
			{path: "/admin/users", status: 404},
		},
	},
	{
		name: "parentheses-and-precedence",
		dynamic: `
http:
  routers:
    grouped:
      rule: "Host(` + "`a.example.com`" + `) && (Path(` + "`/x`" + `) || Path(` + "`/y`" + `))"
      service: grouped
    ungrouped:
      rule: "Path(` + "`/p`" + `) || Path(` + "`/q`" + `) && Host(` + "`a.example.com`" + `)"
      service: ungrouped
  services:
    grouped:
      loadBalancer:
        servers:
          - url: "<% backend "paren-grouped" %>"
    ungrouped:
      loadBalancer:
        servers:
          - url: "<% backend "paren-ungrouped" %>"
`,
		checks: []check{
			{path: "/x", host: "a.example.com", backend: "paren-grouped"},
			{path: "/y", host: "a.example.com", backend: "paren-grouped"},
			{path: "/x", host: "b.example.com", status: 404},
			// && binds tighter than ||: Path(/p) alone is enough.
			{path: "/p", host: "b.example.com", backend: "paren-ungrouped"},
			{path: "/q", host: "a.example.com", backend: "paren-ungrouped"},
			{path: "/q", host: "b.example.com", status: 404},
		},
	},
	{
		name: "priority-default-rule-length",
		dynamic: `
http:
  routers:
    Router-1:
      rule: "HostRegexp(` + "`[a-z]+\\\\.traefik\\\\.com`" + `)"
      service: service-1
    Router-2:
      rule: "Host(` + "`foobar.traefik.com`" + `)"
      service: service-2
    catchall:
      rule: "PathPrefix(` + "`/`" + `)"
      service: service-3
    api:
      rule: "PathPrefix(` + "`/api`" + `)"
      service: service-2
  services:
    service-1:
      loadBalancer:
        servers:
          - url: "<% backend "prio-1" %>"
    service-2:
      loadBalancer:
        servers:
          - url: "<% backend "prio-2" %>"
    service-3:
      loadBalancer:
        servers:
          - url: "<% backend "prio-3" %>"
`,
		checks: []check{
			// The HostRegexp rule is longer (34 > 26): it wins over Host.
			{path: "/", host: "foobar.traefik.com", backend: "prio-1"},
			{path: "/", host: "other.traefik.com", backend: "prio-1"},
			{path: "/api/x", host: "example.com", backend: "prio-2"},
			{path: "/else", host: "example.com", backend: "prio-3"},
		},
	},
	{
		name: "priority-explicit",
		dynamic: `
http:
  routers:
    Router-1:
      rule: "HostRegexp(` + "`[a-z]+\\\\.traefik\\\\.com`" + `)"
      entryPoints:
        - "web"
      service: service-1
      priority: 1
    Router-2:
      rule: "Host(` + "`foobar.traefik.com`" + `)"
      entryPoints:
        - "web"
      priority: 2
      service: service-2
  services:
    service-1:
      loadBalancer:
        servers:
          - url: "<% backend "eprio-1" %>"
    service-2:
      loadBalancer:
        servers:
          - url: "<% backend "eprio-2" %>"
`,
		checks: []check{
			{path: "/", host: "foobar.traefik.com", backend: "eprio-2"},
			{path: "/", host: "other.traefik.com", backend: "eprio-1"},
		},
	},
	{
		name:   "entrypoints-restriction",
		static: staticTwoEntryPoints,
		dynamic: `
http:
  routers:
    web-only:
      entryPoints:
        - web
      rule: "PathPrefix(` + "`/`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "eprestrict" %>"
`,
		checks: []check{
			{ep: "web", path: "/", backend: "eprestrict"},
			{ep: "other", path: "/", status: 404, contains: []string{"404 page not found"}},
		},
	},
	{
		name:   "router-without-entrypoints-on-all-but-traefik",
		static: staticTwoEntryPoints,
		dynamic: `
http:
  routers:
    everywhere:
      rule: "PathPrefix(` + "`/hello`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "allep" %>"
`,
		checks: []check{
			{ep: "web", path: "/hello", backend: "allep"},
			{ep: "other", path: "/hello", backend: "allep"},
			// The internal "traefik" entrypoint is never a default one.
			{ep: "traefik", path: "/hello", status: 404},
		},
		extra: func(t *testing.T, e *Env) {
			rd, err := fetchRawdata(e.URL("traefik"))
			if err != nil {
				t.Fatal(err)
			}
			r := rd.Routers["everywhere@file"]
			using := slices.Clone(r.Using)
			slices.Sort(using)
			if !slices.Equal(using, []string{"other", "web"}) {
				t.Errorf("router everywhere@file using = %v, want [other web]", r.Using)
			}
		},
	},
	{
		name: "404-when-nothing-matches",
		dynamic: `
http:
  routers:
    only:
      rule: "Host(` + "`only.example.com`" + `)"
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "<% backend "only" %>"
`,
		checks: []check{
			{path: "/", host: "nothing.example.com", status: 404, backend: "-", fn: func(t *testing.T, _ *Env, r Reply) {
				if r.Body != "404 page not found\n" {
					t.Errorf("404 body = %q, want %q", r.Body, "404 page not found\n")
				}
			}},
			{method: "POST", path: "/x", host: "nothing.example.com", body: "data", status: 404, contains: []string{"404 page not found"}},
		},
	},
	{
		name: "503-loadbalancer-without-servers",
		dynamic: `
http:
  routers:
    empty:
      rule: "PathPrefix(` + "`/`" + `)"
      service: empty
  services:
    empty:
      loadBalancer:
        servers: []
`,
		checks: []check{
			{path: "/", status: 503, backend: "-"},
		},
	},
	{
		name: "502-backend-port-closed",
		dynamic: `
http:
  routers:
    dead:
      rule: "PathPrefix(` + "`/`" + `)"
      service: dead
  services:
    dead:
      loadBalancer:
        servers:
          - url: "<% closed %>"
`,
		checks: []check{
			{path: "/", status: 502, backend: "-", contains: []string{"Bad Gateway"}},
			{method: "POST", path: "/upload", body: "payload", status: 502},
		},
	},
	{
		name: "weighted-round-robin",
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
  services:
    app:
      weighted:
        services:
          - name: appv1
            weight: 3
          - name: appv2
            weight: 1
    appv1:
      loadBalancer:
        servers:
          - url: "<% backend "wrr-v1" %>"
    appv2:
      loadBalancer:
        servers:
          - url: "<% backend "wrr-v2" %>"
`,
		extra: func(t *testing.T, e *Env) {
			c := countBackends(t, e.URL("web")+"/", "", 80)
			if !within(c["wrr-v1"], 60, 3) || !within(c["wrr-v2"], 20, 3) {
				t.Errorf("80 requests at weights 3:1 went %v, want about 60/20", c)
			}
		},
	},
	{
		name:   "weighted-round-robin-toml",
		dynExt: "toml",
		dynamic: `
[http.routers]
  [http.routers.app]
    rule = "PathPrefix(` + "`/`" + `)"
    service = "app"

[http.services]
  [[http.services.app.weighted.services]]
    name = "appv1"
    weight = 1
  [[http.services.app.weighted.services]]
    name = "appv2"
    weight = 1
  [http.services.appv1.loadBalancer]
    [[http.services.appv1.loadBalancer.servers]]
      url = "<% backend "wrrt-v1" %>"
  [http.services.appv2.loadBalancer]
    [[http.services.appv2.loadBalancer.servers]]
      url = "<% backend "wrrt-v2" %>"
`,
		extra: func(t *testing.T, e *Env) {
			c := countBackends(t, e.URL("web")+"/", "", 40)
			if !within(c["wrrt-v1"], 20, 2) || !within(c["wrrt-v2"], 20, 2) {
				t.Errorf("40 requests at weights 1:1 went %v, want about 20/20", c)
			}
		},
	},
	{
		name: "server-weight",
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "sw-heavy" %>"
            weight: 2
          - url: "<% backend "sw-light" %>"
            weight: 1
`,
		extra: func(t *testing.T, e *Env) {
			c := countBackends(t, e.URL("web")+"/", "", 60)
			if !within(c["sw-heavy"], 40, 3) || !within(c["sw-light"], 20, 3) {
				t.Errorf("60 requests at server weights 2:1 went %v, want about 40/20", c)
			}
		},
	},
	{
		name: "round-robin-equal-servers",
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "rr-1" %>"
          - url: "<% backend "rr-2" %>"
          - url: "<% backend "rr-3" %>"
`,
		extra: func(t *testing.T, e *Env) {
			c := countBackends(t, e.URL("web")+"/", "", 30)
			for _, n := range []string{"rr-1", "rr-2", "rr-3"} {
				if !within(c[n], 10, 2) {
					t.Errorf("30 requests over 3 equal servers went %v, want about 10 each", c)
					break
				}
			}
		},
	},
	{
		name: "passhostheader",
		dynamic: `
http:
  routers:
    pass:
      rule: "PathPrefix(` + "`/pass`" + `)"
      service: pass
    nopass:
      rule: "PathPrefix(` + "`/nopass`" + `)"
      service: nopass
  services:
    pass:
      loadBalancer:
        servers:
          - url: "<% backend "phh-pass" %>"
    nopass:
      loadBalancer:
        passHostHeader: false
        servers:
          - url: "<% backend "phh-nopass" %>"
`,
		checks: []check{
			{path: "/pass", host: "example.com", backend: "phh-pass", contains: []string{"\nHost: example.com\n"}},
			{path: "/nopass", host: "example.com", backend: "phh-nopass", fn: func(t *testing.T, e *Env, r Reply) {
				want := "\nHost: " + strings.TrimPrefix(e.Backend("phh-nopass"), "http://") + "\n"
				if !strings.Contains(r.Body, want) {
					t.Errorf("passHostHeader false: backend echo lacks %q:\n%s", want, r.Body)
				}
			}},
		},
	},
	{
		name: "stripprefix",
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/foobar`" + `) || PathPrefix(` + "`/fiibar`" + `)"
      service: app
      middlewares:
        - test-stripprefix
  middlewares:
    test-stripprefix:
      stripPrefix:
        prefixes:
          - "/foobar"
          - "/fiibar"
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "strip" %>"
`,
		checks: []check{
			{path: "/foobar/api?x=1", backend: "strip", fn: func(t *testing.T, _ *Env, r Reply) {
				ec := decodeEcho(t, r)
				if ec.URL != "/api?x=1" {
					t.Errorf("backend saw URI %q, want /api?x=1", ec.URL)
				}
				if p := ec.header("X-Forwarded-Prefix"); p != "/foobar" {
					t.Errorf("X-Forwarded-Prefix = %q, want /foobar", p)
				}
			}},
			{path: "/fiibar", backend: "strip", contains: []string{"GET / HTTP/1.1", "X-Forwarded-Prefix: /fiibar"}},
		},
	},
	{
		name: "addprefix",
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
      middlewares:
        - test-addprefix
  middlewares:
    test-addprefix:
      addPrefix:
        prefix: "/foo"
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "addprefix" %>"
`,
		checks: []check{
			{path: "/bar?q=1", backend: "addprefix", contains: []string{"GET /foo/bar?q=1 HTTP/1.1"}},
		},
	},
	{
		name: "headers-custom-request-and-response",
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
      middlewares:
        - testHeader
  middlewares:
    testHeader:
      headers:
        customRequestHeaders:
          X-Script-Name: "test"
          X-Custom-Request-Header: ""
        customResponseHeaders:
          X-Custom-Response-Header: "value"
          X-Whoami-Name: ""
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "headers" %>"
`,
		checks: []check{
			{path: "/", header: map[string]string{"X-Custom-Request-Header": "from-client", "X-Other": "kept"}, backend: "headers",
				contains:   []string{"X-Script-Name: test", "X-Other: kept"},
				absent:     []string{"X-Custom-Request-Header"},
				respHeader: map[string]string{"X-Custom-Response-Header": "value", "X-Whoami-Name": ""}},
		},
	},
	{
		name:   "headers-toml",
		dynExt: "toml",
		dynamic: `
[http.routers]
  [http.routers.app]
    rule = "PathPrefix(` + "`/`" + `)"
    service = "app"
    middlewares = ["testHeader"]

[http.middlewares]
  [http.middlewares.testHeader.headers]
    [http.middlewares.testHeader.headers.customRequestHeaders]
        X-Script-Name = "test-toml"
    [http.middlewares.testHeader.headers.customResponseHeaders]
        X-Custom-Response-Header = "toml-value"

[http.services]
  [http.services.app.loadBalancer]
    [[http.services.app.loadBalancer.servers]]
      url = "<% backend "headers-toml" %>"
`,
		checks: []check{
			{path: "/", backend: "headers-toml", contains: []string{"X-Script-Name: test-toml"},
				respHeader: map[string]string{"X-Custom-Response-Header": "toml-value"}},
		},
	},
	{
		name: "redirectscheme",
		dynamic: `
http:
  routers:
    permanent:
      rule: "PathPrefix(` + "`/perm`" + `)"
      service: app
      middlewares: [to-https-permanent]
    temporary:
      rule: "PathPrefix(` + "`/temp`" + `)"
      service: app
      middlewares: [to-https-temporary]
    port:
      rule: "PathPrefix(` + "`/port`" + `)"
      service: app
      middlewares: [to-https-port]
  middlewares:
    to-https-permanent:
      redirectScheme:
        scheme: https
        permanent: true
    to-https-temporary:
      redirectScheme:
        scheme: https
    to-https-port:
      redirectScheme:
        scheme: https
        port: "8443"
        permanent: true
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "redir" %>"
`,
		checks: []check{
			{path: "/perm/a?b=c", host: "example.com", status: 301, backend: "-",
				respHeader: map[string]string{"Location": "https://example.com/perm/a?b=c"}},
			{path: "/temp", host: "example.com", status: 302, backend: "-",
				respHeader: map[string]string{"Location": "https://example.com/temp"}},
			{path: "/port/x", host: "example.com:8000", status: 301, backend: "-",
				respHeader: map[string]string{"Location": "https://example.com:8443/port/x"}},
			// Non-GET methods get the method-preserving codes.
			{method: "POST", path: "/perm", host: "example.com", body: "x", status: 308, backend: "-",
				respHeader: map[string]string{"Location": "https://example.com/perm"}},
			{method: "POST", path: "/temp", host: "example.com", body: "x", status: 307, backend: "-"},
		},
	},
	{
		name: "chain",
		dynamic: `
http:
  routers:
    router1:
      rule: "PathPrefix(` + "`/secured`" + `)"
      service: service1
      middlewares:
        - secured
  middlewares:
    secured:
      chain:
        middlewares:
          - strip
          - add-req
          - add-resp
    strip:
      stripPrefix:
        prefixes: ["/secured"]
    add-req:
      headers:
        customRequestHeaders:
          X-Chained: "yes"
    add-resp:
      headers:
        customResponseHeaders:
          X-Chain-Resp: "done"
  services:
    service1:
      loadBalancer:
        servers:
          - url: "<% backend "chain" %>"
`,
		checks: []check{
			{path: "/secured/page", backend: "chain", contains: []string{"GET /page HTTP/1.1", "X-Chained: yes"},
				respHeader: map[string]string{"X-Chain-Resp": "done"}},
		},
	},
	{
		name: "entrypoint-redirection",
		static: `
entryPoints:
  web:
    address: "<% addr "web" %>"
    http:
      redirections:
        entryPoint:
          to: websecure
          scheme: https
          permanent: true
  websecure:
    address: "<% addr "websecure" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`,
		dynamic: `
http:
  routers:
    app:
      rule: "Host(` + "`example.com`" + `)"
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "epredir" %>"
`,
		checks: []check{
			{ep: "web", path: "/foo?x=1", host: "example.com", status: 301, backend: "-", fn: func(t *testing.T, e *Env, r Reply) {
				want := fmt.Sprintf("https://example.com:%d/foo?x=1", e.Port("websecure"))
				if got := r.Header.Get("Location"); got != want {
					t.Errorf("Location = %q, want %q", got, want)
				}
			}},
			// Even a request no router matches is redirected.
			{ep: "web", path: "/", host: "other.example", status: 301, backend: "-"},
			{ep: "websecure", path: "/", host: "example.com", backend: "epredir"},
		},
	},
	{
		name: "entrypoint-default-middlewares",
		static: `
entryPoints:
  web:
    address: "<% addr "web" %>"
    http:
      middlewares:
        - ep-headers@file
  other:
    address: "<% addr "other" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`,
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
      middlewares:
        - router-headers
  middlewares:
    ep-headers:
      headers:
        customRequestHeaders:
          X-Order: "entrypoint"
        customResponseHeaders:
          X-Entrypoint-Middleware: "applied"
    router-headers:
      headers:
        customRequestHeaders:
          X-Router: "applied"
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "epmw" %>"
`,
		checks: []check{
			{ep: "web", path: "/", backend: "epmw", contains: []string{"X-Order: entrypoint", "X-Router: applied"},
				respHeader: map[string]string{"X-Entrypoint-Middleware": "applied"}},
			{ep: "other", path: "/", backend: "epmw", contains: []string{"X-Router: applied"}, absent: []string{"X-Order"},
				respHeader: map[string]string{"X-Entrypoint-Middleware": ""}},
		},
	},
	{
		name: "qualified-references-at-file",
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app@file
      middlewares:
        - add-hdr@file
  middlewares:
    add-hdr:
      headers:
        customResponseHeaders:
          X-Qualified: "ok"
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "qualified" %>"
`,
		checks: []check{
			{path: "/", backend: "qualified", respHeader: map[string]string{"X-Qualified": "ok"}},
		},
	},
	{
		name: "x-forwarded-headers-set",
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "xff" %>"
`,
		checks: []check{
			{path: "/api", host: "example.com", backend: "xff", fn: func(t *testing.T, e *Env, r Reply) {
				ec := decodeEcho(t, r)
				want := map[string]string{
					"X-Forwarded-For":   "127.0.0.1",
					"X-Forwarded-Proto": "http",
					"X-Forwarded-Host":  "example.com",
					"X-Forwarded-Port":  "80", // from the Host header, else the scheme's default
					"X-Real-Ip":         "127.0.0.1",
				}
				for k, v := range want {
					if got := ec.header(k); got != v {
						t.Errorf("backend saw %s = %q, want %q", k, got, v)
					}
				}
				if ec.header("X-Forwarded-Server") == "" {
					t.Errorf("backend saw no X-Forwarded-Server")
				}
			}},
			{path: "/api", host: "example.com:8000", backend: "xff", fn: func(t *testing.T, _ *Env, r Reply) {
				if got := decodeEcho(t, r).header("X-Forwarded-Port"); got != "8000" {
					t.Errorf("Host example.com:8000: X-Forwarded-Port = %q, want 8000", got)
				}
			}},
			// Untrusted client: its X-Forwarded-* are replaced, not appended to.
			{path: "/api", host: "example.com", backend: "xff", header: map[string]string{
				"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Real-Ip": "1.2.3.4",
			}, fn: func(t *testing.T, _ *Env, r Reply) {
				ec := decodeEcho(t, r)
				for k, v := range map[string]string{
					"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "example.com", "X-Real-Ip": "127.0.0.1",
				} {
					if got := ec.header(k); got != v {
						t.Errorf("untrusted client: backend saw %s = %q, want %q", k, got, v)
					}
				}
			}},
		},
	},
	{
		name: "forwardedheaders-insecure",
		static: `
entryPoints:
  web:
    address: "<% addr "web" %>"
    forwardedHeaders:
      insecure: true
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`,
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "xff-insecure" %>"
`,
		checks: []check{
			{path: "/api", host: "example.com", backend: "xff-insecure", header: map[string]string{
				"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "public.example",
			}, fn: func(t *testing.T, _ *Env, r Reply) {
				ec := decodeEcho(t, r)
				for k, v := range map[string]string{
					"X-Forwarded-For": "1.2.3.4, 127.0.0.1", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "public.example",
				} {
					if got := ec.header(k); got != v {
						t.Errorf("insecure: backend saw %s = %q, want %q", k, got, v)
					}
				}
			}},
		},
	},
	{
		name: "forwardedheaders-trustedips",
		static: `
entryPoints:
  web:
    address: "<% addr "web" %>"
    forwardedHeaders:
      trustedIPs:
        - "127.0.0.1/32"
  other:
    address: "<% addr "other" %>"
    forwardedHeaders:
      trustedIPs:
        - "10.0.0.0/8"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`,
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "xff-trusted" %>"
`,
		checks: []check{
			{ep: "web", path: "/api", backend: "xff-trusted", header: map[string]string{"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"},
				fn: func(t *testing.T, _ *Env, r Reply) {
					ec := decodeEcho(t, r)
					if got := ec.header("X-Forwarded-For"); got != "1.2.3.4, 127.0.0.1" {
						t.Errorf("trusted 127.0.0.1: X-Forwarded-For = %q, want %q", got, "1.2.3.4, 127.0.0.1")
					}
					if got := ec.header("X-Forwarded-Proto"); got != "https" {
						t.Errorf("trusted 127.0.0.1: X-Forwarded-Proto = %q, want https", got)
					}
				}},
			{ep: "other", path: "/api", backend: "xff-trusted", header: map[string]string{"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"},
				fn: func(t *testing.T, _ *Env, r Reply) {
					ec := decodeEcho(t, r)
					if got := ec.header("X-Forwarded-For"); got != "127.0.0.1" {
						t.Errorf("untrusted (only 10/8 trusted): X-Forwarded-For = %q, want 127.0.0.1", got)
					}
					if got := ec.header("X-Forwarded-Proto"); got != "http" {
						t.Errorf("untrusted: X-Forwarded-Proto = %q, want http", got)
					}
				}},
		},
	},
	{
		name:  "api-internal-via-user-router",
		apiEP: "web",
		static: `
entryPoints:
  web:
    address: "<% addr "web" %>"
api:
  dashboard: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`,
		dynamic: `
http:
  routers:
    dashboard:
      rule: "PathPrefix(` + "`/api`" + `) || PathPrefix(` + "`/dashboard`" + `)"
      service: api@internal
    app:
      rule: "PathPrefix(` + "`/app`" + `)"
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "apiuser" %>"
`,
		checks: []check{
			{path: "/api/http/routers/dashboard@file", backend: "-", contains: []string{`"name":"dashboard@file"`}},
			{path: "/api/version", backend: "-", contains: []string{`"Version"`}},
			{path: "/dashboard/", backend: "-", fn: func(t *testing.T, _ *Env, r Reply) {
				if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
					t.Errorf("/dashboard/ Content-Type = %q, want text/html", ct)
				}
			}},
			{path: "/app", backend: "apiuser"},
		},
	},
	{
		name: "ping-default-on-traefik-entrypoint",
		static: `
entryPoints:
  web:
    address: "<% addr "web" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
ping: {}
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`,
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "ping-app" %>"
`,
		checks: []check{
			{ep: "traefik", path: "/ping", backend: "-", fn: func(t *testing.T, _ *Env, r Reply) {
				if r.Body != "OK" {
					t.Errorf("/ping body = %q, want OK", r.Body)
				}
			}},
			{ep: "traefik", method: "HEAD", path: "/ping", backend: "-"},
			{ep: "web", path: "/ping", backend: "ping-app"},
		},
	},
	{
		name:      "ping-internal-manual-routing-toml-static",
		staticExt: "toml",
		static: `
[entryPoints]
  [entryPoints.web]
    address = "<% addr "web" %>"
  [entryPoints.traefik]
    address = "<% addr "traefik" %>"

[api]
  insecure = true

[ping]
  manualRouting = true

[providers]
  providersThrottleDuration = "10ms"
  [providers.file]
    filename = "<% dyn %>"
`,
		dynamic: `
http:
  routers:
    ping:
      rule: "Path(` + "`/healthz`" + `)"
      service: ping@internal
`,
		checks: []check{
			{ep: "web", path: "/healthz", backend: "-", contains: []string{"OK"}},
			// manualRouting: no /ping route of its own.
			{ep: "traefik", path: "/ping", status: 404},
		},
	},
	{
		name:      "toml-static-and-dynamic",
		staticExt: "toml",
		static:    staticTOML,
		dynExt:    "toml",
		dynamic: `
[http]
  [http.routers]
    [http.routers.my-router]
      rule = "Host(` + "`example.com`" + `) && PathPrefix(` + "`/v1`" + `)"
      service = "my-service"
      middlewares = ["strip"]
  [http.middlewares]
    [http.middlewares.strip.stripPrefix]
      prefixes = ["/v1"]
  [http.services]
    [http.services.my-service.loadBalancer]
      passHostHeader = true
      [[http.services.my-service.loadBalancer.servers]]
        url = "<% backend "toml-all" %>"
`,
		checks: []check{
			{path: "/v1/users", host: "example.com", backend: "toml-all", contains: []string{"GET /users HTTP/1.1", "Host: example.com"}},
			{path: "/v2/users", host: "example.com", status: 404},
		},
	},
	{
		name: "redirectregex",
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
      middlewares:
        - test-redirectregex
  middlewares:
    test-redirectregex:
      redirectRegex:
        regex: "^http://localhost/(.*)"
        replacement: "http://mydomain/${1}"
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "redirre" %>"
`,
		checks: []check{
			{path: "/foo/bar?x=1", host: "localhost", status: 302, backend: "-",
				respHeader: map[string]string{"Location": "http://mydomain/foo/bar?x=1"}},
			// No match: passed through.
			{path: "/foo", host: "other.example", backend: "redirre"},
		},
	},
	{
		name: "replacepath",
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
      middlewares:
        - test-replacepath
  middlewares:
    test-replacepath:
      replacePath:
        path: "/foo"
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "replacepath" %>"
`,
		checks: []check{
			{path: "/anything/here?q=1", backend: "replacepath", contains: []string{"GET /foo?q=1 HTTP/1.1", "X-Replaced-Path: /anything/here"}},
		},
	},
	{
		name: "replacepathregex",
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
      middlewares:
        - test-replacepathregex
  middlewares:
    test-replacepathregex:
      replacePathRegex:
        regex: "^/foo/(.*)"
        replacement: "/bar/$1"
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "replacepathre" %>"
`,
		checks: []check{
			{path: "/foo/baz", backend: "replacepathre", contains: []string{"GET /bar/baz HTTP/1.1", "X-Replaced-Path: /foo/baz"}},
			{path: "/other", backend: "replacepathre", contains: []string{"GET /other HTTP/1.1"}, absent: []string{"X-Replaced-Path"}},
		},
	},
	{
		name: "stripprefixregex",
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
      middlewares:
        - test-stripprefixregex
  middlewares:
    test-stripprefixregex:
      stripPrefixRegex:
        regex:
          - "/foo/[a-z0-9]+/[0-9]+/"
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "stripre" %>"
`,
		checks: []check{
			{path: "/foo/abc/123/bar", backend: "stripre", contains: []string{"GET /bar HTTP/1.1", "X-Forwarded-Prefix: /foo/abc/123"}},
			{path: "/foo/abc/bar", backend: "stripre", contains: []string{"GET /foo/abc/bar HTTP/1.1"}},
		},
	},
	{
		name: "headers-security",
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
      middlewares:
        - testHeader
  middlewares:
    testHeader:
      headers:
        frameDeny: true
        browserXssFilter: true
        contentTypeNosniff: true
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "secheaders" %>"
`,
		checks: []check{
			{path: "/", backend: "secheaders", respHeader: map[string]string{
				"X-Frame-Options": "DENY", "X-Xss-Protection": "1; mode=block", "X-Content-Type-Options": "nosniff",
			}},
		},
	},
	{
		name: "headers-cors",
		dynamic: `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
      middlewares:
        - testHeader
  middlewares:
    testHeader:
      headers:
        accessControlAllowMethods:
          - GET
          - OPTIONS
          - PUT
        accessControlAllowHeaders:
          - "*"
        accessControlAllowOriginList:
          - https://foo.bar.org
          - https://example.org
        accessControlMaxAge: 100
        addVaryHeader: true
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "cors" %>"
`,
		checks: []check{
			// A preflight is answered by the middleware, not the backend.
			{method: "OPTIONS", path: "/res", backend: "-", header: map[string]string{
				"Origin": "https://foo.bar.org", "Access-Control-Request-Method": "PUT",
			}, respHeader: map[string]string{
				"Access-Control-Allow-Origin": "https://foo.bar.org", "Access-Control-Max-Age": "100", "X-Whoami-Name": "",
			}, fn: func(t *testing.T, _ *Env, r Reply) {
				if m := r.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "PUT") {
					t.Errorf("preflight Access-Control-Allow-Methods = %q, want PUT among them", m)
				}
			}},
			{path: "/res", header: map[string]string{"Origin": "https://example.org"}, backend: "cors",
				respHeader: map[string]string{"Access-Control-Allow-Origin": "https://example.org"},
				fn: func(t *testing.T, _ *Env, r Reply) {
					if v := strings.Join(r.Header.Values("Vary"), ","); !strings.Contains(v, "Origin") {
						t.Errorf("Vary = %q, want Origin (addVaryHeader)", v)
					}
				}},
			{path: "/res", header: map[string]string{"Origin": "https://evil.example"}, backend: "cors",
				respHeader: map[string]string{"Access-Control-Allow-Origin": ""}},
		},
	},
	{
		name: "entrypoint-asdefault",
		static: `
entryPoints:
  web:
    address: "<% addr "web" %>"
    asDefault: true
  other:
    address: "<% addr "other" %>"
  traefik:
    address: "<% addr "traefik" %>"
api:
  insecure: true
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "<% dyn %>"
`,
		dynamic: `
http:
  routers:
    defaulted:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
    explicit:
      entryPoints: [other]
      rule: "PathPrefix(` + "`/explicit`" + `)"
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "asdefault" %>"
`,
		checks: []check{
			{ep: "web", path: "/", backend: "asdefault"},
			{ep: "other", path: "/", status: 404},
			{ep: "other", path: "/explicit", backend: "asdefault"},
		},
	},
	{
		name: "sanitize-path",
		dynamic: `
http:
  routers:
    bar:
      rule: "PathPrefix(` + "`/bar`" + `)"
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "sanitize" %>"
`,
		checks: []check{
			// sanitizePath (default true) cleans /./, /../ and // before routing.
			{path: "/foo/../bar/x", backend: "sanitize", contains: []string{"GET /bar/x HTTP/1.1"}},
			{path: "//bar//y", backend: "sanitize", contains: []string{"GET /bar/y HTTP/1.1"}},
			{path: "/bar/./z", backend: "sanitize", contains: []string{"GET /bar/z HTTP/1.1"}},
		},
	},
	{
		name: "api-json-shapes",
		dynamic: `
http:
  routers:
    whoami:
      entryPoints:
        - web
      rule: "Host(` + "`example.com`" + `)"
      service: whoami
      middlewares:
        - strip
  middlewares:
    strip:
      stripPrefix:
        prefixes:
          - "/foo"
  services:
    whoami:
      loadBalancer:
        servers:
          - url: "<% backend "shape" %>"
`,
		checks: []check{{path: "/foo/x", host: "example.com", backend: "shape", contains: []string{"GET /x HTTP/1.1"}}},
		extra:  checkAPIShapes,
	},
}

// checkAPIShapes verifies the JSON shapes of the API endpoints against what
// Traefik's API returns for the api-json-shapes case.
func checkAPIShapes(t *testing.T, e *Env) {
	api := e.URL("traefik") + "/api"
	getJSON := func(path string, v any) Reply {
		t.Helper()
		r := do(t, request{url: api + path})
		if r.Status != http.StatusOK {
			t.Errorf("GET /api%s: status %d, body %q", path, r.Status, r.Body)
			return r
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("GET /api%s: Content-Type %q, want application/json", path, ct)
		}
		if err := json.Unmarshal([]byte(r.Body), v); err != nil {
			t.Errorf("GET /api%s: %v\n%s", path, err, r.Body)
		}
		return r
	}
	backend := e.Backend("shape")

	var router map[string]any
	getJSON("/http/routers/whoami@file", &router)
	wantRouter := map[string]any{
		"name": "whoami@file", "provider": "file", "status": "enabled",
		"rule": "Host(`example.com`)", "entryPoints": []any{"web"}, "using": []any{"web"},
	}
	for k, v := range wantRouter {
		if got, ok := router[k]; !ok || fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("router JSON %q = %v, want %v (router: %v)", k, got, v, router)
		}
	}
	if s, _ := router["service"].(string); s != "whoami" && s != "whoami@file" {
		t.Errorf("router JSON service = %v, want whoami", router["service"])
	}
	if m, _ := router["middlewares"].([]any); len(m) != 1 || !strings.HasPrefix(fmt.Sprint(m[0]), "strip") {
		t.Errorf("router JSON middlewares = %v, want [strip]", router["middlewares"])
	}
	if _, ok := router["error"]; ok {
		t.Errorf("enabled router JSON has an error field: %v", router["error"])
	}

	var svc map[string]any
	getJSON("/http/services/whoami@file", &svc)
	for k, v := range map[string]any{
		"name": "whoami@file", "provider": "file", "status": "enabled", "type": "loadbalancer",
		"usedBy": []any{"whoami@file"},
	} {
		if got, ok := svc[k]; !ok || fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("service JSON %q = %v, want %v", k, got, v)
		}
	}
	if ss, _ := svc["serverStatus"].(map[string]any); fmt.Sprint(ss[backend]) != "UP" {
		t.Errorf("service JSON serverStatus = %v, want {%q: UP}", svc["serverStatus"], backend)
	}
	lb, _ := svc["loadBalancer"].(map[string]any)
	servers, _ := lb["servers"].([]any)
	if len(servers) != 1 || fmt.Sprint(servers[0].(map[string]any)["url"]) != backend {
		t.Errorf("service JSON loadBalancer.servers = %v, want [{url: %s}]", lb["servers"], backend)
	}
	if lb["passHostHeader"] != true {
		t.Errorf("service JSON loadBalancer.passHostHeader = %v, want true (the default, shown)", lb["passHostHeader"])
	}

	var mw map[string]any
	getJSON("/http/middlewares/strip@file", &mw)
	for k, v := range map[string]any{
		"name": "strip@file", "provider": "file", "status": "enabled", "type": "stripprefix",
		"usedBy": []any{"whoami@file"},
	} {
		if got, ok := mw[k]; !ok || fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("middleware JSON %q = %v, want %v", k, got, v)
		}
	}
	if sp, _ := mw["stripPrefix"].(map[string]any); fmt.Sprint(sp["prefixes"]) != "[/foo]" {
		t.Errorf("middleware JSON stripPrefix = %v, want {prefixes: [/foo]}", mw["stripPrefix"])
	}

	for _, list := range []struct{ path, name string }{
		{"/http/routers", "whoami@file"}, {"/http/services", "whoami@file"}, {"/http/middlewares", "strip@file"}, {"/entrypoints", "web"},
	} {
		var items []map[string]any
		getJSON(list.path, &items)
		found := false
		for _, it := range items {
			if it["name"] == list.name {
				found = true
			}
		}
		if !found {
			t.Errorf("GET /api%s: no item named %q in %v", list.path, list.name, items)
		}
	}
	var eps []map[string]any
	getJSON("/entrypoints", &eps)
	for _, ep := range eps {
		if ep["name"] == "web" && ep["address"] != e.Addr("web") {
			t.Errorf("entrypoint web address = %v, want %s", ep["address"], e.Addr("web"))
		}
	}

	var ov struct {
		HTTP struct {
			Routers struct {
				Total    int `json:"total"`
				Warnings int `json:"warnings"`
				Errors   int `json:"errors"`
			} `json:"routers"`
			Services    map[string]int `json:"services"`
			Middlewares map[string]int `json:"middlewares"`
		} `json:"http"`
		Features  map[string]any `json:"features"`
		Providers []string       `json:"providers"`
	}
	getJSON("/overview", &ov)
	if ov.HTTP.Routers.Total < 1 || ov.HTTP.Routers.Errors != 0 {
		t.Errorf("overview http.routers = %+v, want total >= 1, errors 0", ov.HTTP.Routers)
	}
	if ov.HTTP.Services["total"] < 1 || ov.HTTP.Middlewares["total"] < 1 {
		t.Errorf("overview http services/middlewares = %v / %v, want total >= 1", ov.HTTP.Services, ov.HTTP.Middlewares)
	}
	if !slices.ContainsFunc(ov.Providers, func(p string) bool { return strings.EqualFold(p, "file") }) {
		t.Errorf("overview providers = %v, want File among them", ov.Providers)
	}

	var ver map[string]any
	getJSON("/version", &ver)
	if _, ok := ver["Version"]; !ok {
		t.Errorf("/api/version = %v, want a Version field", ver)
	}

	if r := do(t, request{url: api + "/http/routers/nope@file"}); r.Status != http.StatusNotFound {
		t.Errorf("GET unknown router: status %d, want 404", r.Status)
	}
}

func TestCompat(t *testing.T) {
	t.Parallel()
	if len(compatCases) < 30 {
		t.Fatalf("only %d compat cases", len(compatCases))
	}
	for _, tc := range compatCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runCompatCase(t, tc)
		})
	}
}

func runCompatCase(t *testing.T, tc compatCase) {
	e := newEnv(t)
	e.APIEP = tc.apiEP
	dynExt := tc.dynExt
	if dynExt == "" {
		dynExt = "yml"
	}
	staticExt, static := tc.staticExt, tc.static
	if staticExt == "" {
		staticExt = "yml"
	}
	if static == "" {
		static = staticYAML
	}
	rendered := e.WriteDynamic(dynExt, tc.dynamic)
	e.WriteStatic(staticExt, static)
	names, err := dynamicRouterNames(dynExt, rendered)
	if err != nil {
		t.Fatalf("test bug: dynamic config does not parse: %v", err)
	}
	e.Start()
	e.WaitRouters(names...)
	if tc.apiEP == "" {
		// A router the builder has not swapped in yet shows in the API first
		// on some implementations: wait until the entrypoint listens too.
		e.WaitListening(e.Addr("web"))
	}

	for i, c := range tc.checks {
		ep := c.ep
		if ep == "" {
			ep = "web"
		}
		method := c.method
		if method == "" {
			method = http.MethodGet
		}
		desc := fmt.Sprintf("check %d: %s %s%s (Host %q)", i, method, ep, c.path, c.host)
		r := do(t, request{method: method, url: e.URL(ep) + c.path, host: c.host, header: c.header, body: c.body})
		want := c.status
		if want == 0 {
			want = http.StatusOK
		}
		if r.Status != want {
			t.Errorf("%s: status %d, want %d; body %q", desc, r.Status, want, truncate(r.Body, 300))
			continue
		}
		if method == http.MethodHead {
			continue
		}
		switch got := backendName(r.Body); c.backend {
		case "":
		case "-":
			if got != "" && r.Header.Get("X-Whoami-Name") != "" {
				t.Errorf("%s: reply came from backend %q, want none", desc, got)
			}
		default:
			if got != c.backend {
				t.Errorf("%s: reply from backend %q, want %q; body %q", desc, got, c.backend, truncate(r.Body, 300))
			}
		}
		for _, s := range c.contains {
			if !strings.Contains(r.Body, s) {
				t.Errorf("%s: body does not contain %q:\n%s", desc, s, r.Body)
			}
		}
		for _, s := range c.absent {
			if strings.Contains(r.Body, s) {
				t.Errorf("%s: body contains %q but must not:\n%s", desc, s, r.Body)
			}
		}
		for k, v := range c.respHeader {
			got, present := r.Header[http.CanonicalHeaderKey(k)]
			switch {
			case v == "" && present:
				t.Errorf("%s: response header %s = %q, want it absent", desc, k, got)
			case v != "" && strings.Join(got, ", ") != v:
				t.Errorf("%s: response header %s = %q, want %q", desc, k, got, v)
			}
		}
		if c.fn != nil {
			c.fn(t, e, r)
		}
	}
	if tc.extra != nil {
		tc.extra(t, e)
	}
	e.Proc.Stop()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// TestStaticSources starts the same setup from flags, from SWITCHYARD_*
// variables and from TRAEFIK_* variables.
func TestStaticSources(t *testing.T) {
	t.Parallel()
	const dyn = `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "src" %>"
`
	for _, mode := range []string{"flags", "SWITCHYARD_", "TRAEFIK_"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.WriteDynamic("yml", dyn)
			opts := [][2]string{
				{"entryPoints.web.address", e.Addr("web")},
				{"entryPoints.traefik.address", e.Addr("traefik")},
				{"api.insecure", "true"},
				{"providers.providersThrottleDuration", "10ms"},
				{"providers.file.filename", e.DynPath},
			}
			var args, env []string
			for _, o := range opts {
				if mode == "flags" {
					args = append(args, "--"+o[0]+"="+o[1])
				} else {
					env = append(env, mode+strings.ToUpper(strings.ReplaceAll(o[0], ".", "_"))+"="+o[1])
				}
			}
			if mode == "flags" {
				e.Start(args...)
			} else {
				e.StartRaw(env)
			}
			e.WaitRouters("app@file")
			r := do(t, request{url: e.URL("web") + "/"})
			if r.Status != 200 || backendName(r.Body) != "src" {
				t.Errorf("GET /: %d from %q, want 200 from src", r.Status, backendName(r.Body))
			}
			e.Proc.Stop()
		})
	}
}

// TestDynamicFileWatchReload checks the basic reload path: a rewritten file
// is picked up and the API and traffic follow it.
func TestDynamicFileWatchReload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	gen := func(name string) string {
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
	e.WriteDynamic("yml", gen("first"))
	e.WriteStatic("yml", staticYAML)
	e.Start()
	e.WaitRouters("first@file")
	if r := do(t, request{url: e.URL("web") + "/"}); backendName(r.Body) != "first" {
		t.Fatalf("before reload: reply from %q, want first", backendName(r.Body))
	}
	start := time.Now()
	e.WriteDynamic("yml", gen("second"))
	e.WaitAPI(5*time.Second, "router second@file replaces first@file", func(rd *Rawdata) bool {
		_, ok2 := rd.Routers["second@file"]
		_, ok1 := rd.Routers["first@file"]
		return ok2 && !ok1
	})
	t.Logf("reload visible in the API after %v", time.Since(start))
	if r := do(t, request{url: e.URL("web") + "/"}); backendName(r.Body) != "second" {
		t.Errorf("after reload: reply from %q, want second", backendName(r.Body))
	}
	e.Proc.Stop()
}

// TestCompatConfigsParse checks the test data itself (no binary needed):
// every case's static and dynamic configuration renders and is valid YAML
// or TOML with the expected top-level keys.
func TestCompatConfigsParse(t *testing.T) {
	t.Parallel()
	for _, tc := range compatCases {
		e := newEnv(t)
		e.DynPath = "/tmp/dynamic.yml"
		static, staticExt, dynExt := tc.static, tc.staticExt, tc.dynExt
		if static == "" {
			static = staticYAML
		}
		if staticExt == "" {
			staticExt = "yml"
		}
		if dynExt == "" {
			dynExt = "yml"
		}
		for _, f := range []struct{ kind, ext, text, key string }{
			{"static", staticExt, static, "entryPoints"},
			{"dynamic", dynExt, tc.dynamic, "http"},
		} {
			if strings.Contains(f.text, `url "target"`) {
				e.SetURL("target", "http://127.0.0.1:1")
			}
			doc := map[string]any{}
			var err error
			text := e.render(f.kind, f.text)
			if f.ext == "toml" {
				_, err = toml.Decode(text, &doc)
			} else {
				err = yaml.Unmarshal([]byte(text), &doc)
			}
			if err != nil {
				t.Errorf("%s: %s config does not parse: %v\n%s", tc.name, f.kind, err, text)
				continue
			}
			if _, ok := doc[f.key]; !ok {
				t.Errorf("%s: %s config has no %q key: %v", tc.name, f.kind, f.key, doc)
			}
		}
	}
}
