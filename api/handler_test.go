package api

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/runtime"
	"github.com/switchyard-proxy/switchyard/config/static"
)

func TestLists(t *testing.T) {
	h := newTestHandler(t)
	tests := []struct {
		path  string
		names []string
		next  string
	}{
		{"/api/http/routers", []string{"broken@docker", "foo/bar@file", "secure@file", "web@file"}, "1"},
		{"/api/http/services", []string{"canary@file", "fo@docker", "other@docker", "whoami@file"}, "1"},
		{"/api/http/middlewares", []string{"auth@docker", "plug@file", "strip@file"}, "1"},
		{"/api/tcp/routers", []string{"catchall@docker", "db@file"}, "1"},
		{"/api/tcp/services", []string{"pg@file"}, "1"},
		{"/api/tcp/middlewares", []string{"allow@file"}, "1"},
		{"/api/udp/routers", []string{"dns@file"}, "1"},
		{"/api/udp/services", []string{"resolvers@file"}, "1"},
		{"/api/entrypoints", []string{"dns", "web", "websecure"}, "1"},

		// Filters.
		{"/api/http/routers?status=enabled", []string{"secure@file", "web@file"}, "1"},
		{"/api/http/routers?status=DISABLED", []string{"broken@docker"}, "1"},
		{"/api/http/routers?search=SECURE", []string{"secure@file"}, "1"},
		{"/api/http/routers?search=pathprefix", []string{"web@file"}, "1"}, // in the rule
		{"/api/http/routers?provider=docker", []string{"broken@docker"}, "1"},
		{"/api/http/routers?serviceName=whoami", []string{"secure@file", "web@file"}, "1"},
		{"/api/http/routers?serviceName=whoami@file", []string{"secure@file", "web@file"}, "1"},
		{"/api/http/routers?serviceName=whoami@docker", []string{}, "1"},
		{"/api/http/routers?serviceName=other@docker", []string{"foo/bar@file"}, "1"},
		{"/api/http/routers?middlewareName=strip@file", []string{"web@file"}, "1"},
		{"/api/http/routers?middlewareName=auth", []string{"web@file"}, "1"},
		{"/api/http/routers?middlewareName=auth@file", []string{}, "1"},
		{"/api/http/routers?status=enabled&provider=file&search=web", []string{"web@file"}, "1"},
		{"/api/http/services?search=o", []string{"fo@docker", "other@docker", "whoami@file"}, "1"},
		{"/api/http/services?status=warning", []string{"other@docker"}, "1"},
		{"/api/http/services?provider=file", []string{"canary@file", "whoami@file"}, "1"},
		{"/api/http/middlewares?status=disabled", []string{"auth@docker"}, "1"},
		{"/api/http/middlewares?search=stri", []string{"strip@file"}, "1"},
		{"/api/tcp/routers?search=db.example", []string{"db@file"}, "1"},
		{"/api/tcp/routers?serviceName=pg", []string{"catchall@docker", "db@file"}, "1"},
		{"/api/tcp/routers?middlewareName=allow@file", []string{"db@file"}, "1"},
		{"/api/tcp/routers?status=warning", []string{"catchall@docker"}, "1"},
		{"/api/tcp/services?status=disabled", []string{}, "1"},
		{"/api/tcp/middlewares?search=nope", []string{}, "1"},
		{"/api/udp/routers?serviceName=resolvers@file", []string{"dns@file"}, "1"},
		{"/api/udp/routers?middlewareName=x", []string{}, "1"},
		{"/api/udp/services?status=disabled", []string{"resolvers@file"}, "1"},

		// Sorting.
		{"/api/http/routers?direction=desc", []string{"web@file", "secure@file", "foo/bar@file", "broken@docker"}, "1"},
		{"/api/http/routers?sortBy=provider", []string{"broken@docker", "foo/bar@file", "secure@file", "web@file"}, "1"},
		{"/api/http/routers?sortBy=priority", []string{"broken@docker", "foo/bar@file", "web@file", "secure@file"}, "1"},
		{"/api/http/routers?sortBy=entryPoints&direction=desc", []string{"broken@docker", "web@file", "secure@file", "foo/bar@file"}, "1"},
		{"/api/http/routers?sortBy=status", []string{"broken@docker", "secure@file", "web@file", "foo/bar@file"}, "1"},
		{"/api/http/routers?sortBy=unknown", []string{"broken@docker", "foo/bar@file", "secure@file", "web@file"}, "1"},
		{"/api/http/services?sortBy=type", []string{"fo@docker", "whoami@file", "other@docker", "canary@file"}, "1"},
		{"/api/http/services?sortBy=servers&direction=desc", []string{"whoami@file", "other@docker", "fo@docker", "canary@file"}, "1"},
		{"/api/http/middlewares?sortBy=type", []string{"auth@docker", "plug@file", "strip@file"}, "1"},

		// Pagination.
		{"/api/http/routers?per_page=3", []string{"broken@docker", "foo/bar@file", "secure@file"}, "2"},
		{"/api/http/routers?per_page=3&page=2", []string{"web@file"}, "1"},
		{"/api/http/routers?per_page=2&page=2", []string{"secure@file", "web@file"}, "1"},
		{"/api/http/routers?per_page=1&page=2", []string{"foo/bar@file"}, "3"},
		{"/api/http/routers?per_page=2&status=enabled", []string{"secure@file", "web@file"}, "1"},
		{"/api/entrypoints?per_page=2", []string{"dns", "web"}, "2"},
		{"/api/entrypoints?per_page=2&page=2", []string{"websecure"}, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := do(h, http.MethodGet, tt.path)
			got := names(t, rec)
			if !slices.Equal(got, tt.names) {
				t.Errorf("names = %q, want %q", got, tt.names)
			}
			if next := rec.Header().Get("X-Next-Page"); next != tt.next {
				t.Errorf("X-Next-Page = %q, want %q", next, tt.next)
			}
		})
	}
}

