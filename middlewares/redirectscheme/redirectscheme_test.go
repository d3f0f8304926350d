package redirectscheme

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestSetupErrors(t *testing.T) {
	for _, cfg := range []*dynamic.RedirectScheme{nil, {}, {Scheme: "ht tp"}, {Scheme: "https", Port: "abc"}, {Scheme: "https", Port: "70000"}, {Scheme: "https", Port: "0"}, {Scheme: "https", StatusCode: 200}, {Scheme: "https", StatusCode: 304}} {
		if _, err := Setup(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestRedirectScheme(t *testing.T) {
	tests := []struct {
		desc       string
		cfg        dynamic.RedirectScheme
		method     string
		url        string
		host       string // overrides req.Host (origin-form requests)
		headers    map[string]string
		tls        bool
		wantStatus int
		wantURL    string
	}{
		{desc: "http to https", cfg: dynamic.RedirectScheme{Scheme: "https"}, url: "http://foo", wantStatus: 302, wantURL: "https://foo"},
		{desc: "fixed 308 on GET", cfg: dynamic.RedirectScheme{Scheme: "https", StatusCode: 308}, url: "http://foo/a?b", wantStatus: 308, wantURL: "https://foo/a?b"},
		{desc: "xfp http", cfg: dynamic.RedirectScheme{Scheme: "https"}, url: "http://foo", headers: map[string]string{"X-Forwarded-Proto": "http"}, wantStatus: 302, wantURL: "https://foo"},
		{desc: "xfp https: no loop", cfg: dynamic.RedirectScheme{Scheme: "https"}, url: "http://foo", headers: map[string]string{"X-Forwarded-Proto": "https"}, wantStatus: 200},
		{desc: "xfp HTTPS any case", cfg: dynamic.RedirectScheme{Scheme: "https"}, url: "http://foo", headers: map[string]string{"X-Forwarded-Proto": "HTTPS"}, wantStatus: 200},
		{desc: "xfp unknown ignored", cfg: dynamic.RedirectScheme{Scheme: "https"}, url: "http://foo", headers: map[string]string{"X-Forwarded-Proto": "bar"}, wantStatus: 302, wantURL: "https://foo"},
		{desc: "xfp ws", cfg: dynamic.RedirectScheme{Scheme: "https"}, url: "http://foo", headers: map[string]string{"X-Forwarded-Proto": "ws"}, wantStatus: 302, wantURL: "https://foo"},
		{desc: "xfp wss", cfg: dynamic.RedirectScheme{Scheme: "https"}, url: "http://foo", headers: map[string]string{"X-Forwarded-Proto": "wss"}, wantStatus: 200},
		{desc: "tls: no loop", cfg: dynamic.RedirectScheme{Scheme: "https"}, url: "http://foo/x", tls: true, wantStatus: 200},
		{desc: "port dropped", cfg: dynamic.RedirectScheme{Scheme: "https"}, url: "http://foo:8080", wantStatus: 302, wantURL: "https://foo"},
		{desc: "port added", cfg: dynamic.RedirectScheme{Scheme: "https", Port: "8443"}, url: "http://foo", wantStatus: 302, wantURL: "https://foo:8443"},
		{desc: "port replaced", cfg: dynamic.RedirectScheme{Scheme: "https", Port: "8443"}, url: "http://foo:8000", wantStatus: 302, wantURL: "https://foo:8443"},
		{desc: "https port change", cfg: dynamic.RedirectScheme{Scheme: "https", Port: "8443"}, url: "https://foo:8000", wantStatus: 302, wantURL: "https://foo:8443"},
		{desc: "https to default port", cfg: dynamic.RedirectScheme{Scheme: "https"}, url: "https://foo:8000/theother", wantStatus: 302, wantURL: "https://foo/theother"},
		{desc: "permanent", cfg: dynamic.RedirectScheme{Scheme: "https", Port: "8443", Permanent: true}, url: "http://foo", wantStatus: 301, wantURL: "https://foo:8443"},
		{desc: "http 80 is default", cfg: dynamic.RedirectScheme{Scheme: "http", Port: "80"}, url: "http://foo:80", wantStatus: 200},
		{desc: "https 443 is default", cfg: dynamic.RedirectScheme{Scheme: "https", Port: "443"}, url: "https://foo:443", wantStatus: 200},
		{desc: "to wss with port", cfg: dynamic.RedirectScheme{Scheme: "wss", Port: "9443"}, url: "http://foo", wantStatus: 302, wantURL: "wss://foo:9443"},
		{desc: "to wss", cfg: dynamic.RedirectScheme{Scheme: "wss"}, url: "http://foo:5678", wantStatus: 302, wantURL: "wss://foo"},
		{desc: "http on 443", cfg: dynamic.RedirectScheme{Scheme: "https"}, url: "http://foo:443", wantStatus: 302, wantURL: "https://foo"},
		{desc: "http port change", cfg: dynamic.RedirectScheme{Scheme: "http", Port: "8181"}, url: "http://foo:8080", wantStatus: 302, wantURL: "http://foo:8181"},
		{desc: "https on 80", cfg: dynamic.RedirectScheme{Scheme: "https"}, url: "https://foo:80", wantStatus: 302, wantURL: "https://foo"},
		{desc: "ipv6", cfg: dynamic.RedirectScheme{Scheme: "https"}, url: "http://[::1]", wantStatus: 302, wantURL: "https://[::1]"},
		{desc: "ipv6 port added", cfg: dynamic.RedirectScheme{Scheme: "https", Port: "8443"}, url: "http://[::1]", wantStatus: 302, wantURL: "https://[::1]:8443"},
		{desc: "ipv6 port 80 dropped", cfg: dynamic.RedirectScheme{Scheme: "https"}, url: "http://[::1]:80", wantStatus: 302, wantURL: "https://[::1]"},
		{desc: "ipv6 port replaced", cfg: dynamic.RedirectScheme{Scheme: "https", Port: "8443"}, url: "http://[::1]:80", wantStatus: 302, wantURL: "https://[::1]:8443"},
		{desc: "origin form keeps path and query", cfg: dynamic.RedirectScheme{Scheme: "https"}, url: "/a%2Fb?x=1&y", host: "foo:80", wantStatus: 302, wantURL: "https://foo/a%2Fb?x=1&y"},
		{desc: "origin form ipv6 host", cfg: dynamic.RedirectScheme{Scheme: "https"}, url: "/p", host: "[::1]:80", wantStatus: 302, wantURL: "https://[::1]/p"},
		{desc: "POST gets 307", cfg: dynamic.RedirectScheme{Scheme: "https"}, method: http.MethodPost, url: "http://foo", wantStatus: 307, wantURL: "https://foo"},
		{desc: "POST permanent gets 308", cfg: dynamic.RedirectScheme{Scheme: "https", Permanent: true}, method: http.MethodPost, url: "http://foo", wantStatus: 308, wantURL: "https://foo"},
		{desc: "HEAD is not GET", cfg: dynamic.RedirectScheme{Scheme: "https", Permanent: true}, method: http.MethodHead, url: "http://foo", wantStatus: 308, wantURL: "https://foo"},
		{desc: "scheme case folded", cfg: dynamic.RedirectScheme{Scheme: "HTTPS"}, url: "https://foo/", wantStatus: 200},
		{desc: "port with colon", cfg: dynamic.RedirectScheme{Scheme: "https", Port: ":8443"}, url: "http://foo/", wantStatus: 302, wantURL: "https://foo:8443/"},
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
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tc.wantStatus)
			}
			if loc := rec.Header().Get("Location"); loc != tc.wantURL {
				t.Errorf("Location %q, want %q", loc, tc.wantURL)
			}
			if tc.wantURL != "" && rec.Body.String() != http.StatusText(tc.wantStatus) {
				t.Errorf("body %q", rec.Body.String())
			}
		})
	}
}

