package contenttype

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestContentType(t *testing.T) {
	f := false
	tests := []struct {
		desc    string
		cfg     *dynamic.ContentType
		set     string // Content-Type set by the backend ("" = none)
		body    string
		status  int
		want    string
		wantSet bool
	}{
		{"html sniffed", &dynamic.ContentType{}, "", "<html><body>x</body></html>", 200, "text/html; charset=utf-8", true},
		{"png sniffed", nil, "", "\x89PNG\x0D\x0A\x1A\x0A rest", 201, "image/png", true},
		{"backend type kept", nil, "application/json", "<html>", 200, "application/json", true},
		{"no body", nil, "", "", 204, "", false},
		{"autoDetect false", &dynamic.ContentType{AutoDetect: &f}, "", "<html>", 200, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			wrap, err := Setup(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.set != "" {
					w.Header().Set("Content-Type", tc.set)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			rec := httptest.NewRecorder()
			// The recorder sniffs on its own: read the header map it got at WriteHeader.
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			got, ok := rec.Result().Header["Content-Type"]
			if rec.Code != tc.status || ok != tc.wantSet || (ok && got[0] != tc.want) {
				t.Fatalf("status %d Content-Type %v", rec.Code, got)
			}
		})
	}
}
