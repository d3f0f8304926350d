package entrypointredirect

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestNew(t *testing.T) {
	tests := []struct {
		desc, scheme, port string
		permanent          bool
		method, url        string
		tls                bool
		xfp                string
		wantStatus         int
		wantLoc            string
	}{
		{desc: "default https, permanent", port: "443", permanent: true, url: "http://example.com/a?b=1", wantStatus: 301, wantLoc: "https://example.com/a?b=1"},
		{desc: "port with colon", port: ":443", permanent: true, url: "http://example.com:80/", wantStatus: 301, wantLoc: "https://example.com/"},
		{desc: "listen address", port: "0.0.0.0:8443", permanent: true, url: "http://example.com:8000/x", wantStatus: 301, wantLoc: "https://example.com:8443/x"},
		{desc: "ipv6 listen address", port: "[::]:8443", permanent: true, url: "http://[::1]:8000/x", wantStatus: 301, wantLoc: "https://[::1]:8443/x"},
		{desc: "POST permanent", port: "443", permanent: true, method: http.MethodPost, url: "http://example.com/", wantStatus: 308, wantLoc: "https://example.com/"},
		{desc: "temporary", port: "443", url: "http://example.com/", wantStatus: 302, wantLoc: "https://example.com/"},
		{desc: "temporary POST", port: "443", method: http.MethodPut, url: "http://example.com/", wantStatus: 307, wantLoc: "https://example.com/"},
		{desc: "already https", port: "443", permanent: true, url: "https://example.com/", tls: true, wantStatus: 200},
		{desc: "behind tls proxy", port: "443", permanent: true, url: "http://example.com/", xfp: "https", wantStatus: 200},
		{desc: "explicit http scheme", scheme: "http", port: "8080", url: "http://example.com/", wantStatus: 302, wantLoc: "http://example.com:8080/"},
		{desc: "invalid port", port: "web", url: "http://example.com/", wantStatus: 500},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			h := New(tc.scheme, tc.port, tc.permanent)
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			req := httptest.NewRequest(method, tc.url, nil)
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			if tc.xfp != "" {
				req.Header.Set("X-Forwarded-Proto", tc.xfp)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tc.wantStatus)
			}
			if loc := rec.Header().Get("Location"); loc != tc.wantLoc {
				t.Errorf("Location %q, want %q", loc, tc.wantLoc)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, ok := range [][2]string{{"", "443"}, {"https", ":443"}, {"http", "0.0.0.0:80"}} {
		if err := Validate(ok[0], ok[1]); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
	for _, bad := range [][2]string{{"", "websecure"}, {"h t", "443"}, {"https", "99999"}} {
		if err := Validate(bad[0], bad[1]); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
