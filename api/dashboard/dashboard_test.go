package dashboard

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func do(h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestFiles(t *testing.T) {
	for _, base := range []string{"", "/", "/sy", "/sy/", "/a/b"} {
		h := New(base)
		prefix := strings.TrimSuffix(base, "/")
		tests := []struct {
			path, method string
			code         int
			ctype, body  string
		}{
			{"/dashboard/", http.MethodGet, 200, "text/html; charset=utf-8", "<title>Switchyard dashboard</title>"},
			{"/dashboard/", http.MethodHead, 200, "text/html; charset=utf-8", ""},
			{"/dashboard/app.js", http.MethodGet, 200, "text/javascript; charset=utf-8", "const API = '../api/';"},
			{"/dashboard/style.css", http.MethodGet, 200, "text/css; charset=utf-8", ":root"},
			{"/dashboard/missing.js", http.MethodGet, 404, "", ""},
			{"/dashboard/", http.MethodPost, 405, "", ""},
			{"/dashboard/app.js", http.MethodDelete, 405, "", ""},
			{"/elsewhere", http.MethodGet, 404, "", ""},
		}
		for _, tt := range tests {
			rec := do(h, tt.method, prefix+tt.path, nil)
			if rec.Code != tt.code {
				t.Errorf("base %q %s %s: status = %d, want %d", base, tt.method, tt.path, rec.Code, tt.code)
				continue
			}
			if tt.ctype != "" && rec.Header().Get("Content-Type") != tt.ctype {
				t.Errorf("base %q %s: Content-Type = %q, want %q", base, tt.path, rec.Header().Get("Content-Type"), tt.ctype)
			}
			if !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("base %q %s: body lacks %q", base, tt.path, tt.body)
			}
			if tt.method == http.MethodHead && rec.Body.Len() != 0 {
				t.Errorf("base %q HEAD %s: body of %d bytes", base, tt.path, rec.Body.Len())
			}
			if tt.code == 405 && rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("base %q %s: Allow = %q", base, tt.path, rec.Header().Get("Allow"))
			}
			if tt.code == 200 {
				for _, k := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Cache-Control"} {
					if rec.Header().Get(k) == "" {
						t.Errorf("base %q %s: no %s header", base, tt.path, k)
					}
				}
			}
		}
	}
}

func TestRedirects(t *testing.T) {
	tests := []struct {
		base, path string
		hdr        map[string]string
		location   string // "" means no redirect
	}{
		{"/", "/", nil, "/dashboard/"},
		{"/", "/dashboard", nil, "/dashboard/"},
		{"", "/", nil, "/dashboard/"},
		{"/sy", "/sy", nil, "/sy/dashboard/"},
		{"/sy", "/sy/", nil, "/sy/dashboard/"},
		{"/sy/", "/sy/dashboard", nil, "/sy/dashboard/"},
		{"sy", "/sy/dashboard", nil, "/sy/dashboard/"},
		{"/", "/", map[string]string{"X-Forwarded-Prefix": "/proxy/"}, "/proxy/dashboard/"},
		{"/sy", "/sy", map[string]string{"X-Forwarded-Prefix": "/p/q"}, "/p/q/sy/dashboard/"},
		// A prefix that would send the browser to another host is ignored.
		{"/", "/", map[string]string{"X-Forwarded-Prefix": "//evil.example"}, "/dashboard/"},
		{"/", "/", map[string]string{"X-Forwarded-Prefix": "/\\evil.example"}, "/dashboard/"},
		{"/", "/", map[string]string{"X-Forwarded-Prefix": "https://evil.example"}, "/dashboard/"},
		{"/", "/", map[string]string{"X-Forwarded-Prefix": "/a\x01b"}, "/dashboard/"},
	}
	for _, tt := range tests {
		rec := do(New(tt.base), http.MethodGet, tt.path, tt.hdr)
		if rec.Code != http.StatusFound {
			t.Errorf("base %q %s: status = %d, want 302", tt.base, tt.path, rec.Code)
			continue
		}
		if loc := rec.Header().Get("Location"); loc != tt.location {
			t.Errorf("base %q %s %v: Location = %q, want %q", tt.base, tt.path, tt.hdr, loc, tt.location)
		}
	}
	// HEAD redirects too; POST does not.
	if rec := do(New("/"), http.MethodHead, "/", nil); rec.Code != http.StatusFound {
		t.Errorf("HEAD /: status = %d", rec.Code)
	}
	if rec := do(New("/"), http.MethodPost, "/dashboard", nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /dashboard: status = %d", rec.Code)
	}
	// With a base path, the root is not the dashboard's.
	for _, p := range []string{"/", "/dashboard", "/dashboard/", "/sydashboard/"} {
		if rec := do(New("/sy"), http.MethodGet, p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("base /sy, %s: status = %d, want 404", p, rec.Code)
		}
	}
}

// TestRelativeURLs guards basePath support: the page must never address
// the API or its files from the root.
func TestRelativeURLs(t *testing.T) {
	assets := Assets()
	index, err := fs.ReadFile(assets, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(string(index), -1) {
		if strings.HasPrefix(m[1], "/") || strings.Contains(m[1], "://") {
			t.Errorf("index.html uses non-relative URL %q", m[1])
		}
	}
	js, err := fs.ReadFile(assets, "app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"fetch('/", "fetch(\"/", "fetch(`/", "innerHTML", "eval("} {
		if strings.Contains(string(js), bad) {
			t.Errorf("app.js contains %q", bad)
		}
	}
}

// TestOverHTTP serves the dashboard from a loopback server, as a browser
// would load it.
func TestOverHTTP(t *testing.T) {
	srv := httptest.NewServer(New("/"))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/") // follows the redirect
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/dashboard/" || !strings.Contains(string(body), "app.js") {
		t.Fatalf("GET / → %d at %s", resp.StatusCode, resp.Request.URL.Path)
	}
}
