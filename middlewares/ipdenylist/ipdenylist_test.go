package ipdenylist

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestDeny(t *testing.T) {
	wrap, err := Setup(&dynamic.IPDenyList{SourceRange: []string{"192.0.2.0/24"}, RejectStatusCode: 451})
	if err != nil {
		t.Fatal(err)
	}
	h := wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for remote, want := range map[string]int{"192.0.2.3:1": 451, "198.51.100.1:1": 200} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("%s: %d", remote, rec.Code)
		}
	}
	if _, err := Setup(&dynamic.IPDenyList{}); err == nil {
		t.Error("empty sourceRange accepted")
	}
}
