package headers

import (
	"net/http"
	"strings"
)

func (h *handler) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	if h.cors && req.Method == http.MethodOptions {
		origin := req.Header.Get("Origin")
		switch {
		case h.preflightStatus != 0:
			// ingress-nginx: every OPTIONS request from an allowed origin.
			if _, ok := h.allowedOrigin(origin); ok {
				h.preflight(rw, origin)
				return
			}
		case origin != "" && req.Header.Get("Access-Control-Request-Method") != "":
			h.preflight(rw, origin)
			return
		}
	}
	h.modifyRequest(req)

	if h.checkHosts && !h.hostAllowed(req) {
		// Traefik (unrolled/secure) answers 500 "Bad Host"; the custom
		// response headers and CORS still apply, the security ones do not.
		if !h.modifiesResponse {
			http.Error(rw, "Bad Host", http.StatusInternalServerError)
			return
		}
		w := newWriter(rw, h, req, false, false)
		http.Error(w, "Bad Host", http.StatusInternalServerError)
		w.release()
		return
	}
	if !h.modifiesResponse {
		h.next.ServeHTTP(rw, req)
		return
	}
	// Only HSTS and HPKP depend on HTTPS: skip the check when neither is set.
	tls := len(h.secTLS) > len(h.secPlain) && h.isTLS(req)
	w := newWriter(rw, h, req, true, tls)
	h.next.ServeHTTP(w, req)
	w.finish()
	w.release()
}

// preflight answers a CORS preflight request itself: the backend never
// sees it.
func (h *handler) preflight(rw http.ResponseWriter, origin string) {
	hdr := rw.Header()
	if h.allowCreds {
		hdr["Access-Control-Allow-Credentials"] = []string{"true"}
	}
	if h.allowHeaders != "" {
		hdr["Access-Control-Allow-Headers"] = []string{h.allowHeaders}
	}
	if h.allowMethods != "" {
		hdr["Access-Control-Allow-Methods"] = []string{h.allowMethods}
	}
	if allowed, ok := h.allowedOrigin(origin); ok {
		hdr["Access-Control-Allow-Origin"] = []string{allowed}
	}
	hdr["Access-Control-Max-Age"] = []string{h.maxAge}
	if h.preflightStatus != 0 {
		if h.exposeHeaders != "" {
			hdr["Access-Control-Expose-Headers"] = []string{h.exposeHeaders}
		}
		hdr["Content-Type"] = []string{"text/plain; charset=utf-8"}
		hdr["Content-Length"] = []string{"0"}
		rw.WriteHeader(h.preflightStatus)
		return
	}
	rw.WriteHeader(http.StatusOK)
}

// allowedOrigin returns the Access-Control-Allow-Origin value for origin:
// "*" or the origin itself, from the first list entry that matches, then
// the regular expressions (a match anywhere in the origin counts).
func (h *handler) allowedOrigin(origin string) (string, bool) {
	for _, o := range h.origins {
		if o == "*" || o == origin {
			return o, true
		}
	}
	if origin == "" {
		return "", false
	}
	for _, re := range h.originRegexps {
		if re.MatchString(origin) {
			return origin, true
		}
	}
	return "", false
}

func (h *handler) modifyRequest(req *http.Request) {
	if len(h.reqSet) > 0 {
		// One backing array for all values; each slice is capped so that an
		// append elsewhere reallocates instead of writing into a neighbour.
		vals := make([]string, len(h.reqSet))
		for i, e := range h.reqSet {
			vals[i] = e.value
			req.Header[e.key] = vals[i : i+1 : i+1]
		}
	}
	for _, k := range h.reqDel {
		delete(req.Header, k)
	}
	if h.xffNil {
		// A present nil value tells the proxy not to add X-Forwarded-For.
		req.Header["X-Forwarded-For"] = nil
	}
	if h.setHost {
		req.Host = h.host
	}
}

// hostAllowed checks the request host (or the first non-empty proxy host
// header) against allowedHosts, case-insensitively and port included.
func (h *handler) hostAllowed(req *http.Request) bool {
	host := req.Host
	for _, k := range h.hostHeaders {
		if v := req.Header.Get(k); v != "" {
			host = v
			break
		}
	}
	for _, a := range h.allowedHosts {
		if strings.EqualFold(a, host) {
			return true
		}
	}
	return false
}

