// Package forwardauth delegates authentication to an external server: a
// 2xx answer lets the request through (with headers copied from the
// answer), anything else is sent back to the client as is.
package forwardauth

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/middlewares/redirectscheme"
	"github.com/switchyard-proxy/switchyard/observability/accesslog"
)

// hop-by-hop headers never sent to the auth server nor copied back.
var hopHeaders = []string{"Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Proxy-Connection"}

// Auth holds the client of one forwardAuth middleware (kept across reloads
// while unchanged, so its connection pool is reused).
type Auth struct {
	address        *url.URL
	client         *http.Client
	trustForward   bool
	respHeaders    []string
	respRegex      *regexp.Regexp
	reqHeaders     []string
	cookies        []string
	headerField    string
	forwardBody    bool
	maxBody        int64 // -1: no limit
	preserveLoc    bool
	preserveMethod bool
	signIn         string
	signinURL      string // authSigninURL: a 401 becomes a 302 there
	maxResp        int64  // maxResponseBodySize; -1: no limit
	method         string
}

// New validates cfg.
func New(cfg *dynamic.ForwardAuth) (*Auth, error) {
	if cfg == nil || cfg.Address == "" {
		return nil, errors.New("address is required")
	}
	u, err := url.Parse(cfg.Address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("address %q must be an absolute http(s) URL", cfg.Address)
	}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	if cfg.TLS != nil {
		tc, err := clientTLS(cfg.TLS)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		tr.TLSClientConfig = tc
	}
	a := &Auth{
		address: u,
		client: &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Timeout:       30 * time.Second,
		},
		trustForward:   cfg.TrustForwardHeader,
		cookies:        cfg.AddAuthCookiesToResponse,
		headerField:    http.CanonicalHeaderKey(cfg.HeaderField),
		forwardBody:    cfg.ForwardBody,
		maxBody:        -1,
		preserveLoc:    cfg.PreserveLocationHeader,
		preserveMethod: cfg.PreserveRequestMethod,
		signIn:         cfg.SignInURL,
		signinURL:      cfg.AuthSigninURL,
		maxResp:        -1,
		method:         cfg.Method,
	}
	if cfg.AuthSigninURL != "" {
		if u, err := url.Parse(cfg.AuthSigninURL); err != nil || (u.Scheme != "http" && u.Scheme != "https" && !strings.HasPrefix(cfg.AuthSigninURL, "/")) {
			return nil, fmt.Errorf("authSigninURL %q must be an http(s) URL or an absolute path", cfg.AuthSigninURL)
		}
	}
	if cfg.MaxResponseBodySize != nil && *cfg.MaxResponseBodySize != -1 {
		if *cfg.MaxResponseBodySize < 0 {
			return nil, fmt.Errorf("maxResponseBodySize must be -1 (no limit) or positive, got %d", *cfg.MaxResponseBodySize)
		}
		a.maxResp = *cfg.MaxResponseBodySize
	} else {
		slog.Warn("forwardAuth: maxResponseBodySize is not set: the auth server's response body is read without limit", "address", cfg.Address)
	}
	if cfg.SignInURL != "" {
		if u, err := url.Parse(cfg.SignInURL); err != nil || (u.Scheme != "http" && u.Scheme != "https" && !strings.HasPrefix(cfg.SignInURL, "/")) {
			return nil, fmt.Errorf("signInURL %q must be an http(s) URL or an absolute path", cfg.SignInURL)
		}
	}
	for _, h := range cfg.AuthResponseHeaders {
		a.respHeaders = append(a.respHeaders, http.CanonicalHeaderKey(h))
	}
	for _, h := range cfg.AuthRequestHeaders {
		a.reqHeaders = append(a.reqHeaders, http.CanonicalHeaderKey(h))
	}
	if cfg.AuthResponseHeadersRegex != "" {
		re, err := regexp.Compile(cfg.AuthResponseHeadersRegex)
		if err != nil {
			return nil, fmt.Errorf("authResponseHeadersRegex: %w", err)
		}
		a.respRegex = re
	}
	if cfg.MaxBodySize != nil {
		if *cfg.MaxBodySize < -1 {
			return nil, fmt.Errorf("maxBodySize must be -1 (no limit) or positive, got %d", *cfg.MaxBodySize)
		}
		a.maxBody = *cfg.MaxBodySize
	}
	return a, nil
}

