package api

import (
	"expvar"
	"net/http"
	"net/http/pprof"
	"strings"
)

// WithDebug returns next with api.debug's endpoints in front, as in
// Traefik: basePath + "/debug/vars" (expvar: memstats and cmdline) and
// basePath + "/debug/pprof/" (runtime profiles). Requests for other paths
// go to next.
func WithDebug(basePath string, next http.Handler) http.Handler {
	prefix := strings.TrimSuffix(basePath, "/") + "/debug/"
	pp := prefix + "pprof/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case !strings.HasPrefix(p, prefix):
			next.ServeHTTP(w, r)
		case p == prefix+"vars":
			expvar.Handler().ServeHTTP(w, r)
		case p == pp+"cmdline":
			pprof.Cmdline(w, r)
		case p == pp+"profile":
			pprof.Profile(w, r)
		case p == pp+"symbol":
			pprof.Symbol(w, r)
		case p == pp+"trace":
			pprof.Trace(w, r)
		case strings.HasPrefix(p, pp):
			// pprof.Index serves the named profiles (heap, goroutine, …)
			// by the path's last element; it expects /debug/pprof/.
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/debug/pprof/" + p[len(pp):]
			pprof.Index(w, r2)
		default:
			http.NotFound(w, r)
		}
	})
}
