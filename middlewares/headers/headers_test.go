package headers

import (
	"bufio"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func mustSetup(t testing.TB, cfg *dynamic.Headers, next http.Handler) http.Handler {
	t.Helper()
	wrap, err := Setup(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return wrap(next)
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })

func TestSetupErrors(t *testing.T) {
	bad := true
	tests := map[string]*dynamic.Headers{
		"nil":                  nil,
		"empty":                {},
		"bad origin regex":     {AccessControlAllowOriginListRegex: []string{"a(b"}},
		"bad request header":   {CustomRequestHeaders: map[string]string{"X Bad": "v"}},
		"bad request value":    {CustomRequestHeaders: map[string]string{"X-Ok": "a\nb"}},
		"bad response header":  {CustomResponseHeaders: map[string]string{"": "v"}},
		"bad csp":              {ContentSecurityPolicy: "default-src\r\n'self'"},
		"bad allow methods":    {AccessControlAllowMethods: []string{"GET\n"}},
		"bad frame options":    {CustomFrameOptionsValue: "\x00"},
		"bad permissions":      {PermissionsPolicy: "a\nb"},
		"bad expose headers":   {AccessControlExposeHeaders: []string{"\n"}},
		"bad allow header val": {AccessControlAllowHeaders: []string{"\r"}},
		"bad preflight status": {AccessControlAllowOriginList: []string{"*"}, CORSPreflightStatus: 404},
	}
	for name, cfg := range tests {
		if _, err := Setup(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Removed Traefik v2 options alone are accepted (and have no effect).
	if _, err := Setup(&dynamic.Headers{SSLRedirect: &bad}); err != nil {
		t.Errorf("deprecated only: %v", err)
	}
}

func TestCustomRequestHeaders(t *testing.T) {
	tests := []struct {
		desc     string
		cfg      map[string]string
		want     http.Header
		wantHost string
	}{
		{"adds", map[string]string{"X-Custom-Request-Header": "test_request"},
			http.Header{"Foo": {"bar"}, "X-Custom-Request-Header": {"test_request"}}, "example.org"},
		{"deletes", map[string]string{"X-Custom-Request-Header": "", "Foo": ""}, http.Header{}, "example.org"},
		{"overrides", map[string]string{"Foo": "test"}, http.Header{"Foo": {"test"}}, "example.org"},
		{"canonicalises", map[string]string{"x-lower": "v", "foo": "baz"}, http.Header{"Foo": {"baz"}, "X-Lower": {"v"}}, "example.org"},
		{"host", map[string]string{"Host": "example.com"}, http.Header{"Foo": {"bar"}}, "example.com"},
		{"xff empty keeps nil", map[string]string{"X-Forwarded-For": ""}, http.Header{"Foo": {"bar"}, "X-Forwarded-For": nil}, "example.org"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			var got *http.Request
			h := mustSetup(t, &dynamic.Headers{CustomRequestHeaders: tc.cfg}, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r }))
			req := httptest.NewRequest(http.MethodGet, "http://example.org/foo", nil)
			req.Header.Set("Foo", "bar")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if !reflect.DeepEqual(got.Header, tc.want) {
				t.Errorf("headers %v, want %v", got.Header, tc.want)
			}
			if got.Host != tc.wantHost || got.URL.Host != "example.org" {
				t.Errorf("host %q url host %q", got.Host, got.URL.Host)
			}
		})
	}
}