func TestEmptyListsAreArrays(t *testing.T) {
	h := New(nil, Version{})
	for _, path := range []string{
		"/api/http/routers", "/api/http/services", "/api/http/middlewares",
		"/api/tcp/routers", "/api/tcp/services", "/api/tcp/middlewares",
		"/api/udp/routers", "/api/udp/services", "/api/entrypoints",
	} {
		rec := do(h, http.MethodGet, path)
		if rec.Code != http.StatusOK || rec.Body.String() != "[]\n" {
			t.Errorf("%s: %d %q, want 200 \"[]\\n\"", path, rec.Code, rec.Body.String())
		}
		if next := rec.Header().Get("X-Next-Page"); next != "1" {
			t.Errorf("%s: X-Next-Page = %q, want 1", path, next)
		}
	}
}

func TestPaginationErrors(t *testing.T) {
	h := newTestHandler(t)
	for _, q := range []string{
		"page=0", "page=-1", "page=x", "per_page=0", "per_page=abc",
		"page=2", // 4 routers fit in the default page
		"page=3&per_page=2",
		"page=99999999999999999&per_page=1",
		"page=9223372036854775807&per_page=9223372036854775807",
	} {
		rec := do(h, http.MethodGet, "/api/http/routers?"+q)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status = %d, want 400", q, rec.Code)
			continue
		}
		if msg := errorMessage(t, rec); !strings.HasPrefix(msg, "invalid request") {
			t.Errorf("%s: message = %q", q, msg)
		}
	}
	// Page 1 of an empty list is fine.
	h.Update(nil)
	if rec := do(h, http.MethodGet, "/api/http/routers?page=1&per_page=5"); rec.Code != http.StatusOK {
		t.Errorf("empty page 1: status = %d", rec.Code)
	}
}

// routerJSON is a router as a client decodes it.
type routerJSON struct {
	EntryPoints []string `json:"entryPoints"`
	Middlewares []string `json:"middlewares"`
	Service     string   `json:"service"`
	Rule        string   `json:"rule"`
	Priority    int      `json:"priority"`
	TLS         *struct {
		Options     string `json:"options"`
		Passthrough bool   `json:"passthrough"`
	} `json:"tls"`
	Error    []string `json:"error"`
	Status   string   `json:"status"`
	Using    []string `json:"using"`
	Name     string   `json:"name"`
	Provider string   `json:"provider"`
}

func TestRouterShape(t *testing.T) {
	h := newTestHandler(t)

	var r routerJSON
	decode(t, do(h, http.MethodGet, "/api/http/routers/web@file"), &r)
	want := routerJSON{
		EntryPoints: []string{"web"},
		Middlewares: []string{"strip", "auth@docker"},
		Service:     "whoami",
		Rule:        "Host(`example.com`) && PathPrefix(`/api`)",
		Status:      "enabled",
		Using:       []string{"web"},
		Name:        "web@file",
		Provider:    "file",
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("router =\n%+v\nwant\n%+v", r, want)
	}

	var b routerJSON
	decode(t, do(h, http.MethodGet, "/api/http/routers/broken@docker"), &b)
	if b.Status != "disabled" || !slices.Equal(b.Error, []string{"invalid rule"}) || b.Using != nil {
		t.Errorf("broken router = %+v", b)
	}
}

