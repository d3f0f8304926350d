package gatewayfilters

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func sp(s string) *string { return &s }

func TestModifyPath(t *testing.T) {
	tests := []struct {
		prefix, repl, path, want string
	}{
		{"/prefix/one", "/one", "/prefix/one/two", "/one/two"},
		{"/prefix/one", "/one", "/prefix/one", "/one"},
		{"/prefix/one", "/one", "/prefix/one/", "/one/"},
		{"/strip-prefix", "/", "/strip-prefix/three", "/three"},
		{"/strip-prefix", "/", "/strip-prefix", "/"},
		{"/strip-prefix/", "/", "/strip-prefix/", "/"},
		{"/foo", "", "/foo/bar", "/bar"},
		{"/foo", "/xyz/", "/foo/bar", "/xyz/bar"},
		{"/", "/api", "/x", "/api/x"},
		{"/foo", "/new", "/foobar", "/foobar"}, // not under the prefix
	}
	for _, tc := range tests {
		got := ModifyPath(dynamic.PathModifier{ReplacePrefixMatch: sp(tc.repl), MatchedPrefix: tc.prefix}, tc.path)
		if got != tc.want {
			t.Errorf("prefix %q -> %q on %q: %q, want %q", tc.prefix, tc.repl, tc.path, got, tc.want)
		}
	}
	if got := ModifyPath(dynamic.PathModifier{ReplaceFullPath: sp("/full")}, "/a/b"); got != "/full" {
		t.Errorf("full path: %q", got)
	}
}

func TestLocation(t *testing.T) {
	https, p8443, p80 := "https", int32(8443), int32(80)
	tests := []struct {
		desc string
		c    dynamic.RequestRedirect
		url  string
		tls  bool
		want string
	}{
		{"scheme drops port", dynamic.RequestRedirect{Scheme: &https}, "http://a.com:8080/p?q=1", false, "https://a.com/p?q=1"},
		{"scheme and port", dynamic.RequestRedirect{Scheme: &https, Port: &p8443}, "http://a.com/p", false, "https://a.com:8443/p"},
		{"listener port 80 omitted", dynamic.RequestRedirect{Hostname: sp("b.com"), Port: &p80}, "http://a.com/p", false, "http://b.com/p"},
		{"keeps request port", dynamic.RequestRedirect{Hostname: sp("b.com")}, "http://a.com:8080/p", false, "http://b.com:8080/p"},
		{"https default port", dynamic.RequestRedirect{}, "https://a.com:443/p", true, "https://a.com/p"},
		{"path prefix", dynamic.RequestRedirect{PathModifier: dynamic.PathModifier{ReplacePrefixMatch: sp("/new"), MatchedPrefix: "/old"}}, "http://a.com/old/x", false, "http://a.com/new/x"},
		{"ipv6 host", dynamic.RequestRedirect{Port: &p8443}, "http://[::1]:80/p", false, "http://[::1]:8443/p"},
	}
	for _, tc := range tests {
		req := httptest.NewRequest("GET", tc.url, nil)
		if tc.tls {
			req.TLS = &tls.ConnectionState{}
		}
		if got := Location(&tc.c, req); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.desc, got, tc.want)
		}
	}
}

func TestHeaderModifiers(t *testing.T) {
	wrap, err := RequestHeaderModifier(&dynamic.HeaderModifier{
		Set: map[string]string{"x-set": "s", "Host": "h.example"}, Add: map[string]string{"X-Add": "a"}, Remove: []string{"x-rm"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got *http.Request
	req := httptest.NewRequest("GET", "http://a.com/", nil)
	req.Header.Set("X-Add", "c")
	req.Header.Set("X-Rm", "gone")
	wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r })).ServeHTTP(httptest.NewRecorder(), req)
	if got.Header.Get("X-Set") != "s" || len(got.Header["X-Add"]) != 2 || got.Header.Get("X-Rm") != "" || got.Host != "h.example" {
		t.Errorf("request %v host %q", got.Header, got.Host)
	}
	rwrap, err := ResponseHeaderModifier(&dynamic.HeaderModifier{Set: map[string]string{"X-R": "r"}, Remove: []string{"Server"}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	rwrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Server", "backend")
		w.WriteHeader(201)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 201 || rec.Header().Get("X-R") != "r" || rec.Header().Get("Server") != "" {
		t.Errorf("response %d %v", rec.Code, rec.Header())
	}
	if _, err := RequestHeaderModifier(&dynamic.HeaderModifier{Set: map[string]string{"bad name": "x"}}); err == nil {
		t.Error("invalid header name accepted")
	}
	if _, err := RequestRedirect(&dynamic.RequestRedirect{StatusCode: 200}); err == nil {
		t.Error("status 200 accepted for a redirect")
	}
}
