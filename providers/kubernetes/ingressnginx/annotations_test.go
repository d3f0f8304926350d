package ingressnginx

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func ann(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[Prefix+kv[i]] = kv[i+1]
	}
	return m
}

func TestParseAnnotations(t *testing.T) {
	i64 := func(n int64) *int64 { return &n }
	in := func(n int) *int { return &n }
	f := false
	tests := []struct {
		desc  string
		ann   map[string]string
		check func(c config) bool
		probs []string // substrings, in order
		fatal bool
	}{
		{desc: "none", ann: nil, check: func(c config) bool { return reflect.DeepEqual(c, config{LimitBurst: 5}) }},
		{desc: "rewrite and regex", ann: ann("rewrite-target", "/$2", "use-regex", "true"),
			check: func(c config) bool { return c.RewriteTarget == "/$2" && c.UseRegex }},
		{desc: "rewrite not a path", ann: ann("rewrite-target", "foo"), check: func(c config) bool { return c.RewriteTarget == "" }, probs: []string{"must be a path"}},
		{desc: "ssl redirect off", ann: ann("ssl-redirect", "false"), check: func(c config) bool { return c.SSLRedirect != nil && *c.SSLRedirect == f }},
		{desc: "bad boolean", ann: ann("force-ssl-redirect", "yes please"), check: func(c config) bool { return !c.ForceSSL }, probs: []string{"not a boolean"}},
		{desc: "protocols", ann: ann("backend-protocol", "grpcs"), check: func(c config) bool { return c.Protocol == "GRPCS" }},
		{desc: "fcgi refused", ann: ann("backend-protocol", "FCGI"), check: func(c config) bool { return c.Protocol == "" }, probs: []string{"not supported"}},
		{desc: "sizes", ann: ann("proxy-body-size", "8m", "client-body-buffer-size", "16k"),
			check: func(c config) bool { return *c.BodySize == 8<<20 && *c.BodyBuffer == 16<<10 }},
		{desc: "size zero", ann: ann("proxy-body-size", "0"), check: func(c config) bool { return reflect.DeepEqual(c.BodySize, i64(0)) }},
		{desc: "size bad", ann: ann("proxy-body-size", "8mb"), check: func(c config) bool { return c.BodySize == nil }, probs: []string{"not a size"}},
		{desc: "timeouts", ann: ann("proxy-connect-timeout", "5", "proxy-read-timeout", "120s", "proxy-send-timeout", "x"),
			check: func(c config) bool {
				return reflect.DeepEqual(c.ConnectTO, in(5)) && reflect.DeepEqual(c.ReadTO, in(120)) && c.SendTO == nil
			}, probs: []string{"proxy-send-timeout"}},
		{desc: "cors defaults", ann: ann("enable-cors", "true"), check: func(c config) bool {
			return c.CORS != nil && c.CORS.Origins[0] == "*" && c.CORS.Credentials && c.CORS.MaxAge == 1728000 && len(c.CORS.Methods) == 6
		}},
		{desc: "cors custom", ann: ann("enable-cors", "true", "cors-allow-origin", "https://a.example.com, https://*.b.example.com", "cors-allow-methods", "get,POST", "cors-allow-credentials", "false", "cors-max-age", "60"),
			check: func(c config) bool {
				return reflect.DeepEqual(c.CORS.Origins, []string{"https://a.example.com", "https://*.b.example.com"}) &&
					reflect.DeepEqual(c.CORS.Methods, []string{"GET", "POST"}) && !c.CORS.Credentials && c.CORS.MaxAge == 60
			}},
		{desc: "cors off ignores cors-*", ann: ann("cors-allow-origin", "https://a"), check: func(c config) bool { return c.CORS == nil }},
		{desc: "allow list", ann: ann("whitelist-source-range", "10.0.0.0/8, 192.168.1.1"), check: func(c config) bool {
			return reflect.DeepEqual(c.AllowRange, []string{"10.0.0.0/8", "192.168.1.1"})
		}},
		{desc: "allow list invalid is fatal", ann: ann("whitelist-source-range", "10.0.0.0/8,nope"), fatal: true, probs: []string{"not an address"}},
		{desc: "deny list", ann: ann("denylist-source-range", "1.2.3.0/24"), check: func(c config) bool { return c.DenyRange[0] == "1.2.3.0/24" }},
		{desc: "basic auth", ann: ann("auth-type", "basic", "auth-secret", "other/users", "auth-realm", "Go away"), check: func(c config) bool {
			return c.AuthType == "basic" && c.AuthSecret == "other/users" && c.AuthSecretType == "auth-file" && c.AuthRealm == "Go away"
		}},
		{desc: "basic auth without secret", ann: ann("auth-type", "basic"), fatal: true, probs: []string{"required"}},
		{desc: "digest", ann: ann("auth-type", "digest", "auth-secret", "s"), check: func(c config) bool { return c.AuthType == "digest" && c.AuthSecret == "s" }},
		{desc: "auth map", ann: ann("auth-type", "basic", "auth-secret", "s", "auth-secret-type", "auth-map"), check: func(c config) bool { return c.AuthSecretType == "auth-map" }},
		{desc: "forward auth", ann: ann("auth-url", "http://auth.example/verify", "auth-response-headers", "X-User, X-Email"), check: func(c config) bool {
			return c.AuthURL == "http://auth.example/verify" && reflect.DeepEqual(c.AuthRespHdrs, []string{"X-User", "X-Email"})
		}},
		{desc: "sign-in", ann: ann("auth-url", "http://a/v", "auth-signin", "https://$host/oauth2/start?rd=$escaped_request_uri"), check: func(c config) bool {
			return c.AuthSignin == "https://$host/oauth2/start?rd=$escaped_request_uri"
		}},
		{desc: "sign-in unknown variable", ann: ann("auth-url", "http://a/v", "auth-signin", "https://$server_name/x"), check: func(c config) bool { return c.AuthSignin == "" }, probs: []string{"auth-signin"}},
		{desc: "forward auth with a variable", ann: ann("auth-url", "http://auth.example/verify?h=$host"), fatal: true, probs: []string{"variables"}},
		{desc: "limits", ann: ann("limit-rps", "5", "limit-connections", "2", "limit-burst-multiplier", "3"), check: func(c config) bool {
			return c.LimitRPS == 5 && c.LimitConns == 2 && c.LimitBurst == 3
		}},
		{desc: "canary", ann: ann("canary", "true", "canary-weight", "30", "canary-by-header", "X-Canary", "canary-by-cookie", "canary"), check: func(c config) bool {
			return c.Canary && c.CanaryWeight == 30 && c.CanaryWeightTotal == 100 && c.CanaryHeader == "X-Canary" && c.CanaryCookie == "canary"
		}},
		{desc: "canary weight above total", ann: ann("canary", "true", "canary-weight", "30", "canary-weight-total", "20"), check: func(c config) bool { return c.CanaryWeight == 20 }, probs: []string{"above"}},
		{desc: "canary annotations without canary", ann: ann("canary-weight", "30"), check: func(c config) bool { return !c.Canary && c.CanaryWeight == 0 }},
		{desc: "affinity", ann: ann("affinity", "cookie", "session-cookie-name", "route", "session-cookie-max-age", "3600", "session-cookie-secure", "true", "session-cookie-samesite", "Strict"),
			check: func(c config) bool {
				a := c.Affinity
				return a != nil && a.Name == "route" && a.MaxAge == 3600 && a.Secure && a.SameSite == "strict"
			}},
		{desc: "affinity default name", ann: ann("affinity", "cookie"), check: func(c config) bool { return c.Affinity.Name == "INGRESSCOOKIE" }},
		{desc: "redirects", ann: ann("permanent-redirect", "https://new.example.com/", "permanent-redirect-code", "308", "temporal-redirect", "https://t.example.com"),
			check: func(c config) bool {
				return c.PermRedirect == "https://new.example.com/" && c.PermRedirectCode == 308 && c.TempRedirectCode == 302
			}},
		{desc: "redirect code 304 refused", ann: ann("permanent-redirect", "https://x/", "permanent-redirect-code", "304"), check: func(c config) bool { return c.PermRedirectCode == 301 }, probs: []string{"not a redirection"}},
		{desc: "app root", ann: ann("app-root", "/dashboard"), check: func(c config) bool { return c.AppRoot == "/dashboard" }},
		{desc: "app root relative", ann: ann("app-root", "dashboard"), check: func(c config) bool { return c.AppRoot == "" }, probs: []string{"absolute"}},
		{desc: "snippets warned", ann: ann("configuration-snippet", "more_set_headers x;", "server-snippet", "location /x {}", "foo-snippet", "x"),
			check: func(c config) bool { return true }, probs: []string{"configuration-snippet: NGINX snippets", "foo-snippet: NGINX snippets", "server-snippet: NGINX snippets"}},
		{desc: "unknown and unsupported", ann: ann("made-up", "1", "satisfy", "any"), check: func(c config) bool { return true },
			probs: []string{"made-up: unknown", "satisfy: not supported"}},
		{desc: "auth method", ann: ann("auth-url", "http://auth.test/", "auth-method", "post"), check: func(c config) bool { return c.AuthMethod == "POST" }},
		{desc: "auth method invalid", ann: ann("auth-url", "http://auth.test/", "auth-method", "GET /x"), check: func(c config) bool { return c.AuthMethod == "" }, probs: []string{"auth-method"}},
		{desc: "proxy redirect", ann: ann("proxy-redirect-from", "http://b/", "proxy-redirect-to", "https://a/x/"), check: func(c config) bool {
			return c.RedirectFrom == "http://b/" && c.RedirectTo == "https://a/x/"
		}},
		{desc: "proxy redirect off and without replacement", ann: ann("proxy-redirect-from", "http://b/"), check: func(c config) bool { return c.RedirectFrom == "" }, probs: []string{"proxy-redirect-to"}},
		{desc: "proxy cookie", ann: ann("proxy-cookie-domain", "b.local a.test", "proxy-cookie-path", "off"), check: func(c config) bool {
			return slices.Equal(c.CookieDomain, []string{"b.local", "a.test"}) && c.CookiePath == nil
		}},
		{desc: "proxy cookie invalid", ann: ann("proxy-cookie-path", "/"), check: func(c config) bool { return c.CookiePath == nil }, probs: []string{"proxy-cookie-path"}},
		{desc: "proxy http version 1.1 accepted", ann: ann("proxy-http-version", "1.1"), check: func(c config) bool { return true }},
		{desc: "proxy http version 1.0 warned", ann: ann("proxy-http-version", "1.0"), check: func(c config) bool { return true }, probs: []string{"proxy-http-version"}},
		{desc: "vhost and prefix", ann: ann("upstream-vhost", "internal.svc:8080", "x-forwarded-prefix", "/app"), check: func(c config) bool {
			return c.UpstreamVhost == "internal.svc:8080" && c.XFwdPrefix == "/app"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			c, probs := parseAnnotations(tc.ann)
			if tc.check != nil && !tc.check(c) {
				t.Errorf("config %+v", c)
			}
			fatal := false
			for _, p := range probs {
				fatal = fatal || p.Fatal
			}
			if fatal != tc.fatal {
				t.Errorf("fatal = %v, want %v (%v)", fatal, tc.fatal, probs)
			}
			if len(probs) != len(tc.probs) {
				t.Fatalf("problems %v, want %d like %v", probs, len(tc.probs), tc.probs)
			}
			for i, p := range probs {
				if !strings.Contains(p.String(), tc.probs[i]) {
					t.Errorf("problem %d %q does not contain %q", i, p.String(), tc.probs[i])
				}
			}
		})
	}
}

