package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestWithDebug: api.debug serves expvar's memstats and pprof's profiles
// under the base path and leaves every other path to the API.
func TestWithDebug(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := WithDebug("/base/", next)
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	rec := get("/base/debug/vars")
	var v struct {
		Memstats struct{ HeapAlloc uint64 } `json:"memstats"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &v) != nil || v.Memstats.HeapAlloc == 0 {
		t.Fatalf("/debug/vars: %d %.100q", rec.Code, rec.Body.String())
	}
	if rec := get("/base/debug/pprof/"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "goroutine") {
		t.Fatalf("/debug/pprof/: %d", rec.Code)
	}
	if rec := get("/base/debug/pprof/goroutine?debug=1"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "goroutine profile") {
		t.Fatalf("goroutine profile: %d %.100q", rec.Code, rec.Body.String())
	}
	if rec := get("/base/debug/nothing"); rec.Code != http.StatusNotFound {
		t.Fatalf("/debug/nothing: %d", rec.Code)
	}
	if rec := get("/base/api/version"); rec.Code != http.StatusTeapot {
		t.Fatalf("/api/version went to %d, not the API", rec.Code)
	}
}