func TestRouterDefaultTLSOptions(t *testing.T) {
	rt := testRuntime()
	h := New(testStatic(), Version{})
	h.Update(rt)

	var r routerJSON
	decode(t, do(h, http.MethodGet, "/api/http/routers/secure@file"), &r)
	if r.TLS == nil || r.TLS.Options != "default" || r.Priority != 100 {
		t.Errorf("secure router tls = %+v, priority %d; want options \"default\", 100", r.TLS, r.Priority)
	}
	// The shared runtime object is not modified.
	if got := rt.Routers["secure@file"].TLS.Options; got != "" {
		t.Errorf("runtime router TLS options modified to %q", got)
	}

	var custom routerJSON
	decode(t, do(h, http.MethodGet, "/api/http/routers/foo%2Fbar@file"), &custom)
	if custom.TLS == nil || custom.TLS.Options != "modern" {
		t.Errorf("custom TLS options = %+v", custom.TLS)
	}

	var list []routerJSON
	decode(t, do(h, http.MethodGet, "/api/http/routers?search=secure"), &list)
	if len(list) != 1 || list[0].TLS == nil || list[0].TLS.Options != "default" {
		t.Errorf("list = %+v", list)
	}
}

type serviceJSON struct {
	LoadBalancer *struct {
		Servers []struct {
			URL string `json:"url"`
		} `json:"servers"`
	} `json:"loadBalancer"`
	Weighted *struct {
		Services []struct {
			Name   string `json:"name"`
			Weight int    `json:"weight"`
		} `json:"services"`
	} `json:"weighted"`
	Mirroring    map[string]any    `json:"mirroring"`
	Failover     map[string]any    `json:"failover"`
	Error        []string          `json:"error"`
	Status       string            `json:"status"`
	UsedBy       []string          `json:"usedBy"`
	ServerStatus map[string]string `json:"serverStatus"`
	Name         string            `json:"name"`
	Provider     string            `json:"provider"`
	Type         string            `json:"type"`
}

func TestServiceShape(t *testing.T) {
	h := newTestHandler(t)

	var s serviceJSON
	decode(t, do(h, http.MethodGet, "/api/http/services/whoami@file"), &s)
	if s.Name != "whoami@file" || s.Provider != "file" || s.Type != "loadbalancer" || s.Status != "enabled" {
		t.Errorf("service = %+v", s)
	}
	if s.LoadBalancer == nil || len(s.LoadBalancer.Servers) != 2 || s.LoadBalancer.Servers[0].URL != "http://10.0.0.1:80" {
		t.Errorf("loadBalancer = %+v", s.LoadBalancer)
	}
	wantStatus := map[string]string{"http://10.0.0.1:80": "UP", "http://10.0.0.2:80": "DOWN"}
	if !reflect.DeepEqual(s.ServerStatus, wantStatus) {
		t.Errorf("serverStatus = %v, want %v", s.ServerStatus, wantStatus)
	}
	if !slices.Equal(s.UsedBy, []string{"secure@file", "web@file"}) || s.Error != nil {
		t.Errorf("usedBy = %v, error = %v", s.UsedBy, s.Error)
	}

	var list []serviceJSON
	decode(t, do(h, http.MethodGet, "/api/http/services"), &list)
	types := map[string]string{}
	for _, it := range list {
		types[it.Name] = it.Type
	}
	wantTypes := map[string]string{
		"canary@file": "weighted", "fo@docker": "failover", "other@docker": "mirroring", "whoami@file": "loadbalancer",
	}
	if !reflect.DeepEqual(types, wantTypes) {
		t.Errorf("types = %v, want %v", types, wantTypes)
	}
	for _, it := range list {
		switch it.Name {
		case "canary@file":
			if it.Weighted == nil || it.Weighted.Services[0].Weight != 3 || it.ServerStatus != nil {
				t.Errorf("canary = %+v", it)
			}
		case "fo@docker":
			if it.Status != "disabled" || !slices.Equal(it.Error, []string{"service a not found"}) {
				t.Errorf("fo = %+v", it)
			}
		case "whoami@file":
			if len(it.ServerStatus) != 2 {
				t.Errorf("whoami serverStatus in list = %v", it.ServerStatus)
			}
		}
	}
}

