package integration

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingBackend answers 503 to the first `fails` requests carrying a
// given X-Id, then 200 with the body it read; hits counts them per id.
type countingBackend struct {
	fails int
	mu    sync.Mutex
	hits  map[string]int
}

func (c *countingBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.hits[r.Header.Get("X-Id")]++
	n := c.hits[r.Header.Get("X-Id")]
	c.mu.Unlock()
	if n <= c.fails || r.Header.Get("X-Always-Fail") != "" {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "failed %d", n)
		return
	}
	fmt.Fprintf(w, "ok %d %s", n, b)
}

func (c *countingBackend) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits[id]
}

// TestMiddlewareFidelity covers the middleware options of issue 18 §3
// through the binary: ipWhiteList (deprecated alias, with a warning),
// encodedCharacters, retry's status / retryNonIdempotentMethod /
// maxRequestBodyBytes / disableRetryOnNetworkError / timeout, forwardAuth's
// authSigninURL and maxResponseBodySize, errors' errorRequestHeaders.
func TestMiddlewareFidelity(t *testing.T) {
	t.Parallel()
	flaky := &countingBackend{fails: 2, hits: map[string]int{}}
	auth := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "good" {
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "denied")
	})
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "page;")
		for k := range r.Header {
			io.WriteString(w, k+";")
		}
	})
	rule := func(p string) string { return "PathPrefix(`" + p + "`)" }
	e := startMW(t, "", `
http:
  routers:
    wl-deny: {rule: "`+rule("/wl-deny")+`", service: who, middlewares: [wldeny]}
    wl-allow: {rule: "`+rule("/wl-allow")+`", service: who, middlewares: [wlallow]}
    enc: {rule: "`+rule("/enc")+`", service: who, middlewares: [enc]}
    rt: {rule: "`+rule("/rt/")+`", service: flaky, middlewares: [rt]}
    rt-post: {rule: "`+rule("/rt-post")+`", service: flaky, middlewares: [rtpost]}
    rt-small: {rule: "`+rule("/rt-small")+`", service: flaky, middlewares: [rtsmall]}
    rt-timeout: {rule: "`+rule("/rt-timeout")+`", service: flaky, middlewares: [rttimeout]}
    rt-nonet: {rule: "`+rule("/rt-nonet")+`", service: halfdead, middlewares: [rtnonet]}
    fa-signin: {rule: "`+rule("/fa-signin")+`", service: who, middlewares: [fasignin]}
    fa-small: {rule: "`+rule("/fa-small")+`", service: who, middlewares: [fasmall]}
    fa-big: {rule: "`+rule("/fa-big")+`", service: who, middlewares: [fabig]}
    err: {rule: "`+rule("/err")+`", service: who, middlewares: [err]}
  middlewares:
    wldeny:
      ipWhiteList: {sourceRange: ["10.0.0.0/8"]}
    wlallow:
      ipWhiteList: {sourceRange: ["127.0.0.1/32"]}
    enc:
      encodedCharacters: {allowEncodedSlash: true}
    rt:
      retry: {attempts: 3, status: ["500-503"]}
    rtpost:
      retry: {attempts: 3, status: ["503"], retryNonIdempotentMethod: true}
    rtsmall:
      retry: {attempts: 3, status: ["503"], maxRequestBodyBytes: 8}
    rttimeout:
      retry: {attempts: 5, status: ["503"], initialInterval: 1s, timeout: 1500ms}
    rtnonet:
      retry: {attempts: 3, status: ["503"], disableRetryOnNetworkError: true}
    fasignin:
      forwardAuth: {address: "<% url "auth" %>", authSigninURL: "https://login.example/start"}
    fasmall:
      forwardAuth: {address: "<% url "auth" %>", maxResponseBodySize: 4}
    fabig:
      forwardAuth: {address: "<% url "auth" %>", maxResponseBodySize: 100}
    err:
      errors: {status: ["500"], service: pages, errorRequestHeaders: ["X-Keep"]}
  services:
    who:
      loadBalancer: {servers: [{url: "<% backend "who" %>"}]}
    flaky:
      loadBalancer: {servers: [{url: "<% url "flaky" %>"}]}
    halfdead:
      loadBalancer: {servers: [{url: "<% closed %>"}, {url: "<% url "flaky" %>"}]}
    pages:
      loadBalancer: {servers: [{url: "<% url "pages" %>"}]}
`, func(e *Env) {
		e.SetURL("flaky", startHandler(t, flaky))
		e.SetURL("auth", startHandler(t, auth))
		e.SetURL("pages", startHandler(t, pages))
	})
	web := e.URL("web")

	t.Run("ipWhiteList", func(t *testing.T) {
		if r := get(t, e, "/wl-deny", nil); r.Status != 403 {
			t.Errorf("outside the ranges: %d", r.Status)
		}
		if r := get(t, e, "/wl-allow", nil); r.Status != 200 {
			t.Errorf("inside the ranges: %d", r.Status)
		}
		raw := e.WaitAPI(15*time.Second, "ipWhiteList warning", func(rd *Rawdata) bool {
			m, ok := rd.Middlewares["wldeny@file"]
			return ok && len(m.Error) > 0
		})
		if m := raw.Middlewares["wldeny@file"]; !strings.Contains(strings.Join(m.Error, " "), "deprecated") || m.Status == "disabled" {
			t.Errorf("middleware in the API: %+v", m)
		}
	})
	t.Run("encodedCharacters", func(t *testing.T) {
		for path, want := range map[string]int{"/enc/a%2Fb": 200, "/enc/a%25b": 400, "/enc/a%3Bb": 400, "/enc/a%5Cb": 400, "/enc/plain?q=%25": 200} {
			if r := do(t, request{url: web + path}); r.Status != want {
				t.Errorf("%s: %d, want %d", path, r.Status, want)
			}
		}
	})
	t.Run("retry", func(t *testing.T) {
		r := do(t, request{method: "PUT", url: web + "/rt/x", header: map[string]string{"X-Id": "put"}, body: "payload"})
		if r.Status != 200 || r.Body != "ok 3 payload" || flaky.count("put") != 3 {
			t.Errorf("PUT retried on 503: %d %q hits %d", r.Status, r.Body, flaky.count("put"))
		}
		r = do(t, request{method: "POST", url: web + "/rt/x", header: map[string]string{"X-Id": "post"}, body: "p"})
		if r.Status != 503 || flaky.count("post") != 1 {
			t.Errorf("POST must not be retried: %d %q hits %d", r.Status, r.Body, flaky.count("post"))
		}
		r = do(t, request{method: "POST", url: web + "/rt-post", header: map[string]string{"X-Id": "post2"}, body: "p"})
		if r.Status != 200 || r.Body != "ok 3 p" {
			t.Errorf("POST with retryNonIdempotentMethod: %d %q", r.Status, r.Body)
		}
		r = do(t, request{method: "PUT", url: web + "/rt-small", header: map[string]string{"X-Id": "big"}, body: "more than eight"})
		if r.Status != 413 || flaky.count("big") != 0 {
			t.Errorf("body over maxRequestBodyBytes: %d hits %d", r.Status, flaky.count("big"))
		}
		r = do(t, request{url: web + "/rt-timeout", header: map[string]string{"X-Id": "slow", "X-Always-Fail": "1"}})
		if r.Status != 503 || flaky.count("slow") != 2 {
			t.Errorf("timeout: %d, %d attempts (want 2: the third would start past the timeout)", r.Status, flaky.count("slow"))
		}
		bad := 0
		for i := range 4 {
			r := do(t, request{url: web + "/rt-nonet", header: map[string]string{"X-Id": fmt.Sprint("nonet", i)}})
			if r.Status == 502 {
				bad++
			}
		}
		if bad == 0 {
			t.Errorf("disableRetryOnNetworkError: the dead server's 502 was retried")
		}
	})
	t.Run("forwardAuth", func(t *testing.T) {
		r := do(t, request{url: web + "/fa-signin"})
		if r.Status != 302 || r.Header.Get("Location") != "https://login.example/start" {
			t.Errorf("authSigninURL: %d %v", r.Status, r.Header)
		}
		if r := do(t, request{url: web + "/fa-signin", header: map[string]string{"Authorization": "good"}}); r.Status != 200 {
			t.Errorf("allowed: %d", r.Status)
		}
		if r := do(t, request{url: web + "/fa-small"}); r.Status != 500 {
			t.Errorf("auth body over maxResponseBodySize: %d %q", r.Status, r.Body)
		}
		if r := do(t, request{url: web + "/fa-big"}); r.Status != 401 || r.Body != "denied" {
			t.Errorf("auth body within maxResponseBodySize: %d %q", r.Status, r.Body)
		}
	})
	t.Run("errorRequestHeaders", func(t *testing.T) {
		r := do(t, request{url: web + "/err?status=500", header: map[string]string{"X-Keep": "1", "Authorization": "secret", "Cookie": "s=1"}})
		if r.Status != 500 || !strings.HasPrefix(r.Body, "page;") || !strings.Contains(r.Body, "X-Keep;") || strings.Contains(r.Body, "Authorization") || strings.Contains(r.Body, "Cookie") {
			t.Errorf("error page request headers: %d %q", r.Status, r.Body)
		}
	})
}
