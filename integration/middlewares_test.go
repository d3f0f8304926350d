package integration

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/middlewares/digestauth"
)

// Middlewares through the real binary: one small config per middleware,
// the HTTP results a user sees, plus state kept across a reload and a bad
// middleware disabling only its routers.

// startMW writes static (staticYAML when empty) and dynamic configs, runs
// setup first (to register URLs), starts switchyard and waits for routers.
func startMW(t *testing.T, static, dynamic string, setup func(e *Env)) *Env {
	t.Helper()
	e := newEnv(t)
	if setup != nil {
		setup(e)
	}
	if static == "" {
		static = staticYAML
	}
	rendered := e.WriteDynamic("yml", dynamic)
	e.WriteStatic("yml", static)
	names, err := dynamicRouterNames("yml", rendered)
	if err != nil {
		t.Fatalf("test bug: dynamic config does not parse: %v", err)
	}
	e.Start()
	e.WaitRouters(names...)
	e.WaitListening(e.Addr("web"))
	return e
}

// mwRouter is a dynamic config with one catch-all router using the given
// middlewares (YAML list items) and the extra middleware definitions.
func mwRouter(mws, defs, backend string) string {
	return `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
      middlewares: [` + mws + `]
  middlewares:
` + defs + `
  services:
    app:
      loadBalancer:
        servers:
          - url: "` + backend + `"
`
}

func get(t *testing.T, e *Env, path string, hdr map[string]string) Reply {
	t.Helper()
	return do(t, request{url: e.URL("web") + path, header: hdr})
}

func TestMiddlewareBasicAuth(t *testing.T) {
	t.Parallel()
	// test:secret as MD5-apr1 (openssl passwd -apr1 -salt abcdefgh secret) and SHA1.
	e := startMW(t, "", mwRouter("auth", `
    auth:
      basicAuth:
        users:
          - "test:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/"
          - "sha:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="
        realm: "my realm"
        headerField: X-WebAuth-User
        removeHeader: true
`, `<% backend "ba" %>`), nil)
	r := get(t, e, "/", nil)
	if r.Status != 401 || r.Header.Get("WWW-Authenticate") != `Basic realm="my realm"` {
		t.Fatalf("no credentials: %d %v", r.Status, r.Header)
	}
	for _, cred := range []string{"Basic dGVzdDpzZWNyZXQ=", "Basic c2hhOnNlY3JldA=="} { // test:secret, sha:secret
		r = get(t, e, "/", map[string]string{"Authorization": cred})
		if r.Status != 200 || backendName(r.Body) != "ba" || !strings.Contains(r.Body, "X-Webauth-User:") || strings.Contains(r.Body, "Authorization:") {
			t.Fatalf("good credentials: %d %s", r.Status, r.Body)
		}
	}
	if r = get(t, e, "/", map[string]string{"Authorization": "Basic dGVzdDp3cm9uZw=="}); r.Status != 401 {
		t.Fatalf("wrong password: %d", r.Status)
	}
}

func TestMiddlewareDigestAuth(t *testing.T) {
	t.Parallel()
	ha1 := digestauth.HA1("test", "traefik", "secret")
	e := startMW(t, "", mwRouter("auth", `
    auth:
      digestAuth:
        users: ["test:traefik:`+ha1+`"]
`, `<% backend "da" %>`), nil)
	r := get(t, e, "/x", nil)
	ch := r.Header.Get("WWW-Authenticate")
	if r.Status != 401 || !strings.HasPrefix(ch, "Digest ") {
		t.Fatalf("challenge: %d %q", r.Status, ch)
	}
	p := digestauth.ParseParams(ch[len("Digest "):])
	resp := digestauth.Response(ha1, "GET", "/x", p["nonce"], "00000001", "c0ffee", "auth")
	auth := fmt.Sprintf(`Digest username="test", realm="traefik", nonce=%q, uri="/x", qop=auth, nc=00000001, cnonce="c0ffee", response=%q, opaque=%q`, p["nonce"], resp, p["opaque"])
	if r = get(t, e, "/x", map[string]string{"Authorization": auth}); r.Status != 200 || backendName(r.Body) != "da" {
		t.Fatalf("answer: %d %s", r.Status, r.Body)
	}
}

