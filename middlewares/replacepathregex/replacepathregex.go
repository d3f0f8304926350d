package replacepathregex

import (
	"net/http"
	"net/url"
	"regexp"

	"github.com/switchyard-proxy/switchyard/middlewares/replacepath"
)

type replacePathRegex struct {
	next        http.Handler
	re          *regexp.Regexp
	replacement string
}

// ServeHTTP matches the escaped path, so a regex can tell "/" from "%2F".
// The replacement is an escaped path too: the decoded path is derived from it.
func (rp *replacePathRegex) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	current := req.URL.EscapedPath()
	if !rp.re.MatchString(current) {
		rp.next.ServeHTTP(rw, req)
		return
	}
	newRaw := rp.re.ReplaceAllString(current, rp.replacement)
	newPath, err := url.PathUnescape(newRaw)
	if err != nil {
		// The replacement built an invalid escape (e.g. it moved a lone "%").
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	req.Header[replacepath.ReplacedPathHeader] = append(req.Header[replacepath.ReplacedPathHeader], current)
	req.URL.RawPath = newRaw
	req.URL.Path = newPath
	req.RequestURI = req.URL.RequestURI()
	rp.next.ServeHTTP(rw, req)
}
