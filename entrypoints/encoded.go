package entrypoints

import (
	"net/http"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/static"
)

// encodedFilter is the set of percent-encoded characters an entrypoint
// refuses in request paths (http.encodedCharacters, Traefik v3.6): index
// by the byte the escape decodes to.
type encodedFilter [256]bool

// newEncodedFilter returns nil when every encoded character is allowed
// (the default since Traefik v3.6.7): the entrypoint then pays nothing.
func newEncodedFilter(ec *static.EncodedCharacters) *encodedFilter {
	if ec == nil {
		return nil
	}
	var f encodedFilter
	deny := false
	for _, d := range []struct {
		allow bool
		b     byte
	}{
		{ec.AllowEncodedSlash, '/'},
		{ec.AllowEncodedBackSlash, '\\'},
		{ec.AllowEncodedNullCharacter, 0},
		{ec.AllowEncodedSemicolon, ';'},
		{ec.AllowEncodedPercent, '%'},
		{ec.AllowEncodedQuestionMark, '?'},
		{ec.AllowEncodedHash, '#'},
	} {
		if !d.allow {
			f[d.b] = true
			deny = true
		}
	}
	if !deny {
		return nil
	}
	return &f
}

// refuses reports whether the raw path holds a refused escape.
func (f *encodedFilter) refuses(raw string) bool {
	for {
		i := strings.IndexByte(raw, '%')
		if i < 0 || i+2 >= len(raw) {
			return false
		}
		if h, ok1 := unhex(raw[i+1]); ok1 {
			if l, ok2 := unhex(raw[i+2]); ok2 && f[h<<4|l] {
				return true
			}
		}
		raw = raw[i+1:]
	}
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// rawPath is the request's path as the client sent it: the request
// target up to the query (absolute-form targets include the authority,
// which cannot hold an escape), else the URL's escaped path.
func rawPath(r *http.Request) string {
	p := r.RequestURI
	if p == "" {
		return r.URL.EscapedPath()
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}

// rejectEncoded answers 400 Bad Request, before routing, to a request
// whose path holds an encoded character the entrypoint does not allow.
func rejectEncoded(next http.Handler, f *encodedFilter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := rawPath(r); strings.IndexByte(p, '%') >= 0 && f.refuses(p) {
			http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