func TestCORSPreflight(t *testing.T) {
	reqHeaders := http.Header{
		"Access-Control-Request-Headers": {"origin"},
		"Access-Control-Request-Method":  {"GET", "OPTIONS"},
		"Origin":                         {"https://foo.bar.org"},
	}
	methods := []string{"GET", "OPTIONS", "PUT"}
	tests := []struct {
		desc string
		cfg  dynamic.Headers
		req  http.Header
		want http.Header
	}{
		{"simple", dynamic.Headers{AccessControlAllowMethods: methods, AccessControlAllowOriginList: []string{"https://foo.bar.org"}, AccessControlMaxAge: 600}, reqHeaders,
			http.Header{"Access-Control-Allow-Origin": {"https://foo.bar.org"}, "Access-Control-Max-Age": {"600"}, "Access-Control-Allow-Methods": {"GET,OPTIONS,PUT"}}},
		{"wildcard", dynamic.Headers{AccessControlAllowMethods: methods, AccessControlAllowOriginList: []string{"*"}, AccessControlMaxAge: 600}, reqHeaders,
			http.Header{"Access-Control-Allow-Origin": {"*"}, "Access-Control-Max-Age": {"600"}, "Access-Control-Allow-Methods": {"GET,OPTIONS,PUT"}}},
		{"credentials", dynamic.Headers{AccessControlAllowMethods: methods, AccessControlAllowOriginList: []string{"*"}, AccessControlAllowCredentials: true, AccessControlMaxAge: 600}, reqHeaders,
			http.Header{"Access-Control-Allow-Origin": {"*"}, "Access-Control-Max-Age": {"600"}, "Access-Control-Allow-Methods": {"GET,OPTIONS,PUT"}, "Access-Control-Allow-Credentials": {"true"}}},
		{"allow headers", dynamic.Headers{AccessControlAllowMethods: methods, AccessControlAllowOriginList: []string{"*"}, AccessControlAllowHeaders: []string{"origin", "X-Forwarded-For"}, AccessControlMaxAge: 600}, reqHeaders,
			http.Header{"Access-Control-Allow-Origin": {"*"}, "Access-Control-Max-Age": {"600"}, "Access-Control-Allow-Methods": {"GET,OPTIONS,PUT"}, "Access-Control-Allow-Headers": {"origin,X-Forwarded-For"}}},
		{"origin not allowed", dynamic.Headers{AccessControlAllowMethods: methods, AccessControlAllowOriginList: []string{"https://other.org"}}, reqHeaders,
			http.Header{"Access-Control-Max-Age": {"0"}, "Access-Control-Allow-Methods": {"GET,OPTIONS,PUT"}}},
		{"origin regex", dynamic.Headers{AccessControlAllowOriginListRegex: []string{`^https://[a-z]+\.bar\.org$`}}, reqHeaders,
			http.Header{"Access-Control-Allow-Origin": {"https://foo.bar.org"}, "Access-Control-Max-Age": {"0"}}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			called := false
			h := mustSetup(t, &tc.cfg, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
			req := httptest.NewRequest(http.MethodOptions, "/foo", nil)
			req.Header = tc.req
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if called {
				t.Error("preflight reached the backend")
			}
			if rec.Code != http.StatusOK {
				t.Errorf("status %d", rec.Code)
			}
			if got := rec.Result().Header; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("headers %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNotAPreflight(t *testing.T) {
	for _, hdr := range []http.Header{
		{"Origin": {"https://a"}},                                           // no request method
		{"Access-Control-Request-Method": {"GET"}},                          // no origin
		{"Origin": {"https://a"}, "Access-Control-Request-Method": {"GET"}}, // but CORS not configured below
	} {
		called := false
		next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
		cfg := &dynamic.Headers{AccessControlAllowOriginList: []string{"*"}}
		if len(hdr) == 2 {
			cfg = &dynamic.Headers{CustomRequestHeaders: map[string]string{"foo": "bar"}}
		}
		req := httptest.NewRequest(http.MethodOptions, "/", nil)
		req.Header = hdr
		mustSetup(t, cfg, next).ServeHTTP(httptest.NewRecorder(), req)
		if !called {
			t.Errorf("%v: next not called", hdr)
		}
	}
}

func TestCORSResponses(t *testing.T) {
	setVary := func(v string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Vary", v)
			w.WriteHeader(http.StatusOK)
		})
	}
	tests := []struct {
		desc string
		next http.Handler
		cfg  dynamic.Headers
		req  http.Header
		want http.Header
	}{
		{"simple", okHandler, dynamic.Headers{AccessControlAllowOriginList: []string{"https://foo.bar.org"}},
			http.Header{"Origin": {"https://foo.bar.org"}}, http.Header{"Access-Control-Allow-Origin": {"https://foo.bar.org"}}},
		{"wildcard", okHandler, dynamic.Headers{AccessControlAllowOriginList: []string{"*"}},
			http.Header{"Origin": {"https://foo.bar.org"}}, http.Header{"Access-Control-Allow-Origin": {"*"}}},
		{"first match wins", okHandler, dynamic.Headers{AccessControlAllowOriginList: []string{"https://foo.bar.org", "*"}},
			http.Header{"Origin": {"https://foo.bar.org"}}, http.Header{"Access-Control-Allow-Origin": {"https://foo.bar.org"}}},
		{"regex", okHandler, dynamic.Headers{AccessControlAllowOriginListRegex: []string{`^https?://([a-z]+)\.bar\.org$`}},
			http.Header{"Origin": {"https://foo.bar.org"}}, http.Header{"Access-Control-Allow-Origin": {"https://foo.bar.org"}}},
		{"partial regex", okHandler, dynamic.Headers{AccessControlAllowOriginListRegex: []string{`([a-z]+)\.bar`}},
			http.Header{"Origin": {"https://foo.bar.org"}}, http.Header{"Access-Control-Allow-Origin": {"https://foo.bar.org"}}},
		{"regex no match", okHandler, dynamic.Headers{AccessControlAllowOriginListRegex: []string{`([a-z]+)\.bar\.org`}},
			http.Header{"Origin": {"https://bar.org"}}, http.Header{}},
		{"no origin", okHandler, dynamic.Headers{AccessControlAllowOriginList: []string{"https://foo.bar.org"}},
			http.Header{}, http.Header{}},
		{"credentials", okHandler, dynamic.Headers{AccessControlAllowOriginList: []string{"*"}, AccessControlAllowCredentials: true},
			http.Header{"Origin": {"https://foo.bar.org"}}, http.Header{"Access-Control-Allow-Origin": {"*"}, "Access-Control-Allow-Credentials": {"true"}}},
		{"expose", okHandler, dynamic.Headers{AccessControlAllowOriginList: []string{"*"}, AccessControlExposeHeaders: []string{"origin", "X-Forwarded-For"}},
			http.Header{"Origin": {"https://foo.bar.org"}}, http.Header{"Access-Control-Allow-Origin": {"*"}, "Access-Control-Expose-Headers": {"origin,X-Forwarded-For"}}},
		{"vary added", okHandler, dynamic.Headers{AccessControlAllowOriginList: []string{"https://foo.bar.org"}, AddVaryHeader: true},
			http.Header{"Origin": {"https://foo.bar.org"}}, http.Header{"Access-Control-Allow-Origin": {"https://foo.bar.org"}, "Vary": {"Origin"}}},
		{"vary appended", setVary("Testing"), dynamic.Headers{AccessControlAllowOriginList: []string{"https://foo.bar.org"}, AddVaryHeader: true},
			http.Header{"Origin": {"https://foo.bar.org"}}, http.Header{"Access-Control-Allow-Origin": {"https://foo.bar.org"}, "Vary": {"Testing,Origin"}}},
		{"vary kept", setVary("Accept-Encoding, origin"), dynamic.Headers{AccessControlAllowOriginList: []string{"https://foo.bar.org"}, AddVaryHeader: true},
			http.Header{"Origin": {"https://foo.bar.org"}}, http.Header{"Access-Control-Allow-Origin": {"https://foo.bar.org"}, "Vary": {"Accept-Encoding, origin"}}},
		{"backend ACAO overwritten", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Add("Access-Control-Allow-Origin", "http://foo.bar.org")
			w.WriteHeader(http.StatusOK)
		}), dynamic.Headers{AccessControlAllowOriginList: []string{"*"}},
			http.Header{"Origin": {"https://foo.bar.org"}}, http.Header{"Access-Control-Allow-Origin": {"*"}}},
		{"custom headers do not hijack CORS", okHandler, dynamic.Headers{CustomRequestHeaders: map[string]string{"foo": "bar"}},
			http.Header{"Access-Control-Request-Method": {"GET"}, "Origin": {"https://foo.bar.org"}}, http.Header{}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			h := mustSetup(t, &tc.cfg, tc.next)
			req := httptest.NewRequest(http.MethodGet, "/foo", nil)
			req.Header = tc.req
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if got := rec.Result().Header; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("headers %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCustomResponseHeaders(t *testing.T) {
	backend := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Foo", "bar")
		w.Header().Set("Server", "backend")
		w.WriteHeader(http.StatusTeapot)
	}
	tests := []struct {
		desc string
		cfg  map[string]string
		want http.Header
	}{
		{"set", map[string]string{"Testing": "foo", "testing2": "bar"}, http.Header{"Foo": {"bar"}, "Server": {"backend"}, "Testing": {"foo"}, "Testing2": {"bar"}}},
		{"delete", map[string]string{"Server": "", "Foo": ""}, http.Header{}},
		{"override", map[string]string{"Foo": "baz"}, http.Header{"Foo": {"baz"}, "Server": {"backend"}}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			rec := httptest.NewRecorder()
			mustSetup(t, &dynamic.Headers{CustomResponseHeaders: tc.cfg}, http.HandlerFunc(backend)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			if rec.Code != http.StatusTeapot {
				t.Errorf("status %d", rec.Code)
			}
			if got := rec.Result().Header; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("headers %v, want %v", got, tc.want)
			}
		})
	}
}

// TestResponseHeadersWhenHandlerWrites covers the ways a handler can send
// the status line: each must carry the modified headers.
func TestResponseHeadersWhenHandlerWrites(t *testing.T) {
	cfg := &dynamic.Headers{CustomResponseHeaders: map[string]string{"X-Added": "yes", "X-Removed": ""}, FrameDeny: true}
	handlers := map[string]http.HandlerFunc{
		"nothing written": func(w http.ResponseWriter, _ *http.Request) { w.Header().Set("X-Removed", "1") },
		"write only": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Removed", "1")
			_, _ = w.Write([]byte("hi"))
		},
		"flush first": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Removed", "1")
			w.(http.Flusher).Flush()
		},
		"controller flush": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Removed", "1")
			_ = http.NewResponseController(w).Flush()
		},
		"read from": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Removed", "1")
			_, _ = io.Copy(w, strings.NewReader("body"))
		},
		"1xx then final": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Removed", "1")
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusAccepted)
		},
		"late header ignored": func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusOK)
			w.Header().Set("X-Removed", "1")
		},
	}
	for name, hf := range handlers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(mustSetup(t, cfg, hf))
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.Header.Get("X-Added") != "yes" || resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header["X-Removed"] != nil {
				t.Errorf("headers %v", resp.Header)
			}
		})
	}
}

