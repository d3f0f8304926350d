package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/compat"
)

// refusedStatic sets each refused static option (config/compat) to a value
// other than its default. The key is the option's table path.
var refusedStatic = map[string]string{
	"entryPoints.<name>.http.encodeQuerySemicolons":   "entryPoints:\n  web:\n    address: \":0\"\n    http:\n      encodeQuerySemicolons: true\n",
	"entryPoints.<name>.allowACMEByPass":              "entryPoints:\n  web:\n    address: \":0\"\n    allowACMEByPass: true\n",
	"entryPoints.<name>.observability.traceVerbosity": "entryPoints:\n  web:\n    address: \":0\"\n    observability:\n      traceVerbosity: detailed\n",
	"serversTransport.spiffe":                         "serversTransport:\n  spiffe:\n    trustDomain: example.org\n",
	"tcpServersTransport.tls.spiffe":                  "tcpServersTransport:\n  tls:\n    spiffe:\n      ids: [\"spiffe://example.org/db\"]\n",
	"api.debug":                                       "api:\n  debug: true\n",
	"metrics.otlp":                                    "metrics:\n  otlp:\n    http:\n      endpoint: http://127.0.0.1:4318/v1/metrics\n",
	"providers.swarm":                                 "providers:\n  swarm:\n    endpoint: unix:///var/run/docker.sock\n",
	"hostResolver":                                    "hostResolver:\n  cnameFlattening: true\n",
	"experimental.plugins":                            "experimental:\n  plugins:\n    demo:\n      moduleName: github.com/x/y\n      version: v1.0.0\n",
	"experimental.localPlugins":                       "experimental:\n  localPlugins:\n    demo:\n      moduleName: github.com/x/y\n",
	"experimental.otlpLogs":                           "experimental:\n  otlpLogs: true\n",
	"core.defaultRuleSyntax":                          "core:\n  defaultRuleSyntax: v2\n",
}

// refusedDynamic does the same for dynamic options, with the object name
// the error must carry.
var refusedDynamic = map[string]struct{ yaml, object string }{
	"http.middlewares.<name>.forwardAuth.tls.caOptional": {`
http:
  routers:
    r: {rule: "Host(` + "`a`" + `)", service: s, middlewares: [auth]}
  services:
    s: {loadBalancer: {servers: [{url: "http://127.0.0.1:1"}]}}
  middlewares:
    auth: {forwardAuth: {address: "https://127.0.0.1:1", tls: {caOptional: true}}}
`, "http.middlewares.auth@file.forwardAuth.tls.caOptional"},
	"http.middlewares.<name>.rateLimit.redis.tls.caOptional": {`
http:
  routers:
    r: {rule: "Host(` + "`a`" + `)", service: s, middlewares: [rl]}
  services:
    s: {loadBalancer: {servers: [{url: "http://127.0.0.1:1"}]}}
  middlewares:
    rl: {rateLimit: {average: 10, redis: {endpoints: ["127.0.0.1:1"], tls: {caOptional: true}}}}
`, "http.middlewares.rl@file.rateLimit.redis.tls.caOptional"},
	"http.middlewares.<name>.rateLimit.redis.minIdleConns": {`
http:
  routers:
    r: {rule: "Host(` + "`a`" + `)", service: s, middlewares: [rl]}
  services:
    s: {loadBalancer: {servers: [{url: "http://127.0.0.1:1"}]}}
  middlewares:
    rl: {rateLimit: {average: 10, redis: {endpoints: ["127.0.0.1:1"], minIdleConns: 2}}}
`, "http.middlewares.rl@file.rateLimit.redis.minIdleConns"},
	"http.middlewares.<name>.rateLimit.redis.maxActiveConns": {`
http:
  routers:
    r: {rule: "Host(` + "`a`" + `)", service: s, middlewares: [rl]}
  services:
    s: {loadBalancer: {servers: [{url: "http://127.0.0.1:1"}]}}
  middlewares:
    rl: {rateLimit: {average: 10, redis: {endpoints: ["127.0.0.1:1"], maxActiveConns: 2}}}
`, "http.middlewares.rl@file.rateLimit.redis.maxActiveConns"},
	"http.middlewares.<name>.rateLimit.redis.writeTimeout": {`
http:
  routers:
    r: {rule: "Host(` + "`a`" + `)", service: s, middlewares: [rl]}
  services:
    s: {loadBalancer: {servers: [{url: "http://127.0.0.1:1"}]}}
  middlewares:
    rl: {rateLimit: {average: 10, redis: {endpoints: ["127.0.0.1:1"], writeTimeout: 2s}}}
`, "http.middlewares.rl@file.rateLimit.redis.writeTimeout"},
	"tcp.services.<name>.weighted.healthCheck": {`
tcp:
  routers:
    r: {rule: "HostSNI(` + "`*`" + `)", service: w}
  services:
    a: {loadBalancer: {servers: [{address: "127.0.0.1:1"}]}}
    w: {weighted: {services: [{name: a}], healthCheck: {}}}
`, "tcp.services.w@file.weighted.healthCheck"},
	"tls.stores.<name>.defaultGeneratedCert": {`
tls:
  stores:
    default:
      defaultGeneratedCert:
        resolver: le
        domain: {main: example.org}
`, "tls.stores.default.defaultGeneratedCert"},
}