func TestClientURLOriginForm(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/x?y", nil)
	req.Host = "example.com:8080"
	req.RequestURI = ""
	s, h, p, u := ClientURL(req)
	if s != "http" || h != "example.com" || p != ":8080" || u != "/x?y" {
		t.Fatalf("got %q %q %q %q", s, h, p, u)
	}
}

func TestSplitHostPort(t *testing.T) {
	tests := []struct{ in, host, port string }{
		{"foo", "foo", ""}, {"foo:80", "foo", ":80"}, {"foo:", "foo", ""}, {"foo:x", "foo:x", ""},
		{"[::1]", "[::1]", ""}, {"[::1]:443", "[::1]", ":443"}, {"[::1", "[::1", ""}, {"[::1]:", "[::1]", ""}, {"", "", ""},
	}
	for _, tc := range tests {
		if h, p := splitHostPort(tc.in); h != tc.host || p != tc.port {
			t.Errorf("splitHostPort(%q) = %q %q, want %q %q", tc.in, h, p, tc.host, tc.port)
		}
	}
}

// FuzzClientURL checks that any Host and request URI split and rejoin
// without losing characters.
func FuzzClientURL(f *testing.F) {
	f.Add("foo:8080", "/a?b")
	f.Add("[::1]:80", "http://[::1]:80/x")
	f.Add("h", "https://x:1")
	f.Fuzz(func(t *testing.T, host, uri string) {
		req := &http.Request{Method: http.MethodGet, Host: host, RequestURI: uri, Header: http.Header{}, URL: &url.URL{Path: "/"}}
		if uri == "" {
			uri = "/"
		}
		scheme, h, p, u := ClientURL(req)
		if scheme != "http" && scheme != "https" {
			t.Fatalf("scheme %q", scheme)
		}
		if p != "" && (p[0] != ':' || !digits(p[1:])) {
			t.Fatalf("port %q", p)
		}
		if _, _, ok := absolute(uri); !ok {
			if u != uri {
				t.Fatalf("uri %q changed to %q", uri, u)
			}
			if h+p != host && h+p+":" != host && h+":80" != host {
				t.Fatalf("host %q split into %q %q", host, h, p)
			}
		}
	})
}

func BenchmarkNoRedirect(b *testing.B) {
	wrap, _ := Setup(&dynamic.RedirectScheme{Scheme: "https"})
	h := wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Host = "example.com"
	req.TLS = &tls.ConnectionState{}
	rec := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(rec, req)
	}
}
