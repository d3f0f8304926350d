package forwardauth

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func authServer(t *testing.T) (*httptest.Server, *http.Header) {
	seen := &http.Header{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*seen = r.Header.Clone()
		seen.Set("X-Test-Method", r.Method)
		b, _ := io.ReadAll(r.Body)
		seen.Set("X-Test-Body", string(b))
		switch r.Header.Get("Authorization") {
		case "good":
			w.Header().Set("X-Auth-User", "alice")
			w.Header().Set("X-Auth-Role", "admin")
			w.Header().Set("X-Other", "no")
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "fromauth"})
			w.WriteHeader(200)
		case "redirect":
			w.Header().Set("Location", "/login?next=x")
			w.WriteHeader(302)
		default:
			w.Header().Set("WWW-Authenticate", "Bearer")
			w.WriteHeader(401)
			io.WriteString(w, "denied")
		}
	}))
	t.Cleanup(s.Close)
	return s, seen
}

func TestForwardAuth(t *testing.T) {
	srv, seen := authServer(t)
	max3 := int64(3)
	tests := []struct {
		desc       string
		cfg        dynamic.ForwardAuth
		auth       string
		method     string
		body       string
		reqHdr     map[string]string
		wantStatus int
		wantBody   string
		check      func(t *testing.T, backend http.Header, resp *httptest.ResponseRecorder)
	}{
		{desc: "denied", auth: "bad", wantStatus: 401, wantBody: "denied", check: func(t *testing.T, _ http.Header, resp *httptest.ResponseRecorder) {
			if resp.Header().Get("WWW-Authenticate") != "Bearer" {
				t.Error("auth response headers not sent")
			}
			if seen.Get("X-Forwarded-Method") != "GET" || seen.Get("X-Forwarded-Uri") != "/a?b=c" || seen.Get("X-Forwarded-Host") != "example.com" || seen.Get("X-Forwarded-Proto") != "http" {
				t.Errorf("forward headers %v", *seen)
			}
		}},
		{desc: "method set by the provider (auth-method)", auth: "bad", method: http.MethodPost, cfg: dynamic.ForwardAuth{Method: http.MethodHead, PreserveRequestMethod: true}, wantStatus: 401,
			check: func(t *testing.T, _ http.Header, _ *httptest.ResponseRecorder) {
				if seen.Get("X-Test-Method") != http.MethodHead || seen.Get("X-Forwarded-Method") != http.MethodPost {
					t.Errorf("auth request %v", *seen)
				}
			}},
		{desc: "sign-in redirect on 401", auth: "bad", cfg: dynamic.ForwardAuth{SignInURL: "https://auth.example.com/start"}, wantStatus: 302,
			check: func(t *testing.T, _ http.Header, resp *httptest.ResponseRecorder) {
				if l := resp.Header().Get("Location"); l != "https://auth.example.com/start?rd=http%3A%2F%2Fexample.com%2Fa%3Fb%3Dc" {
					t.Errorf("Location %q", l)
				}
			}},
		{desc: "sign-in with variables and its own rd", auth: "bad", cfg: dynamic.ForwardAuth{SignInURL: "https://$host/oauth2/start?rd=$escaped_request_uri"}, wantStatus: 302,
			check: func(t *testing.T, _ http.Header, resp *httptest.ResponseRecorder) {
				if l := resp.Header().Get("Location"); l != "https://example.com/oauth2/start?rd=%2Fa%3Fb%3Dc" {
					t.Errorf("Location %q", l)
				}
			}},
		{desc: "sign-in only on 401", auth: "redirect", cfg: dynamic.ForwardAuth{SignInURL: "https://auth.example.com/start"}, wantStatus: 302,
			check: func(t *testing.T, _ http.Header, resp *httptest.ResponseRecorder) {
				if l := resp.Header().Get("Location"); !strings.HasSuffix(l, "/login?next=x") {
					t.Errorf("Location %q", l)
				}
			}},
		{desc: "allowed with response headers", auth: "good", cfg: dynamic.ForwardAuth{AuthResponseHeaders: []string{"X-Auth-User"}},
			reqHdr: map[string]string{"X-Auth-User": "forged"}, wantStatus: 200, wantBody: "backend",
			check: func(t *testing.T, b http.Header, _ *httptest.ResponseRecorder) {
				if b.Get("X-Auth-User") != "alice" || b.Get("X-Auth-Role") != "" {
					t.Errorf("backend saw %v", b)
				}
			}},
		{desc: "regex", auth: "good", cfg: dynamic.ForwardAuth{AuthResponseHeadersRegex: "^X-Auth-"},
			reqHdr: map[string]string{"X-Auth-Stale": "x"}, wantStatus: 200, wantBody: "backend",
			check: func(t *testing.T, b http.Header, _ *httptest.ResponseRecorder) {
				if b.Get("X-Auth-User") != "alice" || b.Get("X-Auth-Role") != "admin" || b.Get("X-Auth-Stale") != "" || b.Get("X-Other") != "" {
					t.Errorf("backend saw %v", b)
				}
			}},
		{desc: "request headers filter", auth: "good", cfg: dynamic.ForwardAuth{AuthRequestHeaders: []string{"Authorization"}},
			reqHdr: map[string]string{"X-Secret": "s"}, wantStatus: 200, wantBody: "backend",
			check: func(t *testing.T, _ http.Header, _ *httptest.ResponseRecorder) {
				if seen.Get("X-Secret") != "" || seen.Get("Authorization") != "good" {
					t.Errorf("auth server saw %v", *seen)
				}
			}},
		{desc: "trust forward header", auth: "bad", cfg: dynamic.ForwardAuth{TrustForwardHeader: true},
			reqHdr: map[string]string{"X-Forwarded-Host": "orig.example", "X-Forwarded-For": "1.2.3.4"}, wantStatus: 401, wantBody: "denied",
			check: func(t *testing.T, _ http.Header, _ *httptest.ResponseRecorder) {
				if seen.Get("X-Forwarded-Host") != "orig.example" || seen.Get("X-Forwarded-For") != "1.2.3.4, 192.0.2.1" {
					t.Errorf("auth server saw %v", *seen)
				}
			}},
		{desc: "untrusted forward header", auth: "bad",
			reqHdr: map[string]string{"X-Forwarded-Host": "orig.example"}, wantStatus: 401, wantBody: "denied",
			check: func(t *testing.T, _ http.Header, _ *httptest.ResponseRecorder) {
				if seen.Get("X-Forwarded-Host") != "example.com" || seen.Get("X-Forwarded-For") != "192.0.2.1" {
					t.Errorf("auth server saw %v", *seen)
				}
			}},
		{desc: "location made absolute", auth: "redirect", wantStatus: 302, check: func(t *testing.T, _ http.Header, r *httptest.ResponseRecorder) {
			if r.Header().Get("Location") != srv.URL+"/login?next=x" {
				t.Errorf("Location %q", r.Header().Get("Location"))
			}
		}},
		{desc: "location preserved", auth: "redirect", cfg: dynamic.ForwardAuth{PreserveLocationHeader: true}, wantStatus: 302,
			check: func(t *testing.T, _ http.Header, r *httptest.ResponseRecorder) {
				if r.Header().Get("Location") != "/login?next=x" {
					t.Errorf("Location %q", r.Header().Get("Location"))
				}
			}},
		{desc: "forward body and method", auth: "good", method: "POST", body: "data", cfg: dynamic.ForwardAuth{ForwardBody: true, PreserveRequestMethod: true},
			wantStatus: 200, wantBody: "backend:data", check: func(t *testing.T, _ http.Header, _ *httptest.ResponseRecorder) {
				if seen.Get("X-Test-Body") != "data" || seen.Get("X-Test-Method") != "POST" {
					t.Errorf("auth server saw %v", *seen)
				}
			}},
		{desc: "body too large", auth: "good", method: "POST", body: "data", cfg: dynamic.ForwardAuth{ForwardBody: true, MaxBodySize: &max3}, wantStatus: 401},
		{desc: "auth cookies", auth: "good", cfg: dynamic.ForwardAuth{AddAuthCookiesToResponse: []string{"session"}}, wantStatus: 200, wantBody: "backend",
			check: func(t *testing.T, _ http.Header, r *httptest.ResponseRecorder) {
				got := strings.Join(r.Header().Values("Set-Cookie"), "|")
				if got != "other=1|session=fromauth" {
					t.Errorf("Set-Cookie %q", got)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Address = srv.URL + "/auth"
			a, err := New(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			var backend http.Header
			h := a.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				backend = r.Header.Clone()
				http.SetCookie(w, &http.Cookie{Name: "session", Value: "frombackend"})
				http.SetCookie(w, &http.Cookie{Name: "other", Value: "1"})
				b, _ := io.ReadAll(r.Body)
				out := "backend"
				if len(b) > 0 {
					out += ":" + string(b)
				}
				io.WriteString(w, out)
			}))
			method := tc.method
			if method == "" {
				method = "GET"
			}
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req := httptest.NewRequest(method, "http://example.com/a?b=c", body)
			req.Header.Set("Authorization", tc.auth)
			for k, v := range tc.reqHdr {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d body %q", rec.Code, rec.Body.String())
			}
			if tc.wantBody != "" && rec.Body.String() != tc.wantBody {
				t.Errorf("body %q", rec.Body.String())
			}
			if tc.check != nil {
				tc.check(t, backend, rec)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	bad := int64(-5)
	for _, cfg := range []*dynamic.ForwardAuth{nil, {}, {Address: "not a url"}, {Address: "ftp://x"}, {Address: "http://a", AuthResponseHeadersRegex: "("},
		{Address: "http://a", MaxBodySize: &bad}, {Address: "http://a", SignInURL: "ftp://x"}, {Address: "http://a", TLS: &dynamic.ClientTLS{CA: "nothing"}}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestUnreachable(t *testing.T) {
	a, _ := New(&dynamic.ForwardAuth{Address: "http://127.0.0.1:1/"})
	rec := httptest.NewRecorder()
	a.Wrap(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
}

func TestAuthSigninAndMaxResponseBodySize(t *testing.T) {
	srv, _ := authServer(t)
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "backend") })
	limit := func(n int64) *int64 { return &n }
	for _, tc := range []struct {
		desc       string
		cfg        dynamic.ForwardAuth
		auth       string
		wantStatus int
		wantBody   string
		wantLoc    string
	}{
		{"401 to sign-in", dynamic.ForwardAuth{AuthSigninURL: "https://login.example/start"}, "bad", 302, "", "https://login.example/start"},
		{"302 of the auth server untouched", dynamic.ForwardAuth{AuthSigninURL: "https://login.example/start"}, "redirect", 302, "", srv.URL + "/login?next=x"},
		{"allowed under sign-in", dynamic.ForwardAuth{AuthSigninURL: "/login"}, "good", 200, "backend", ""},
		{"refusal body within limit", dynamic.ForwardAuth{MaxResponseBodySize: limit(6)}, "bad", 401, "denied", ""},
		{"refusal body over limit", dynamic.ForwardAuth{MaxResponseBodySize: limit(5)}, "bad", 500, "", ""},
		{"no limit", dynamic.ForwardAuth{MaxResponseBodySize: limit(-1)}, "bad", 401, "denied", ""},
		{"empty 2xx within limit 0", dynamic.ForwardAuth{MaxResponseBodySize: limit(0)}, "good", 200, "backend", ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			tc.cfg.Address = srv.URL
			a, err := New(&tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "http://example.com/a", nil)
			req.Header.Set("Authorization", tc.auth)
			a.Wrap(backend).ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus || (tc.wantBody != "" && rec.Body.String() != tc.wantBody) || rec.Header().Get("Location") != tc.wantLoc {
				t.Fatalf("status %d body %q location %q", rec.Code, rec.Body.String(), rec.Header().Get("Location"))
			}
		})
	}
	for _, cfg := range []*dynamic.ForwardAuth{{Address: "http://a", AuthSigninURL: "ftp://x"}, {Address: "http://a", MaxResponseBodySize: limit(-3)}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