func TestMiddlewareIPLists(t *testing.T) {
	t.Parallel()
	// X-Forwarded-For from the client is kept only when trusted.
	static := strings.Replace(staticYAML, `    address: "<% addr "web" %>"`, `    address: "<% addr "web" %>"
    forwardedHeaders:
      insecure: true`, 1)
	e := startMW(t, static, `
http:
  routers:
    allowed:
      rule: "PathPrefix(`+"`/allowed`"+`)"
      service: app
      middlewares: [local-only]
    refused:
      rule: "PathPrefix(`+"`/refused`"+`)"
      service: app
      middlewares: [ten-only]
    xff:
      rule: "PathPrefix(`+"`/xff`"+`)"
      service: app
      middlewares: [ten-by-xff]
    deny:
      rule: "PathPrefix(`+"`/deny`"+`)"
      service: app
      middlewares: [deny-local]
  middlewares:
    local-only:
      ipAllowList:
        sourceRange: ["127.0.0.1/32", "::1"]
    ten-only:
      ipAllowList:
        sourceRange: ["10.0.0.0/8"]
        rejectStatusCode: 404
    ten-by-xff:
      ipAllowList:
        sourceRange: ["10.0.0.0/8"]
        ipStrategy:
          depth: 1
    deny-local:
      ipDenyList:
        sourceRange: ["127.0.0.0/8"]
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "ip" %>"
`, nil)
	for _, c := range []struct {
		path   string
		hdr    map[string]string
		status int
	}{
		{"/allowed", nil, 200},
		{"/refused", nil, 404},
		{"/xff", map[string]string{"X-Forwarded-For": "10.2.3.4"}, 200},
		{"/xff", map[string]string{"X-Forwarded-For": "10.2.3.4, 192.0.2.1"}, 403},
		{"/xff", nil, 403},
		{"/deny", nil, 403},
	} {
		if r := get(t, e, c.path, c.hdr); r.Status != c.status {
			t.Errorf("%s %v: %d, want %d", c.path, c.hdr, r.Status, c.status)
		}
	}
}

func TestMiddlewareRateLimitKeptAcrossReload(t *testing.T) {
	t.Parallel()
	cfg := func(extraRouter string) string {
		return `
http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
      middlewares: [rl]
` + extraRouter + `
  middlewares:
    rl:
      rateLimit:
        average: 1
        period: 1h
        burst: 2
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "rl" %>"
`
	}
	e := startMW(t, "", cfg(""), nil)
	var got []int
	for i := 0; i < 3; i++ {
		got = append(got, get(t, e, "/", nil).Status)
	}
	if fmt.Sprint(got) != "[200 200 429]" {
		t.Fatalf("statuses %v", got)
	}
	// An unrelated change: the bucket must stay empty.
	e.WriteDynamic("yml", cfg(`
    other:
      rule: "Path(`+"`/other-router`"+`)"
      service: app
`))
	e.WaitRouters("app@file", "other@file")
	if r := get(t, e, "/", nil); r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("after reload: %d %v", r.Status, r.Header)
	}
}

func TestMiddlewareInFlightReq(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var once sync.Once
	stop := func() { once.Do(func() { close(release) }) }
	defer stop()
	started := make(chan struct{}, 4)
	e := startMW(t, "", mwRouter("ifr", `
    ifr:
      inFlightReq:
        amount: 1
`, `<% url "slow" %>`), func(e *Env) {
		e.SetURL("slow", startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/hold" {
				started <- struct{}{}
				<-release
			}
			io.WriteString(w, "done")
		})))
	})
	done := make(chan int, 1)
	go func() {
		r, err := tryDo(request{url: e.URL("web") + "/hold"})
		if err != nil {
			done <- -1
			return
		}
		done <- r.Status
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("held request never reached the backend")
	}
	if r := get(t, e, "/", nil); r.Status != 429 {
		t.Errorf("second request while one in flight: %d", r.Status)
	}
	stop()
	if s := <-done; s != 200 {
		t.Errorf("held request: %d", s)
	}
	if r := get(t, e, "/", nil); r.Status != 200 {
		t.Errorf("after release: %d", r.Status)
	}
}

