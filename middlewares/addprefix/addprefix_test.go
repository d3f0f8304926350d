package addprefix

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestSetup(t *testing.T) {
	if _, err := Setup(&dynamic.AddPrefix{}); err == nil {
		t.Error("empty prefix accepted")
	}
	if _, err := Setup(nil); err == nil {
		t.Error("nil config accepted")
	}
	if _, err := Setup(&dynamic.AddPrefix{Prefix: "/a"}); err != nil {
		t.Error(err)
	}
}

func TestAddPrefix(t *testing.T) {
	tests := []struct {
		desc, prefix, path      string
		wantPath, wantRaw, wURI string
	}{
		{"regular path", "/a", "/b", "/a/b", "", "/a/b"},
		{"missing leading slash", "a", "/", "/a/", "", "/a/"},
		{"raw path", "/a", "/b%2Fc", "/a/b/c", "/a/b%2Fc", "/a/b%2Fc"},
		{"escaped prefix with raw path", "/a b", "/b%2Fc", "/a b/b/c", "/a%20b/b%2Fc", "/a%20b/b%2Fc"},
		{"query kept", "/api", "/x?q=1", "/api/x", "", "/api/x?q=1"},
		{"trailing slash prefix", "/api/", "/x", "/api//x", "", "/api//x"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			var got *http.Request
			wrap, err := Setup(&dynamic.AddPrefix{Prefix: tc.prefix})
			if err != nil {
				t.Fatal(err)
			}
			h := wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r }))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "http://localhost"+tc.path, nil))
			if got.URL.Path != tc.wantPath || got.URL.RawPath != tc.wantRaw || got.RequestURI != tc.wURI {
				t.Errorf("got path %q raw %q uri %q; want %q %q %q", got.URL.Path, got.URL.RawPath, got.RequestURI, tc.wantPath, tc.wantRaw, tc.wURI)
			}
		})
	}
}
