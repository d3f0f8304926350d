package stripprefix

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestStripPrefix(t *testing.T) {
	tests := []struct {
		desc       string
		prefixes   []string
		path       string
		wantStatus int
		wantPath   string
		wantRaw    string
		wantHeader []string
		wantURI    string
	}{
		{desc: "no prefixes", prefixes: nil, path: "/noprefixes", wantPath: "/noprefixes", wantURI: "/noprefixes"},
		{desc: "root prefix", prefixes: []string{"/"}, path: "/", wantPath: "", wantHeader: []string{"/"}, wantURI: "/"},
		{desc: "exact match", prefixes: []string{"/stat"}, path: "/stat", wantPath: "", wantHeader: []string{"/stat"}, wantURI: "/"},
		{desc: "exact match trailing slash", prefixes: []string{"/stat/"}, path: "/stat/", wantPath: "", wantHeader: []string{"/stat/"}, wantURI: "/"},
		{desc: "longer path", prefixes: []string{"/stat/"}, path: "/stat/us", wantPath: "/us", wantHeader: []string{"/stat/"}, wantURI: "/us"},
		{desc: "mismatch", prefixes: []string{"/stat/"}, path: "/status", wantPath: "/status", wantURI: "/status"},
		{desc: "general prefix keeps slash", prefixes: []string{"/stat"}, path: "/stat/", wantPath: "/", wantHeader: []string{"/stat"}, wantURI: "/"},
		{desc: "first in list wins, not longest", prefixes: []string{"/stat", "/stat/us"}, path: "/stat/us", wantPath: "/us", wantHeader: []string{"/stat"}, wantURI: "/us"},
		{desc: "later prefix", prefixes: []string{"/mismatch", "/stat"}, path: "/stat", wantPath: "", wantHeader: []string{"/stat"}, wantURI: "/"},
		{desc: "inside segment", prefixes: []string{"/stat"}, path: "/status", wantPath: "/us", wantHeader: []string{"/stat"}, wantURI: "/us"},
		{desc: "raw path stripped", prefixes: []string{"/stat"}, path: "/stat/a%2Fb", wantPath: "/a/b", wantRaw: "/a%2Fb", wantHeader: []string{"/stat"}, wantURI: "/a%2Fb"},
		{desc: "escaped char in prefix", prefixes: []string{"/api/"}, path: "/ap%69/a%2Fb", wantPath: "/a/b", wantRaw: "/a%2Fb", wantHeader: []string{"/api/"}, wantURI: "/a%2Fb"},
		{desc: "query kept", prefixes: []string{"/api"}, path: "/api/x?a=1&b=%2F", wantPath: "/x", wantHeader: []string{"/api"}, wantURI: "/x?a=1&b=%2F"},
		{desc: "spaces trimmed, empty dropped", prefixes: []string{"", " /api "}, path: "/api/x", wantPath: "/x", wantHeader: []string{"/api"}, wantURI: "/x"},
		{desc: "dot segment created", prefixes: []string{"/api"}, path: "/api./foo", wantStatus: http.StatusBadRequest},
		{desc: "dot-dot segment created", prefixes: []string{"/api"}, path: "/api../foo", wantStatus: http.StatusBadRequest},
		{desc: "dot file is fine", prefixes: []string{"/api"}, path: "/api.json", wantPath: "/.json", wantHeader: []string{"/api"}, wantURI: "/.json"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			var got *http.Request
			next := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r })
			wrap, err := Setup(&dynamic.StripPrefix{Prefixes: tc.prefixes})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "http://localhost"+tc.path, nil)
			req.RequestURI = req.URL.RequestURI()
			rec := httptest.NewRecorder()
			wrap(next).ServeHTTP(rec, req)

			want := tc.wantStatus
			if want == 0 {
				want = http.StatusOK
			}
			if rec.Code != want {
				t.Fatalf("status %d, want %d", rec.Code, want)
			}
			if want != http.StatusOK {
				if got != nil {
					t.Fatal("next called on rejected request")
				}
				return
			}
			if got.URL.Path != tc.wantPath || got.URL.RawPath != tc.wantRaw {
				t.Errorf("path %q raw %q, want %q raw %q", got.URL.Path, got.URL.RawPath, tc.wantPath, tc.wantRaw)
			}
			if h := got.Header[ForwardedPrefixHeader]; len(h) != len(tc.wantHeader) || (len(h) > 0 && h[0] != tc.wantHeader[0]) {
				t.Errorf("%s = %q, want %q", ForwardedPrefixHeader, h, tc.wantHeader)
			}
			if got.RequestURI != tc.wantURI {
				t.Errorf("RequestURI %q, want %q", got.RequestURI, tc.wantURI)
			}
		})
	}
}

func TestStripPrefixChainedAddsHeaders(t *testing.T) {
	var got *http.Request
	next := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r })
	a, _ := Setup(&dynamic.StripPrefix{Prefixes: []string{"/a"}})
	b, _ := Setup(&dynamic.StripPrefix{Prefixes: []string{"/b"}})
	req := httptest.NewRequest(http.MethodGet, "/a/b/c", nil)
	a(b(next)).ServeHTTP(httptest.NewRecorder(), req)
	if got.URL.Path != "/c" {
		t.Fatalf("path %q", got.URL.Path)
	}
	if h := got.Header.Values(ForwardedPrefixHeader); len(h) != 2 || h[0] != "/a" || h[1] != "/b" {
		t.Fatalf("header %q", h)
	}
}

func BenchmarkStripPrefix(b *testing.B) {
	wrap, _ := Setup(&dynamic.StripPrefix{Prefixes: []string{"/nope", "/api"}})
	h := wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/api/users/42", nil)
	b.ReportAllocs()
	for b.Loop() {
		req.URL.Path = "/api/users/42"
		delete(req.Header, ForwardedPrefixHeader)
		h.ServeHTTP(rec, req)
	}
}