// TestStreaming makes sure the headers reach the client before the backend
// finishes, and that flushing still works through the wrapper.
func TestStreaming(t *testing.T) {
	release := make(chan struct{})
	h := mustSetup(t, &dynamic.Headers{CustomResponseHeaders: map[string]string{"X-Stream": "1"}},
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("first\n"))
			w.(http.Flusher).Flush()
			<-release
			_, _ = w.Write([]byte("second\n"))
		}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer close(release)
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("X-Stream") != "1" {
		t.Errorf("header missing: %v", resp.Header)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first chunk %q, %v", line, err)
	}
}

func TestHijack(t *testing.T) {
	h := mustSetup(t, &dynamic.Headers{CustomResponseHeaders: map[string]string{"X-A": "1"}},
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			defer conn.Close()
			_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nX-Raw: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
			_ = brw.Flush()
		}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("X-Raw") != "1" || string(b) != "ok" {
		t.Errorf("hijacked response %v %q", resp.Header, b)
	}
}

func TestDeadlinesThroughController(t *testing.T) {
	h := mustSetup(t, &dynamic.Headers{CustomResponseHeaders: map[string]string{"X-A": "1"}},
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-A") != "1" {
		t.Errorf("status %d headers %v", resp.StatusCode, resp.Header)
	}
}