func TestMiddlewareCompress(t *testing.T) {
	t.Parallel()
	e := startMW(t, "", mwRouter("gz", `
    gz:
      compress:
        minResponseBodyBytes: 10
        encodings: [gzip, br]
`, `<% backend "cz" %>`), nil)
	for _, c := range []struct{ accept, want string }{{"gzip", "gzip"}, {"br", "br"}, {"br;q=0.5, gzip", "gzip"}, {"", ""}, {"zstd", ""}} {
		hdr := map[string]string{}
		if c.accept != "" {
			hdr["Accept-Encoding"] = c.accept
		}
		r := get(t, e, "/", hdr)
		if r.Status != 200 || r.Header.Get("Content-Encoding") != c.want {
			t.Errorf("Accept-Encoding %q: %d Content-Encoding %q", c.accept, r.Status, r.Header.Get("Content-Encoding"))
		}
	}
	// A range request is never compressed.
	if r := get(t, e, "/", map[string]string{"Accept-Encoding": "gzip", "Range": "bytes=0-3"}); r.Header.Get("Content-Encoding") != "" {
		t.Errorf("range request compressed")
	}
}

func TestMiddlewareErrors(t *testing.T) {
	t.Parallel()
	e := startMW(t, "", `
http:
  routers:
    app:
      rule: "PathPrefix(`+"`/`"+`)"
      service: app
      middlewares: [pages]
  middlewares:
    pages:
      errors:
        status: ["500-599", "404"]
        service: pages
        query: "/page-{status}?from={url}"
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "errapp" %>"
    pages:
      loadBalancer:
        servers:
          - url: "<% backend "errpages" %>"
`, nil)
	r := get(t, e, "/a?status=503", nil)
	if r.Status != 503 || backendName(r.Body) != "errpages" || !strings.Contains(r.Body, "GET /page-503?from=%2Fa%3Fstatus%3D503") {
		t.Fatalf("caught: %d %s", r.Status, r.Body)
	}
	if r = get(t, e, "/a?status=418", nil); r.Status != 418 || backendName(r.Body) != "errapp" {
		t.Fatalf("not caught: %d %s", r.Status, r.Body)
	}
}

func TestMiddlewareRetry(t *testing.T) {
	t.Parallel()
	e := startMW(t, "", `
http:
  routers:
    app:
      rule: "PathPrefix(`+"`/`"+`)"
      service: app
      middlewares: [retry]
    noretry:
      rule: "PathPrefix(`+"`/noretry`"+`)"
      service: app
  middlewares:
    retry:
      retry:
        attempts: 2
        initialInterval: 10ms
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% closed %>"
          - url: "<% backend "rt" %>"
`, nil)
	for i := 0; i < 6; i++ {
		if r := get(t, e, "/", nil); r.Status != 200 || backendName(r.Body) != "rt" {
			t.Fatalf("request %d with retry: %d %s", i, r.Status, r.Body)
		}
	}
	bad := 0
	for i := 0; i < 4; i++ {
		if get(t, e, "/noretry", nil).Status == 502 {
			bad++
		}
	}
	if bad == 0 {
		t.Errorf("without retry the dead server never answered 502")
	}
}

