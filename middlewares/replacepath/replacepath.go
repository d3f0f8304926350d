package replacepath

import "net/http"

type replacePath struct {
	next    http.Handler
	path    string // decoded
	rawPath string // set only when it differs from the default encoding
}

func (r *replacePath) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	req.Header[ReplacedPathHeader] = append(req.Header[ReplacedPathHeader], req.URL.EscapedPath())
	req.URL.Path = r.path
	req.URL.RawPath = r.rawPath
	req.RequestURI = req.URL.RequestURI()
	r.next.ServeHTTP(rw, req)
}
