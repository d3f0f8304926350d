package redirectscheme

import (
	"net/http"
	"strings"
)

type redirectScheme struct {
	next http.Handler
	target
}

// ServeHTTP rebuilds the URL the client used and redirects when its scheme
// or port differs from the target; host, path and query are kept.
func (r *redirectScheme) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	scheme, host, port, uri := ClientURL(req)
	if scheme == r.scheme && port == r.port {
		r.next.ServeHTTP(rw, req)
		return
	}
	loc := r.scheme + "://" + host + r.port + uri
	if r.status != 0 {
		RedirectStatus(rw, loc, r.status)
		return
	}
	Redirect(rw, req, loc, r.permanent)
}

// ClientURL splits the URL the client asked for into its scheme ("http" or
// "https"), host, port (":8080", or "" for the scheme's default port) and
// request URI (path and query). The scheme comes from, in increasing
// precedence: an absolute request URI, TLS, X-Forwarded-Proto ("ws"/"wss"
// count as "http"/"https"; other values are ignored).
func ClientURL(req *http.Request) (scheme, host, port, uri string) {
	uri = req.RequestURI
	if uri == "" {
		uri = req.URL.RequestURI()
	}
	scheme = "http"
	host, port = splitHostPort(req.Host)
	if s, rest, ok := absolute(uri); ok {
		scheme = s
		end := strings.IndexAny(rest, "/?")
		if end < 0 {
			end = len(rest)
		}
		h, p := splitHostPort(rest[:end])
		if h != "" {
			host = h
		}
		if p != "" {
			port = p
		}
		uri = rest[end:]
	}
	if req.TLS != nil {
		scheme = "https"
	}
	if xfp := req.Header.Get("X-Forwarded-Proto"); xfp != "" {
		switch {
		case strings.EqualFold(xfp, "http"), strings.EqualFold(xfp, "ws"):
			scheme = "http"
		case strings.EqualFold(xfp, "https"), strings.EqualFold(xfp, "wss"):
			scheme = "https"
		}
	}
	if port == ":"+defaultPort(scheme) {
		port = ""
	}
	return scheme, host, port, uri
}

// absolute recognises an absolute-form request URI.
func absolute(uri string) (scheme, rest string, ok bool) {
	switch {
	case strings.HasPrefix(uri, "http://"):
		return "http", uri[len("http://"):], true
	case strings.HasPrefix(uri, "https://"):
		return "https", uri[len("https://"):], true
	}
	return "", "", false
}

// splitHostPort splits "host:port" and "[v6]:port" without failing: the
// port (with its ':') is returned only when it is all digits.
func splitHostPort(hp string) (host, port string) {
	if strings.HasPrefix(hp, "[") {
		i := strings.IndexByte(hp, ']')
		if i < 0 {
			return hp, ""
		}
		host, rest := hp[:i+1], hp[i+1:]
		switch {
		case rest == "" || rest == ":":
			return host, ""
		case rest[0] == ':' && digits(rest[1:]):
			return host, rest
		}
		return hp, ""
	}
	i := strings.LastIndexByte(hp, ':')
	if i < 0 {
		return hp, ""
	}
	if i == len(hp)-1 {
		return hp[:i], "" // "host:" has an empty port
	}
	if digits(hp[i+1:]) {
		return hp[:i], hp[i:]
	}
	return hp, ""
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

var statusBodies = map[int][]byte{}

func init() {
	for c := 300; c <= 308; c++ {
		statusBodies[c] = []byte(http.StatusText(c))
	}
}

// Status is the redirect status Traefik uses: 301/302 for GET, 308/307
// (which keep the method and body) for any other method.
func Status(method string, permanent bool) int {
	get := method == http.MethodGet
	switch {
	case permanent && get:
		return http.StatusMovedPermanently
	case permanent:
		return http.StatusPermanentRedirect
	case get:
		return http.StatusFound
	}
	return http.StatusTemporaryRedirect
}

// Redirect writes a redirection to location with the status text as body.
func Redirect(rw http.ResponseWriter, req *http.Request, location string, permanent bool) {
	RedirectStatus(rw, location, Status(req.Method, permanent))
}

// ValidStatus reports whether code may be a redirect's fixed status: 300
// to 308 (304 excepted: it is not a redirection).
func ValidStatus(code int) bool {
	return code >= 300 && code <= 308 && code != http.StatusNotModified && code != 306
}

// RedirectStatus is Redirect with a fixed status.
func RedirectStatus(rw http.ResponseWriter, location string, status int) {
	h := rw.Header()
	h["Location"] = []string{location}
	h["Content-Type"] = []string{"text/plain; charset=utf-8"}
	rw.WriteHeader(status)
	_, _ = rw.Write(statusBodies[status])
}