func TestNginxReplacement(t *testing.T) {
	for in, want := range map[string]string{
		"/$2":       "/${2}",
		"/$1/x$12":  "/${1}/x${12}",
		"/static":   "/static",
		"/$host/$1": "/$$host/${1}",
		"/a$":       "/a$$",
		"${1}":      "$${1}",
	} {
		if got, _ := nginxReplacement(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// FuzzParseAnnotations: any annotation values parse without panicking,
// and whatever is kept is what the translation can use (the regexes
// compile, sizes are non-negative).
func FuzzParseAnnotations(f *testing.F) {
	f.Add("rewrite-target", "/$2", "proxy-body-size", "8m", "whitelist-source-range", "10.0.0.0/8")
	f.Add("enable-cors", "true", "cors-allow-origin", "https://*.a.com", "canary-by-header-pattern", "^a(b")
	f.Add("auth-type", "basic", "auth-secret", "ns/s", "limit-rps", "-1")
	f.Add("auth-tls-secret", "ns/ca", "auth-tls-verify-client", "optional_no_ca", "server-alias", "a.test, *.b.test,c:1")
	f.Add("proxy-cookie-path", "/ /app/", "proxy-redirect-from", "default", "auth-method", "post")
	f.Add("custom-http-errors", "404, 5x3,99999,-1", "limit-connections", "2", "enable-cors", "true")
	f.Add("canary", "true", "canary-weight", "99999999999999999999", "affinity", "cookie")
	f.Add("permanent-redirect", "https://x/$1", "permanent-redirect-code", "306", "session-cookie-path", "/a b")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		m := map[string]string{Prefix + k1: v1, Prefix + k2: v2, Prefix + k3: v3, Prefix + "canary": "true", Prefix + "enable-cors": "true"}
		c, _ := parseAnnotations(m)
		if c.BodySize != nil && *c.BodySize < 0 {
			t.Fatalf("negative body size %d", *c.BodySize)
		}
		for _, s := range c.CustomHTTPErrors {
			if n, err := strconv.Atoi(s); err != nil || n < 300 || n > 599 {
				t.Fatalf("custom-http-errors kept %q", s)
			}
		}
		if c.CanaryWeight < 0 || c.CanaryWeight > c.CanaryWeightTotal {
			t.Fatalf("canary weight %d of %d", c.CanaryWeight, c.CanaryWeightTotal)
		}
		if c.RewriteTarget != "" {
			nginxReplacement(c.RewriteTarget)
		}
	})
}