func TestServerStatusIsLive(t *testing.T) {
	rt := testRuntime()
	h := New(testStatic(), Version{})
	h.Update(rt)
	rt.Services["whoami@file"].UpdateServerStatus("http://10.0.0.2:80", runtime.ServerUp)

	var s serviceJSON
	decode(t, do(h, http.MethodGet, "/api/http/services/whoami@file"), &s)
	if s.ServerStatus["http://10.0.0.2:80"] != "UP" {
		t.Errorf("item serverStatus = %v, want the update", s.ServerStatus)
	}
	var list []serviceJSON
	decode(t, do(h, http.MethodGet, "/api/http/services?search=whoami"), &list)
	if len(list) != 1 || list[0].ServerStatus["http://10.0.0.2:80"] != "UP" {
		t.Errorf("list serverStatus = %+v", list)
	}
	var raw struct {
		Services map[string]serviceJSON `json:"services"`
	}
	decode(t, do(h, http.MethodGet, "/api/rawdata"), &raw)
	if raw.Services["whoami@file"].ServerStatus["http://10.0.0.2:80"] != "UP" {
		t.Errorf("rawdata serverStatus = %+v", raw.Services["whoami@file"])
	}
}

func TestMiddlewareShape(t *testing.T) {
	h := newTestHandler(t)
	tests := []struct {
		path, typ, status string
		usedBy            []string
		errs              []string
		field             string // the config key that must be present
	}{
		{"/api/http/middlewares/strip@file", "stripprefix", "enabled", []string{"web@file"}, nil, "stripPrefix"},
		{"/api/http/middlewares/auth@docker", "basicauth", "disabled", []string{"web@file"}, []string{"bad users"}, "basicAuth"},
		{"/api/http/middlewares/plug@file", "blockpath", "enabled", nil, nil, "plugin"},
		{"/api/tcp/middlewares/allow@file", "ipallowlist", "enabled", []string{"db@file"}, nil, "ipAllowList"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var m map[string]any
			decode(t, do(h, http.MethodGet, tt.path), &m)
			if m["type"] != tt.typ || m["status"] != tt.status {
				t.Errorf("type, status = %v, %v; want %s, %s", m["type"], m["status"], tt.typ, tt.status)
			}
			if _, ok := m[tt.field]; !ok {
				t.Errorf("missing %q in %v", tt.field, m)
			}
			if got := strs(m["usedBy"]); !slices.Equal(got, tt.usedBy) {
				t.Errorf("usedBy = %v, want %v", got, tt.usedBy)
			}
			if got := strs(m["error"]); !slices.Equal(got, tt.errs) {
				t.Errorf("error = %v, want %v", got, tt.errs)
			}
			name := tt.path[strings.LastIndexByte(tt.path, '/')+1:]
			if m["name"] != name || m["provider"] != providerOf(name) {
				t.Errorf("name, provider = %v, %v", m["name"], m["provider"])
			}
		})
	}
}

func strs(v any) []string {
	l, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, s := range l {
		out = append(out, fmt.Sprint(s))
	}
	return out
}

func TestTCPAndUDPShapes(t *testing.T) {
	h := newTestHandler(t)

	var r map[string]any
	decode(t, do(h, http.MethodGet, "/api/tcp/routers/db@file"), &r)
	if r["rule"] != "HostSNI(`db.example.com`)" || r["service"] != "pg" || r["provider"] != "file" ||
		r["status"] != "enabled" || !slices.Equal(strs(r["using"]), []string{"websecure"}) {
		t.Errorf("tcp router = %v", r)
	}
	if tls, _ := r["tls"].(map[string]any); tls["passthrough"] != true {
		t.Errorf("tcp router tls = %v", r["tls"])
	}

	var s map[string]any
	decode(t, do(h, http.MethodGet, "/api/tcp/services/pg@file"), &s)
	if s["type"] != "loadbalancer" || !slices.Equal(strs(s["usedBy"]), []string{"catchall@docker", "db@file"}) {
		t.Errorf("tcp service = %v", s)
	}
	if _, ok := s["serverStatus"]; ok {
		t.Errorf("tcp service has serverStatus without health data: %v", s)
	}

	var u map[string]any
	decode(t, do(h, http.MethodGet, "/api/udp/routers/dns@file"), &u)
	if u["service"] != "resolvers" || u["name"] != "dns@file" || !slices.Equal(strs(u["entryPoints"]), []string{"dns"}) {
		t.Errorf("udp router = %v", u)
	}

	var us map[string]any
	decode(t, do(h, http.MethodGet, "/api/udp/services/resolvers@file"), &us)
	if us["type"] != "weighted" || us["status"] != "disabled" || !slices.Equal(strs(us["error"]), []string{"service a not found"}) {
		t.Errorf("udp service = %v", us)
	}
}

