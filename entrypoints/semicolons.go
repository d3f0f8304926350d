package entrypoints

import (
	"net/http"
	"strings"
)

// encodeQuerySemicolons is http.encodeQuerySemicolons: a ';' in the query
// is sent on as "%3B", part of a value, instead of becoming a '&'
// separator as the proxy otherwise makes it (Traefik's two behaviours).
// Done before routing so that rules and middlewares see the same query
// as the backend.
func encodeQuerySemicolons(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.IndexByte(r.URL.RawQuery, ';') >= 0 {
			r.URL.RawQuery = strings.ReplaceAll(r.URL.RawQuery, ";", "%3B")
		}
		next.ServeHTTP(w, r)
	})
}