func TestSecureHeaders(t *testing.T) {
	tests := []struct {
		desc    string
		cfg     dynamic.Headers
		tls     bool
		reqHdr  http.Header
		host    string
		status  int
		want    http.Header // subset that must be present
		absent  []string
		nextRun bool
	}{
		{desc: "sts only on https", cfg: dynamic.Headers{STSSeconds: 315360000}, absent: []string{"Strict-Transport-Security"}},
		{desc: "sts on tls", cfg: dynamic.Headers{STSSeconds: 315360000, STSIncludeSubdomains: true, STSPreload: true}, tls: true,
			want: http.Header{"Strict-Transport-Security": {"max-age=315360000; includeSubDomains; preload"}}},
		{desc: "sts forced", cfg: dynamic.Headers{STSSeconds: 60, ForceSTSHeader: true},
			want: http.Header{"Strict-Transport-Security": {"max-age=60"}}},
		{desc: "sts via ssl proxy header", cfg: dynamic.Headers{STSSeconds: 60, SSLProxyHeaders: map[string]string{"X-Forwarded-Proto": "https"}},
			reqHdr: http.Header{"X-Forwarded-Proto": {"https"}}, want: http.Header{"Strict-Transport-Security": {"max-age=60"}}},
		{desc: "sts ssl proxy header mismatch", cfg: dynamic.Headers{STSSeconds: 60, SSLProxyHeaders: map[string]string{"X-Forwarded-Proto": "https"}},
			reqHdr: http.Header{"X-Forwarded-Proto": {"http"}}, absent: []string{"Strict-Transport-Security"}},
		{desc: "sts off in development", cfg: dynamic.Headers{STSSeconds: 60, ForceSTSHeader: true, IsDevelopment: true}, tls: true,
			absent: []string{"Strict-Transport-Security"}},
		{desc: "frame deny", cfg: dynamic.Headers{FrameDeny: true}, want: http.Header{"X-Frame-Options": {"DENY"}}},
		{desc: "custom frame options win", cfg: dynamic.Headers{FrameDeny: true, CustomFrameOptionsValue: "SAMEORIGIN"}, want: http.Header{"X-Frame-Options": {"SAMEORIGIN"}}},
		{desc: "nosniff", cfg: dynamic.Headers{ContentTypeNosniff: true}, want: http.Header{"X-Content-Type-Options": {"nosniff"}}},
		{desc: "xss filter", cfg: dynamic.Headers{BrowserXSSFilter: true}, want: http.Header{"X-Xss-Protection": {"1; mode=block"}}},
		{desc: "custom xss", cfg: dynamic.Headers{BrowserXSSFilter: true, CustomBrowserXSSValue: "0"}, want: http.Header{"X-Xss-Protection": {"0"}}},
		{desc: "csp", cfg: dynamic.Headers{ContentSecurityPolicy: "default-src 'self'", ContentSecurityPolicyReportOnly: "script-src 'none'"},
			want: http.Header{"Content-Security-Policy": {"default-src 'self'"}, "Content-Security-Policy-Report-Only": {"script-src 'none'"}}},
		{desc: "referrer and permissions", cfg: dynamic.Headers{ReferrerPolicy: "no-referrer", PermissionsPolicy: "camera=()"},
			want: http.Header{"Referrer-Policy": {"no-referrer"}, "Permissions-Policy": {"camera=()"}}},
		{desc: "hpkp only on tls", cfg: dynamic.Headers{PublicKey: `pin-sha256="x"; max-age=5`}, absent: []string{"Public-Key-Pins"}},
		{desc: "hpkp on tls", cfg: dynamic.Headers{PublicKey: `pin-sha256="x"; max-age=5`}, tls: true, want: http.Header{"Public-Key-Pins": {`pin-sha256="x"; max-age=5`}}},
		{desc: "allowed host", cfg: dynamic.Headers{AllowedHosts: []string{"Example.com"}}, host: "example.com", nextRun: true},
		{desc: "allowed host with port must list the port", cfg: dynamic.Headers{AllowedHosts: []string{"example.com"}}, host: "example.com:8080", status: 500},
		{desc: "bad host", cfg: dynamic.Headers{AllowedHosts: []string{"example.com"}, FrameDeny: true, CustomResponseHeaders: map[string]string{"X-C": "1"}}, host: "evil.com", status: 500,
			want: http.Header{"X-C": {"1"}}, absent: []string{"X-Frame-Options"}},
		{desc: "bad host allowed in development", cfg: dynamic.Headers{AllowedHosts: []string{"example.com"}, IsDevelopment: true}, host: "evil.com", nextRun: true},
		{desc: "host from proxy header", cfg: dynamic.Headers{AllowedHosts: []string{"example.com"}, HostsProxyHeaders: []string{"x-forwarded-host"}},
			host: "internal", reqHdr: http.Header{"X-Forwarded-Host": {"example.com"}}, nextRun: true},
		{desc: "custom overrides secure", cfg: dynamic.Headers{FrameDeny: true, ContentTypeNosniff: true, CustomResponseHeaders: map[string]string{"X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": ""}},
			want: http.Header{"X-Frame-Options": {"SAMEORIGIN"}}, absent: []string{"X-Content-Type-Options"}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			ran := false
			h := mustSetup(t, &tc.cfg, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				ran = true
				w.Header().Set("X-Frame-Options", "from-backend")
			}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.reqHdr != nil {
				req.Header = tc.reqHdr
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			status := tc.status
			if status == 0 {
				status = http.StatusOK
			}
			if rec.Code != status {
				t.Fatalf("status %d, want %d", rec.Code, status)
			}
			if status == http.StatusInternalServerError && (ran || strings.TrimSpace(rec.Body.String()) != "Bad Host") {
				t.Errorf("bad host: next ran %v, body %q", ran, rec.Body.String())
			}
			if tc.nextRun && !ran {
				t.Error("next not called")
			}
			res := rec.Result().Header
			for k, v := range tc.want {
				if !reflect.DeepEqual(res[k], v) {
					t.Errorf("%s = %q, want %q", k, res[k], v)
				}
			}
			for _, k := range tc.absent {
				if v, ok := res[k]; ok && (k != "X-Frame-Options" || v[0] != "from-backend") {
					t.Errorf("%s = %q, want absent", k, v)
				}
			}
		})
	}
}

