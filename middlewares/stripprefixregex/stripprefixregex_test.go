package stripprefixregex

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares/stripprefix"
)

func TestSetupInvalid(t *testing.T) {
	if _, err := Setup(&dynamic.StripPrefixRegex{Regex: []string{"/ok", "a(b"}}); err == nil {
		t.Fatal("invalid regex accepted")
	}
}

func TestStripPrefixRegex(t *testing.T) {
	cfg := &dynamic.StripPrefixRegex{Regex: []string{"/a/api/", "/b/([a-z0-9]+)/", "/c/[a-z0-9]+/[0-9]+/", " ", "/d/[a-z]+"}}
	tests := []struct {
		path, wantPath, wantRaw, wantHdr string
		wantStatus                       int
	}{
		{path: "/a/test", wantPath: "/a/test"},
		{path: "/a/test/", wantPath: "/a/test/"},
		{path: "/a/api/", wantPath: "", wantHdr: "/a/api/"},
		{path: "/a/api/test", wantPath: "/test", wantHdr: "/a/api/"},
		{path: "/a/api/test/", wantPath: "/test/", wantHdr: "/a/api/"},
		{path: "/b/api/", wantPath: "", wantHdr: "/b/api/"},
		{path: "/b/api", wantPath: "/b/api"},
		{path: "/b/api/test1", wantPath: "/test1", wantHdr: "/b/api/"},
		{path: "/b/api2/test2", wantPath: "/test2", wantHdr: "/b/api2/"},
		{path: "/c/api/123/", wantPath: "", wantHdr: "/c/api/123/"},
		{path: "/c/api/123", wantPath: "/c/api/123"},
		{path: "/c/api/123/test3", wantPath: "/test3", wantHdr: "/c/api/123/"},
		{path: "/c/api/abc/test4", wantPath: "/c/api/abc/test4"},
		{path: "/a/api/a%2Fb", wantPath: "/a/b", wantRaw: "/a%2Fb", wantHdr: "/a/api/"},
		{path: "/a/ap%69/a%2Fb", wantPath: "/a/b", wantRaw: "/a%2Fb", wantHdr: "/a/api/"},
		{path: "/z/a/api/x", wantPath: "/z/a/api/x"}, // match not at the start
		{path: "/d/x./y", wantStatus: http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			var got *http.Request
			wrap, err := Setup(cfg)
			if err != nil {
				t.Fatal(err)
			}
			h := wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r }))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://localhost"+tc.path, nil))
			want := tc.wantStatus
			if want == 0 {
				want = http.StatusOK
			}
			if rec.Code != want {
				t.Fatalf("status %d, want %d", rec.Code, want)
			}
			if want != http.StatusOK {
				return
			}
			if got.URL.Path != tc.wantPath || got.URL.RawPath != tc.wantRaw {
				t.Errorf("path %q raw %q, want %q %q", got.URL.Path, got.URL.RawPath, tc.wantPath, tc.wantRaw)
			}
			if h := got.Header.Get(stripprefix.ForwardedPrefixHeader); h != tc.wantHdr {
				t.Errorf("header %q, want %q", h, tc.wantHdr)
			}
			if tc.wantHdr != "" {
				wantURI := tc.wantPath
				if tc.wantRaw != "" {
					wantURI = tc.wantRaw
				}
				if wantURI == "" {
					wantURI = "/"
				}
				if got.RequestURI != wantURI {
					t.Errorf("RequestURI %q, want %q", got.RequestURI, wantURI)
				}
			}
		})
	}
}

// FuzzStripPrefixRegex: any accepted regex and any request path must leave
// a path that is a suffix of the original, and a raw path (if any) that
// decodes to it.
func FuzzStripPrefixRegex(f *testing.F) {
	f.Add("/b/([a-z0-9]+)/", "/b/api/x%2Fy")
	f.Add("/a", "/a../x")
	f.Add(".*", "/%C3%A9/z")
	f.Fuzz(func(t *testing.T, regex, path string) {
		if len(regex) > 64 || len(path) > 256 {
			return
		}
		wrap, err := Setup(&dynamic.StripPrefixRegex{Regex: []string{regex}})
		if err != nil {
			return
		}
		u, err := url.ParseRequestURI("/" + path)
		if err != nil {
			return
		}
		orig := u.Path
		var got *http.Request
		h := wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r }))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL = u
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusBadRequest {
			return
		}
		p := strings.TrimPrefix(got.URL.Path, "/")
		if !strings.HasSuffix(orig, p) {
			t.Fatalf("path %q is not a suffix of %q", got.URL.Path, orig)
		}
		if got.URL.RawPath != "" {
			if dec, err := url.PathUnescape(got.URL.RawPath); err != nil || dec != got.URL.Path {
				t.Fatalf("raw %q does not decode to %q", got.URL.RawPath, got.URL.Path)
			}
		}
	})
}
