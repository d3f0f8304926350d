package entrypoints

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestEncodeQuerySemicolons(t *testing.T) {
	for query, want := range map[string]string{
		"a=b;c=d":   "a=b%3Bc=d",
		"a=b&c=d":   "a=b&c=d",
		"":          "",
		";;":        "%3B%3B",
		"x=%3B;y=1": "x=%3B%3By=1",
	} {
		var got string
		h := encodeQuerySemicolons(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.URL.RawQuery }))
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.RawQuery = query
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != want {
			t.Errorf("%q: got %q, want %q", query, got, want)
		}
	}
}