func TestMiddlewareCircuitBreaker(t *testing.T) {
	t.Parallel()
	e := startMW(t, "", mwRouter("cb", `
    cb:
      circuitBreaker:
        expression: "ResponseCodeRatio(500, 600, 0, 600) > 0.5"
        checkPeriod: 10ms
        fallbackDuration: 1m
        responseCode: 418
`, `<% backend "cb" %>`), nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := get(t, e, "/?status=500", nil)
		if r.Status == 418 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("breaker never tripped (last %d)", r.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Tripped: even good requests get the fallback.
	if r := get(t, e, "/", nil); r.Status != 418 {
		t.Fatalf("tripped breaker let a request through: %d", r.Status)
	}
}

func TestMiddlewareBuffering(t *testing.T) {
	t.Parallel()
	e := startMW(t, "", mwRouter("buf", `
    buf:
      buffering:
        maxRequestBodyBytes: 10
`, `<% backend "bf" %>`), nil)
	if r := do(t, request{method: "POST", url: e.URL("web") + "/", body: "short"}); r.Status != 200 {
		t.Errorf("small body: %d", r.Status)
	}
	if r := do(t, request{method: "POST", url: e.URL("web") + "/", body: strings.Repeat("x", 100)}); r.Status != 413 {
		t.Errorf("large body: %d", r.Status)
	}
}

func TestMiddlewareForwardAuth(t *testing.T) {
	t.Parallel()
	e := startMW(t, "", mwRouter("fa", `
    fa:
      forwardAuth:
        address: "<% url "auth" %>/check"
        authResponseHeaders: [X-Auth-User]
`, `<% backend "fa" %>`), func(e *Env) {
		e.SetURL("auth", startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Token") == "good" && r.Header.Get("X-Forwarded-Uri") == "/p?q=1" {
				w.Header().Set("X-Auth-User", "alice")
				return
			}
			w.WriteHeader(403)
			io.WriteString(w, "go away")
		})))
	})
	if r := get(t, e, "/p?q=1", nil); r.Status != 403 || r.Body != "go away" {
		t.Fatalf("denied: %d %q", r.Status, r.Body)
	}
	r := get(t, e, "/p?q=1", map[string]string{"X-Token": "good", "X-Auth-User": "forged"})
	if r.Status != 200 || !strings.Contains(r.Body, "X-Auth-User: alice") || strings.Contains(r.Body, "forged") {
		t.Fatalf("allowed: %d %s", r.Status, r.Body)
	}
}

func TestMiddlewareContentTypeAndTLSHeaders(t *testing.T) {
	t.Parallel()
	e := startMW(t, "", mwRouter("ct, certs", `
    ct:
      contentType: {}
    certs:
      passTLSClientCert:
        pem: true
`, `<% url "raw" %>`), func(e *Env) {
		e.SetURL("raw", startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil // send no Content-Type
			fmt.Fprintf(w, "<html><body>cert=%q</body></html>", r.Header.Get("X-Forwarded-Tls-Client-Cert"))
		})))
	})
	r := get(t, e, "/", map[string]string{"X-Forwarded-Tls-Client-Cert": "spoofed"})
	if r.Status != 200 || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("%d Content-Type %q", r.Status, r.Header.Get("Content-Type"))
	}
	if strings.Contains(r.Body, "spoofed") {
		t.Errorf("client-sent certificate header reached the backend: %s", r.Body)
	}
}

func TestMiddlewareGrpcWebPreflight(t *testing.T) {
	t.Parallel()
	e := startMW(t, "", mwRouter("gw", `
    gw:
      grpcWeb:
        allowOrigins: ["https://app.example"]
`, `<% backend "gw" %>`), nil)
	r := do(t, request{method: "OPTIONS", url: e.URL("web") + "/pkg.Svc/Call", header: map[string]string{
		"Origin": "https://app.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-grpc-web"}})
	if r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("preflight: %d %v", r.Status, r.Header)
	}
	if r = get(t, e, "/", nil); r.Status != 200 || backendName(r.Body) != "gw" {
		t.Fatalf("plain request: %d", r.Status)
	}
}

