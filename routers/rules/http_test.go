package rules

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// req builds a request like the server would: target is the request-target,
// host the Host header.
func req(method, host, target string, headers ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Host = host
	r.RemoteAddr = "192.0.2.10:41000"
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

func TestHTTPMatch(t *testing.T) {
	get := func(host, target string, headers ...string) *http.Request {
		return req(http.MethodGet, host, target, headers...)
	}
	from := func(remote string) *http.Request {
		r := get("a.com", "/")
		r.RemoteAddr = remote
		return r
	}
	tests := []struct {
		rule string
		r    *http.Request
		want bool
	}{
		// Host: case-insensitive, port ignored, one trailing dot ignored.
		{"Host(`example.com`)", get("example.com", "/"), true},
		{"Host(`example.com`)", get("EXAMPLE.com", "/"), true},
		{"Host(`EXAMPLE.COM`)", get("example.com", "/"), true},
		{"Host(`example.com`)", get("example.com:8080", "/"), true},
		{"Host(`example.com`)", get("example.com.", "/"), true},
		{"Host(`example.com.`)", get("example.com", "/"), true},
		{"Host(`example.com`)", get("www.example.com", "/"), false},
		{"Host(`example.com`)", get("example.co", "/"), false},
		{"Host(`example.com`)", get("", "/"), false},
		{"Host(`.`)", get("", "/"), false},
		{"Host(`.`)", get(".", "/"), true},
		{"Host(`::1`)", get("[::1]:80", "/"), true},
		{"Host(`[::1]`)", get("[::1]", "/"), true},
		{"Host(`10.0.0.1`)", get("10.0.0.1:443", "/"), true},
		{"host(`a.com`)", get("a.com", "/"), true},
		{"HOST(`a.com`)", get("a.com", "/"), true},
		// Wildcard Host: exactly one label.
		{"Host(`*.example.com`)", get("foo.example.com", "/"), true},
		{"Host(`*.example.com`)", get("FOO.example.com:80", "/"), true},
		{"Host(`*.example.com`)", get("foo.bar.example.com", "/"), false},
		{"Host(`*.example.com`)", get("example.com", "/"), false},
		{"Host(`*.example.com`)", get(".example.com", "/"), false},
		{"Host(`a*.example.com`)", get("ab.example.com", "/"), false},
		// HostRegexp: Go regexp on the canonical host.
		{"HostRegexp(`^[a-z]+\\.example\\.com$`)", get("api.example.com:80", "/"), true},
		{"HostRegexp(`^[a-z]+\\.example\\.com$`)", get("API.example.com", "/"), true},
		{"HostRegexp(`^[a-z]+\\.example\\.com$`)", get("a.b.example.com", "/"), false},
		{"HostRegexp(`example`)", get("www.example.org", "/"), true},
		// Path is exact; PathPrefix is a plain prefix.
		{"Path(`/products`)", get("a", "/products"), true},
		{"Path(`/products`)", get("a", "/products/"), false},
		{"Path(`/products`)", get("a", "/products/shoes"), false},
		{"Path(`/products`)", get("a", "/products?x=1"), true},
		{"PathPrefix(`/products`)", get("a", "/products"), true},
		{"PathPrefix(`/products`)", get("a", "/products/shoes"), true},
		{"PathPrefix(`/products`)", get("a", "/products-for-sale"), true},
		{"PathPrefix(`/products`)", get("a", "/product"), false},
		{"PathPrefix(`/`)", get("a", "/anything"), true},
		// Routing path: unreserved encodings decoded, reserved kept.
		{"Path(`/foo bar`)", get("a", "/foo%20bar"), true},
		{"Path(`/foo%2Fbar`)", get("a", "/foo%2Fbar"), true},
		{"Path(`/foo%2Fbar`)", get("a", "/foo%2fbar"), true},
		{"Path(`/foo/bar`)", get("a", "/foo%2Fbar"), false},
		{"Path(`/a~b`)", get("a", "/a%7Eb"), true},
		{"PathPrefix(`/é`)", get("a", "/%C3%A9t%C3%A9"), true},
		// PathRegexp.
		{"PathRegexp(`^/products/(shoes|socks)/[0-9]+$`)", get("a", "/products/shoes/31"), true},
		{"PathRegexp(`^/products/(shoes|socks)/[0-9]+$`)", get("a", "/products/hats/31"), false},
		{"PathRegexp(`\\.(jpeg|jpg|png)$`)", get("a", "/img/x.png"), true},
		{"PathRegexp(`(?i)^/products`)", get("a", "/PRODUCTS/x"), true},
		// Method.
		{"Method(`GET`)", get("a", "/"), true},
		{"Method(`get`)", get("a", "/"), true},
		{"Method(`POST`)", get("a", "/"), false},
		// Header: canonical key, exact value, any of the values.
		{"Header(`Content-Type`, `application/yaml`)", get("a", "/", "Content-Type", "application/yaml"), true},
		{"Header(`content-type`, `application/yaml`)", get("a", "/", "Content-Type", "application/yaml"), true},
		{"Header(`Content-Type`, `application/yaml`)", get("a", "/", "Content-Type", "application/YAML"), false},
		{"Header(`X-A`, `2`)", get("a", "/", "X-A", "1", "X-A", "2"), true},
		{"Header(`X-A`, `2`)", get("a", "/"), false},
		{"HeaderRegexp(`Content-Type`, `^application/(json|yaml)$`)", get("a", "/", "Content-Type", "application/json"), true},
		{"HeaderRegexp(`Content-Type`, `^application/(json|yaml)$`)", get("a", "/", "Content-Type", "text/json"), false},
		{"HeaderRegexp(`X-A`, `^2$`)", get("a", "/", "X-A", "1", "X-A", "2"), true},
		// Query.
		{"Query(`mobile`, `true`)", get("a", "/search?mobile=true"), true},
		{"Query(`mobile`, `true`)", get("a", "/search?a=1&mobile=false&mobile=true"), true},
		{"Query(`mobile`, `true`)", get("a", "/search?mobile=yes"), false},
		{"Query(`mobile`, `true`)", get("a", "/search?mobiles=true"), false},
		{"Query(`mobile`)", get("a", "/search?mobile"), true},
		{"Query(`mobile`)", get("a", "/search?mobile="), true},
		{"Query(`mobile`)", get("a", "/search?mobile=true"), false},
		{"Query(`mobile`)", get("a", "/search"), false},
		{"Query(`a b`, `c d`)", get("a", "/?a+b=c%20d"), true},
		{"Query(`a&b`, `1`)", get("a", "/?a%26b=1"), true},
		{"Query(`k`, `v`)", get("a", "/?k=v;x=1"), false},   // pair with ';' is dropped
		{"Query(`k`, `v`)", get("a", "/?x=1;y&k=v"), true},  // only that pair
		{"Query(`k`, `v`)", get("a", "/?k=v%zz"), false},    // bad escape drops the pair
		{"Query(`k`, `v`)", get("a", "/?k%zz=v&k=v"), true}, // other pairs still count
		{"Query(`k`, `v`)", get("a", "/?k=%76%zz"), false},  // bad escape after a decoded byte
		{"Query(`k`, `vv`)", get("a", "/?k=v"), false},
		{"Query(`k`, `v`)", get("a", "/?k=vv"), false},
		{"Query(`k`, `v=w`)", get("a", "/?k=v=w"), true},
		{"QueryRegexp(`mobile`, `^(true|yes)$`)", get("a", "/?mobile=yes"), true},
		{"QueryRegexp(`mobile`, `^(true|yes)$`)", get("a", "/?mobile=no"), false},
		{"QueryRegexp(`mobile`, `^.*$`)", get("a", "/?mobile"), true},
		{"QueryRegexp(`mobile`, `^a b$`)", get("a", "/?mobile=a+b"), true},
		{"QueryRegexp(`mobile`, `^a`)", get("a", "/?mobile=%zz"), false},
		{"QueryRegexp(`mobile`)", get("a", "/?mobile"), true},
		// ClientIP: the connection's address, never X-Forwarded-For.
		{"ClientIP(`192.0.2.10`)", get("a", "/"), true},
		{"ClientIP(`192.0.2.0/24`)", get("a", "/"), true},
		{"ClientIP(`192.0.3.0/24`)", get("a", "/"), false},
		{"ClientIP(`10.0.0.1`)", get("a", "/", "X-Forwarded-For", "10.0.0.1"), false},
		{"ClientIP(`::1`)", from("[::1]:5000"), true},
		{"ClientIP(`fe80::/10`)", from("[fe80::1]:5000"), true},
		{"ClientIP(`fe80::/10`)", from("[fe80::1%eth0]:5000"), false},
		{"ClientIP(`10.0.0.1`)", from("[::ffff:10.0.0.1]:5000"), true},
		{"ClientIP(`::ffff:10.0.0.1`)", from("10.0.0.1:5000"), true},
		{"ClientIP(`10.0.0.1`)", from("10.0.0.1"), true},
		{"ClientIP(`10.0.0.1`)", from("garbage"), false},
		{"ClientIP(`10.0.0.1/8`)", from("10.9.9.9:1"), true},
		// Operators.
		{"Host(`a.com`) && PathPrefix(`/api`)", get("a.com", "/api/v1"), true},
		{"Host(`a.com`) && PathPrefix(`/api`)", get("a.com", "/web"), false},
		{"Host(`a.com`) || Host(`b.com`)", get("b.com", "/"), true},
		{"Host(`a.com`) || Host(`b.com`)", get("c.com", "/"), false},
		{"!Host(`a.com`)", get("b.com", "/"), true},
		{"!Host(`a.com`)", get("a.com", "/"), false},
		{"!!Host(`a.com`)", get("a.com", "/"), true},
		{"Host(`a.com`) && !PathPrefix(`/admin`)", get("a.com", "/admin/x"), false},
		{"Host(`a.com`) && !PathPrefix(`/admin`)", get("a.com", "/x"), true},
		{"Host(`b.com`) || Host(`a.com`) && Path(`/x`)", get("b.com", "/y"), true},
		{"Host(`b.com`) || Host(`a.com`) && Path(`/x`)", get("a.com", "/y"), false},
		{"(Host(`b.com`) || Host(`a.com`)) && Path(`/x`)", get("b.com", "/y"), false},
		{"!(Host(`a.com`) || Host(`b.com`))", get("c.com", "/"), true},
		{"!(Host(`a.com`) || Host(`b.com`))", get("b.com", "/"), false},
	}
	for _, tt := range tests {
		m, err := ParseHTTP(tt.rule)
		if err != nil {
			t.Errorf("ParseHTTP(%q): %v", tt.rule, err)
			continue
		}
		if got := m.Match(tt.r); got != tt.want {
			t.Errorf("%s on %s %s%s (remote %s) = %v, want %v", tt.rule, tt.r.Method, tt.r.Host, tt.r.URL.RequestURI(), tt.r.RemoteAddr, got, tt.want)
		}
	}
}

func TestHTTPCompileErrors(t *testing.T) {
	tests := []struct {
		rule string
		want string
	}{
		{"Hots(`a`)", `unknown matcher "Hots" at position 0`},
		{"Host(`a`) && hOST(`b`)", `unknown matcher "hOST" at position 13`},
		{"Host(`a`, `b`)", "Host expects 1 argument, got 2 at position 0"},
		{"Host()", "Host expects 1 argument, got 0 at position 0"},
		{"Header(`a`)", "Header expects 2 arguments, got 1 at position 0"},
		{"Query(`a`, `b`, `c`)", "Query expects 1 or 2 arguments, got 3 at position 0"},
		{"QueryRegexp()", "QueryRegexp expects 1 or 2 arguments, got 0 at position 0"},
		{"Host(``)", "Host: argument 1 is empty at position 0"},
		{"Header(`X`, ``)", "Header: argument 2 is empty at position 0"},
		{"Host(`bücher.de`)", `Host: invalid value "bücher.de", non-ASCII characters are not allowed`},
		{"HostRegexp(`bücher`)", "HostRegexp: invalid value"},
		{"HostRegexp(`(`)", "HostRegexp: invalid regexp \"(\""},
		{"Path(`x`)", `Path: path "x" must start with '/'`},
		{"PathPrefix(`x`)", `PathPrefix: path "x" must start with '/'`},
		{"PathRegexp(`[`)", `PathRegexp: invalid regexp "["`},
		{"HeaderRegexp(`X`, `(`)", "HeaderRegexp: invalid regexp"},
		{"QueryRegexp(`X`, `(`)", "QueryRegexp: invalid regexp"},
		{"ClientIP(`1.2.3`)", `ClientIP: invalid IP "1.2.3"`},
		{"ClientIP(`1.2.3.0/33`)", `ClientIP: invalid CIDR "1.2.3.0/33"`},
		{"ClientIP(`fe80::1%eth0`)", `ClientIP: invalid IP`},
		{"HostSNI(`a`)", `unknown matcher "HostSNI"`},
		{"Host(`a`", "unclosed '(' of Host at position 4"},
	}
	for _, tt := range tests {
		_, err := ParseHTTP(tt.rule)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseHTTP(%q) = %v, want %q", tt.rule, err, tt.want)
		}
		var perr *Error
		if !errors.As(err, &perr) {
			t.Errorf("ParseHTTP(%q): error is %T, want *Error", tt.rule, err)
		}
	}
}

