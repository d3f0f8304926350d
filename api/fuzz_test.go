package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzServeHTTP feeds arbitrary paths and queries to the router, the name
// decoding and the list parameters: no panic, and only the statuses the API
// documents.
func FuzzServeHTTP(f *testing.F) {
	for _, seed := range []string{
		"/api/http/routers?page=2&per_page=1",
		"/api/http/routers/foo%2Fbar@file",
		"/api/http/services?search=o&status=enabled&sortBy=servers&direction=desc",
		"/api/tcp/routers?serviceName=pg&middlewareName=allow@file",
		"/api/entrypoints/web%73ecure",
		"/api/udp/routers?page=9223372036854775807&per_page=9223372036854775807",
		"/api/rawdata", "/api/overview", "/api/version", "/api/", "/%zz",
	} {
		f.Add(seed, false)
	}
	h := New(testStatic(), Version{Version: "v"})
	h.Update(testRuntime())
	f.Fuzz(func(t *testing.T, target string, post bool) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return // the HTTP server rejects such requests before any handler
		}
		method := http.MethodGet
		if post {
			method = http.MethodPost
		}
		req := httptest.NewRequest(method, "/", nil)
		req.URL = u
		req.RequestURI = target
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed:
		default:
			t.Fatalf("%s %q: status %d", method, target, rec.Code)
		}
		if post && rec.Code == http.StatusOK {
			t.Fatalf("POST %q answered 200", target)
		}
	})
}
