package buffering

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestBuffering(t *testing.T) {
	tests := []struct {
		desc       string
		cfg        dynamic.Buffering
		body       string
		respBody   string
		failFirst  bool
		wantStatus int
		wantBody   string
	}{
		{"empty response", dynamic.Buffering{}, "", "", false, 200, ""},
		{"passes", dynamic.Buffering{}, "hello", "ok", false, 200, "ok:hello"},
		{"request too large", dynamic.Buffering{MaxRequestBodyBytes: 3}, "hello", "ok", false, 413, ""},
		{"spill to disk", dynamic.Buffering{MemRequestBodyBytes: 2}, strings.Repeat("a", 100), "ok", false, 200, "ok:" + strings.Repeat("a", 100)},
		{"response too large", dynamic.Buffering{MaxResponseBodyBytes: 3}, "x", "too long", false, 500, ""},
		{"retry expression", dynamic.Buffering{RetryExpression: "IsNetworkError() && Attempts() < 2"}, "b", "ok", true, 200, "ok:b"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			wrap, err := Setup(&tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls++
				b, _ := io.ReadAll(r.Body)
				if tc.failFirst && calls == 1 {
					w.WriteHeader(http.StatusBadGateway)
					io.WriteString(w, "Bad Gateway")
					return
				}
				if tc.respBody != "" {
					io.WriteString(w, tc.respBody+":"+string(b))
				}
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(tc.body)))
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d", rec.Code)
			}
			if tc.wantBody != "" && rec.Body.String() != tc.wantBody {
				t.Errorf("body %q", rec.Body.String())
			}
		})
	}
}

func TestSetupErrors(t *testing.T) {
	for _, cfg := range []*dynamic.Buffering{{MaxRequestBodyBytes: -1}, {RetryExpression: "Nope("}} {
		if _, err := Setup(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