func clientTLS(c *dynamic.ClientTLS) (*tls.Config, error) {
	tc := &tls.Config{InsecureSkipVerify: c.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if c.CA != "" {
		pem, err := os.ReadFile(c.CA)
		if err != nil {
			pem = []byte(c.CA)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("ca: no certificate found")
		}
		tc.RootCAs = pool
	}
	if c.Cert != "" || c.Key != "" {
		cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
		if err != nil {
			if cert, err = tls.X509KeyPair([]byte(c.Cert), []byte(c.Key)); err != nil {
				return nil, fmt.Errorf("cert/key: %w", err)
			}
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Close drops the idle connections to the auth server.
func (a *Auth) Close() error {
	a.client.CloseIdleConnections()
	return nil
}

// Wrap returns the authenticating handler.
func (a *Auth) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.serve(w, r, next) })
}

func (a *Auth) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	method := http.MethodGet
	switch {
	case a.method != "":
		method = a.method
	case a.preserveMethod:
		method = r.Method
	}
	var body io.Reader
	if a.forwardBody && r.Body != nil && r.Body != http.NoBody {
		limit := a.maxBody
		rd := io.Reader(r.Body)
		if limit >= 0 {
			rd = io.LimitReader(r.Body, limit+1)
		}
		b, err := io.ReadAll(rd)
		if err != nil {
			http.Error(w, "cannot read request body", http.StatusBadRequest)
			return
		}
		if limit >= 0 && int64(len(b)) > limit {
			http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		body = bytes.NewReader(b)
	}
	areq, err := http.NewRequestWithContext(r.Context(), method, a.address.String(), body)
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	a.copyRequestHeaders(areq.Header, r)
	resp, err := a.client.Do(areq)
	if err != nil {
		slog.Debug("forwardAuth: auth server unreachable", "address", a.address.String(), "error", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	defer resp.Body.Close()

	refused := resp.StatusCode < 200 || resp.StatusCode > 299
	var respBody []byte // the refusal's body, read whole when limited
	if a.maxResp >= 0 {
		b, err := io.ReadAll(io.LimitReader(resp.Body, a.maxResp+1))
		if err != nil || int64(len(b)) > a.maxResp {
			slog.Debug("forwardAuth: auth server response body over maxResponseBodySize", "address", a.address.String(), "limit", a.maxResp)
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		respBody = b
	}
	if refused {
		switch {
		case resp.StatusCode == http.StatusUnauthorized && a.signinURL != "":
			http.Redirect(w, r, a.signinURL, http.StatusFound)
		case resp.StatusCode == http.StatusUnauthorized && a.signIn != "":
			http.Redirect(w, r, a.signInLocation(r), http.StatusFound)
		default:
			a.reply(w, resp, respBody)
		}
		return
	}
	if respBody == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	}

	for _, h := range a.respHeaders {
		r.Header.Del(h)
		if v := resp.Header.Values(h); len(v) > 0 {
			r.Header[h] = append([]string(nil), v...)
		}
	}
	if a.respRegex != nil {
		for k := range r.Header {
			if a.respRegex.MatchString(k) {
				delete(r.Header, k)
			}
		}
		for k, v := range resp.Header {
			if a.respRegex.MatchString(k) {
				r.Header[k] = append([]string(nil), v...)
			}
		}
	}
	if a.headerField != "" {
		// As in Traefik: the user named by the auth server goes to the access log.
		if v := resp.Header.Get(a.headerField); v != "" {
			accesslog.SetUsername(r, v)
		}
	}
	// The request URI may have changed through headers only; keep it coherent.
	r.RequestURI = r.URL.RequestURI()
	if len(a.cookies) == 0 {
		next.ServeHTTP(w, r)
		return
	}
	var keep []*http.Cookie
	for _, c := range resp.Cookies() {
		for _, name := range a.cookies {
			if c.Name == name {
				keep = append(keep, c)
			}
		}
	}
	next.ServeHTTP(&cookieWriter{ResponseWriter: w, cookies: keep, names: a.cookies}, r)
}

// signInLocation is the sign-in URL for r: variables expanded, and
// rd=<original URL> added unless the URL carries rd already.
func (a *Auth) signInLocation(r *http.Request) string {
	scheme, host, port, uri := redirectscheme.ClientURL(r)
	orig := scheme + "://" + host + port + uri
	loc := a.signIn
	if strings.Contains(loc, "$") {
		loc = strings.NewReplacer(
			"$escaped_request_uri", url.QueryEscape(uri),
			"$request_uri", uri,
			"$scheme", scheme,
			"$host", host,
		).Replace(loc)
	}
	if u, err := url.Parse(loc); err == nil && !u.Query().Has("rd") {
		sep := "?"
		if strings.Contains(loc, "?") {
			sep = "&"
		}
		loc += sep + "rd=" + url.QueryEscape(orig)
	}
	return loc
}

// reply sends the auth server's refusal to the client (its body already
// read when not nil).
func (a *Auth) reply(w http.ResponseWriter, resp *http.Response, body []byte) {
	h := w.Header()
	for k, v := range resp.Header {
		h[k] = append([]string(nil), v...)
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
	h.Del("Content-Length")
	if loc := resp.Header.Get("Location"); loc != "" && !a.preserveLoc {
		if u, err := url.Parse(loc); err == nil && u.Host == "" {
			u.Scheme, u.Host = a.address.Scheme, a.address.Host
			h.Set("Location", u.String())
		}
	}
	w.WriteHeader(resp.StatusCode)
	if body != nil {
		_, _ = w.Write(body)
		return
	}
	_, _ = io.Copy(w, resp.Body)
}

func (a *Auth) copyRequestHeaders(dst http.Header, r *http.Request) {
	if len(a.reqHeaders) == 0 {
		for k, v := range r.Header {
			dst[k] = append([]string(nil), v...)
		}
	} else {
		for _, k := range a.reqHeaders {
			if v := r.Header.Values(k); len(v) > 0 {
				dst[k] = append([]string(nil), v...)
			}
		}
	}
	for _, k := range hopHeaders {
		dst.Del(k)
	}
	if c := r.Header.Get("Connection"); c != "" {
		for _, f := range strings.Split(c, ",") {
			dst.Del(strings.TrimSpace(f))
		}
	}
	dst.Del("Content-Length")

	ip := r.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	set := func(k, v string) {
		if a.trustForward && r.Header.Get(k) != "" {
			dst.Set(k, r.Header.Get(k))
			return
		}
		dst.Set(k, v)
	}
	if xff := r.Header.Get("X-Forwarded-For"); a.trustForward && xff != "" {
		dst.Set("X-Forwarded-For", xff+", "+ip)
	} else {
		dst.Set("X-Forwarded-For", ip)
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	set("X-Forwarded-Method", r.Method)
	set("X-Forwarded-Proto", proto)
	set("X-Forwarded-Host", r.Host)
	set("X-Forwarded-Uri", r.URL.RequestURI())
}

// cookieWriter replaces the backend's cookies named in addAuthCookiesToResponse
// by the auth server's.
type cookieWriter struct {
	http.ResponseWriter
	cookies []*http.Cookie
	names   []string
	done    bool
}

func (c *cookieWriter) setCookies() {
	if c.done {
		return
	}
	c.done = true
	h := c.Header()
	var kept []string
	for _, sc := range h.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(sc)
		drop := false
		if err == nil {
			for _, n := range c.names {
				if ck.Name == n {
					drop = true
				}
			}
		}
		if !drop {
			kept = append(kept, sc)
		}
	}
	h.Del("Set-Cookie")
	for _, sc := range kept {
		h.Add("Set-Cookie", sc)
	}
	for _, ck := range c.cookies {
		h.Add("Set-Cookie", ck.String())
	}
}

func (c *cookieWriter) WriteHeader(code int) {
	if code >= 200 {
		c.setCookies()
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *cookieWriter) Write(b []byte) (int, error) {
	c.setCookies()
	return c.ResponseWriter.Write(b)
}

func (c *cookieWriter) Flush() {
	c.setCookies()
	_ = http.NewResponseController(c.ResponseWriter).Flush()
}

func (c *cookieWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