func TestItemNotFound(t *testing.T) {
	h := newTestHandler(t)
	tests := []struct{ path, msg string }{
		{"/api/http/routers/nope@file", "router not found: nope@file"},
		{"/api/http/routers/web", "router not found: web"},
		{"/api/http/services/nope@file", "service not found: nope@file"},
		{"/api/http/middlewares/nope@file", "middleware not found: nope@file"},
		{"/api/tcp/routers/nope@file", "router not found: nope@file"},
		{"/api/tcp/services/nope@file", "service not found: nope@file"},
		{"/api/tcp/middlewares/nope@file", "middleware not found: nope@file"},
		{"/api/udp/routers/nope@file", "router not found: nope@file"},
		{"/api/udp/services/nope@file", "service not found: nope@file"},
		{"/api/entrypoints/nope", "entry point not found: nope"},
		{"/api/http/routers/a%20b@file", "router not found: a b@file"},
	}
	for _, tt := range tests {
		rec := do(h, http.MethodGet, tt.path)
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: status = %d, want 404", tt.path, rec.Code)
			continue
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%s: Content-Type = %q", tt.path, ct)
		}
		if msg := errorMessage(t, rec); msg != tt.msg {
			t.Errorf("%s: message = %q, want %q", tt.path, msg, tt.msg)
		}
	}
}

func TestEncodedNames(t *testing.T) {
	h := newTestHandler(t)
	for _, path := range []string{
		"/api/http/routers/foo%2Fbar@file",
		"/api/http/routers/foo%2Fbar%40file",
		"/api/http/routers/foo%2fbar%40file",
	} {
		var r routerJSON
		decode(t, do(h, http.MethodGet, path), &r)
		if r.Name != "foo/bar@file" || r.Provider != "file" {
			t.Errorf("%s: name, provider = %q, %q", path, r.Name, r.Provider)
		}
	}
	for _, path := range []string{"/api/http/services/whoami%40file", "/api/entrypoints/web%73ecure"} {
		if rec := do(h, http.MethodGet, path); rec.Code != http.StatusOK {
			t.Errorf("%s: status = %d", path, rec.Code)
		}
	}
	// An unescaped slash is a deeper path, not a name.
	if rec := do(h, http.MethodGet, "/api/http/routers/foo/bar@file"); rec.Code != http.StatusNotFound {
		t.Errorf("raw slash: status = %d, want 404", rec.Code)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := newTestHandler(t)
	paths := []string{
		"/api/rawdata", "/api/overview", "/api/version", "/api/entrypoints", "/api/entrypoints/web",
		"/api/http/routers", "/api/http/routers/web@file", "/api/http/services", "/api/http/services/x",
		"/api/http/middlewares", "/api/http/middlewares/x", "/api/tcp/routers", "/api/tcp/routers/x",
		"/api/tcp/services", "/api/tcp/services/x", "/api/tcp/middlewares", "/api/tcp/middlewares/x",
		"/api/udp/routers", "/api/udp/routers/x", "/api/udp/services", "/api/udp/services/x",
	}
	for _, path := range paths {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead} {
			rec := do(h, m, path)
			if rec.Code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: status = %d, want 405", m, path, rec.Code)
			}
			if allow := rec.Header().Get("Allow"); allow != http.MethodGet {
				t.Errorf("%s %s: Allow = %q", m, path, allow)
			}
		}
	}
}

func TestUnknownPaths(t *testing.T) {
	h := newTestHandler(t)
	for _, path := range []string{
		"/", "/api", "/api/", "/api/nope", "/api/http", "/api/http/", "/api/http/routers/",
		"/api/udp/middlewares", "/api/udp/middlewares/x", "/api/tcp/nope/x", "/api/version/x",
		"/api/rawdata/x", "/api/overview/", "/dashboard/", "/apix/version", "/api/http/routers/a/b",
	} {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			if rec := do(h, m, path); rec.Code != http.StatusNotFound {
				t.Errorf("%s %s: status = %d, want 404", m, path, rec.Code)
			}
		}
	}
}

