package accesslog

import "net/http"

// SetUsername records the authenticated user (ClientUsername), as the
// basicAuth, digestAuth and forwardAuth (headerField) middlewares do.
func SetUsername(r *http.Request, name string) {
	if ld := FromRequest(r); ld != nil {
		ld.username = name
	}
}
