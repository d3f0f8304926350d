package redirectregex

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestSetupErrors(t *testing.T) {
	for _, cfg := range []*dynamic.RedirectRegex{nil, {}, {Regex: `^(.*`, Replacement: "$1"}} {
		if _, err := Setup(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestRedirectRegex(t *testing.T) {
	tests := []struct {
		desc       string
		cfg        dynamic.RedirectRegex
		method     string
		url        string
		host       string
		headers    map[string]string
		tls        bool
		wantStatus int
		wantURL    string
	}{
		{desc: "simple", cfg: dynamic.RedirectRegex{Regex: `^(?:http?:\/\/)(foo)(\.com)(:\d+)(.*)$`, Replacement: "https://${1}bar$2:443$4"},
			url: "http://foo.com:80", wantStatus: 302, wantURL: "https://foobar.com:443"},
		{desc: "no match", cfg: dynamic.RedirectRegex{Regex: `^(?:http?:\/\/)(foo)(\.com)(:\d+)(.*)$`, Replacement: "https://${1}bar$2:443$4"},
			url: "http://bar.com:80", wantStatus: 200},
		{desc: "invalid rewritten URL", cfg: dynamic.RedirectRegex{Regex: `^(.*)$`, Replacement: "http://192.168.0.%31/"},
			url: "http://foo.com:80", wantStatus: 502},
		{desc: "empty result", cfg: dynamic.RedirectRegex{Regex: `.`, Replacement: ""},
			url: "http://foo/", wantStatus: 502},
		{desc: "fixed 303", cfg: dynamic.RedirectRegex{Regex: `^http://foo(.*)`, Replacement: "https://bar$1", StatusCode: 303},
			url: "http://foo/x", wantStatus: 303, wantURL: "https://bar/x"},
		{desc: "permanent", cfg: dynamic.RedirectRegex{Regex: `^http://`, Replacement: "https://$1", Permanent: true},
			url: "http://foo", wantStatus: 301, wantURL: "https://foo"},
		{desc: "https to http", cfg: dynamic.RedirectRegex{Regex: `https://foo`, Replacement: "http://foo", Permanent: true},
			tls: true, url: "https://foo", wantStatus: 301, wantURL: "http://foo"},
		{desc: "port", cfg: dynamic.RedirectRegex{Regex: `http://foo:80`, Replacement: "https://foo:443"},
			url: "http://foo:80", wantStatus: 302, wantURL: "https://foo:443"},
		{desc: "x-forwarded-proto ignored", cfg: dynamic.RedirectRegex{Regex: `http://foo:80`, Replacement: "https://foo:443"},
			url: "http://foo:80", headers: map[string]string{"X-Forwarded-Proto": "https"}, wantStatus: 302, wantURL: "https://foo:443"},
		{desc: "tls scheme", cfg: dynamic.RedirectRegex{Regex: `https://foo:443`, Replacement: "http://foo:80"},
			tls: true, url: "https://foo:443", wantStatus: 302, wantURL: "http://foo:80"},
		{desc: "POST", cfg: dynamic.RedirectRegex{Regex: `^http://`, Replacement: "https://$1"},
			method: http.MethodPost, url: "http://foo", wantStatus: 307, wantURL: "https://foo"},
		{desc: "POST permanent", cfg: dynamic.RedirectRegex{Regex: `^http://`, Replacement: "https://$1", Permanent: true},
			method: http.MethodPost, url: "http://foo", wantStatus: 308, wantURL: "https://foo"},
		{desc: "origin form uses Host", cfg: dynamic.RedirectRegex{Regex: `^http://localhost(:\d+)?/(.*)`, Replacement: "http://mydomain/${2}"},
			url: "/a/b?c=d", host: "localhost:8080", wantStatus: 302, wantURL: "http://mydomain/a/b?c=d"},
		{desc: "same URL passes", cfg: dynamic.RedirectRegex{Regex: `^(http://foo/.*)`, Replacement: "$1"},
			url: "/x", host: "foo", wantStatus: 200},
		{desc: "group then letter", cfg: dynamic.RedirectRegex{Regex: `^http://(foo)/`, Replacement: "http://$1x/"},
			url: "/x", host: "foo", wantStatus: 302, wantURL: "http:///x"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			wrap, err := Setup(&tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			h := wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			req := httptest.NewRequest(method, tc.url, nil)
			if tc.host != "" {
				req.Host = tc.host
			}
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tc.wantStatus)
			}
			if loc := rec.Header().Get("Location"); loc != tc.wantURL {
				t.Errorf("Location %q, want %q", loc, tc.wantURL)
			}
		})
	}
}

// FuzzRedirectRegex feeds user-controlled regex, replacement and request
// URI: nothing may panic, and a redirect always carries a parsable Location.
func FuzzRedirectRegex(f *testing.F) {
	f.Add(`^http://localhost/(.*)`, "http://mydomain/${1}", "/a?b", "localhost")
	f.Add(`(.*)`, "http://192.168.0.%31/", "http://x/", "x")
	f.Add(`^https?://([^/]+)`, "https://$1x", "/", "[::1]:80")
	f.Fuzz(func(t *testing.T, regex, repl, uri, host string) {
		if len(regex) > 64 || len(repl) > 128 || len(uri) > 256 {
			return
		}
		wrap, err := Setup(&dynamic.RedirectRegex{Regex: regex, Replacement: repl})
		if err != nil {
			return
		}
		h := wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RequestURI, req.Host = uri, host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusFound && rec.Header().Get("Location") == "" {
			t.Fatal("redirect without Location")
		}
	})
}
