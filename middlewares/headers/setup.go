// Package headers sets and removes request and response headers, answers
// CORS preflights, adds the security headers (HSTS, frame options, CSP, ...)
// and can restrict the accepted hosts.
package headers

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// kv is a canonical header name and its value.
type kv struct{ key, value string }

// handler is the compiled configuration; it is shared by every router using
// the middleware and never modified after Setup.
type handler struct {
	next http.Handler

	// custom request headers
	reqSet  []kv     // values to set
	reqDel  []string // headers to delete
	xffNil  bool     // X-Forwarded-For: "" keeps the key with a nil value
	host    string   // Host override
	setHost bool

	// custom response headers
	resSet []kv
	resDel []string

	// CORS
	cors          bool
	allowCreds    bool
	allowHeaders  string
	allowMethods  string
	origins       []string
	originRegexps []*regexp.Regexp
	exposeHeaders string
	maxAge        string
	addVary       bool
	// preflightStatus != 0: ingress-nginx's CORS (see dynamic.Headers).
	preflightStatus int

	// proxy_redirect (see dynamic.Headers.ProxyRedirectFrom)
	redirFrom, redirTo       string
	cookieDomain, cookiePath []string // {from, to} or nil

	// security
	checkHosts   bool
	allowedHosts []string
	hostHeaders  []string // where a proxied host name may be
	sslHeaders   []kv     // request headers that mark an HTTPS request
	secPlain     []kv     // response headers for a plain HTTP request
	secTLS       []kv     // response headers for an HTTPS request

	// modifiesResponse is false when no response header is ever touched:
	// the ResponseWriter is then not wrapped at all.
	modifiesResponse bool
}

// Setup validates cfg, compiles it and returns a function wrapping a next
// handler. An empty configuration is an error, like in Traefik.
func Setup(cfg *dynamic.Headers) (func(next http.Handler) http.Handler, error) {
	if cfg == nil {
		return nil, errors.New("headers configuration not valid")
	}
	h := &handler{}
	custom := len(cfg.CustomRequestHeaders) > 0 || len(cfg.CustomResponseHeaders) > 0
	if err := h.setupCustom(cfg); err != nil {
		return nil, err
	}
	cors, err := h.setupCORS(cfg)
	if err != nil {
		return nil, err
	}
	secure, err := h.setupSecure(cfg)
	if err != nil {
		return nil, err
	}
	deprecated := cfg.SSLRedirect != nil || cfg.SSLTemporaryRedirect != nil || cfg.SSLHost != nil ||
		cfg.SSLForceHost != nil || cfg.FeaturePolicy != nil
	if cfg.ProxyRedirectFrom != "" {
		if !httpguts.ValidHeaderFieldValue(cfg.ProxyRedirectTo) {
			return nil, fmt.Errorf("proxyRedirectTo: invalid header value %q", cfg.ProxyRedirectTo)
		}
		h.redirFrom, h.redirTo = cfg.ProxyRedirectFrom, cfg.ProxyRedirectTo
	}
	for _, p := range []struct {
		name string
		v    []string
		dst  *[]string
	}{{"proxyCookieDomain", cfg.ProxyCookieDomain, &h.cookieDomain}, {"proxyCookiePath", cfg.ProxyCookiePath, &h.cookiePath}} {
		if p.v == nil {
			continue
		}
		if len(p.v) != 2 || p.v[0] == "" || strings.ContainsAny(p.v[1], ";\r\n") {
			return nil, fmt.Errorf("%s: want a non-empty value to match and a replacement without ';', got %q", p.name, p.v)
		}
		*p.dst = slices.Clone(p.v)
	}
	if !custom && !cors && !secure && !deprecated && h.redirFrom == "" && h.cookieDomain == nil && h.cookiePath == nil {
		return nil, errors.New("headers configuration not valid")
	}
	h.modifiesResponse = len(h.resSet) > 0 || len(h.resDel) > 0 || h.cors ||
		len(h.secPlain) > 0 || len(h.secTLS) > 0 || h.redirFrom != "" ||
		h.cookieDomain != nil || h.cookiePath != nil
	return func(next http.Handler) http.Handler {
		c := *h
		c.next = next
		return &c
	}, nil
}

// customHeaders splits a configured map into headers to set and to delete,
// in a stable order (Traefik iterates its map at random).
func customHeaders(what string, m map[string]string) (set []kv, del []string, err error) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, nil, fmt.Errorf("%s: invalid header name %q", what, k)
		}
		if !httpguts.ValidHeaderFieldValue(v) {
			return nil, nil, fmt.Errorf("%s: invalid value for header %q", what, k)
		}
		ck := http.CanonicalHeaderKey(k)
		if v == "" {
			del = append(del, ck)
		} else {
			set = append(set, kv{ck, v})
		}
	}
	return set, del, nil
}

func (h *handler) setupCustom(cfg *dynamic.Headers) error {
	set, del, err := customHeaders("customRequestHeaders", cfg.CustomRequestHeaders)
	if err != nil {
		return err
	}
	for _, e := range set {
		if e.key == "Host" {
			h.host, h.setHost = e.value, true
			continue
		}
		h.reqSet = append(h.reqSet, e)
	}
	for _, k := range del {
		if k == "X-Forwarded-For" {
			h.xffNil = true
			continue
		}
		h.reqDel = append(h.reqDel, k)
	}
	h.resSet, h.resDel, err = customHeaders("customResponseHeaders", cfg.CustomResponseHeaders)
	return err
}

