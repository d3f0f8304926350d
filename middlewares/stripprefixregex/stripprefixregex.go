package stripprefixregex

import (
	"net/http"
	"regexp"

	"github.com/switchyard-proxy/switchyard/middlewares/internal/pathutil"
	"github.com/switchyard-proxy/switchyard/middlewares/stripprefix"
)

type stripPrefixRegex struct {
	next http.Handler
	res  []*regexp.Regexp
}

// ServeHTTP tries the expressions in order on the decoded path; the first
// non-empty match that starts the path is stripped.
func (s *stripPrefixRegex) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	path := req.URL.Path
	for _, re := range s.res {
		loc := re.FindStringIndex(path)
		if loc == nil || loc[0] != 0 || loc[1] == 0 {
			continue
		}
		prefix, rest := path[:loc[1]], path[loc[1]:]
		if pathutil.DotFirstSegment(rest) {
			http.Error(rw, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
			return
		}
		req.URL.Path = pathutil.EnsureLeadingSlash(rest)
		if raw := req.URL.RawPath; raw != "" {
			if r, ok := pathutil.StripRawPrefix(raw, prefix); ok {
				req.URL.RawPath = pathutil.EnsureLeadingSlash(r)
			} else {
				req.URL.RawPath = ""
			}
		}
		req.Header[stripprefix.ForwardedPrefixHeader] = append(req.Header[stripprefix.ForwardedPrefixHeader], prefix)
		req.RequestURI = req.URL.RequestURI()
		s.next.ServeHTTP(rw, req)
		return
	}
	s.next.ServeHTTP(rw, req)
}
