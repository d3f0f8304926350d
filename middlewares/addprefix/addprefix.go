package addprefix

import "net/http"

type addPrefix struct {
	next      http.Handler
	prefix    string // decoded, starts with "/"
	rawPrefix string // escaped form of prefix
}

func (a *addPrefix) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	req.URL.Path = a.prefix + req.URL.Path
	if req.URL.RawPath != "" {
		req.URL.RawPath = a.rawPrefix + req.URL.RawPath
	}
	req.RequestURI = req.URL.RequestURI()
	a.next.ServeHTTP(rw, req)
}