func TestBasePath(t *testing.T) {
	for _, base := range []string{"/switchyard", "/switchyard/", "/a/b"} {
		conf := testStatic()
		conf.API.BasePath = base
		h := New(conf, Version{Version: "v"})
		h.Update(testRuntime())
		prefix := strings.TrimSuffix(base, "/")

		if rec := do(h, http.MethodGet, prefix+"/api/version"); rec.Code != http.StatusOK {
			t.Errorf("base %q: version status = %d", base, rec.Code)
		}
		var r routerJSON
		decode(t, do(h, http.MethodGet, prefix+"/api/http/routers/foo%2Fbar@file"), &r)
		if r.Name != "foo/bar@file" {
			t.Errorf("base %q: router = %q", base, r.Name)
		}
		for _, path := range []string{"/api/version", prefix + "api/version", prefix + "/api"} {
			if rec := do(h, http.MethodGet, path); rec.Code != http.StatusNotFound {
				t.Errorf("base %q: %s status = %d, want 404", base, path, rec.Code)
			}
		}
	}
	// No API section and an empty base path both mean "/".
	for _, conf := range []*static.Configuration{{}, {API: &static.API{}}} {
		if rec := do(New(conf, Version{}), http.MethodGet, "/api/version"); rec.Code != http.StatusOK {
			t.Errorf("default base path: status = %d", rec.Code)
		}
	}
}

func TestVersion(t *testing.T) {
	h := newTestHandler(t)
	rec := do(h, http.MethodGet, "/api/version")
	var v map[string]any
	decode(t, rec, &v)
	want := map[string]any{"Version": "1.2.3", "Codename": "junction", "startDate": "2025-03-04T05:06:07Z", "generation": float64(2)}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("version = %v, want %v", v, want)
	}
}

func TestOverview(t *testing.T) {
	h := newTestHandler(t)
	var o struct {
		HTTP, TCP, UDP map[string]section
		Features       map[string]any `json:"features"`
		Providers      []string       `json:"providers"`
	}
	decode(t, do(h, http.MethodGet, "/api/overview"), &o)

	wantHTTP := map[string]section{
		"routers":     {Total: 4, Warnings: 1, Errors: 1},
		"services":    {Total: 4, Warnings: 1, Errors: 1},
		"middlewares": {Total: 3, Warnings: 0, Errors: 1},
	}
	wantTCP := map[string]section{
		"routers":     {Total: 2, Warnings: 1},
		"services":    {Total: 1},
		"middlewares": {Total: 1},
	}
	wantUDP := map[string]section{
		"routers":  {Total: 1},
		"services": {Total: 1, Errors: 1},
	}
	for _, c := range []struct {
		name      string
		got, want map[string]section
	}{{"http", o.HTTP, wantHTTP}, {"tcp", o.TCP, wantTCP}, {"udp", o.UDP, wantUDP}} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %+v, want %+v", c.name, c.got, c.want)
		}
	}
	wantFeatures := map[string]any{"tracing": "", "metrics": "Prometheus", "accessLog": true, "hub": false}
	if !reflect.DeepEqual(o.Features, wantFeatures) {
		t.Errorf("features = %v, want %v", o.Features, wantFeatures)
	}
	if !slices.Equal(o.Providers, []string{"File"}) {
		t.Errorf("providers = %v", o.Providers)
	}
}

func TestOverviewEmpty(t *testing.T) {
	h := New(&static.Configuration{Tracing: &static.Tracing{OTLP: &static.TracingOTLP{}}, Metrics: &static.Metrics{OTLP: &static.OTLP{}}}, Version{})
	var o map[string]any
	decode(t, do(h, http.MethodGet, "/api/overview"), &o)
	if _, ok := o["providers"]; ok {
		t.Errorf("providers present without providers: %v", o)
	}
	f := o["features"].(map[string]any)
	// metrics.otlp is refused at load: never reported as exporting.
	if f["tracing"] != "OTLP" || f["metrics"] != "" || f["accessLog"] != false {
		t.Errorf("features = %v", f)
	}
	udp := o["udp"].(map[string]any)
	if _, ok := udp["middlewares"]; ok {
		t.Errorf("udp has middlewares: %v", udp)
	}
	zero := map[string]any{"total": 0.0, "warnings": 0.0, "errors": 0.0}
	if !reflect.DeepEqual(udp["routers"], zero) {
		t.Errorf("udp routers = %v", udp["routers"])
	}
}

