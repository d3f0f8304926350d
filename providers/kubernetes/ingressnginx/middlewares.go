package ingressnginx

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	ptypes "github.com/traefik/paerser/types"
	netv1 "k8s.io/api/networking/v1"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// ingressMiddlewares are the middlewares of one Ingress, in the order
// NGINX runs the matching directives: redirects (rewrite phase), CORS
// preflight, access (allow/deny lists, limits, authentication), body
// size, headers, then the path rewrite.
type ingressMiddlewares struct {
	t        *translator
	redirect string // ssl-redirect, only on plain routers
	before   []string
	after    []string
	rewrite  func(base, path string, exact bool) string
}

func (m ingressMiddlewares) list(redirect bool, base string) []string {
	var out []string
	if redirect && m.redirect != "" {
		out = append(out, m.redirect)
	}
	out = append(out, m.before...)
	out = append(out, m.after...)
	if len(out) == 0 {
		return nil
	}
	return out
}

// withRewrite adds the path rewrite of one route.
func (m ingressMiddlewares) withRewrite(list []string, base, path string, exact bool) []string {
	if m.rewrite == nil {
		return list
	}
	if n := m.rewrite(base, path, exact); n != "" {
		return append(slices.Clone(list), n)
	}
	return list
}

func (t *translator) mw(name string, m *dynamic.Middleware) string {
	t.conf.HTTP.Middlewares[name] = m
	return name
}