func (h *handler) setupCORS(cfg *dynamic.Headers) (bool, error) {
	h.cors = cfg.AccessControlAllowCredentials || len(cfg.AccessControlAllowHeaders) > 0 ||
		len(cfg.AccessControlAllowMethods) > 0 || len(cfg.AccessControlAllowOriginList) > 0 ||
		len(cfg.AccessControlAllowOriginListRegex) > 0 || len(cfg.AccessControlExposeHeaders) > 0 ||
		cfg.AccessControlMaxAge != 0 || cfg.AddVaryHeader
	if !h.cors {
		return false, nil
	}
	h.allowCreds = cfg.AccessControlAllowCredentials
	h.allowHeaders = strings.Join(cfg.AccessControlAllowHeaders, ",")
	h.allowMethods = strings.Join(cfg.AccessControlAllowMethods, ",")
	h.exposeHeaders = strings.Join(cfg.AccessControlExposeHeaders, ",")
	h.maxAge = strconv.FormatInt(cfg.AccessControlMaxAge, 10)
	h.addVary = cfg.AddVaryHeader
	if st := cfg.CORSPreflightStatus; st != 0 {
		if st < 200 || st > 299 {
			return false, fmt.Errorf("corsPreflightStatus %d: must be 2xx", st)
		}
		h.preflightStatus = st
	}
	h.origins = slices.Clone(cfg.AccessControlAllowOriginList)
	for _, v := range []struct{ name, value string }{
		{"accessControlAllowHeaders", h.allowHeaders}, {"accessControlAllowMethods", h.allowMethods},
		{"accessControlExposeHeaders", h.exposeHeaders}, {"accessControlAllowOriginList", strings.Join(h.origins, "")},
	} {
		if !httpguts.ValidHeaderFieldValue(v.value) {
			return false, fmt.Errorf("%s: invalid header value %q", v.name, v.value)
		}
	}
	for i, expr := range cfg.AccessControlAllowOriginListRegex {
		re, err := regexp.Compile(expr)
		if err != nil {
			return false, fmt.Errorf("accessControlAllowOriginListRegex[%d] %q: %w", i, expr, err)
		}
		h.originRegexps = append(h.originRegexps, re)
	}
	return true, nil
}

func (h *handler) setupSecure(cfg *dynamic.Headers) (bool, error) {
	secure := len(cfg.AllowedHosts) > 0 || len(cfg.HostsProxyHeaders) > 0 || len(cfg.SSLProxyHeaders) > 0 ||
		cfg.STSSeconds != 0 || cfg.STSIncludeSubdomains || cfg.STSPreload || cfg.ForceSTSHeader ||
		cfg.FrameDeny || cfg.CustomFrameOptionsValue != "" || cfg.ContentTypeNosniff ||
		cfg.BrowserXSSFilter || cfg.CustomBrowserXSSValue != "" || cfg.ContentSecurityPolicy != "" ||
		cfg.ContentSecurityPolicyReportOnly != "" || cfg.PublicKey != "" || cfg.ReferrerPolicy != "" ||
		cfg.PermissionsPolicy != "" || cfg.IsDevelopment
	if !secure {
		return false, nil
	}
	dev := cfg.IsDevelopment
	h.checkHosts = len(cfg.AllowedHosts) > 0 && !dev
	h.allowedHosts = slices.Clone(cfg.AllowedHosts)
	for _, k := range cfg.HostsProxyHeaders {
		h.hostHeaders = append(h.hostHeaders, http.CanonicalHeaderKey(k))
	}
	// An empty value matches a request without the header, as in
	// unrolled/secure that Traefik uses.
	for _, k := range slices.Sorted(maps.Keys(cfg.SSLProxyHeaders)) {
		h.sslHeaders = append(h.sslHeaders, kv{http.CanonicalHeaderKey(k), cfg.SSLProxyHeaders[k]})
	}

	var plain, tls []kv
	add := func(onlyTLS bool, key, value string) {
		tls = append(tls, kv{key, value})
		if !onlyTLS {
			plain = append(plain, kv{key, value})
		}
	}
	if cfg.STSSeconds != 0 && !dev {
		v := "max-age=" + strconv.FormatInt(cfg.STSSeconds, 10)
		if cfg.STSIncludeSubdomains {
			v += "; includeSubDomains"
		}
		if cfg.STSPreload {
			v += "; preload"
		}
		add(!cfg.ForceSTSHeader, "Strict-Transport-Security", v)
	}
	switch {
	case cfg.CustomFrameOptionsValue != "":
		add(false, "X-Frame-Options", cfg.CustomFrameOptionsValue)
	case cfg.FrameDeny:
		add(false, "X-Frame-Options", "DENY")
	}
	if cfg.ContentTypeNosniff {
		add(false, "X-Content-Type-Options", "nosniff")
	}
	switch {
	case cfg.CustomBrowserXSSValue != "":
		add(false, "X-Xss-Protection", cfg.CustomBrowserXSSValue)
	case cfg.BrowserXSSFilter:
		add(false, "X-Xss-Protection", "1; mode=block")
	}
	if cfg.PublicKey != "" && !dev {
		add(true, "Public-Key-Pins", cfg.PublicKey)
	}
	if cfg.ContentSecurityPolicy != "" {
		add(false, "Content-Security-Policy", cfg.ContentSecurityPolicy)
	}
	if cfg.ContentSecurityPolicyReportOnly != "" {
		add(false, "Content-Security-Policy-Report-Only", cfg.ContentSecurityPolicyReportOnly)
	}
	if cfg.ReferrerPolicy != "" {
		add(false, "Referrer-Policy", cfg.ReferrerPolicy)
	}
	if cfg.PermissionsPolicy != "" {
		add(false, "Permissions-Policy", cfg.PermissionsPolicy)
	}
	for _, e := range tls {
		if !httpguts.ValidHeaderFieldValue(e.value) {
			return false, fmt.Errorf("invalid value for %s: %q", e.key, e.value)
		}
	}
	h.secPlain, h.secTLS = plain, tls
	return true, nil
}