// isTLS tells whether the client used HTTPS, directly or per sslProxyHeaders.
func (h *handler) isTLS(req *http.Request) bool {
	if req.TLS != nil || strings.EqualFold(req.URL.Scheme, "https") {
		return true
	}
	for _, e := range h.sslHeaders {
		if req.Header.Get(e.key) == e.value {
			return true
		}
	}
	return false
}

// modifyResponse runs once, just before the status line is written:
// security headers first, then the custom ones (which may override or
// remove them), then CORS.
func (h *handler) modifyResponse(hdr http.Header, origin string, secure, tls bool) {
	var sec []kv
	if secure {
		sec = h.secPlain
		if tls {
			sec = h.secTLS
		}
	}
	n := len(sec) + len(h.resSet)
	if h.cors {
		n += 6
	}
	vals := make([]string, 0, n)
	set := func(k, v string) {
		vals = append(vals, v)
		i := len(vals) - 1
		hdr[k] = vals[i : i+1 : i+1]
	}
	for _, e := range sec {
		set(e.key, e.value)
	}
	for _, e := range h.resSet {
		set(e.key, e.value)
	}
	for _, k := range h.resDel {
		delete(hdr, k)
	}
	if h.redirFrom != "" {
		if loc := hdr["Location"]; len(loc) == 1 && strings.HasPrefix(loc[0], h.redirFrom) {
			hdr["Location"] = []string{h.redirTo + loc[0][len(h.redirFrom):]}
		}
	}
	if h.cookieDomain != nil || h.cookiePath != nil {
		if cs := hdr["Set-Cookie"]; len(cs) > 0 {
			out := make([]string, len(cs))
			for i, c := range cs {
				out[i] = h.rewriteCookie(c)
			}
			hdr["Set-Cookie"] = out
		}
	}
	if !h.cors {
		return
	}
	allowed, ok := h.allowedOrigin(origin)
	if ok {
		set("Access-Control-Allow-Origin", allowed)
		if h.preflightStatus != 0 {
			if h.allowMethods != "" {
				set("Access-Control-Allow-Methods", h.allowMethods)
			}
			if h.allowHeaders != "" {
				set("Access-Control-Allow-Headers", h.allowHeaders)
			}
			set("Access-Control-Max-Age", h.maxAge)
		}
	}
	if h.allowCreds {
		set("Access-Control-Allow-Credentials", "true")
	}
	if h.exposeHeaders != "" {
		set("Access-Control-Expose-Headers", h.exposeHeaders)
	}
	if h.addVary {
		addVaryOrigin(hdr)
	}
}

// addVaryOrigin adds Origin to Vary unless it is already listed.
func addVaryOrigin(hdr http.Header) {
	vary := hdr["Vary"]
	for _, v := range vary {
		for tok := range strings.SplitSeq(v, ",") {
			if t := strings.TrimSpace(tok); strings.EqualFold(t, "Origin") || t == "*" {
				return
			}
		}
	}
	switch len(vary) {
	case 0:
		hdr["Vary"] = []string{"Origin"}
	default:
		hdr["Vary"] = []string{strings.Join(vary, ",") + ",Origin"}
	}
}

// rewriteCookie applies proxy_cookie_domain and proxy_cookie_path to the
// attributes of one Set-Cookie value; the rest is kept byte for byte.
func (h *handler) rewriteCookie(c string) string {
	parts := strings.Split(c, ";")
	changed := false
	for i := 1; i < len(parts); i++ {
		k, v, ok := strings.Cut(parts[i], "=")
		if !ok {
			continue
		}
		name := strings.TrimSpace(k)
		val := strings.TrimSpace(v)
		switch {
		case h.cookieDomain != nil && strings.EqualFold(name, "domain") && strings.EqualFold(val, h.cookieDomain[0]):
			parts[i], changed = k+"="+h.cookieDomain[1], true
		case h.cookiePath != nil && strings.EqualFold(name, "path") && strings.HasPrefix(val, h.cookiePath[0]):
			parts[i], changed = k+"="+h.cookiePath[1]+val[len(h.cookiePath[0]):], true
		}
	}
	if !changed {
		return c
	}
	return strings.Join(parts, ";")
}
