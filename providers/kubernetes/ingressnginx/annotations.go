package ingressnginx

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Prefix is the annotation prefix of ingress-nginx (its default
// --annotations-prefix).
const Prefix = "nginx.ingress.kubernetes.io/"

// config is what the annotations of one Ingress ask for, parsed and
// validated. Zero values mean "not set" (the provider's defaults apply).
type config struct {
	UseRegex      bool
	RewriteTarget string
	SSLRedirect   *bool
	ForceSSL      bool
	Protocol      string // HTTP, HTTPS, GRPC, GRPCS
	BodySize      *int64 // 0: unlimited
	BodyBuffer    *int64
	ConnectTO     *int // seconds
	ReadTO        *int
	SendTO        *int
	XFwdPrefix    string
	UpstreamVhost string
	ServiceUp     bool
	AppRoot       string
	FromToWWW     bool
	RedirectFrom  string // proxy-redirect-from/-to
	RedirectTo    string
	CookieDomain  []string // proxy-cookie-domain/-path: {from, to}
	CookiePath    []string
	DefaultBack   string // default-backend: a Service of the namespace
	ServerAlias   []string
	Passthrough   bool
	// AuthTLSSecret ("name" or "ns/name", key ca.crt) and the
	// clientAuthType auth-tls-verify-client asks for.
	AuthTLSSecret string
	AuthTLSVerify string
	AuthTLSPass   bool

	PermRedirect     string
	PermRedirectCode int
	TempRedirect     string
	TempRedirectCode int

	CORS *cors

	AllowRange []string
	DenyRange  []string

	AuthType       string // "basic" or "digest"
	AuthSecret     string // "name" or "ns/name"
	AuthSecretType string // auth-file (default) or auth-map
	AuthRealm      string
	AuthURL        string
	AuthSignin     string
	AuthRespHdrs   []string
	AuthMethod     string

	LimitRPS   int
	LimitRPM   int
	LimitConns int
	LimitBurst int // multiplier, default 5

	Canary            bool
	CanaryWeight      int
	CanaryWeightTotal int
	CanaryHeader      string
	CanaryHeaderValue string
	CanaryHeaderRegex string
	CanaryCookie      string

	Affinity *affinity

	CustomHeaders string // "name" or "ns/name" of a ConfigMap

	// CustomHTTPErrors: statuses answered by the default backend;
	// CustomHTTPErrorsSet tells the annotation was given (it overrides
	// the customHTTPErrors option, even when empty).
	CustomHTTPErrors    []string
	CustomHTTPErrorsSet bool

	ProxySSLVerify     bool
	ProxySSLSecret     string
	ProxySSLName       string
	ProxySSLServerName bool
}

type cors struct {
	Origins     []string
	Methods     []string
	Headers     []string
	Expose      []string
	Credentials bool
	MaxAge      int64
}

type affinity struct {
	Name     string
	Path     string
	Domain   string
	SameSite string
	MaxAge   int
	Secure   bool
}

// problem is one finding on an Ingress's annotations. A fatal problem
// (invalid value of a security annotation) leaves the whole Ingress out:
// serving it without its authentication or allow list would open it.
type problem struct {
	Annotation string
	Msg        string
	Fatal      bool
}

func (p problem) String() string {
	if p.Annotation == "" {
		return p.Msg
	}
	return Prefix + p.Annotation + ": " + p.Msg
}

// support classes every ingress-nginx annotation.
type support int

const (
	supported support = iota
	partial
	unsupported
	snippet
)

// known lists every ingress-nginx annotation (without the prefix) and how
// this provider treats it; docs/providers/kubernetes-ingress-nginx.md has
// the same table with the reasons. An annotation not listed is reported
// as unknown.
var known = map[string]support{
	"app-root": supported, "use-regex": supported, "rewrite-target": supported,
	"ssl-redirect": supported, "force-ssl-redirect": supported,
	"backend-protocol": partial, "proxy-body-size": supported, "client-body-buffer-size": supported,
	"proxy-connect-timeout": supported, "proxy-read-timeout": supported, "proxy-send-timeout": supported,
	"enable-cors": supported, "cors-allow-origin": supported, "cors-allow-methods": supported,
	"cors-allow-headers": supported, "cors-allow-credentials": supported, "cors-max-age": supported,
	"cors-expose-headers":    supported,
	"whitelist-source-range": supported, "allowlist-source-range": supported, "denylist-source-range": supported,
	"auth-type": supported, "auth-secret": supported, "auth-secret-type": supported, "auth-realm": supported,
	"auth-url": partial, "auth-signin": supported, "auth-response-headers": supported, "auth-method": supported,
	"limit-rps": supported, "limit-rpm": supported, "limit-connections": supported, "limit-burst-multiplier": supported,
	"canary": supported, "canary-weight": supported, "canary-weight-total": supported,
	"canary-by-header": supported, "canary-by-header-value": supported, "canary-by-header-pattern": supported,
	"canary-by-cookie": supported,
	"affinity":         supported, "affinity-mode": partial, "session-cookie-name": supported, "session-cookie-path": supported,
	"session-cookie-max-age": supported, "session-cookie-expires": supported, "session-cookie-secure": supported,
	"session-cookie-samesite": supported, "session-cookie-domain": supported,
	"upstream-vhost": supported, "x-forwarded-prefix": supported, "service-upstream": supported,
	"permanent-redirect": supported, "permanent-redirect-code": supported,
	"temporal-redirect": supported, "temporal-redirect-code": supported,
	"custom-headers":   supported,
	"proxy-ssl-verify": partial, "proxy-ssl-secret": partial, "proxy-ssl-name": supported, "proxy-ssl-server-name": supported,
	"load-balance":            partial,
	"preserve-trailing-slash": supported,

	"configuration-snippet": snippet, "server-snippet": snippet, "auth-snippet": snippet,
	"stream-snippet": snippet, "modsecurity-snippet": snippet,

	"affinity-canary-behavior": unsupported, "session-cookie-change-on-failure": unsupported,
	"session-cookie-conditional-samesite-none": unsupported,
	"auth-cache-key": unsupported, "auth-cache-duration": unsupported, "auth-keepalive": unsupported,
	"auth-keepalive-share-vars": unsupported, "auth-keepalive-requests": unsupported, "auth-keepalive-timeout": unsupported,
	"auth-proxy-set-headers": unsupported, "enable-global-auth": partial, "auth-request-redirect": unsupported,
	"auth-always-set-cookie": unsupported, "auth-signin-redirect-param": unsupported,
	"auth-tls-secret": supported, "auth-tls-verify-depth": unsupported, "auth-tls-verify-client": supported,
	"auth-tls-error-page": unsupported, "auth-tls-pass-certificate-to-upstream": supported, "auth-tls-match-cn": unsupported,
	"custom-http-errors": supported, "disable-proxy-intercept-errors": unsupported, "default-backend": supported,
	"from-to-www-redirect": supported, "http2-push-preload": unsupported,
	"limit-rate": unsupported, "limit-rate-after": unsupported, "limit-whitelist": unsupported, "limit-allowlist": unsupported,
	"global-rate-limit": unsupported, "global-rate-limit-window": unsupported, "global-rate-limit-key": unsupported,
	"global-rate-limit-ignored-cidrs": unsupported,
	"proxy-cookie-domain":             supported, "proxy-cookie-path": supported,
	"proxy-next-upstream": unsupported, "proxy-next-upstream-timeout": unsupported, "proxy-next-upstream-tries": unsupported,
	"proxy-request-buffering": unsupported, "proxy-redirect-from": supported, "proxy-redirect-to": supported,
	"proxy-http-version": partial, "proxy-ssl-ciphers": unsupported, "proxy-ssl-protocols": unsupported,
	"proxy-ssl-verify-depth": unsupported, "proxy-buffering": unsupported, "proxy-buffers-number": unsupported,
	"proxy-buffer-size": unsupported, "proxy-max-temp-file-size": unsupported,
	"enable-rewrite-log": unsupported, "satisfy": unsupported, "server-alias": supported,
	"ssl-passthrough": supported, "ssl-ciphers": unsupported, "ssl-prefer-server-ciphers": unsupported,
	"upstream-hash-by": unsupported, "upstream-hash-by-subset": unsupported, "upstream-hash-by-subset-size": unsupported,
	"connection-proxy-header": unsupported, "enable-access-log": unsupported,
	"enable-opentelemetry": unsupported, "opentelemetry-trust-incoming-span": unsupported,
	"opentelemetry-operation-name": unsupported, "enable-opentracing": unsupported, "opentracing-trust-incoming-span": unsupported,
	"enable-modsecurity": unsupported, "enable-owasp-core-rules": unsupported, "modsecurity-transaction-id": unsupported,
	"mirror-request-body": unsupported, "mirror-target": unsupported, "mirror-host": unsupported,
	"enable-influxdb": unsupported, "influxdb-measurement": unsupported, "influxdb-port": unsupported,
	"influxdb-host": unsupported, "influxdb-server-name": unsupported,
	"secure-verify-ca-secret": unsupported, "grpc-backend": unsupported, "secure-backends": unsupported,
}

var (
	// A header name as ingress-nginx accepts it.
	headerNameRE = regexp.MustCompile(`^[A-Za-z0-9\-_]+$`)
	// A CORS header list entry.
	corsHeaderRE = regexp.MustCompile(`^[A-Za-z0-9\-_*]+$`)
	corsMethodRE = regexp.MustCompile(`^[A-Za-z]+$`)
	// An origin: scheme://host[:port], with an optional *. subdomain wildcard.
	corsOriginRE = regexp.MustCompile(`^(\*|https?://(\*\.)?[A-Za-z0-9\-.]+(:[0-9]+)?)$`)
	sizeRE       = regexp.MustCompile(`^([0-9]+)([kKmMgG]?)$`)
	cookieNameRE = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+\-.^_|~]+$`)
	objectRefRE  = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
)

// Ingress-nginx's CORS defaults.
var (
	defaultCORSMethods = []string{"GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"}
	defaultCORSHeaders = []string{"DNT", "Keep-Alive", "User-Agent", "X-Requested-With", "If-Modified-Since", "Cache-Control", "Content-Type", "Range", "Authorization"}
)

const defaultCORSMaxAge = 1728000

// parseAnnotations reads the nginx.ingress.kubernetes.io annotations of
// one Ingress. It never fails: every finding is a problem (a warning, or
// fatal for the security annotations), and an annotation with an invalid
// value is ignored as ingress-nginx ignores it.
func parseAnnotations(ann map[string]string) (config, []problem) {
	var c config
	var probs []problem
	warn := func(name, format string, a ...any) {
		probs = append(probs, problem{Annotation: name, Msg: fmt.Sprintf(format, a...)})
	}
	fatal := func(name, format string, a ...any) {
		probs = append(probs, problem{Annotation: name, Msg: fmt.Sprintf(format, a...), Fatal: true})
	}
	get := func(name string) (string, bool) {
		v, ok := ann[Prefix+name]
		return strings.TrimSpace(v), ok
	}
	boolean := func(name string) (bool, bool) {
		v, ok := get(name)
		if !ok {
			return false, false
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			warn(name, "%q is not a boolean; ignored", v)
			return false, false
		}
		return b, true
	}
	integer := func(name string, lo, hi int) (int, bool) {
		v, ok := get(name)
		if !ok {
			return 0, false
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			warn(name, "%q is not an integer between %d and %d; ignored", v, lo, hi)
			return 0, false
		}
		return n, true
	}
	seconds := func(name string) *int {
		v, ok := get(name)
		if !ok {
			return nil
		}
		n, err := parseSeconds(v)
		if err != nil {
			warn(name, "%v; ignored", err)
			return nil
		}
		return &n
	}
	size := func(name string) *int64 {
		v, ok := get(name)
		if !ok {
			return nil
		}
		n, err := parseSize(v)
		if err != nil {
			warn(name, "%v; ignored", err)
			return nil
		}
		return &n
	}

	// Every annotation under the prefix is classified once; names in
	// sorted order so the problems come out stable.
	names := make([]string, 0, len(ann))
	for k := range ann {
		if n, ok := strings.CutPrefix(k, Prefix); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		s, ok := known[n]
		switch {
		case !ok && strings.HasSuffix(n, "-snippet"):
			s = snippet
		case !ok:
			warn(n, "unknown ingress-nginx annotation; ignored")
			continue
		}
		switch s {
		case snippet:
			warn(n, "NGINX snippets are not supported (raw NGINX configuration has no meaning here); the Ingress is served without it")
		case unsupported:
			warn(n, "not supported; ignored (see docs/providers/kubernetes-ingress-nginx.md)")
		}
	}

	c.UseRegex, _ = boolean("use-regex")
	if v, ok := get("rewrite-target"); ok {
		if v == "" || !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "$") && !strings.Contains(v, "://") {
			warn("rewrite-target", "%q must be a path; ignored", v)
		} else {
			c.RewriteTarget = v
		}
	}
	if b, ok := boolean("ssl-redirect"); ok {
		c.SSLRedirect = &b
	}
	c.ForceSSL, _ = boolean("force-ssl-redirect")
	c.FromToWWW, _ = boolean("from-to-www-redirect")
	if v, ok := get("proxy-http-version"); ok && strings.TrimSpace(v) != "1.1" {
		warn("proxy-http-version", "%q: HTTP backends are always spoken to in HTTP/1.1; ignored", v)
	}
	if v, ok := get("default-backend"); ok {
		if !objectRefRE.MatchString(v) || strings.Contains(v, "/") {
			warn("default-backend", "%q is not a Service name of the Ingress's namespace; ignored", v)
		} else {
			c.DefaultBack = v
		}
	}
	for _, a := range []struct {
		name string
		dst  *[]string
	}{{"proxy-cookie-domain", &c.CookieDomain}, {"proxy-cookie-path", &c.CookiePath}} {
		v, ok := get(a.name)
		if !ok || v == "off" {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || strings.Contains(f[1], ";") {
			warn(a.name, "%q is not \"<value> <replacement>\" or off; ignored", v)
			continue
		}
		*a.dst = f
	}
	if from, ok := get("proxy-redirect-from"); ok {
		to, _ := get("proxy-redirect-to")
		switch {
		case from == "off" || from == "":
		case from == "default":
			warn("proxy-redirect-from", "default is not supported (Location headers are not rewritten); ignored")
		case to == "" || strings.ContainsAny(to, "\r\n") || strings.ContainsAny(from, "\r\n"):
			warn("proxy-redirect-to", "needs a replacement with proxy-redirect-from; ignored")
		default:
			c.RedirectFrom, c.RedirectTo = from, to
		}
	}
	if v, ok := get("server-alias"); ok {
		for _, a := range strings.Split(v, ",") {
			a = strings.ToLower(strings.TrimSpace(a))
			switch {
			case a == "":
			case strings.Contains(a, ":") || !validHost(strings.TrimPrefix(a, "*.")):
				warn("server-alias", "%q is not a host name; ignored", a)
			case !slices.Contains(c.ServerAlias, a):
				c.ServerAlias = append(c.ServerAlias, a)
			}
		}
	}
	c.Passthrough, _ = boolean("ssl-passthrough")
	if v, ok := get("auth-tls-secret"); ok {
		if !objectRefRE.MatchString(v) {
			fatal("auth-tls-secret", "%q is not a secret name or namespace/name: the Ingress is not served", v)
		} else {
			c.AuthTLSSecret = v
			c.AuthTLSVerify = "RequireAndVerifyClientCert"
		}
	}
	c.AuthTLSPass, _ = boolean("auth-tls-pass-certificate-to-upstream")
	if v, ok := get("auth-tls-verify-client"); ok && c.AuthTLSSecret != "" {
		switch strings.ToLower(v) {
		case "on":
		case "optional":
			c.AuthTLSVerify = "VerifyClientCertIfGiven"
		case "optional_no_ca":
			c.AuthTLSVerify = "RequestClientCert"
		case "off":
			c.AuthTLSVerify = "NoClientCert"
		default:
			warn("auth-tls-verify-client", "%q is not on, off, optional or optional_no_ca; on is used", v)
		}
	}
	if v, ok := get("backend-protocol"); ok {
		switch p := strings.ToUpper(v); p {
		case "HTTP", "HTTPS", "GRPC", "GRPCS":
			c.Protocol = p
		default:
			warn("backend-protocol", "%q is not supported (HTTP, HTTPS, GRPC or GRPCS); HTTP used", v)
		}
	}
	c.BodySize = size("proxy-body-size")
	c.BodyBuffer = size("client-body-buffer-size")
	c.ConnectTO = seconds("proxy-connect-timeout")
	c.ReadTO = seconds("proxy-read-timeout")
	c.SendTO = seconds("proxy-send-timeout")
	if v, ok := get("x-forwarded-prefix"); ok {
		if !validHeaderValue(v) {
			warn("x-forwarded-prefix", "%q is not a valid header value; ignored", v)
		} else {
			c.XFwdPrefix = v
		}
	}
	if v, ok := get("upstream-vhost"); ok {
		if !validHost(v) {
			warn("upstream-vhost", "%q is not a host name; ignored", v)
		} else {
			c.UpstreamVhost = v
		}
	}
	c.ServiceUp, _ = boolean("service-upstream")
	if v, ok := get("app-root"); ok {
		if !strings.HasPrefix(v, "/") || !validPath(v) {
			warn("app-root", "%q must be an absolute path; ignored", v)
		} else {
			c.AppRoot = v
		}
	}

	redirect := func(name, codeName string, def int) (string, int) {
		v, ok := get(name)
		if !ok {
			return "", 0
		}
		u, err := url.Parse(v)
		if err != nil || v == "" || strings.ContainsAny(v, " \t\r\n") || (u.Scheme == "" && !strings.HasPrefix(v, "/")) {
			warn(name, "%q is not a URL; ignored", v)
			return "", 0
		}
		code := def
		if n, ok := integer(codeName, 300, 308); ok {
			if n == 304 || n == 306 {
				warn(codeName, "%d is not a redirection; %d used", n, def)
			} else {
				code = n
			}
		}
		return v, code
	}
	c.PermRedirect, c.PermRedirectCode = redirect("permanent-redirect", "permanent-redirect-code", 301)
	c.TempRedirect, c.TempRedirectCode = redirect("temporal-redirect", "temporal-redirect-code", 302)

	if on, _ := boolean("enable-cors"); on {
		c.CORS = parseCORS(get, boolean, warn)
	}

	cidrs := func(name string) []string {
		v, ok := get(name)
		if !ok {
			return nil
		}
		var out []string
		for _, s := range splitList(v) {
			if _, _, err := net.ParseCIDR(s); err != nil {
				if net.ParseIP(s) == nil {
					fatal(name, "%q is not an address or CIDR range: the Ingress is not served", s)
					return nil
				}
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			fatal(name, "empty range: the Ingress is not served")
		}
		return out
	}
	c.AllowRange = cidrs("whitelist-source-range")
	if r := cidrs("allowlist-source-range"); r != nil {
		c.AllowRange = r
	}
	c.DenyRange = cidrs("denylist-source-range")

	if v, ok := get("auth-type"); ok {
		switch strings.ToLower(v) {
		case "basic":
			c.AuthType = "basic"
		case "digest":
			c.AuthType = "digest"
		default:
			fatal("auth-type", "%q is not basic or digest: the Ingress is not served", v)
		}
	}
	if c.AuthType != "" {
		v, ok := get("auth-secret")
		switch {
		case !ok || v == "":
			fatal("auth-secret", "required with auth-type: the Ingress is not served")
		case !objectRefRE.MatchString(v):
			fatal("auth-secret", "%q is not a secret name or namespace/name: the Ingress is not served", v)
		default:
			c.AuthSecret = v
		}
		c.AuthSecretType = "auth-file"
		if v, ok := get("auth-secret-type"); ok {
			switch v {
			case "auth-file", "auth-map":
				c.AuthSecretType = v
			default:
				fatal("auth-secret-type", "%q is not auth-file or auth-map: the Ingress is not served", v)
			}
		}
		if v, ok := get("auth-realm"); ok {
			if strings.ContainsAny(v, "\"\r\n") {
				warn("auth-realm", "quotes and line breaks are not allowed; default realm used")
			} else {
				c.AuthRealm = v
			}
		}
	}
	if v, ok := get("auth-url"); ok {
		u, err := url.Parse(v)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			fatal("auth-url", "%q is not an http(s) URL: the Ingress is not served", v)
		case strings.Contains(v, "$"):
			fatal("auth-url", "NGINX variables in the URL are not supported: the Ingress is not served")
		default:
			c.AuthURL = v
		}
		if v, ok := get("auth-signin"); ok {
			probe := strings.NewReplacer("$escaped_request_uri", "x", "$request_uri", "/x", "$scheme", "https", "$host", "h").Replace(v)
			u, err := url.Parse(probe)
			if err != nil || strings.Contains(probe, "$") || (u.Scheme != "http" && u.Scheme != "https" && !strings.HasPrefix(probe, "/")) {
				warn("auth-signin", "%q is not an http(s) URL (variables: $scheme, $host, $request_uri, $escaped_request_uri); ignored", v)
			} else {
				c.AuthSignin = v
			}
		}
		if v, ok := get("auth-method"); ok {
			switch m := strings.ToUpper(strings.TrimSpace(v)); m {
			case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
				c.AuthMethod = m
			default:
				warn("auth-method", "%q is not an HTTP method; GET is used", v)
			}
		}
		if v, ok := get("auth-response-headers"); ok {
			for _, h := range splitList(v) {
				if !headerNameRE.MatchString(h) {
					warn("auth-response-headers", "%q is not a header name; ignored", h)
					continue
				}
				c.AuthRespHdrs = append(c.AuthRespHdrs, h)
			}
		}
	}

	if v, ok := get("custom-http-errors"); ok {
		var bad []string
		c.CustomHTTPErrors, bad = parseStatuses(v)
		c.CustomHTTPErrorsSet = true
		for _, b := range bad {
			warn("custom-http-errors", "%q is not a status from 300 to 599; ignored", b)
		}
	}

	c.LimitRPS, _ = integer("limit-rps", 0, 1<<30)
	c.LimitRPM, _ = integer("limit-rpm", 0, 1<<30)
	c.LimitConns, _ = integer("limit-connections", 0, 1<<30)
	c.LimitBurst = 5
	if n, ok := integer("limit-burst-multiplier", 1, 1<<20); ok {
		c.LimitBurst = n
	}

	c.Canary, _ = boolean("canary")
	if c.Canary {
		c.CanaryWeightTotal = 100
		if n, ok := integer("canary-weight-total", 1, 1<<20); ok {
			c.CanaryWeightTotal = n
		}
		if n, ok := integer("canary-weight", 0, 1<<20); ok {
			if n > c.CanaryWeightTotal {
				warn("canary-weight", "%d is above canary-weight-total %d; %d used", n, c.CanaryWeightTotal, c.CanaryWeightTotal)
				n = c.CanaryWeightTotal
			}
			c.CanaryWeight = n
		}
		if v, ok := get("canary-by-header"); ok {
			if !headerNameRE.MatchString(v) {
				warn("canary-by-header", "%q is not a header name; ignored", v)
			} else {
				c.CanaryHeader = v
				if v, ok := get("canary-by-header-value"); ok {
					if !validHeaderValue(v) || v == "" {
						warn("canary-by-header-value", "%q is not a header value; ignored", v)
					} else {
						c.CanaryHeaderValue = v
					}
				}
				if v, ok := get("canary-by-header-pattern"); ok && c.CanaryHeaderValue == "" {
					if _, err := regexp.Compile(v); err != nil || v == "" {
						warn("canary-by-header-pattern", "%q is not a regular expression; ignored", v)
					} else {
						c.CanaryHeaderRegex = v
					}
				}
			}
		}
		if v, ok := get("canary-by-cookie"); ok {
			if !cookieNameRE.MatchString(v) {
				warn("canary-by-cookie", "%q is not a cookie name; ignored", v)
			} else {
				c.CanaryCookie = v
			}
		}
	}

	if v, ok := get("affinity"); ok {
		if v != "cookie" {
			warn("affinity", "%q is not supported (only cookie); ignored", v)
		} else {
			a := &affinity{Name: "INGRESSCOOKIE"}
			if v, ok := get("affinity-mode"); ok && v != "balanced" && v != "persistent" {
				warn("affinity-mode", "%q is not balanced or persistent; ignored", v)
			}
			if v, ok := get("session-cookie-name"); ok {
				if !cookieNameRE.MatchString(v) {
					warn("session-cookie-name", "%q is not a cookie name; INGRESSCOOKIE used", v)
				} else {
					a.Name = v
				}
			}
			if v, ok := get("session-cookie-path"); ok {
				if !strings.HasPrefix(v, "/") || !validPath(v) {
					warn("session-cookie-path", "%q is not a path; ignored", v)
				} else {
					a.Path = v
				}
			}
			if v, ok := get("session-cookie-domain"); ok {
				if !validHost(strings.TrimPrefix(v, ".")) {
					warn("session-cookie-domain", "%q is not a domain; ignored", v)
				} else {
					a.Domain = v
				}
			}
			if v, ok := get("session-cookie-samesite"); ok {
				switch strings.ToLower(v) {
				case "none", "lax", "strict":
					a.SameSite = strings.ToLower(v)
				default:
					warn("session-cookie-samesite", "%q is not None, Lax or Strict; ignored", v)
				}
			}
			if n, ok := integer("session-cookie-expires", 0, 1<<30); ok {
				a.MaxAge = n
			}
			if n, ok := integer("session-cookie-max-age", 0, 1<<30); ok {
				a.MaxAge = n
			}
			a.Secure, _ = boolean("session-cookie-secure")
			c.Affinity = a
		}
	}

	if v, ok := get("custom-headers"); ok {
		if !objectRefRE.MatchString(v) {
			warn("custom-headers", "%q is not a ConfigMap name or namespace/name; ignored", v)
		} else {
			c.CustomHeaders = v
		}
	}

	c.ProxySSLVerify = false
	if v, ok := get("proxy-ssl-verify"); ok {
		switch v {
		case "on":
			c.ProxySSLVerify = true
		case "off":
		default:
			warn("proxy-ssl-verify", "%q is not on or off; ignored", v)
		}
	}
	if v, ok := get("proxy-ssl-secret"); ok {
		if !objectRefRE.MatchString(v) {
			fatal("proxy-ssl-secret", "%q is not a secret namespace/name: the Ingress is not served", v)
		} else {
			c.ProxySSLSecret = v
		}
	}
	if v, ok := get("proxy-ssl-name"); ok {
		if !validHost(v) {
			warn("proxy-ssl-name", "%q is not a host name; ignored", v)
		} else {
			c.ProxySSLName = v
		}
	}
	if v, ok := get("proxy-ssl-server-name"); ok {
		c.ProxySSLServerName = v == "on"
	}
	if v, ok := get("load-balance"); ok && v != "round_robin" {
		warn("load-balance", "%q is not supported; round robin used", v)
	}
	return c, probs
}

func parseCORS(get func(string) (string, bool), boolean func(string) (bool, bool), warn func(string, string, ...any)) *cors {
	c := &cors{
		Origins:     []string{"*"},
		Methods:     defaultCORSMethods,
		Headers:     defaultCORSHeaders,
		Credentials: true,
		MaxAge:      defaultCORSMaxAge,
	}
	list := func(name string, re *regexp.Regexp, upper bool) []string {
		v, ok := get(name)
		if !ok {
			return nil
		}
		var out []string
		for _, s := range splitList(v) {
			if !re.MatchString(s) {
				warn(name, "%q is not valid; ignored", s)
				continue
			}
			if upper {
				s = strings.ToUpper(s)
			}
			out = append(out, s)
		}
		return out
	}
	if l := list("cors-allow-origin", corsOriginRE, false); l != nil {
		c.Origins = l
	}
	if l := list("cors-allow-methods", corsMethodRE, true); l != nil {
		c.Methods = l
	}
	if l := list("cors-allow-headers", corsHeaderRE, false); l != nil {
		c.Headers = l
	}
	if l := list("cors-expose-headers", corsHeaderRE, false); l != nil {
		c.Expose = l
	}
	if b, ok := boolean("cors-allow-credentials"); ok {
		c.Credentials = b
	}
	if v, ok := get("cors-max-age"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			warn("cors-max-age", "%q is not a number of seconds; ignored", v)
		} else {
			c.MaxAge = n
		}
	}
	return c
}

// splitList splits a comma-separated annotation value, dropping empty
// entries.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseSize reads an NGINX size: bytes, or a number with k, m or g.
func parseSize(v string) (int64, error) {
	m := sizeRE.FindStringSubmatch(v)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size (like 8m, 512k, 1024, 0)", v)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > 1<<40 {
		return 0, fmt.Errorf("%q is too large", v)
	}
	switch strings.ToLower(m[2]) {
	case "k":
		n <<= 10
	case "m":
		n <<= 20
	case "g":
		n <<= 30
	}
	if n < 0 || n > 1<<50 {
		return 0, fmt.Errorf("%q is too large", v)
	}
	return n, nil
}

// parseSeconds reads an ingress-nginx timeout: seconds, with an optional
// "s" suffix.
func parseSeconds(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(v, "s"))
	if err != nil || n < 0 || n > 86400*7 {
		return 0, fmt.Errorf("%q is not a number of seconds", v)
	}
	return n, nil
}

func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if host, port, err := net.SplitHostPort(h); err == nil {
		if _, err := strconv.Atoi(port); err != nil {
			return false
		}
		h = host
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '.' && c != ':' && c != '_' {
			return false
		}
	}
	return true
}

func validPath(p string) bool {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= 0x20 || c == 0x7f || c == '"' || c == '`' {
			return false
		}
	}
	return true
}

// parseStatuses reads a custom-http-errors list: statuses from 300 to 599
// (NGINX's error_page range), comma-separated; the others are returned
// apart.
func parseStatuses(v string) (ok, bad []string) {
	for _, s := range splitList(v) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 300 || n > 599 {
			bad = append(bad, s)
			continue
		}
		ok = append(ok, strconv.Itoa(n))
	}
	return ok, bad
}
