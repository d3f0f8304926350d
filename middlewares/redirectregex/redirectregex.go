package redirectregex

import (
	"net/http"
	"net/url"
	"regexp"

	"github.com/switchyard-proxy/switchyard/middlewares/redirectscheme"
)

type redirectRegex struct {
	next        http.Handler
	re          *regexp.Regexp
	replacement string
	permanent   bool
	status      int // fixed status (0: by method and permanent)
}

func (r *redirectRegex) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	old := RawURL(req)
	if !r.re.MatchString(old) {
		r.next.ServeHTTP(rw, req)
		return
	}
	newURL := r.re.ReplaceAllString(old, r.replacement)
	if newURL == old {
		r.next.ServeHTTP(rw, req)
		return
	}
	u, err := url.Parse(newURL)
	if err != nil || newURL == "" {
		// The replacement built something that is not a URL.
		http.Error(rw, http.StatusText(http.StatusBadGateway), http.StatusBadGateway)
		return
	}
	if r.status != 0 {
		redirectscheme.RedirectStatus(rw, u.String(), r.status)
		return
	}
	redirectscheme.Redirect(rw, req, u.String(), r.permanent)
}

// RawURL is the URL the regex sees: scheme ("https" on TLS, else the scheme
// of an absolute request URI, else "http"), the Host header as sent (port
// included), then path and query as sent. X-Forwarded-Proto is not used.
func RawURL(req *http.Request) string {
	uri := req.RequestURI
	if uri == "" {
		uri = req.URL.RequestURI()
	}
	scheme, hostport, rest, abs := "http", req.Host, uri, false
	switch {
	case len(uri) >= 7 && uri[:7] == "http://":
		abs, rest = true, uri[7:]
	case len(uri) >= 8 && uri[:8] == "https://":
		scheme, abs, rest = "https", true, uri[8:]
	}
	if abs {
		end := len(rest)
		for i := 0; i < len(rest); i++ {
			if rest[i] == '/' || rest[i] == '?' {
				end = i
				break
			}
		}
		if end > 0 {
			hostport = rest[:end]
		}
		rest = rest[end:]
	}
	if req.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + hostport + rest
}