func TestRoutingPath(t *testing.T) {
	tests := []struct{ target, want string }{
		{"/", "/"},
		{"/a/b", "/a/b"},
		{"/a%20b", "/a b"},
		{"/a%2Fb", "/a%2Fb"},
		{"/a%2fb", "/a%2Fb"},
		{"/a%25b", "/a%25b"},
		{"/a%3fb", "/a%3Fb"},
		{"/%41%42", "/AB"},
		{"/a b", "/a b"}, // EscapedPath re-escapes the space; decoded again
		{"*", "*"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		if tt.target == "*" {
			r.URL.Path, r.URL.RawPath = "*", ""
		} else {
			r.URL.Path, r.URL.RawPath = "", ""
			if err := setPath(r, tt.target); err != nil {
				t.Fatal(err)
			}
		}
		if got := RoutingPath(r); got != tt.want {
			t.Errorf("RoutingPath(%q) = %q, want %q", tt.target, got, tt.want)
		}
	}
}

func setPath(r *http.Request, escaped string) error {
	u, err := r.URL.Parse(escaped)
	if err != nil {
		return err
	}
	r.URL = u
	return nil
}

func TestCanonicalHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"example.com", "example.com"},
		{"Example.COM:8080", "example.com"},
		{"example.com:", "example.com"},
		{"[::1]:80", "::1"},
		{"[::1]", "[::1]"},
		{"::1", "::1"},
		{"[fe80::1%25eth0]:80", "fe80::1%25eth0"},
		{" a.com ", "a.com"},
		{"", ""},
		{"a:b:c", "a:b:c"},
	}
	for _, tt := range tests {
		if got := CanonicalHost(tt.in); got != tt.want {
			t.Errorf("CanonicalHost(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	m, err := ParseHTTP("Host(`api.example.com`) && PathPrefix(`/v1`) && Method(`GET`) && Header(`X-Env`, `prod`) && Query(`debug`, `1`) && !ClientIP(`10.0.0.0/8`) || Host(`*.example.org`)")
	if err != nil {
		t.Fatal(err)
	}
	r := req(http.MethodGet, "api.example.com:443", "/v1/users?x=2&debug=1", "X-Env", "prod")
	if !m.Match(r) {
		t.Fatal("no match")
	}
	if n := testing.AllocsPerRun(100, func() { m.Match(r) }); n != 0 {
		t.Errorf("Match allocates %v times per run", n)
	}
}
