// Package gatewayfilters implements the Gateway API HTTPRoute filters the
// Kubernetes Gateway provider turns into middlewares: RequestHeaderModifier,
// ResponseHeaderModifier, RequestRedirect and URLRewrite. (RequestMirror is a
// mirroring service, not a middleware.)
package gatewayfilters

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

type kv struct{ k, v string }

// headerOps is a compiled HeaderModifier.
type headerOps struct {
	set, add []kv
	remove   []string
}

func compileHeaders(c *dynamic.HeaderModifier) (*headerOps, error) {
	if c == nil {
		return nil, errors.New("no configuration")
	}
	o := &headerOps{}
	check := func(k, v string) error {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("invalid header name %q", k)
		}
		if !httpguts.ValidHeaderFieldValue(v) {
			return fmt.Errorf("invalid value for header %q", k)
		}
		return nil
	}
	for _, k := range sortedKeys(c.Set) {
		if err := check(k, c.Set[k]); err != nil {
			return nil, err
		}
		o.set = append(o.set, kv{http.CanonicalHeaderKey(k), c.Set[k]})
	}
	for _, k := range sortedKeys(c.Add) {
		if err := check(k, c.Add[k]); err != nil {
			return nil, err
		}
		o.add = append(o.add, kv{http.CanonicalHeaderKey(k), c.Add[k]})
	}
	for _, k := range c.Remove {
		if err := check(k, ""); err != nil {
			return nil, err
		}
		o.remove = append(o.remove, http.CanonicalHeaderKey(k))
	}
	return o, nil
}

func (o *headerOps) apply(h http.Header) {
	for _, k := range o.remove {
		delete(h, k)
	}
	for _, p := range o.set {
		h[p.k] = []string{p.v}
	}
	for _, p := range o.add {
		h[p.k] = append(h[p.k], p.v)
	}
}

// RequestHeaderModifier sets, adds and removes request headers.
func RequestHeaderModifier(c *dynamic.HeaderModifier) (func(http.Handler) http.Handler, error) {
	o, err := compileHeaders(c)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
			o.apply(req.Header)
			if len(o.set)+len(o.add) > 0 {
				// A Host set through the filter is the request's host.
				if h := req.Header.Get("Host"); h != "" {
					req.Host = h
					req.Header.Del("Host")
				}
			}
			next.ServeHTTP(rw, req)
		})
	}, nil
}

// ResponseHeaderModifier sets, adds and removes response headers, right
// before the status line goes out.
func ResponseHeaderModifier(c *dynamic.HeaderModifier) (func(http.Handler) http.Handler, error) {
	o, err := compileHeaders(c)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
			w := &respWriter{ResponseWriter: rw, ops: o}
			next.ServeHTTP(w, req)
			w.apply()
		})
	}, nil
}

// respWriter applies header operations once, before the head is written.
type respWriter struct {
	http.ResponseWriter
	ops     *headerOps
	applied bool
}

func (w *respWriter) apply() {
	if !w.applied {
		w.applied = true
		w.ops.apply(w.Header())
	}
}