func TestSharedBetweenRouters(t *testing.T) {
	wrap, err := Setup(&dynamic.Headers{CustomRequestHeaders: map[string]string{"X-A": "1"}, FrameDeny: true})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	a := wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { seen = append(seen, "a") }))
	b := wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { seen = append(seen, "b") }))
	a.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	b.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if strings.Join(seen, "") != "ab" {
		t.Fatalf("seen %v", seen)
	}
}

func TestConcurrent(t *testing.T) {
	h := mustSetup(t, &dynamic.Headers{
		CustomRequestHeaders:         map[string]string{"X-A": "1"},
		CustomResponseHeaders:        map[string]string{"X-B": "2"},
		AccessControlAllowOriginList: []string{"*"}, AddVaryHeader: true, STSSeconds: 10, ForceSTSHeader: true,
	}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Add("X-A", "more") // appends must not touch shared state
		_, _ = w.Write([]byte(r.Header.Get("X-A")))
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	done := make(chan error, 8)
	for range 8 {
		go func() {
			for range 50 {
				resp, err := srv.Client().Get(srv.URL)
				if err != nil {
					done <- err
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != "1" || resp.Header.Get("X-B") != "2" || resp.Header.Get("Vary") != "Origin" {
					done <- io.ErrUnexpectedEOF
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func BenchmarkHeaders(b *testing.B) {
	h := mustSetup(b, &dynamic.Headers{
		CustomRequestHeaders:  map[string]string{"X-Script-Name": "test"},
		CustomResponseHeaders: map[string]string{"X-Custom-Response-Header": "value", "Server": ""},
		FrameDeny:             true, ContentTypeNosniff: true,
	}, okHandler)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	rw := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(rw.h)
		h.ServeHTTP(rw, req)
	}
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// TestCORSNginxMode: CORSPreflightStatus (set by kubernetesIngressNGINX)
// answers every OPTIONS request from an allowed origin with that status,
// passes the others to the backend, and adds the preflight headers to
// normal responses of an allowed origin, as ingress-nginx does.
func TestCORSNginxMode(t *testing.T) {
	list := dynamic.Headers{
		AccessControlAllowOriginListRegex: []string{`(?i)^https://[A-Za-z0-9\-]+\.example\.com$`},
		AccessControlAllowMethods:         []string{"GET", "POST"}, AccessControlAllowHeaders: []string{"Authorization"},
		AccessControlExposeHeaders: []string{"X-Id"}, AccessControlAllowCredentials: true, AccessControlMaxAge: 600,
		CORSPreflightStatus: http.StatusNoContent,
	}
	star := list
	star.AccessControlAllowOriginListRegex, star.AccessControlAllowOriginList = nil, []string{"*"}
	tests := []struct {
		desc        string
		cfg         dynamic.Headers
		method      string
		hdr         http.Header
		wantStatus  int
		wantBackend bool
		wantOrigin  string
	}{
		{"preflight allowed", list, http.MethodOptions, http.Header{"Origin": {"https://A.example.com"}, "Access-Control-Request-Method": {"POST"}}, 204, false, "https://A.example.com"},
		{"options without request method", list, http.MethodOptions, http.Header{"Origin": {"https://a.example.com"}}, 204, false, "https://a.example.com"},
		{"two labels refused", list, http.MethodOptions, http.Header{"Origin": {"https://a.b.example.com"}, "Access-Control-Request-Method": {"POST"}}, 200, true, ""},
		{"foreign origin to backend", list, http.MethodOptions, http.Header{"Origin": {"https://evil.test"}, "Access-Control-Request-Method": {"POST"}}, 200, true, ""},
		{"star answers any options", star, http.MethodOptions, http.Header{}, 204, false, "*"},
		{"get allowed", list, http.MethodGet, http.Header{"Origin": {"https://a.example.com"}}, 200, true, "https://a.example.com"},
		{"get star no origin", star, http.MethodGet, http.Header{}, 200, true, "*"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			called := false
			h := mustSetup(t, &tc.cfg, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { called = true; w.WriteHeader(200) }))
			req := httptest.NewRequest(tc.method, "/", nil)
			req.Header = tc.hdr
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			if rec.Code != tc.wantStatus || called != tc.wantBackend || res.Header.Get("Access-Control-Allow-Origin") != tc.wantOrigin {
				t.Fatalf("status %d backend %v headers %v", rec.Code, called, res.Header)
			}
			if tc.wantOrigin == "" {
				return
			}
			if res.Header.Get("Access-Control-Allow-Methods") != "GET,POST" || res.Header.Get("Access-Control-Max-Age") != "600" ||
				res.Header.Get("Access-Control-Allow-Credentials") != "true" || res.Header.Get("Access-Control-Expose-Headers") != "X-Id" {
				t.Errorf("headers %v", res.Header)
			}
			if !tc.wantBackend && res.Header.Get("Content-Length") != "0" {
				t.Errorf("preflight Content-Length %q", res.Header.Get("Content-Length"))
			}
		})
	}
}

func TestProxyRedirect(t *testing.T) {
	wrap, err := Setup(&dynamic.Headers{ProxyRedirectFrom: "http://backend:8080/", ProxyRedirectTo: "https://example.com/app/"})
	if err != nil {
		t.Fatal(err)
	}
	for loc, want := range map[string]string{
		"http://backend:8080/login?x=1": "https://example.com/app/login?x=1",
		"http://other/login":            "http://other/login",
		"":                              "",
	} {
		h := wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if loc != "" {
				w.Header().Set("Location", loc)
			}
			w.WriteHeader(http.StatusFound)
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if got := rec.Header().Get("Location"); got != want {
			t.Errorf("%q: %q, want %q", loc, got, want)
		}
	}
	if _, err := Setup(&dynamic.Headers{ProxyRedirectFrom: "/", ProxyRedirectTo: "bad\nvalue"}); err == nil {
		t.Error("invalid replacement accepted")
	}
}

func TestProxyCookie(t *testing.T) {
	wrap, err := Setup(&dynamic.Headers{ProxyCookieDomain: []string{"backend.local", "example.com"}, ProxyCookiePath: []string{"/", "/app/"}})
	if err != nil {
		t.Fatal(err)
	}
	h := wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("Set-Cookie", "a=1; Domain=Backend.Local; Path=/x; HttpOnly")
		w.Header().Add("Set-Cookie", "b=2; domain=other.local")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	got := rec.Header()["Set-Cookie"]
	if len(got) != 2 || got[0] != "a=1; Domain=example.com; Path=/app/x; HttpOnly" || got[1] != "b=2; domain=other.local" {
		t.Errorf("Set-Cookie %q", got)
	}
	if _, err := Setup(&dynamic.Headers{ProxyCookiePath: []string{"/"}}); err == nil {
		t.Error("one value accepted")
	}
}