// A middleware with a bad option disables its routers only, with the
// reason on the router and on the middleware in the API.
func TestMiddlewareInvalidIsolated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.WriteDynamic("yml", `
http:
  routers:
    good:
      rule: "PathPrefix(`+"`/good`"+`)"
      service: app
      middlewares: [fine]
    bad:
      rule: "PathPrefix(`+"`/bad`"+`)"
      service: app
      middlewares: [broken]
  middlewares:
    fine:
      rateLimit:
        average: 100
    broken:
      basicAuth:
        users: ["user:plaintext"]
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "iso" %>"
`)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	raw := e.WaitAPI(15*time.Second, "routers good and bad", func(r *Rawdata) bool {
		return r.Routers["good@file"].Status == "enabled" && r.Routers["bad@file"].Status == "disabled"
	})
	if m := raw.Middlewares["broken@file"]; len(m.Error) == 0 || !strings.Contains(m.Error[0], "unsupported hash") {
		t.Errorf("middleware error %v", m.Error)
	}
	if rt := raw.Routers["bad@file"]; len(rt.Error) == 0 {
		t.Errorf("router error missing")
	}
	e.WaitListening(e.Addr("web"))
	if r := get(t, e, "/good", nil); r.Status != 200 {
		t.Errorf("good router: %d", r.Status)
	}
	if r := get(t, e, "/bad", nil); r.Status != 404 {
		t.Errorf("bad router: %d", r.Status)
	}
}

// entryPoints.<n>.http.middlewares run before the router's own.
func TestMiddlewareEntryPointDefaults(t *testing.T) {
	t.Parallel()
	static := strings.Replace(staticYAML, `    address: "<% addr "web" %>"`, `    address: "<% addr "web" %>"
    http:
      middlewares: ["guard@file"]`, 1)
	e := startMW(t, static, `
http:
  routers:
    app:
      rule: "PathPrefix(`+"`/`"+`)"
      service: app
  middlewares:
    guard:
      ipAllowList:
        sourceRange: ["10.0.0.0/8"]
  services:
    app:
      loadBalancer:
        servers:
          - url: "<% backend "epm" %>"
`, nil)
	if r := get(t, e, "/", nil); r.Status != 403 {
		t.Fatalf("entrypoint middleware not applied: %d", r.Status)
	}
}

// passTLSClientCert on a TLS router with client authentication: the backend
// sees the client's certificate in the headers.
func TestMiddlewarePassTLSClientCert(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca := newCA(t, "mw test CA")
	sc, sk := ca.issue(t, "mw.test", []string{"mw.test"}, false)
	writePair(t, e.Dir, "srv", sc, sk)
	writeFile(t, e.Dir, "ca.pem", ca.PEM)
	e.SetURL("echo", startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "pem=%s\ninfo=%s\n", r.Header.Get("X-Forwarded-Tls-Client-Cert"), r.Header.Get("X-Forwarded-Tls-Client-Cert-Info"))
	})))
	e.WriteDynamic("yml", `
http:
  routers:
    certs:
      rule: "Host(`+"`mw.test`"+`)"
      service: echo
      middlewares: [certs]
      tls:
        options: mtls
  middlewares:
    certs:
      passTLSClientCert:
        pem: true
        info:
          subject:
            commonName: true
  services:
    echo:
      loadBalancer:
        servers:
          - url: "<% url "echo" %>"
tls:
  certificates:
    - certFile: "<% dir %>/srv.crt"
      keyFile: "<% dir %>/srv.key"
  options:
    mtls:
      clientAuth:
        caFiles: ["<% dir %>/ca.pem"]
        clientAuthType: RequireAndVerifyClientCert
`)
	e.WriteStatic("yml", staticYAML)
	e.Start()
	e.WaitRouters("certs@file")
	e.WaitListening(e.Addr("web"))
	cc, ck := ca.issue(t, "alice", nil, true)
	pair, err := tls.X509KeyPair([]byte(cc), []byte(ck))
	if err != nil {
		t.Fatal(err)
	}
	r := mustHTTPS(t, e.Addr("web"), "mw.test", "/", &tls.Config{RootCAs: ca.pool(), Certificates: []tls.Certificate{pair}}, false)
	wantPEM := base64.StdEncoding.EncodeToString(pair.Certificate[0])
	if r.Status != 200 || !strings.Contains(r.Body, "pem="+wantPEM+"\n") || !strings.Contains(r.Body, `info=Subject%3D%22CN%3Dalice%22`) {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}