func (w *respWriter) WriteHeader(code int) {
	if code >= 100 && code <= 199 {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.apply()
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(b []byte) (int, error) {
	w.apply()
	return w.ResponseWriter.Write(b)
}

func (w *respWriter) Flush() {
	w.apply()
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection (hijack,
// deadlines).
func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ModifyPath applies a path modifier to a request path (decoded form).
func ModifyPath(p dynamic.PathModifier, path string) string {
	switch {
	case p.ReplaceFullPath != nil:
		if *p.ReplaceFullPath == "" {
			return "/"
		}
		return *p.ReplaceFullPath
	case p.ReplacePrefixMatch != nil:
		prefix := strings.TrimSuffix(p.MatchedPrefix, "/")
		rest, ok := strings.CutPrefix(path, prefix)
		if !ok || (rest != "" && rest[0] != '/') {
			return path // not under the prefix: left as is
		}
		repl := *p.ReplacePrefixMatch
		if rest == "" || rest == "/" && strings.HasSuffix(repl, "/") {
			if repl == "" {
				return "/"
			}
			return repl
		}
		out := strings.TrimSuffix(repl, "/") + rest
		if out == "" {
			return "/"
		}
		return out
	}
	return path
}

func checkPath(p dynamic.PathModifier) error {
	if p.ReplaceFullPath != nil && p.ReplacePrefixMatch != nil {
		return errors.New("replaceFullPath and replacePrefixMatch are exclusive")
	}
	for _, s := range []*string{p.ReplaceFullPath, p.ReplacePrefixMatch} {
		if s != nil && *s != "" && !strings.HasPrefix(*s, "/") {
			return fmt.Errorf("path %q does not start with /", *s)
		}
	}
	if p.ReplacePrefixMatch != nil && !strings.HasPrefix(p.MatchedPrefix, "/") {
		return errors.New("replacePrefixMatch needs the matched prefix")
	}
	return nil
}

// URLRewrite rewrites the Host and the path before forwarding.
func URLRewrite(c *dynamic.URLRewrite) (func(http.Handler) http.Handler, error) {
	if c == nil {
		return nil, errors.New("no configuration")
	}
	if err := checkPath(c.PathModifier); err != nil {
		return nil, err
	}
	if c.Hostname != nil && !httpguts.ValidHostHeader(*c.Hostname) {
		return nil, fmt.Errorf("invalid hostname %q", *c.Hostname)
	}
	pm := c.PathModifier
	rewritePath := pm.ReplaceFullPath != nil || pm.ReplacePrefixMatch != nil
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
			if c.Hostname != nil {
				req.Host = *c.Hostname
			}
			if rewritePath {
				req.URL.Path = ModifyPath(pm, req.URL.Path)
				req.URL.RawPath = ""
				req.RequestURI = req.URL.RequestURI()
			}
			next.ServeHTTP(rw, req)
		})
	}, nil
}

// RequestRedirect answers with a redirect built from the request and the
// parts the filter replaces.
func RequestRedirect(c *dynamic.RequestRedirect) (func(http.Handler) http.Handler, error) {
	if c == nil {
		return nil, errors.New("no configuration")
	}
	if err := checkPath(c.PathModifier); err != nil {
		return nil, err
	}
	code := c.StatusCode
	switch code {
	case 0:
		code = http.StatusFound
	case 301, 302, 303, 307, 308:
	default:
		return nil, fmt.Errorf("status code %d is not a redirect", code)
	}
	if c.Scheme != nil && *c.Scheme != "http" && *c.Scheme != "https" {
		return nil, fmt.Errorf("scheme %q: only http and https", *c.Scheme)
	}
	if c.Hostname != nil && (*c.Hostname == "" || !httpguts.ValidHostHeader(*c.Hostname)) {
		return nil, fmt.Errorf("invalid hostname %q", *c.Hostname)
	}
	cfg := *c
	return func(http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
			http.Redirect(rw, req, Location(&cfg, req), code)
		})
	}, nil
}

// Location is the redirect target for req.
func Location(c *dynamic.RequestRedirect, req *http.Request) string {
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	host, port := req.Host, ""
	if h, p, err := net.SplitHostPort(req.Host); err == nil {
		host, port = h, p
	}
	if c.Scheme != nil {
		scheme = *c.Scheme
		port = "" // the scheme's well-known port
	}
	if c.Hostname != nil {
		host = *c.Hostname
	}
	if c.Port != nil {
		port = strconv.Itoa(int(*c.Port))
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(strings.Trim(host, "[]"), port)
	} else if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	path := req.URL.Path
	if c.ReplaceFullPath != nil || c.ReplacePrefixMatch != nil {
		path = ModifyPath(c.PathModifier, path)
	} else if req.URL.RawPath != "" {
		path = req.URL.RawPath
	}
	u := scheme + "://" + host + path
	if req.URL.RawQuery != "" {
		u += "?" + req.URL.RawQuery
	}
	return u
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
