package stripprefix

import (
	"net/http"
	"strings"

	"github.com/switchyard-proxy/switchyard/middlewares/internal/pathutil"
)

type stripPrefix struct {
	next     http.Handler
	prefixes []string
}

func (s *stripPrefix) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	path := req.URL.Path
	for _, prefix := range s.prefixes {
		if !strings.HasPrefix(path, prefix) {
			continue
		}
		rest := path[len(prefix):]
		if pathutil.DotFirstSegment(rest) {
			http.Error(rw, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
			return
		}
		req.URL.Path = pathutil.EnsureLeadingSlash(rest)
		if raw := req.URL.RawPath; raw != "" {
			if r, ok := pathutil.StripRawPrefix(raw, prefix); ok {
				req.URL.RawPath = pathutil.EnsureLeadingSlash(r)
			} else {
				// RawPath was not a valid encoding of Path: let Go re-escape Path.
				req.URL.RawPath = ""
			}
		}
		req.Header[ForwardedPrefixHeader] = append(req.Header[ForwardedPrefixHeader], prefix)
		req.RequestURI = req.URL.RequestURI()
		s.next.ServeHTTP(rw, req)
		return
	}
	s.next.ServeHTTP(rw, req)
}
