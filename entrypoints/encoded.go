package entrypoints

import (
	"net/http"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/static"
	"github.com/switchyard-proxy/switchyard/internal/encodedpath"
)

// encodedFilter is the set of percent-encoded characters an entrypoint
// refuses in request paths (http.encodedCharacters, Traefik v3.6).
type encodedFilter = encodedpath.Filter

// newEncodedFilter returns nil when every encoded character is allowed
// (the default since Traefik v3.6.7): the entrypoint then pays nothing.
func newEncodedFilter(ec *static.EncodedCharacters) *encodedFilter {
	if ec == nil {
		return nil
	}
	return encodedpath.New(encodedpath.Allow{
		Slash: ec.AllowEncodedSlash, BackSlash: ec.AllowEncodedBackSlash, Null: ec.AllowEncodedNullCharacter,
		Semicolon: ec.AllowEncodedSemicolon, Percent: ec.AllowEncodedPercent,
		QuestionMark: ec.AllowEncodedQuestionMark, Hash: ec.AllowEncodedHash,
	})
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
		if p := rawPath(r); strings.IndexByte(p, '%') >= 0 && f.Refuses(p) {
			http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
