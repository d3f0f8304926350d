package basicauth

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// test:secret in the three formats.
var users = []string{
	"apr:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/",
	"sha:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=",
	"bc:$2a$05$9dwc1QzOXn36bxnpDORRb.yzdR2HK0ZIuwwfjPI2IQU1PRWW0QaSe",
}

func TestSetup(t *testing.T) {
	f := filepath.Join(t.TempDir(), "u")
	os.WriteFile(f, []byte("x:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n"), 0o600)
	tests := []struct {
		desc string
		cfg  *dynamic.BasicAuth
		ok   bool
	}{
		{"nil", nil, false},
		{"no users", &dynamic.BasicAuth{}, false},
		{"plain password", &dynamic.BasicAuth{Users: []string{"a:b"}}, false},
		{"no colon", &dynamic.BasicAuth{Users: []string{"ab"}}, false},
		{"users", &dynamic.BasicAuth{Users: users}, true},
		{"file", &dynamic.BasicAuth{UsersFile: f}, true},
		{"missing file", &dynamic.BasicAuth{UsersFile: f + "x"}, false},
	}
	for _, tc := range tests {
		if _, err := Setup(tc.cfg); (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.desc, err)
		}
	}
}

func TestAuth(t *testing.T) {
	tests := []struct {
		desc       string
		cfg        dynamic.BasicAuth
		user, pass string
		noAuth     bool
		status     int
		challenge  string
		wantHeader map[string]string // request headers seen by next ("" = absent)
	}{
		{desc: "apr1 ok", cfg: dynamic.BasicAuth{Users: users}, user: "apr", pass: "secret", status: 200,
			wantHeader: map[string]string{"Authorization": "Basic YXByOnNlY3JldA=="}},
		{desc: "bcrypt ok", cfg: dynamic.BasicAuth{Users: users}, user: "bc", pass: "secret", status: 200},
		{desc: "sha ok", cfg: dynamic.BasicAuth{Users: users}, user: "sha", pass: "secret", status: 200},
		{desc: "wrong password", cfg: dynamic.BasicAuth{Users: users}, user: "apr", pass: "x", status: 401, challenge: `Basic realm="traefik"`},
		{desc: "unknown user", cfg: dynamic.BasicAuth{Users: users}, user: "zz", pass: "secret", status: 401},
		{desc: "no credentials, realm", cfg: dynamic.BasicAuth{Users: users, Realm: "my realm"}, noAuth: true, status: 401, challenge: `Basic realm="my realm"`},
		{desc: "headerField and removeHeader", cfg: dynamic.BasicAuth{Users: users, HeaderField: "X-WebAuth-User", RemoveHeader: true},
			user: "sha", pass: "secret", status: 200, wantHeader: map[string]string{"X-Webauth-User": "sha", "Authorization": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			wrap, err := Setup(&tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var seen http.Header
			h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.Header.Clone() }))
			req := httptest.NewRequest("GET", "/", nil)
			if !tc.noAuth {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d", rec.Code)
			}
			if tc.challenge != "" && rec.Header().Get("WWW-Authenticate") != tc.challenge {
				t.Errorf("challenge %q", rec.Header().Get("WWW-Authenticate"))
			}
			for k, v := range tc.wantHeader {
				if got := seen.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}