func TestRawData(t *testing.T) {
	h := newTestHandler(t)
	var raw map[string]map[string]map[string]any
	decode(t, do(h, http.MethodGet, "/api/rawdata"), &raw)

	wantKeys := map[string][]string{
		"routers":        {"broken@docker", "foo/bar@file", "secure@file", "web@file"},
		"services":       {"canary@file", "fo@docker", "other@docker", "whoami@file"},
		"middlewares":    {"auth@docker", "plug@file", "strip@file"},
		"tcpRouters":     {"catchall@docker", "db@file"},
		"tcpServices":    {"pg@file"},
		"tcpMiddlewares": {"allow@file"},
		"udpRouters":     {"dns@file"},
		"udpServices":    {"resolvers@file"},
	}
	if len(raw) != len(wantKeys) {
		t.Errorf("sections = %d, want %d", len(raw), len(wantKeys))
	}
	for section, keys := range wantKeys {
		got := make([]string, 0, len(raw[section]))
		for k := range raw[section] {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, keys) {
			t.Errorf("%s keys = %v, want %v", section, got, keys)
		}
	}
	web := raw["routers"]["web@file"]
	if web["rule"] != "Host(`example.com`) && PathPrefix(`/api`)" || web["status"] != "enabled" {
		t.Errorf("rawdata router = %v", web)
	}
	if _, ok := web["name"]; ok {
		t.Errorf("rawdata router has a name field: %v", web)
	}
	ss, _ := raw["services"]["whoami@file"]["serverStatus"].(map[string]any)
	if ss["http://10.0.0.1:80"] != "UP" || ss["http://10.0.0.2:80"] != "DOWN" {
		t.Errorf("rawdata serverStatus = %v", ss)
	}
	if raw["middlewares"]["auth@docker"]["status"] != "disabled" {
		t.Errorf("rawdata middleware = %v", raw["middlewares"]["auth@docker"])
	}

	// Before any update: an empty object.
	empty := do(New(nil, Version{}), http.MethodGet, "/api/rawdata")
	if empty.Code != http.StatusOK || empty.Body.String() != "{}\n" {
		t.Errorf("empty rawdata = %d %q", empty.Code, empty.Body.String())
	}
}

func TestEntryPoints(t *testing.T) {
	h := newTestHandler(t)
	var ep struct {
		Name      string `json:"name"`
		Address   string `json:"address"`
		AsDefault bool   `json:"asDefault"`
		Transport struct {
			RespondingTimeouts struct {
				ReadTimeout string `json:"readTimeout"`
			} `json:"respondingTimeouts"`
		} `json:"transport"`
	}
	decode(t, do(h, http.MethodGet, "/api/entrypoints/web"), &ep)
	if ep.Name != "web" || ep.Address != ":80" || ep.AsDefault || ep.Transport.RespondingTimeouts.ReadTimeout != "3s" {
		t.Errorf("web entrypoint = %+v", ep)
	}
	decode(t, do(h, http.MethodGet, "/api/entrypoints/websecure"), &ep)
	if ep.Name != "websecure" || ep.Address != ":443" || !ep.AsDefault {
		t.Errorf("websecure entrypoint = %+v", ep)
	}

	// A nil entrypoint in the map does not break the handler.
	conf := &static.Configuration{EntryPoints: map[string]*static.EntryPoint{"null": nil}}
	if got := names(t, do(New(conf, Version{}), http.MethodGet, "/api/entrypoints")); !slices.Equal(got, []string{"null"}) {
		t.Errorf("nil entrypoint list = %v", got)
	}
}

