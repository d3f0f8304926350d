package replacepathregex

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares/replacepath"
)

func TestSetupErrors(t *testing.T) {
	for _, cfg := range []*dynamic.ReplacePathRegex{nil, {}, {Regex: "  "}, {Regex: `^(?err)/x`, Replacement: "/y"}} {
		if _, err := Setup(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestReplacePathRegex(t *testing.T) {
	tests := []struct {
		desc, path, regex, repl          string
		wantStatus                       int
		wantPath, wantRaw, wantHdr, wURI string
	}{
		{desc: "simple regex", path: "/whoami/and/whoami", regex: `^/whoami/(.*)`, repl: "/who-am-i/$1",
			wantPath: "/who-am-i/and/whoami", wantRaw: "/who-am-i/and/whoami", wantHdr: "/whoami/and/whoami", wURI: "/who-am-i/and/whoami"},
		{desc: "replace all", path: "/whoami/and/whoami", regex: `/whoami`, repl: "/who-am-i",
			wantPath: "/who-am-i/and/who-am-i", wantRaw: "/who-am-i/and/who-am-i", wantHdr: "/whoami/and/whoami", wURI: "/who-am-i/and/who-am-i"},
		{desc: "empty replacement is a no-op", path: "/whoami/and/whoami", regex: `/whoami`, repl: "",
			wantPath: "/whoami/and/whoami", wURI: "/whoami/and/whoami"},
		{desc: "no match", path: "/whoami/and/whoami", regex: `/no-match`, repl: "/x",
			wantPath: "/whoami/and/whoami", wURI: "/whoami/and/whoami"},
		{desc: "two groups", path: "/downloads/src/source.go", regex: `^(?i)/downloads/([^/]+)/([^/]+)$`, repl: "/downloads/$1-$2",
			wantPath: "/downloads/src-source.go", wantRaw: "/downloads/src-source.go", wantHdr: "/downloads/src/source.go", wURI: "/downloads/src-source.go"},
		{desc: "escaped replacement", path: "/aaa/bbb", regex: `/aaa/bbb`, repl: "/foo%2Fbar",
			wantPath: "/foo/bar", wantRaw: "/foo%2Fbar", wantHdr: "/aaa/bbb", wURI: "/foo%2Fbar"},
		{desc: "regex on escaped path", path: "/aaa%2Fbbb", regex: `/aaa%2Fbbb`, repl: "/foo/bar",
			wantPath: "/foo/bar", wantRaw: "/foo/bar", wantHdr: "/aaa%2Fbbb", wURI: "/foo/bar"},
		{desc: "escaped path does not match decoded regex", path: "/aaa%2Fbbb", regex: `/aaa/bbb`, repl: "/foo/bar",
			wantPath: "/aaa/bbb", wantRaw: "/aaa%2Fbbb", wURI: "/aaa%2Fbbb"},
		{desc: "control char", path: "/foo/%08bar", regex: `^/foo/(.*)`, repl: "/$1",
			wantPath: "/\bbar", wantRaw: "/%08bar", wantHdr: "/foo/%08bar", wURI: "/%08bar"},
		{desc: "query kept", path: "/a/b?x=1", regex: `^/a`, repl: "/z",
			wantPath: "/z/b", wantRaw: "/z/b", wantHdr: "/a/b", wURI: "/z/b?x=1"},
		{desc: "invalid escape built", path: "/%2F", regex: `^/(.)(.*)$`, repl: "/$2$1", wantStatus: http.StatusInternalServerError},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			var got *http.Request
			wrap, err := Setup(&dynamic.ReplacePathRegex{Regex: tc.regex, Replacement: tc.repl})
			if err != nil {
				t.Fatal(err)
			}
			h := wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r }))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
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
			if h := got.Header.Get(replacepath.ReplacedPathHeader); h != tc.wantHdr {
				t.Errorf("header %q, want %q", h, tc.wantHdr)
			}
			if got.RequestURI != tc.wURI {
				t.Errorf("RequestURI %q, want %q", got.RequestURI, tc.wURI)
			}
		})
	}
}

// FuzzReplacePathRegex feeds user-controlled regex, replacement and path:
// setup must reject or accept without panicking, and serving must either
// answer 500 or leave Path equal to the decoded RawPath.
func FuzzReplacePathRegex(f *testing.F) {
	f.Add(`^/foo/(.*)`, "/bar/$1", "/foo/a%2Fb")
	f.Add(`/(.)(.*)`, "/$2$1", "/%2F")
	f.Add(`(?i)x`, "${1}y", "/X/x")
	f.Fuzz(func(t *testing.T, regex, repl, path string) {
		if len(regex) > 64 || len(repl) > 64 || len(path) > 256 {
			return // big counted repetitions only measure the regexp engine
		}
		wrap, err := Setup(&dynamic.ReplacePathRegex{Regex: regex, Replacement: repl})
		if err != nil {
			return
		}
		u, err := url.ParseRequestURI("/" + path)
		if err != nil {
			return
		}
		var got *http.Request
		h := wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r }))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL = u
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusInternalServerError {
			return
		}
		if got == nil {
			t.Fatal("next not called")
		}
		if got.URL.RawPath != "" {
			dec, err := url.PathUnescape(got.URL.RawPath)
			if err != nil || dec != got.URL.Path {
				t.Fatalf("raw %q does not decode to path %q", got.URL.RawPath, got.URL.Path)
			}
		}
	})
}
