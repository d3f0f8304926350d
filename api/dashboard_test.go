package api

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/api/dashboard"
)

// TestDashboardUsesExistingEndpoints checks every API path the dashboard
// script fetches against the handler, with the script's paging parameters.
func TestDashboardUsesExistingEndpoints(t *testing.T) {
	js, err := fs.ReadFile(dashboard.Assets(), "app.js")
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"overview", "version"}
	for _, m := range regexp.MustCompile(`path: '([^']+)'`).FindAllStringSubmatch(string(js), -1) {
		paths = append(paths, m[1]+"?per_page=500&page=1")
	}
	if len(paths) < 10 {
		t.Fatalf("found only %d paths in app.js", len(paths))
	}
	for _, base := range []string{"/", "/sy"} {
		conf := testStatic()
		conf.API.BasePath = base
		h := New(conf, Version{})
		h.Update(testRuntime())
		site := h.WithDashboard(NewDashboard(base))
		prefix := strings.TrimSuffix(base, "/")
		for _, p := range paths {
			// The page lives at <base>/dashboard/ and fetches "../api/<p>",
			// which the browser resolves to <base>/api/<p>.
			target := prefix + "/api/" + p
			if rec := do(site, http.MethodGet, target); rec.Code != http.StatusOK {
				t.Errorf("base %q: %s: status = %d", base, target, rec.Code)
			}
		}
	}
}

func TestWithDashboard(t *testing.T) {
	h := newTestHandler(t)
	site := h.WithDashboard(NewDashboard("/"))
	tests := []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/api/version", 200},
		{http.MethodPost, "/api/version", 405},
		{http.MethodGet, "/api/nope", 404},
		{http.MethodGet, "/dashboard/", 200},
		{http.MethodGet, "/dashboard/app.js", 200},
		{http.MethodGet, "/", 302},
		{http.MethodGet, "/dashboard", 302},
		{http.MethodGet, "/other", 404},
	}
	for _, tt := range tests {
		if rec := do(site, tt.method, tt.path); rec.Code != tt.code {
			t.Errorf("%s %s: status = %d, want %d", tt.method, tt.path, rec.Code, tt.code)
		}
	}
	if h.WithDashboard(nil) != http.Handler(h) {
		t.Error("WithDashboard(nil) should be the API handler itself")
	}
}

// TestDashboardScript runs the dashboard script under Node (when installed)
// against this API's real responses, and checks what it renders.
func TestDashboardScript(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	dir := t.TempDir()
	h := newTestHandler(t)
	for _, p := range []string{"overview", "version", "entrypoints", "http/routers", "http/services",
		"http/middlewares", "tcp/routers", "tcp/services", "udp/routers", "udp/services"} {
		rec := do(h, http.MethodGet, "/api/"+p)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d", p, rec.Code)
		}
		if err := os.WriteFile(filepath.Join(dir, strings.ReplaceAll(p, "/", "_")+".json"), rec.Body.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	type result struct {
		Version  string
		Error    string
		Requests []string
		Tables   map[string][][]string
	}
	run := func(hash string) result {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, node, "testdata/dashboard_smoke.js",
			"dashboard/static/app.js", dir, hash).CombinedOutput()
		if err != nil {
			t.Fatalf("node: %v\n%s", err, out)
		}
		var r result
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("node output %q: %v", out, err)
		}
		return r
	}

	r := run("")
	if r.Error != "" || !strings.HasPrefix(r.Version, "1.2.3 (junction)") {
		t.Errorf("version %q, error %q", r.Version, r.Error)
	}
	for _, req := range r.Requests {
		if !strings.HasPrefix(req, "/base/api/") {
			t.Errorf("request %q escapes the base path", req)
		}
	}
	rowNames := func(table string) []string {
		var out []string
		for _, row := range r.Tables[table] {
			if strings.Contains(row[0], "error-row") {
				out = append(out, "error: "+row[1])
			} else if len(row) > 2 {
				out = append(out, row[2])
			}
		}
		return out
	}
	want := map[string][]string{
		"routers":      {"broken@docker", "error: invalid rule", "foo/bar@file", "error: entrypoint websecure unknown", "secure@file", "web@file"},
		"services":     {"canary@file", "fo@docker", "error: service a not found", "other@docker", "error: mirror down", "whoami@file"},
		"middlewares":  {"auth@docker", "error: bad users", "plug@file", "strip@file"},
		"tcp-routers":  {"catchall@docker", "error: shadowed", "db@file"},
		"udp-services": {"resolvers@file", "error: service a not found"},
	}
	for table, names := range want {
		if got := rowNames(table); !slices.Equal(got, names) {
			t.Errorf("%s rows = %q, want %q", table, got, names)
		}
	}
	// Server health shows next to each server; errors mark the row.
	for _, row := range r.Tables["services"] {
		if len(row) < 5 {
			continue // an error row
		}
		if row[2] == "whoami@file" && !strings.Contains(row[4], "UP http://10.0.0.1:80") {
			t.Errorf("whoami servers cell = %q", row[4])
		}
		if row[2] == "fo@docker" && row[0] != "row-disabled" {
			t.Errorf("fo@docker row class = %q", row[0])
		}
	}

	// The search box (restored from the URL hash) filters every table,
	// error text included.
	r = run("#mirror%20down")
	if got := rowNames("services"); !slices.Equal(got, []string{"other@docker", "error: mirror down"}) {
		t.Errorf("filtered services = %q", got)
	}
	if got := r.Tables["routers"]; len(got) != 1 || got[0][1] != "No match." {
		t.Errorf("filtered routers = %q", got)
	}
}