// TestNilInfos: nil entries and objects without their config do not panic.
func TestNilInfos(t *testing.T) {
	rt := &runtime.Configuration{
		Routers:     map[string]*runtime.RouterInfo{"nil@x": nil, "empty@x": {Status: runtime.StatusEnabled}},
		Services:    map[string]*runtime.ServiceInfo{"empty@x": {}},
		Middlewares: map[string]*runtime.MiddlewareInfo{"empty@x": {}},
		TCPRouters:  map[string]*runtime.TCPRouterInfo{"empty@x": {}},
		TCPServices: map[string]*runtime.TCPServiceInfo{"empty@x": {}},
		UDPRouters:  map[string]*runtime.UDPRouterInfo{"empty@x": {}},
		UDPServices: map[string]*runtime.UDPServiceInfo{"empty@x": {}},
		TCPMiddlewares: map[string]*runtime.TCPMiddlewareInfo{
			"noprovider": {TCPMiddleware: &dynamic.TCPMiddleware{}},
		},
	}
	h := New(nil, Version{})
	h.Update(rt)
	for _, path := range []string{
		"/api/http/routers?search=x&serviceName=a&middlewareName=b&sortBy=priority",
		"/api/http/services?sortBy=servers", "/api/http/middlewares?sortBy=type",
		"/api/tcp/routers?sortBy=rule&search=a", "/api/tcp/services?sortBy=servers", "/api/tcp/middlewares",
		"/api/udp/routers?sortBy=entryPoints", "/api/udp/services?sortBy=servers", "/api/rawdata", "/api/overview",
		"/api/http/routers/empty@x", "/api/http/services/empty@x", "/api/tcp/middlewares/noprovider",
	} {
		if rec := do(h, http.MethodGet, path); rec.Code != http.StatusOK {
			t.Errorf("%s: status = %d %q", path, rec.Code, rec.Body.String())
		}
	}
	if rec := do(h, http.MethodGet, "/api/http/routers/nil@x"); rec.Code != http.StatusNotFound {
		t.Errorf("nil router: status = %d, want 404", rec.Code)
	}
}

func TestUpdateSwapsConfiguration(t *testing.T) {
	h := New(testStatic(), Version{})
	if got := names(t, do(h, http.MethodGet, "/api/http/routers")); len(got) != 0 {
		t.Fatalf("before update: %v", got)
	}
	h.Update(testRuntime())
	if got := names(t, do(h, http.MethodGet, "/api/http/routers")); len(got) != 4 {
		t.Fatalf("after update: %v", got)
	}
	h.Update(runtime.New(&dynamic.Configuration{HTTP: &dynamic.HTTPConfiguration{
		Routers: map[string]*dynamic.Router{"only@file": {Rule: "Path(`/`)"}},
	}}))
	if got := names(t, do(h, http.MethodGet, "/api/http/routers")); !slices.Equal(got, []string{"only@file"}) {
		t.Fatalf("after second update: %v", got)
	}
}

// TestConcurrentUpdates runs requests while the configuration and server
// statuses change; run with -race.
func TestConcurrentUpdates(t *testing.T) {
	h := New(testStatic(), Version{})
	rt := testRuntime()
	h.Update(rt)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			next := testRuntime()
			next.Services["whoami@file"].UpdateServerStatus("http://10.0.0.3:80", runtime.ServerUp)
			h.Update(next)
			rt.Services["whoami@file"].UpdateServerStatus(fmt.Sprintf("http://10.0.1.%d:80", i%200), runtime.ServerDown)
		}
	}()
	go func() {
		defer wg.Done()
		deadline := time.Now().Add(200 * time.Millisecond)
		for time.Now().Before(deadline) {
			for _, p := range []string{"/api/http/services", "/api/rawdata", "/api/http/routers/secure@file", "/api/overview"} {
				if rec := do(h, http.MethodGet, p); rec.Code != http.StatusOK {
					t.Errorf("%s: %d", p, rec.Code)
				}
			}
		}
		close(stop)
	}()
	wg.Wait()
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{(*dynamic.Service)(nil), ""},
		{&dynamic.Service{}, ""},
		{&dynamic.Service{Failover: &dynamic.Failover{}}, "failover"},
		{&dynamic.Middleware{IPAllowList: &dynamic.IPAllowList{}}, "ipallowlist"},
		{&dynamic.Middleware{PassTLSClientCert: &dynamic.PassTLSClientCert{}}, "passtlsclientcert"},
		{&dynamic.Middleware{Plugin: map[string]dynamic.PluginConf{"MyPlugin": nil}}, "myplugin"},
		{&dynamic.Middleware{Plugin: map[string]dynamic.PluginConf{"a": nil, "b": nil}}, ""},
		{&dynamic.TCPMiddleware{InFlightConn: &dynamic.TCPInFlightConn{}}, "inflightconn"},
		{&dynamic.UDPService{LoadBalancer: &dynamic.UDPServersLoadBalancer{}}, "loadbalancer"},
		{"not a struct", ""},
		{new(int), ""},
	}
	for _, tt := range tests {
		if got := kindOf(tt.in); got != tt.want {
			t.Errorf("kindOf(%T) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