// TestRefusedOptions: every option config/compat refuses makes the binary
// fail to load (static) or disable the object (dynamic, shown by `check`),
// with an error naming the option and saying it is not supported.
func TestRefusedOptions(t *testing.T) {
	t.Parallel()
	for _, part := range []struct {
		table []compat.Entry
		cases func(string) bool
	}{
		{compat.Static, func(k string) bool { _, ok := refusedStatic[k]; return ok }},
		{compat.Dynamic, func(k string) bool { _, ok := refusedDynamic[k]; return ok }},
	} {
		for _, e := range part.table {
			if e.Status == compat.Refused && !part.cases(e.Key) {
				t.Errorf("refused option %q has no case in integration/compat_refused_test.go: add one", e.Key)
			}
		}
	}
	refused := func(table []compat.Entry, key string) bool {
		e, ok := compat.Lookup(table, key)
		return ok && e.Status == compat.Refused && e.Key == key
	}
	e := newEnv(t)
	for key, yml := range refusedStatic {
		if !refused(compat.Static, key) {
			continue // made to work since: its own test covers it
		}
		e.WriteStatic("yml", yml)
		code, out := runCmd(t, e.Dir, nil, 15*time.Second, "check", "--configFile="+e.StatPath)
		want := strings.ReplaceAll(key, "<name>", "web")
		if code == 0 || !strings.Contains(out, want+": not supported by Switchyard") {
			t.Errorf("static %s: exit %d, want non-zero and an error naming %q as not supported:\n%s", key, code, want, out)
		}
	}
	// The server itself refuses to start, naming the option.
	e.WriteStatic("yml", refusedStatic["hostResolver"])
	p := e.Start()
	if code := p.Wait(15 * time.Second); code == 0 || !strings.Contains(p.Output(), "hostResolver: not supported by Switchyard") {
		t.Errorf("server with hostResolver set: exit %d, want non-zero naming the option:\n%s", code, p.Output())
	}

	for key, c := range refusedDynamic {
		if !refused(compat.Dynamic, key) {
			continue
		}
		e.WriteDynamic("yml", c.yaml)
		e.WriteStatic("yml", "entryPoints:\n  web:\n    address: \":0\"\nproviders:\n  file:\n    filename: \""+e.DynPath+"\"\n")
		code, out := runCmd(t, e.Dir, nil, 15*time.Second, "check", "--configFile="+e.StatPath)
		if code == 0 || !strings.Contains(out, c.object+": not supported by Switchyard") {
			t.Errorf("dynamic %s: exit %d, want non-zero and an error naming %q as not supported:\n%s", key, code, c.object, out)
		}
	}
}