// middlewares builds the middlewares an Ingress's annotations ask for. A
// returned problem is fatal: the Ingress is not served.
func (t *translator) middlewares(ing *netv1.Ingress, c config) (ingressMiddlewares, *problem) {
	m := ingressMiddlewares{t: t}
	p := ing.Namespace + "-" + ing.Name + "-"
	o := t.opts

	m.redirect = t.mw(p+"redirect-scheme", &dynamic.Middleware{RedirectScheme: &dynamic.RedirectScheme{Scheme: "https", StatusCode: 308}})
	if c.RedirectFrom != "" {
		// Named after its values: the provider-only fields are not in the
		// configuration's JSON hash (a change must change the name).
		sum := sha256.Sum256([]byte(c.RedirectFrom + "\x00" + c.RedirectTo))
		m.before = append(m.before, t.mw(p+"proxy-redirect-"+hex.EncodeToString(sum[:4]), &dynamic.Middleware{Headers: &dynamic.Headers{ProxyRedirectFrom: c.RedirectFrom, ProxyRedirectTo: c.RedirectTo}}))
	}
	if c.CookieDomain != nil || c.CookiePath != nil {
		sum := sha256.Sum256([]byte(strings.Join(c.CookieDomain, "\x00") + "\x01" + strings.Join(c.CookiePath, "\x00")))
		m.before = append(m.before, t.mw(p+"proxy-cookie-"+hex.EncodeToString(sum[:4]), &dynamic.Middleware{Headers: &dynamic.Headers{ProxyCookieDomain: c.CookieDomain, ProxyCookiePath: c.CookiePath}}))
	}
	if c.AppRoot != "" {
		m.before = append(m.before, t.mw(p+"app-root", &dynamic.Middleware{RedirectRegex: &dynamic.RedirectRegex{
			Regex: `^(https?://[^/]+)/(\?.*)?$`, Replacement: "${1}" + escapeDollar(c.AppRoot), StatusCode: 302,
		}}))
	}
	switch {
	case c.TempRedirect != "":
		m.before = append(m.before, t.mw(p+"temporal-redirect", &dynamic.Middleware{RedirectRegex: &dynamic.RedirectRegex{
			Regex: `^.*$`, Replacement: escapeDollar(c.TempRedirect), StatusCode: c.TempRedirectCode,
		}}))
	case c.PermRedirect != "":
		m.before = append(m.before, t.mw(p+"permanent-redirect", &dynamic.Middleware{RedirectRegex: &dynamic.RedirectRegex{
			Regex: `^.*$`, Replacement: escapeDollar(c.PermRedirect), StatusCode: c.PermRedirectCode,
		}}))
	}
	if cc := c.CORS; cc != nil {
		h := &dynamic.Headers{
			AccessControlAllowMethods:     cc.Methods,
			AccessControlAllowHeaders:     cc.Headers,
			AccessControlExposeHeaders:    cc.Expose,
			AccessControlAllowCredentials: cc.Credentials,
			AccessControlMaxAge:           cc.MaxAge,
			CORSPreflightStatus:           http.StatusNoContent,
		}
		h.AccessControlAllowOriginList, h.AccessControlAllowOriginListRegex = corsOrigins(cc.Origins)
		m.before = append(m.before, t.mw(p+"cors", &dynamic.Middleware{Headers: h}))
	}
	if len(c.AllowRange) > 0 {
		al := &dynamic.IPAllowList{SourceRange: c.AllowRange}
		if s := o.IPAllowListStrategy; s != nil {
			al.IPStrategy = &dynamic.IPStrategy{Depth: s.Depth, ExcludedIPs: s.ExcludedIPs, IPv6Subnet: s.IPv6Subnet}
		}
		m.before = append(m.before, t.mw(p+"allowlist", &dynamic.Middleware{IPAllowList: al}))
	}
	if len(c.DenyRange) > 0 {
		m.before = append(m.before, t.mw(p+"denylist", &dynamic.Middleware{IPDenyList: &dynamic.IPDenyList{SourceRange: c.DenyRange}}))
	}
	if c.LimitRPS > 0 {
		m.before = append(m.before, t.mw(p+"limit-rps", &dynamic.Middleware{RateLimit: &dynamic.RateLimit{
			Average: int64(c.LimitRPS), Period: ptypes.Duration(time.Second), Burst: int64(c.LimitRPS * c.LimitBurst),
			SourceCriterion: &dynamic.SourceCriterion{IPStrategy: &dynamic.IPStrategy{}}, StatusCode: limitStatus,
		}}))
	}
	if c.LimitRPM > 0 {
		m.before = append(m.before, t.mw(p+"limit-rpm", &dynamic.Middleware{RateLimit: &dynamic.RateLimit{
			Average: int64(c.LimitRPM), Period: ptypes.Duration(time.Minute), Burst: int64(c.LimitRPM * c.LimitBurst),
			SourceCriterion: &dynamic.SourceCriterion{IPStrategy: &dynamic.IPStrategy{}}, StatusCode: limitStatus,
		}}))
	}
	if c.LimitConns > 0 {
		m.before = append(m.before, t.mw(p+"limit-connections", &dynamic.Middleware{InFlightReq: &dynamic.InFlightReq{
			Amount: int64(c.LimitConns), SourceCriterion: &dynamic.SourceCriterion{IPStrategy: &dynamic.IPStrategy{}},
			StatusCode: limitStatus, // ingress-nginx's limit-conn-status-code default, 503 as well
		}}))
	}
	if c.AuthType == "basic" {
		users, err := t.basicUsers(ing, c)
		if err != nil {
			return m, &problem{Annotation: "auth-secret", Msg: err.Error() + ": the Ingress is not served", Fatal: true}
		}
		m.before = append(m.before, t.mw(p+"basic-auth", &dynamic.Middleware{BasicAuth: &dynamic.BasicAuth{Users: users, Realm: c.AuthRealm}}))
	}
	if c.AuthType == "digest" {
		// htdigest lines user:realm:HA1; the challenge's realm is
		// auth-realm, else the realm of the secret's first user (the HA1
		// hashes only match their own realm).
		users, err := t.basicUsers(ing, c)
		if err == nil {
			for _, u := range users {
				if strings.Count(u, ":") != 2 {
					err = fmt.Errorf("secret %q: %q is not an htdigest line user:realm:hash", c.AuthSecret, strings.SplitN(u, ":", 2)[0])
					break
				}
			}
		}
		if err != nil {
			return m, &problem{Annotation: "auth-secret", Msg: err.Error() + ": the Ingress is not served", Fatal: true}
		}
		realm := c.AuthRealm
		if realm == "" {
			realm = strings.Split(users[0], ":")[1]
		}
		m.before = append(m.before, t.mw(p+"digest-auth", &dynamic.Middleware{DigestAuth: &dynamic.DigestAuth{Users: users, Realm: realm}}))
	}
	authURL := c.AuthURL
	if authURL == "" && o.GlobalAuthURL != "" {
		if v, ok := parseBoolAnn(ing.Annotations, "enable-global-auth"); !ok || v {
			authURL = o.GlobalAuthURL
		}
	}
	if authURL != "" {
		fa := p + "forward-auth"
		if c.AuthMethod != "" {
			fa += "-" + strings.ToLower(c.AuthMethod) // not in the JSON hash: the name carries it
		}
		m.before = append(m.before, t.mw(fa, &dynamic.Middleware{ForwardAuth: &dynamic.ForwardAuth{
			Address: authURL, AuthResponseHeaders: c.AuthRespHdrs, SignInURL: c.AuthSignin, Method: c.AuthMethod,
		}}))
	}
	body := o.ProxyBodySize
	if c.BodySize != nil {
		body = *c.BodySize
	}
	if body > 0 && c.Protocol != "GRPC" && c.Protocol != "GRPCS" {
		mem := o.ClientBodyBufferSize
		if c.BodyBuffer != nil {
			mem = *c.BodyBuffer
		}
		m.after = append(m.after, t.mw(p+"body-size", &dynamic.Middleware{Buffering: &dynamic.Buffering{
			MaxRequestBodyBytes: body, MemRequestBodyBytes: min(mem, body),
		}}))
	}
	req := map[string]string{}
	if c.UpstreamVhost != "" {
		req["Host"] = c.UpstreamVhost
	}
	if c.XFwdPrefix != "" {
		req["X-Forwarded-Prefix"] = c.XFwdPrefix
	}
	if len(req) > 0 {
		m.after = append(m.after, t.mw(p+"request-headers", &dynamic.Middleware{Headers: &dynamic.Headers{CustomRequestHeaders: req}}))
	}
	if c.CustomHeaders != "" {
		if h := t.customHeaders(ing, c.CustomHeaders); len(h) > 0 {
			m.after = append(m.after, t.mw(p+"custom-headers", &dynamic.Middleware{Headers: &dynamic.Headers{CustomResponseHeaders: h}}))
		}
	}
	if c.RewriteTarget != "" {
		repl, warnings := nginxReplacement(c.RewriteTarget)
		for _, w := range warnings {
			t.report(ing, problem{Annotation: "rewrite-target", Msg: w})
		}
		m.rewrite = func(base, path string, exact bool) string {
			re := "(?i)^(?:" + path + ").*$"
			if exact {
				re = "^" + regexp.QuoteMeta(path) + "$"
			}
			return t.mw(base+"-rewrite-target", &dynamic.Middleware{ReplacePathRegex: &dynamic.ReplacePathRegex{Regex: re, Replacement: repl}})
		}
	}
	return m, nil
}

