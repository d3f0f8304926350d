package entrypoints

import (
	"net/http"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c" //nolint:staticcheck // "Upgrade: h2c" has no net/http equivalent
)

// h2cUpgrade serves "Upgrade: h2c" requests (RFC 7540 §3.2) with HTTP/2;
// net/http itself handles prior-knowledge h2c. Only plain HTTP/1 requests
// carrying an Upgrade header pay for the check.
func h2cUpgrade(next http.Handler, maxStreams uint32) http.Handler {
	up := h2c.NewHandler(next, &http2.Server{MaxConcurrentStreams: maxStreams}) //nolint:staticcheck // the upgrade path has no net/http equivalent
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && r.TLS == nil && r.Header["Upgrade"] != nil && r.Header["Http2-Settings"] != nil {
			up.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
