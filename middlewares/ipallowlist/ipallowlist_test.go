package ipallowlist

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestFilter(t *testing.T) {
	tests := []struct {
		desc   string
		cfg    dynamic.IPAllowList
		deny   bool
		remote string
		xff    string
		want   int
	}{
		{"allowed", dynamic.IPAllowList{SourceRange: []string{"192.0.2.0/24"}}, false, "192.0.2.9:1", "", 200},
		{"refused", dynamic.IPAllowList{SourceRange: []string{"10.0.0.0/8"}}, false, "192.0.2.9:1", "", 403},
		{"reject code", dynamic.IPAllowList{SourceRange: []string{"10.0.0.0/8"}, RejectStatusCode: 404}, false, "192.0.2.9:1", "", 404},
		{"depth", dynamic.IPAllowList{SourceRange: []string{"10.0.0.0/8"}, IPStrategy: &dynamic.IPStrategy{Depth: 2}}, false, "192.0.2.9:1", "10.1.1.1, 172.16.0.1", 200},
		{"depth short XFF refused", dynamic.IPAllowList{SourceRange: []string{"10.0.0.0/8"}, IPStrategy: &dynamic.IPStrategy{Depth: 2}}, false, "10.0.0.1:1", "", 403},
		{"excluded", dynamic.IPAllowList{SourceRange: []string{"10.0.0.0/8"}, IPStrategy: &dynamic.IPStrategy{ExcludedIPs: []string{"172.16.0.0/12"}}}, false, "192.0.2.9:1", "10.1.1.1, 172.16.0.1", 200},
		{"deny listed", dynamic.IPAllowList{SourceRange: []string{"192.0.2.0/24"}}, true, "192.0.2.9:1", "", 403},
		{"deny other passes", dynamic.IPAllowList{SourceRange: []string{"10.0.0.0/8"}}, true, "192.0.2.9:1", "", 200},
		{"deny unknown IP refused", dynamic.IPAllowList{SourceRange: []string{"10.0.0.0/8"}, IPStrategy: &dynamic.IPStrategy{Depth: 1}}, true, "192.0.2.9:1", "", 403},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			f, err := NewFilter(&tc.cfg, tc.deny)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tc.remote
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			rec := httptest.NewRecorder()
			f.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d", rec.Code, tc.want)
			}
		})
	}
}

func TestSetupErrors(t *testing.T) {
	for _, cfg := range []*dynamic.IPAllowList{nil, {}, {SourceRange: []string{"nope"}}, {SourceRange: []string{"1.1.1.1"}, RejectStatusCode: 42},
		{SourceRange: []string{"1.1.1.1"}, IPStrategy: &dynamic.IPStrategy{Depth: -2}}} {
		if _, err := Setup(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