// limitStatus is ingress-nginx's limit-req-status-code and
// limit-conn-status-code default.
const limitStatus = 503

// nginxReplacement turns an NGINX rewrite replacement ($1, $2...) into a
// Go one (${1}, ${2}...). NGINX variables ($host...) have no equivalent:
// they are kept literally and reported.
func nginxReplacement(s string) (string, []string) {
	var b strings.Builder
	var warnings []string
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j > i+1 {
			b.WriteString("${" + s[i+1:j] + "}")
			i = j - 1
			continue
		}
		k := i + 1
		for k < len(s) && (s[k] == '_' || s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z' || s[k] >= '0' && s[k] <= '9') {
			k++
		}
		if k > i+1 {
			warnings = append(warnings, fmt.Sprintf("NGINX variable %s is not supported; kept literally", s[i:k]))
		}
		b.WriteString("$$")
	}
	return b.String(), warnings
}

// escapeDollar makes a literal replacement for regexp.Expand.
func escapeDollar(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// basicUsers reads the htpasswd users of auth-secret: an auth-file secret
// has them as lines under the key "auth"; an auth-map secret has one key
// per user, the value being the password hash.
func (t *translator) basicUsers(ing *netv1.Ingress, c config) ([]string, error) {
	sec, ok := t.secretRef(ing, c.AuthSecret)
	if !ok {
		return nil, fmt.Errorf("secret %q not found (or in another namespace without allowCrossNamespaceResources)", c.AuthSecret)
	}
	var users []string
	if c.AuthSecretType == "auth-map" {
		keys := make([]string, 0, len(sec.Data))
		for k := range sec.Data {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := strings.TrimSpace(string(sec.Data[k]))
			if v == "" || strings.ContainsAny(k, ":\n") {
				continue
			}
			users = append(users, k+":"+v)
		}
	} else {
		data, ok := sec.Data["auth"]
		if !ok {
			return nil, fmt.Errorf("secret %q has no key \"auth\"", c.AuthSecret)
		}
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				users = append(users, l)
			}
		}
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("secret %q holds no user", c.AuthSecret)
	}
	return users, nil
}

// customHeaders reads the response headers of a custom-headers ConfigMap,
// keeping those globalAllowedResponseHeaders allows.
func (t *translator) customHeaders(ing *netv1.Ingress, ref string) map[string]string {
	ns, name, ok := t.ref(ing, ref)
	if !ok {
		t.report(ing, problem{Annotation: "custom-headers", Msg: fmt.Sprintf("ConfigMap %q is in another namespace and allowCrossNamespaceResources is off; ignored", ref)})
		return nil
	}
	cm, ok := t.objs.ConfigMap(ns, name)
	if !ok {
		t.report(ing, problem{Annotation: "custom-headers", Msg: fmt.Sprintf("ConfigMap %s/%s not found; ignored", ns, name)})
		return nil
	}
	out := map[string]string{}
	for k, v := range cm.Data {
		allowed := slices.ContainsFunc(t.opts.GlobalAllowedResponseHeaders, func(a string) bool { return strings.EqualFold(a, k) })
		switch {
		case !headerNameRE.MatchString(k) || !validHeaderValue(v):
			t.report(ing, problem{Annotation: "custom-headers", Msg: fmt.Sprintf("header %q: invalid name or value; ignored", k)})
		case !allowed:
			t.report(ing, problem{Annotation: "custom-headers", Msg: fmt.Sprintf("header %q is not in globalAllowedResponseHeaders; ignored", k)})
		default:
			out[k] = v
		}
	}
	return out
}

// corsOrigins translates cors-allow-origin as ingress-nginx reads it: "*"
// anywhere in the list allows every origin (answered "*"); otherwise each
// origin matches case-insensitively, its "*" standing for one DNS label
// (https://*.example.com matches https://a.example.com, not
// https://a.b.example.com), and the request's origin is echoed.
func corsOrigins(origins []string) (list, regexps []string) {
	if slices.Contains(origins, "*") {
		return []string{"*"}, nil
	}
	for _, o := range origins {
		re := strings.Replace(regexp.QuoteMeta(o), `\*`, `[A-Za-z0-9\-]+`, 1)
		regexps = append(regexps, "(?i)^"+re+"$")
	}
	return nil, regexps
}
