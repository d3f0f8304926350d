package replacepath

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestSetupInvalidEscape(t *testing.T) {
	if _, err := Setup(&dynamic.ReplacePath{Path: "/a%zz"}); err == nil {
		t.Fatal("invalid escape accepted")
	}
}

func TestReplacePath(t *testing.T) {
	tests := []struct {
		desc, path, repl                    string
		wantPath, wantRaw, wantHdr, wantURI string
	}{
		{"simple", "/example", "/replacement-path", "/replacement-path", "", "/example", "/replacement-path"},
		{"long path", "/some/really/long/path", "/replacement-path", "/replacement-path", "", "/some/really/long/path", "/replacement-path"},
		{"escaped original", "/foo%2Fbar", "/replacement-path", "/replacement-path", "", "/foo%2Fbar", "/replacement-path"},
		{"escaped replacement", "/path", "/foo%2Fbar", "/foo/bar", "/foo%2Fbar", "/path", "/foo%2Fbar"},
		{"encoded control char", "/path/%08bar", "/path/%08bar", "/path/\bbar", "", "/path/%08bar", "/path/%08bar"},
		{"query kept", "/a?x=1", "/b", "/b", "", "/a", "/b?x=1"},
		{"original needs escaping", "/a%20b", "/b", "/b", "", "/a%20b", "/b"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			var got *http.Request
			wrap, err := Setup(&dynamic.ReplacePath{Path: tc.repl})
			if err != nil {
				t.Fatal(err)
			}
			h := wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r }))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, tc.path, nil))
			if got.URL.Path != tc.wantPath || got.URL.RawPath != tc.wantRaw {
				t.Errorf("path %q raw %q, want %q %q", got.URL.Path, got.URL.RawPath, tc.wantPath, tc.wantRaw)
			}
			if h := got.Header.Get(ReplacedPathHeader); h != tc.wantHdr {
				t.Errorf("%s %q, want %q", ReplacedPathHeader, h, tc.wantHdr)
			}
			if got.RequestURI != tc.wantURI {
				t.Errorf("RequestURI %q, want %q", got.RequestURI, tc.wantURI)
			}
		})
	}
}
